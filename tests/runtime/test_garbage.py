"""A peer that sends garbage gets the RFC's NOTIFICATION; only its session closes.

The speaker under test has two neighbours: a raw peer driven by the test (passive
neighbour, fast idle hold so it can reconnect) and a well-behaved bgpemu speaker whose
session must stay Established, and keep working, whatever the raw peer sends.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.errors import MessageError
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import Codec, Framer
from bgpemu.wire.constants import MARKER
from bgpemu.wire.messages import (
    AsPathSegment,
    Capabilities,
    Keepalive,
    Notification,
    Open,
    Origin,
    PathAttributes,
    RouteRefresh,
    SegmentType,
    Update,
)
from tests.runtime.rawpeer import RAW_AS, RawPeer, bystander_lab, connect_raw_peer

SPEAKER, GOOD, RAW = "127.0.0.21", "127.0.0.22", "127.0.0.23"


def _frame(kind: int, body: bytes, length: int | None = None) -> bytes:
    return MARKER + struct.pack("!HB", 19 + len(body) if length is None else length, kind) + body


def _valid_update() -> bytes:
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (RAW_AS, 64512)),),
        next_hop="192.0.2.99",
        med=7,
        communities=(RAW_AS << 16 | 1,),
    )
    return Codec().encode(Update(attributes=attributes, nlri=("10.99.0.0/24", "10.99.1.0/24")))


class Lab:
    """The speaker under test, its good neighbour, and the address of the raw peer."""

    def __init__(self, speaker: Speaker, good: Speaker, port: int) -> None:
        self.speaker = speaker
        self.good = good
        self.port = port
        self.raw: RawPeer | None = None

    async def raw_peer(self) -> RawPeer:
        if self.raw is None:
            self.raw = await connect_raw_peer(
                SPEAKER, self.port, local=RAW, asn=RAW_AS, router_id="10.0.0.99"
            )
        return self.raw

    async def drop_raw(self) -> None:
        if self.raw is not None:
            await self.raw.close()
            self.raw = None

    async def assert_good_session_works(self) -> None:
        """The other session is still Established and still answers a route refresh."""
        assert self.speaker.peers["good"].state == SessionState.ESTABLISHED
        counters = self.speaker.peers["good"].session.counters
        before = counters.updates_sent
        await self.good.request_route_refresh("speaker", IPV4_UNICAST)
        await self.speaker.wait_for(lambda: counters.updates_sent > before, timeout=10)


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    async with bystander_lab(SPEAKER, GOOD, RAW) as (s, g, port):
        lab = Lab(s, g, port)
        yield lab
        await lab.drop_raw()


# (name, bytes, expected NOTIFICATION (code, subcode, data) or None for "session stays up")
MALFORMED = [
    ("bad marker", b"\x00" * 16 + b"\x00\x13\x04", (1, 1, b"")),
    ("length below 19", _frame(4, b"", length=18), (1, 2, b"\x00\x12")),
    ("length above 4096", _frame(2, b"", length=5000), (1, 2, struct.pack("!H", 5000))),
    ("unknown type", _frame(9, b""), (1, 3, b"\x09")),
    ("KEEPALIVE with a body", _frame(4, b"\x00"), (1, 2, b"\x00\x14")),
    ("UPDATE shorter than 23", _frame(2, b"\x00\x00"), (1, 2, b"\x00\x15")),
    (
        "attribute list overruns the message",
        _frame(2, b"\x00\x00\x00\x20\x40\x01\x01\x00"),
        (3, 1, b""),
    ),
    (
        "OPEN in Established (RFC 6608)",
        Codec().encode(Open.for_asn(RAW_AS, 90, "10.0.0.99", Capabilities(four_octet_as=RAW_AS))),
        (5, 3, b""),
    ),
    ("ROUTE-REFRESH of 24 octets (RFC 7313 §5)", _frame(5, b"\x00\x01\x00\x01\x00"), None),
]


@pytest.mark.parametrize(("name", "data", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_malformed_message_gets_the_rfc_notification(
    lab: Lab, name: str, data: bytes, expected: tuple[int, int, bytes] | None
) -> None:
    raw = await lab.raw_peer()
    raw.send(data)
    notification = await raw.closing_notification()
    assert notification is not None, f"{name}: the speaker closed without a NOTIFICATION"
    if expected is None:  # RFC 7313 §5: code 7 subcode 1, data = the whole message
        expected = (7, 1, data)
    assert (notification.code, notification.subcode, notification.data) == expected
    await lab.drop_raw()
    await lab.assert_good_session_works()


async def test_malformed_as_path_is_treat_as_withdraw_and_the_session_stays(lab: Lab) -> None:
    raw = await lab.raw_peer()
    raw.send(_valid_update())
    await lab.speaker.wait_for(
        lambda: any(r.source.name == "raw" for r in lab.speaker.received_paths()), timeout=10
    )
    # Same NLRI, but an AS_PATH segment of an unknown type 9: RFC 7606 §7.2 treat-as-withdraw.
    good = _valid_update()
    bad = good.replace(bytes([0x40, 0x02, 0x0A, 0x02, 0x02]), bytes([0x40, 0x02, 0x0A, 0x09, 0x02]))
    assert bad != good
    raw.send(bad)
    await lab.speaker.wait_for(
        lambda: not any(r.source.name == "raw" for r in lab.speaker.received_paths()), timeout=10
    )
    assert lab.speaker.peers["raw"].state == SessionState.ESTABLISHED
    raw.send(Codec().encode(RouteRefresh(family=IPV4_UNICAST)))
    assert await raw.until_refresh_done()  # still served
    await lab.assert_good_session_works()


async def test_a_flood_of_malformed_updates_is_logged_once_per_interval(
    lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 7606 §6 asks for a log line holding the whole malformed UPDATE; a peer sending
    them in a loop gets the first one logged, the rest counted (runtime/throttle.py)."""
    caplog.set_level(logging.WARNING, logger="bgpemu.runtime.peer")
    raw = await lab.raw_peer()
    good = _valid_update()
    bad = good.replace(bytes([0x40, 0x02, 0x0A, 0x02, 0x02]), bytes([0x40, 0x02, 0x0A, 0x09, 0x02]))
    for _ in range(50):
        raw.send(bad)
    raw.send(Codec().encode(RouteRefresh(family=IPV4_UNICAST)))
    assert await raw.until_refresh_done()  # every UPDATE before it was handled
    lines = [r for r in caplog.records if "handled per RFC 7606" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage()[:120] for r in lines]
    assert bad.hex() in lines[0].getMessage()
    assert lab.speaker.peers["raw"].state == SessionState.ESTABLISHED
    await lab.assert_good_session_works()


async def test_notification_from_the_peer_closes_quietly_and_is_logged(lab: Lab) -> None:
    raw = await lab.raw_peer()
    raw.send(Codec().encode(Notification(code=6, subcode=4)))
    assert await raw.closing_notification() is None  # never answer a NOTIFICATION (RFC 4271 §6.4)
    await lab.speaker.wait_for(
        lambda: (
            lab.speaker.peers["raw"].last_notification_received
            == "Cease (6) / Administrative Reset (4)"
        ),
        timeout=10,
    )
    await lab.drop_raw()
    await lab.assert_good_session_works()


def _oracle(stream: bytes) -> tuple[int, int] | str:
    """What RFC 4271/7606 say the speaker must do with ``stream`` in Established.

    Returns (code, subcode) of the NOTIFICATION it must send, "closed" when it must close
    quietly (a NOTIFICATION arrived), or "up" when the session stays Established.
    """
    framer, codec = Framer(), Codec()
    try:
        frames = framer.feed(stream)
    except MessageError as exc:
        frames_ok = _frames_before_error(stream)
        for frame in frames_ok:
            outcome = _message_outcome(codec, frame)
            if outcome != "up":
                return outcome
        return (exc.code, exc.subcode)
    assert framer.buffered == 0
    for frame in frames:
        outcome = _message_outcome(codec, frame)
        if outcome != "up":
            return outcome
    return "up"


def _frames_before_error(stream: bytes) -> list[bytes]:
    framer, frames = Framer(), []
    for i in range(len(stream)):
        try:
            frames.extend(framer.feed(stream[i : i + 1]))
        except MessageError:
            break
    return frames


def _message_outcome(codec: Codec, frame: bytes) -> tuple[int, int] | str:
    try:
        message = codec.decode(frame)
    except MessageError as exc:
        return "closed" if frame[18] == 3 else (exc.code, exc.subcode)
    if isinstance(message, Notification):
        return "closed"
    if isinstance(message, Open):
        return (5, 3)  # RFC 6608 §4: unexpected OPEN in Established
    return "up"


_FILLER = Codec().encode(Keepalive()) * 220  # completes any message the fuzz left half-sent


def _mutations() -> st.SearchStrategy[bytes]:
    valid = _valid_update()

    def mutate(data: bytes, position: int, value: int) -> bytes:
        position %= len(data)
        return data[:position] + bytes([value]) + data[position + 1 :]

    return st.one_of(
        st.binary(min_size=1, max_size=64),
        st.builds(mutate, st.just(valid), st.integers(0, 10_000), st.integers(0, 255)),
        st.builds(lambda n: valid[:n], st.integers(1, len(valid) - 1)),
        st.builds(lambda data, n: data[16:18] + data[:n], st.just(valid), st.integers(0, 40)),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(fuzz=_mutations())
async def test_fuzzed_input_gets_the_rfc_outcome_and_never_hurts_the_other_session(
    lab: Lab, fuzz: bytes
) -> None:
    stream = fuzz + _FILLER
    expected = _oracle(stream)
    raw = await lab.raw_peer()
    raw.send(stream)
    if expected == "up":
        raw.send(Codec().encode(RouteRefresh(family=IPV4_UNICAST)))
        assert await raw.until_refresh_done(), "the speaker closed a session that should stay up"
    else:
        notification = await raw.closing_notification()
        if expected == "closed":
            assert notification is None
        else:
            assert notification is not None
            assert (notification.code, notification.subcode) == expected
        await lab.drop_raw()
    assert lab.speaker.peers["good"].state == SessionState.ESTABLISHED
