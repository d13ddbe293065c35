"""One bgpemu speaker as a benchmark receiver or chain relay, in its own process.

It runs whatever :class:`bgpemu.runtime.Speaker` runs today (the router it builds) and
reports on stdout, one flushed record per line: ``READY <pid>`` once listening,
``UP <peer> <unix time>`` at each Established, ``REACHED <k> <unix time>`` the first time
the route count reaches each ``--targets`` value.  The count is taken by
:func:`count_routes`, the one place to adapt when the router's API changes.  The wait is
event-driven (``Speaker.wait_for`` re-checks after every session event), so the timestamp
is the speaker's own, not a poll.  Stops on SIGTERM / SIGINT or EOF on stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time

from bgpemu.router.config import RouterConfig
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.runtime import Speaker
from bgpemu.session import SessionConfig, SessionState


def count_routes(router: object) -> int:
    """Routes the speaker holds; adapt here when ``Speaker.router`` changes.

    The routing Router (issue 3) is counted in its Loc-RIB (one entry per prefix, so a
    relay that also hears its own routes back is not double-counted); the foundation
    router of issue 2 kept only per-peer Adj-RIBs-In.
    """
    loc_rib = getattr(router, "loc_rib", None)
    count = getattr(loc_rib, "count", None)
    if callable(count):
        return int(count())
    tables = getattr(router, "_adj_rib_in", None)
    if isinstance(tables, dict):
        return sum(len(t) for per_peer in tables.values() for t in per_peer.values())
    raise TypeError(f"count_routes: cannot count the routes of {type(router).__name__}")


def emit(*words: object) -> None:
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def parse_neighbor(text: str, local_as: int, router_id: str, port: int) -> NeighborSpec:
    """``address:asn:passive|active`` → a neighbour with short timers for a benchmark."""
    address, asn, mode = text.split(":")
    return NeighborSpec(
        name=f"n{address.replace('.', '_')}",
        address=address,
        port=port,
        session=SessionConfig(
            local_as=local_as,
            peer_as=int(asn),
            bgp_identifier=router_id,
            hold_time=240,
            connect_retry_time=1.0,
            idle_hold_time=0.5,
            passive=mode == "passive",
            peer_name=address,
        ),
    )


async def run(args: argparse.Namespace) -> None:
    spec = SpeakerSpec(
        name=args.name,
        local_address=args.local,
        port=args.port,
        router=RouterConfig(asn=args.asn, router_id=args.local, next_hop_v4=args.local),
        neighbors=tuple(parse_neighbor(n, args.asn, args.local, args.port) for n in args.neighbor),
    )
    speaker = Speaker(spec)
    targets = sorted(int(t) for t in args.targets.split(",") if t)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, speaker.request_stop)

    async def report() -> None:
        await speaker.wait_ready()
        emit("READY", os.getpid())
        up: set[str] = set()
        pending = list(targets)

        def changed() -> bool:
            for name, driver in speaker.peers.items():
                if name not in up and driver.state == SessionState.ESTABLISHED:
                    up.add(name)
                    emit("UP", driver.spec.address, f"{time.time():.6f}")
            if pending:
                count = count_routes(speaker.router)
                now = time.time()
                while pending and count >= pending[0]:
                    emit("REACHED", pending.pop(0), f"{now:.6f}")
            return False

        with contextlib.suppress(TimeoutError):
            await speaker.wait_for(changed, timeout=args.timeout)

    async def stdin_eof() -> None:
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        await reader.read()
        speaker.request_stop()

    async with asyncio.TaskGroup() as tg:
        watcher = tg.create_task(report())
        eof = tg.create_task(stdin_eof())
        await speaker.run()
        watcher.cancel()
        eof.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="rcv")
    parser.add_argument("--local", default="127.0.0.20")
    parser.add_argument("--port", type=int, default=179)
    parser.add_argument("--asn", type=int, default=65020)
    parser.add_argument("--neighbor", action="append", default=[], help="addr:asn:passive|active")
    parser.add_argument("--targets", default="")
    parser.add_argument("--timeout", type=float, default=3600.0)
    args = parser.parse_args()
    profile_dir = os.environ.get("BGPEMU_NODE_PROFILE")
    if not profile_dir:
        asyncio.run(run(args))
        return
    # Diagnostics: BGPEMU_NODE_PROFILE=<dir> writes <dir>/<name>.prof (cProfile) at exit.
    import cProfile

    profiler = cProfile.Profile()
    try:
        profiler.runcall(asyncio.run, run(args))
    finally:
        profiler.dump_stats(os.path.join(profile_dir, f"{args.name}.prof"))


if __name__ == "__main__":
    main()
