"""Hostile connections on loopback (issue 12): a connection storm from unconfigured
addresses, a slowloris OPEN, and a configured peer flooding UPDATEs.

Each test has a bystander: a well-behaved bgpemu speaker ("good") whose session
with the speaker under test must stay Established and keep exchanging routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

import pytest

from bgpemu.router import OriginatedRoute, Router, RouterConfig
from bgpemu.router.node import Node
from bgpemu.router.spec import NeighborSpec
from bgpemu.runtime import Speaker
from bgpemu.runtime import peer as peer_module
from bgpemu.runtime.peer import PeerDriver
from bgpemu.session import SessionConfig, SessionState
from bgpemu.session import transitions as fsm_transitions
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import Codec, Framer
from bgpemu.wire.constants import ErrorCode
from bgpemu.wire.messages import (
    AsPathSegment,
    Capabilities,
    Notification,
    Open,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)
from tests.runtime.rawpeer import RAW_AS, bystander_lab, connect_raw_peer

SPEAKER, GOOD, RAW = "127.0.0.41", "127.0.0.42", "127.0.0.43"
STORM = 500


class Lab:
    def __init__(self, speaker: Speaker, good: Speaker, port: int) -> None:
        self.speaker = speaker
        self.good = good
        self.port = port
        self.routes = 0

    def good_session_drops(self) -> int:
        """Times either end of the bystander session left Established (0 expected)."""
        mine = self.speaker.peers["good"].session.counters.established_transitions
        theirs = self.good.peers["speaker"].session.counters.established_transitions
        return (mine - 1) + (theirs - 1)

    async def assert_bystander_works(self) -> None:
        assert self.speaker.peers["good"].state == SessionState.ESTABLISHED
        assert self.good_session_drops() == 0
        self.routes += 1
        prefix = f"10.77.{self.routes}.0/24"
        self.speaker.originate(OriginatedRoute(prefix=prefix, family=IPV4_UNICAST))
        await self.good.wait_for(
            lambda: any(p.prefix == prefix for p in self.good.received_paths()), timeout=10
        )


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    """The bystander's hold time is 3 s (a KEEPALIVE every second): a starved loop shows."""
    async with bystander_lab(SPEAKER, GOOD, RAW, good_routes=(), hold_time=3) as (s, g, port):
        yield Lab(s, g, port)


async def test_connection_storm_from_unconfigured_addresses_is_refused_and_counted(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """500 concurrent connections from 127/8 addresses that are no neighbour's: each
    is closed at once (none waits in an overflowing accept queue), all are counted
    (``refused_connections`` in the dump), the log gets a line or two instead of 500,
    a configured peer connecting meanwhile gets its session, and the established
    session is not disturbed."""
    caplog.set_level(logging.WARNING)

    async def one(i: int) -> bytes:
        source = f"127.0.{100 + i // 250}.{1 + i % 250}"
        reader, writer = await asyncio.open_connection(SPEAKER, lab.port, local_addr=(source, 0))
        try:
            return await reader.read()  # the speaker closes: EOF
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def real_peer() -> bytes:
        raw = await connect_raw_peer(
            SPEAKER, lab.port, local=RAW, asn=RAW_AS, router_id="10.0.0.99", timeout=10
        )
        await raw.close()
        return b"established"

    async with asyncio.timeout(20):  # each connection is closed at once: well under 1 s
        *answers, real = await asyncio.gather(*(one(i) for i in range(STORM)), real_peer())
    assert answers == [b""] * STORM  # closed without a byte
    assert real == b"established"  # a configured peer got its session during the storm
    await lab.speaker.wait_for(lambda: lab.speaker.refused_connections == STORM, timeout=10)
    assert lab.speaker.dump()["refused_connections"] == STORM
    lines = [r for r in caplog.records if "unconfigured" in r.getMessage()]
    assert 1 <= len(lines) <= 3, len(lines)
    await lab.assert_bystander_works()


class _Collector(asyncio.Protocol):
    """A raw peer's side that keeps every byte the speaker sent, even when the
    connection ends in a reset: a byte of ours that reaches the speaker after it closed
    draws a RST, and asyncio's StreamReader then raises before handing over the
    NOTIFICATION already received."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def test_slowloris_open_ends_with_the_hold_timer(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A configured peer sending its OPEN one byte per second never gets the session
    stuck: in OpenSent the HoldTimer runs (RFC 4271 §8.2.2, "large value", 4 minutes;
    3 s here) and only a whole message would stop it, so it expires, the speaker
    sends Hold Timer Expired (RFC 4271 §6.5) and closes."""
    monkeypatch.setattr(fsm_transitions, "LARGE_HOLD_TIME", 3.0)
    codec = Codec()
    message = codec.encode(
        Open.for_asn(RAW_AS, 90, "10.0.0.99", Capabilities(four_octet_as=RAW_AS))
    )
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_connection(
        _Collector, SPEAKER, lab.port, local_addr=(RAW, 0)
    )

    async def slowly() -> None:
        for octet in message:
            if transport.is_closing():
                return
            transport.write(bytes((octet,)))
            await asyncio.sleep(1.0)

    sender = asyncio.create_task(slowly())
    try:
        async with asyncio.timeout(15):  # the whole OPEN would take about a minute
            await peer.closed
    finally:
        sender.cancel()
        transport.close()
    frames = Framer().feed(bytes(peer.data))
    messages = [codec.decode(f) for f in frames]
    assert isinstance(messages[0], Open)
    assert messages[-1] == Notification(code=ErrorCode.HOLD_TIMER_EXPIRED, subcode=0)
    await lab.assert_bystander_works()


def _flood_update(i: int) -> Update:
    """About 900 prefixes with attributes that change every message (real work)."""
    prefixes = tuple(f"10.{100 + (i + k) % 100}.{k % 250}.0/24" for k in range(4 * 225))
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (RAW_AS,)),),
        next_hop="192.0.2.99",
        med=i,
    )
    return Update(attributes=attributes, nlri=prefixes[: 900 - (i % 2) * 100])


async def test_update_flood_keeps_the_bystander_established(lab: Lab) -> None:
    """A configured peer sending UPDATEs as fast as TCP takes them for 4 seconds: the
    bystander's 3 s hold time never expires (its KEEPALIVEs are still sent and read
    in time), and it still exchanges routes during and after the flood."""
    raw = await connect_raw_peer(SPEAKER, lab.port, local=RAW, asn=RAW_AS, router_id="10.0.0.99")
    frames = [raw.codec.encode(_flood_update(i)) for i in range(20)]
    loop = asyncio.get_running_loop()
    end = loop.time() + 4.0
    sent = 0
    while loop.time() < end:
        raw.writer.write(frames[sent % len(frames)])
        sent += 1
        await raw.writer.drain()  # blocks while the speaker applies back-pressure
        if sent % 200 == 0:
            await lab.assert_bystander_works()
    assert sent > 50, sent
    await lab.assert_bystander_works()
    assert lab.speaker.peers["raw"].state == SessionState.ESTABLISHED
    await raw.close()


async def test_reader_applies_back_pressure_instead_of_buffering_without_bound() -> None:
    """The driver's event queue is bounded: a peer that sends faster than the driver
    processes fills it, the reader stops reading, and TCP flow control stops the
    peer; at most ``_QUEUE_SIZE`` chunks of ``_READ_CHUNK`` octets are held.

    The driver's loop is not run here (the slowest possible consumer): with an
    unbounded queue the whole 256 MiB would be read into memory."""
    total = 256 << 20
    bound = peer_module._QUEUE_SIZE * peer_module._READ_CHUNK
    accepted: list[asyncio.StreamWriter] = []
    connected = asyncio.Event()

    def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        connected.set()

    server = await asyncio.start_server(on_client, "127.0.0.44", 0)
    port = server.sockets[0].getsockname()[1]
    spec = NeighborSpec(
        name="flood",
        address="127.0.0.44",
        port=port,
        session=SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="192.0.2.1"),
    )
    async with asyncio.TaskGroup() as tg:
        driver = PeerDriver(
            spec,
            local_address="127.0.0.45",
            node=Node(Router(RouterConfig(asn=65001, router_id="192.0.2.1"))),
            carry_out=lambda effects, now: None,
            rng=random.Random(1),
            task_group=tg,
            on_change=lambda: None,
        )
        reader, writer = await asyncio.open_connection("127.0.0.44", port)
        reading = tg.create_task(driver._read(1, reader))
        async with asyncio.timeout(5):
            await connected.wait()
        flooder = accepted[0]
        chunk = bytes(1 << 20)
        written = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while written < total:
                    flooder.write(chunk)
                    await flooder.drain()
                    written += len(chunk)
        assert driver._queue.full()
        queued = list(driver._queue._queue)  # type: ignore[attr-defined]
        held = sum(len(e.data) for e in queued if isinstance(e, peer_module._Data))
        assert held <= bound
        assert written < total  # the flooder was stopped by TCP flow control
        reading.cancel()
        flooder.close()
        writer.close()
    server.close()
    await server.wait_closed()
