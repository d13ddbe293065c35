"""Hostile connections against one speaker on loopback (issue 12): figures, not a test.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_hostile.py [--storm 500] [--flood 10]``.
Prints the figures and writes JSON to bench/results/.

- **storm**: N concurrent TCP connections from unconfigured 127/8 addresses while a
  configured peer connects: how many were closed within 20 s, the time until the last
  one was, how long the configured peer took to reach Established, and how many log
  lines the refusals gave.  Run twice: with the speaker's listen backlog
  (``LISTEN_BACKLOG``) and with asyncio's default of 100.
- **flood**: a configured peer sends 900-prefix UPDATEs (a MED that changes every
  message) as fast as TCP takes them for S seconds, while a bystander session with a
  3 s hold time runs: UPDATEs and prefixes processed per second, the longest gap
  between two KEEPALIVEs the bystander received, whether it dropped, the most events
  the flooder's driver queue held, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import random
import resource
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bgpemu.router import RouterConfig
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.runtime import Speaker
from bgpemu.runtime import listener as listener_module
from bgpemu.session import SessionConfig, SessionState
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import Codec, Framer
from bgpemu.wire.constants import MessageType
from bgpemu.wire.messages import (
    AsPathSegment,
    Capabilities,
    Keepalive,
    Open,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)

RESULTS = Path(__file__).resolve().parent / "results"
SPEAKER, GOOD, RAW = "127.0.0.61", "127.0.0.62", "127.0.0.63"
PORT = 11279
RAW_AS = 65099


def _neighbor(name: str, address: str, local_as: int, peer_as: int, **kw: Any) -> NeighborSpec:
    settings: dict[str, Any] = {"connect_retry_time": 1.0, "idle_hold_time": 0.2, **kw}
    config = SessionConfig(
        local_as=local_as,
        peer_as=peer_as,
        bgp_identifier=f"10.0.0.{local_as - 65000}",
        families=(IPV4_UNICAST,),
        peer_name=name,
        **settings,
    )
    return NeighborSpec(name=name, address=address, port=PORT, session=config)


def _spec(name: str, address: str, asn: int, neighbors: list[NeighborSpec]) -> SpeakerSpec:
    router = RouterConfig(asn=asn, router_id=f"10.0.0.{asn - 65000}", next_hop_v4="192.0.2.1")
    return SpeakerSpec(
        name=name, local_address=address, port=PORT, router=router, neighbors=tuple(neighbors)
    )


@contextlib.asynccontextmanager
async def _lab() -> AsyncIterator[tuple[Speaker, Speaker]]:
    speaker = Speaker(
        _spec(
            "speaker",
            SPEAKER,
            65001,
            [
                _neighbor("good", GOOD, 65001, 65002, hold_time=3),
                _neighbor("raw", RAW, 65001, RAW_AS, passive=True, idle_hold_time=0.0),
            ],
        )
    )
    good = Speaker(
        _spec("good", GOOD, 65002, [_neighbor("speaker", SPEAKER, 65002, 65001, hold_time=3)])
    )
    tasks = [asyncio.create_task(s.run()) for s in (speaker, good)]
    try:
        await speaker.wait_ready()
        await good.wait_ready()
        await speaker.wait_established("good", timeout=20)
        yield speaker, good
    finally:
        speaker.request_stop()
        good.request_stop()
        await asyncio.gather(*tasks)


async def _raw_session() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Codec]:
    """A configured peer (RAW) past the OPEN/KEEPALIVE exchange."""
    codec = Codec()
    while True:
        try:
            reader, writer = await asyncio.open_connection(SPEAKER, PORT, local_addr=(RAW, 0))
        except OSError:
            await asyncio.sleep(0.05)
            continue
        caps = Capabilities(multiprotocol=(IPV4_UNICAST,), four_octet_as=RAW_AS)
        writer.write(codec.encode(Open.for_asn(RAW_AS, 90, "10.0.0.99", caps)))
        writer.write(codec.encode(Keepalive()))
        framer = Framer()
        seen: list[int] = []
        while MessageType.KEEPALIVE not in seen:
            data = await reader.read(65536)
            if not data:
                break
            seen.extend(f[18] for f in framer.feed(data))
        if MessageType.KEEPALIVE in seen:
            return reader, writer, codec
        writer.close()
        await asyncio.sleep(0.05)


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "unconfigured" in record.getMessage():
            self.lines += 1


async def storm(n: int, backlog: int) -> dict[str, Any]:
    listener_module.LISTEN_BACKLOG = backlog
    counter = _Count()
    logging.getLogger("bgpemu.runtime.speaker").addHandler(counter)
    try:
        async with _lab() as (speaker, _good):
            closed: list[float] = []
            start = time.perf_counter()

            async def one(i: int) -> None:
                source = f"127.0.{100 + i // 250}.{1 + i % 250}"
                reader, writer = await asyncio.open_connection(
                    SPEAKER, PORT, local_addr=(source, 0)
                )
                with contextlib.suppress(OSError):
                    await reader.read()
                closed.append(time.perf_counter() - start)
                writer.close()

            async def real() -> float:
                _r, writer, _c = await _raw_session()
                took = time.perf_counter() - start
                writer.close()
                return took

            tasks = [asyncio.create_task(one(i)) for i in range(n)]
            real_task = asyncio.create_task(real())
            await asyncio.wait([*tasks, real_task], timeout=20)
            real_s = real_task.result() if real_task.done() else None
            for task in [*tasks, real_task]:
                task.cancel()
            await asyncio.gather(*tasks, real_task, return_exceptions=True)
            return {
                "backlog": backlog,
                "connections": n,
                "closed_within_20s": len(closed),
                "last_closed_s": round(max(closed), 3) if closed else None,
                "configured_peer_established_s": None if real_s is None else round(real_s, 3),
                "refused_connections_counted": speaker.refused_connections,
                "log_lines": counter.lines,
            }
    finally:
        logging.getLogger("bgpemu.runtime.speaker").removeHandler(counter)
        listener_module.LISTEN_BACKLOG = 1024


def _flood_update(i: int) -> Update:
    prefixes = tuple(f"10.{100 + (i + k) % 100}.{k % 250}.0/24" for k in range(900))
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (RAW_AS,)),),
        next_hop="192.0.2.99",
        med=i,
    )
    return Update(attributes=attributes, nlri=prefixes)


async def flood(seconds: float) -> dict[str, Any]:
    async with _lab() as (speaker, good):
        reader, writer, codec = await _raw_session()
        frames = [codec.encode(_flood_update(i)) for i in range(20)]
        loop = asyncio.get_running_loop()
        driver = speaker.peers["raw"]
        bystander = good.peers["speaker"].session.counters
        keepalives = bystander.messages_received[MessageType.KEEPALIVE]
        last_keepalive = loop.time()
        longest_gap = 0.0
        max_queue = 0
        stop = asyncio.Event()

        async def watch() -> None:
            nonlocal keepalives, last_keepalive, longest_gap, max_queue
            while not stop.is_set():
                now = loop.time()
                count = bystander.messages_received[MessageType.KEEPALIVE]
                if count != keepalives:
                    keepalives, last_keepalive = count, now
                longest_gap = max(longest_gap, now - last_keepalive)
                max_queue = max(max_queue, driver._queue.qsize())
                await asyncio.sleep(0.02)

        async def drain_answers() -> None:
            while await reader.read(65536):
                pass

        watcher = asyncio.create_task(watch())
        drainer = asyncio.create_task(drain_answers())
        before = driver.session.counters.updates_received
        start = loop.time()
        sent = 0
        while loop.time() - start < seconds:
            writer.write(frames[sent % len(frames)])
            sent += 1
            await writer.drain()
        elapsed = loop.time() - start
        processed = driver.session.counters.updates_received - before
        stop.set()
        await watcher
        drainer.cancel()
        writer.close()
        transitions = good.peers["speaker"].session.counters.established_transitions
        return {
            "seconds": round(elapsed, 2),
            "updates_written": sent,
            "updates_processed": processed,
            "updates_per_s": round(processed / elapsed),
            "prefixes_per_s": round(processed * 900 / elapsed),
            "bystander_longest_keepalive_gap_s": round(longest_gap, 2),
            "bystander_hold_time_s": 3,
            "bystander_dropped": transitions != 1
            or good.peers["speaker"].state != SessionState.ESTABLISHED,
            "flooder_queue_max_events": max_queue,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storm", type=int, default=500)
    parser.add_argument("--flood", type=float, default=10.0)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "storm": [await storm(args.storm, 1024), await storm(args.storm, 100)],
        "flood": await flood(args.flood),
    }
    print(json.dumps(results, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"hostile-{int(time.time())}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    random.seed(0)
    logging.getLogger("bgpemu.runtime.peer").setLevel(logging.ERROR)  # session chatter
    asyncio.run(main())
