"""A session is a fault domain: nothing a peer sends, and no internal error while
serving it, escapes that session (architecture decision 12, issue 12 item 1).

The speaker under test has a well-behaved bgpemu neighbour ("good", the bystander)
and a raw peer driven by the test.  Each test checks the bystander afterwards: still
Established, and still exchanging routes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from bgpemu.policy import PolicyContext
from bgpemu.rib import Path
from bgpemu.router import NeighborPolicy, OriginatedRoute, RouterOutput
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import Codec
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import (
    AddPathMode,
    AsPathSegment,
    Notification,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)
from tests.runtime.rawpeer import RAW_AS, RawPeer, bystander_lab, connect_raw_peer

SPEAKER, GOOD, RAW = "127.0.0.31", "127.0.0.32", "127.0.0.33"
LONG_AS_PATH = tuple(range(4_200_000_000, 4_200_001_100))
"""About 4,400 octets of AS_PATH: an UPDATE only an RFC 8654 session can carry."""


def _update(prefix: str, as_path: tuple[int, ...] = (RAW_AS,)) -> Update:
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (RAW_AS, *as_path)),),
        next_hop="192.0.2.99",
    )
    return Update(attributes=attributes, nlri=(prefix,))


class Lab:
    """The speaker under test and its bystander neighbour."""

    def __init__(self, speaker: Speaker, good: Speaker, port: int) -> None:
        self.speaker = speaker
        self.good = good
        self.port = port

    async def raw_peer(self, **capabilities: Any) -> RawPeer:
        return await connect_raw_peer(
            SPEAKER, self.port, local=RAW, asn=RAW_AS, router_id="10.0.0.99", **capabilities
        )

    def good_has(self, prefix: str) -> bool:
        return any(p.prefix == prefix for p in self.good.received_paths())

    async def assert_bystander_works(self) -> None:
        """The good session is Established and a new route still reaches it."""
        assert self.speaker.peers["good"].state == SessionState.ESTABLISHED
        prefix = f"10.77.{len(self.good.received_paths())}.0/24"
        self.speaker.originate(OriginatedRoute(prefix=prefix, family=IPV4_UNICAST))
        await self.good.wait_for(lambda: self.good_has(prefix), timeout=10)


@pytest.fixture
def lab_factory() -> Callable[..., Any]:
    @contextlib.asynccontextmanager
    async def make(**raw_session: Any) -> AsyncIterator[Lab]:
        async with bystander_lab(SPEAKER, GOOD, RAW, **raw_session) as (s, g, port):
            yield Lab(s, g, port)

    return make


# -- item 1: the two crashes found by the fuzzer -------------------------------------------


async def test_add_path_send_negotiated_exports_with_path_ids(
    lab_factory: Callable[..., Any],
) -> None:
    """RFC 7911 §3: with ADD-PATH send negotiated every NLRI carries a Path Identifier.

    Regression: the initial table waiting for this peer made the encoder raise
    "path_ids are required" and the whole speaker (every session) died.
    """
    async with lab_factory(add_path=((IPV4_UNICAST, AddPathMode.BOTH),)) as lab:
        raw = await lab.raw_peer(add_path=((IPV4_UNICAST, AddPathMode.BOTH),))
        assert IPV4_UNICAST in raw.codec.context.add_path_receive
        update = await raw.until(Update)
        assert isinstance(update, Update)
        assert "10.1.0.0/24" in update.nlri or "10.2.0.0/24" in update.nlri
        assert update.nlri_path_ids is not None
        assert all(i != 0 for i in update.nlri_path_ids)
        # A route it sends with a path id is taken too, and the session stays up.
        raw.send(raw.codec.encode(_with_path_id(_update("10.99.0.0/24"), 7)))
        await lab.good.wait_for(lambda: lab.good_has("10.99.0.0/24"), timeout=10)
        assert lab.speaker.peers["raw"].state == SessionState.ESTABLISHED
        await lab.assert_bystander_works()
        await raw.close()


def _long(path: Path) -> bool:
    return sum(len(segment.asns) for segment in path.attributes.as_path) > 1000


def _with_path_id(update: Update, path_id: int) -> Update:
    return replace(update, nlri_path_ids=(path_id,) * len(update.nlri))


async def test_update_too_long_for_a_peer_without_extended_messages_is_not_sent(
    lab_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 8654 §4: a BGP speaker MUST NOT send a message longer than 4,096 octets to a
    peer that did not advertise the Extended Message capability.

    A path received over an extended-message session whose attributes cannot fit in
    4,096 octets is not announced to such a peer; a previous path of that prefix it
    had been sent is withdrawn there; it is logged once per peer.  Regression: the
    encoder raised "the attributes leave no room for prefixes" and killed the process.
    """
    caplog.set_level(logging.WARNING)
    async with lab_factory(extended_message=True) as lab:
        raw = await lab.raw_peer(extended_message=True)
        assert raw.codec.context.extended_message
        raw.send(raw.codec.encode(_update("10.99.0.0/24")))
        await lab.good.wait_for(lambda: lab.good_has("10.99.0.0/24"), timeout=10)
        big = raw.codec.encode(_update("10.99.0.0/24", LONG_AS_PATH))
        assert len(big) > 4096
        raw.send(big)
        await lab.speaker.wait_for(
            lambda: any(_long(p) for p in lab.speaker.received_paths()), timeout=10
        )
        await lab.good.wait_for(lambda: not lab.good_has("10.99.0.0/24"), timeout=10)
        assert lab.good.peers["speaker"].state == SessionState.ESTABLISHED
        # A second prefix with long attributes: never announced, and not logged again.
        raw.send(raw.codec.encode(_update("10.98.0.0/24", LONG_AS_PATH)))
        await lab.speaker.wait_for(
            lambda: any(p.prefix == "10.98.0.0/24" for p in lab.speaker.received_paths()),
            timeout=10,
        )
        await lab.assert_bystander_works()
        assert not lab.good_has("10.98.0.0/24")
        # The Adj-RIB-Out toward good (MQTT rib/out/good) does not claim them either.
        rib_out = lab.speaker.router.adj_rib_out("good")
        assert rib_out is not None
        assert rib_out.sent(IPV4_UNICAST, "10.99.0.0/24") is None
        assert rib_out.sent(IPV4_UNICAST, "10.98.0.0/24") is None
        assert rib_out.sent(IPV4_UNICAST, "10.1.0.0/24") is not None
        assert lab.speaker.peers["raw"].state == SessionState.ESTABLISHED
        records = [r for r in caplog.records if "RFC 8654" in r.getMessage()]
        assert len(records) == 1, [r.getMessage() for r in records]
        assert getattr(records[0], "peer", "") == "speaker>good"
        await raw.close()


# -- item 2: the class -------------------------------------------------------------------


async def test_internal_error_resets_only_that_session(
    lab_factory: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unexpected error while serving one session (here: the router raising on its
    UPDATE) resets only that session with Cease / Out of Resources (RFC 4486 §4
    subcode 8), is logged once with its traceback and counted; the bystander session
    stays Established and keeps exchanging routes."""
    caplog.set_level(logging.WARNING)
    async with lab_factory() as lab:
        raw = await lab.raw_peer()
        router = lab.speaker.router
        real = router.updates_received

        def faulty(name: str, updates: Any, now: float) -> RouterOutput:
            if name == "raw":
                raise RuntimeError("injected fault")
            output: RouterOutput = real(name, updates, now)
            return output

        monkeypatch.setattr(router, "updates_received", faulty)
        raw.send(raw.codec.encode(_update("10.99.0.0/24")))
        notification = await raw.closing_notification()
        assert notification == Notification(
            code=ErrorCode.CEASE, subcode=CeaseSubcode.OUT_OF_RESOURCES
        )
        driver = lab.speaker.peers["raw"]
        assert driver.session.counters.internal_errors == 1
        sessions = {s["peer"]: s for s in lab.speaker.dump()["sessions"]}
        assert sessions["raw"]["internal_errors"] == 1
        assert sessions["good"]["internal_errors"] == 0
        faults = [r for r in caplog.records if "injected fault" in str(r.exc_info)]
        assert len(faults) == 1
        assert faults[0].exc_info is not None
        assert getattr(faults[0], "peer", "") == "speaker>raw"
        await lab.assert_bystander_works()
        await raw.close()


async def test_encoder_fault_toward_one_peer_resets_that_peer_only(
    lab_factory: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A route received from the bystander that cannot be encoded toward the raw peer
    resets the raw peer's session, never the bystander's (whose UPDATE caused it)."""
    caplog.set_level(logging.WARNING)
    async with lab_factory() as lab:
        raw = await lab.raw_peer()
        raw_codec = lab.speaker.peers["raw"].session.codec
        real = Codec.pack_announce

        def faulty(self: Codec, *args: Any, **kwargs: Any) -> list[bytes]:
            if self is raw_codec and "10.66.0.0/24" in args[2]:
                raise ValueError("injected encoder fault")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Codec, "pack_announce", faulty)
        lab.good.originate(OriginatedRoute(prefix="10.66.0.0/24", family=IPV4_UNICAST))
        notification = await raw.closing_notification()
        assert notification is not None
        assert (notification.code, notification.subcode) == (6, 8)
        assert lab.speaker.peers["raw"].session.counters.internal_errors == 1
        assert lab.speaker.peers["good"].session.counters.internal_errors == 0
        await lab.assert_bystander_works()
        assert lab.speaker.peers["good"].session.counters.established_transitions == 1
        await raw.close()


def _raises(path: Path, context: PolicyContext, /) -> Path | None:
    raise RuntimeError("injected policy fault")


async def test_policy_change_that_raises_resets_that_neighbor_only(
    lab_factory: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A new export policy that raises when it is applied (soft reconfiguration) resets
    the session it was given to; the call itself (a lab control operation) returns."""
    caplog.set_level(logging.WARNING)
    async with lab_factory() as lab:
        raw = await lab.raw_peer()
        await lab.speaker.set_neighbor_policy(NeighborPolicy(name="raw", export_policy=_raises))
        notification = await raw.closing_notification()
        assert notification is not None
        assert (notification.code, notification.subcode) == (6, 8)
        assert lab.speaker.peers["raw"].internal_errors >= 1
        assert lab.speaker.peers["good"].internal_errors == 0
        await lab.assert_bystander_works()
        await raw.close()


async def test_a_driver_that_fails_outside_a_session_event_takes_only_its_neighbor_down(
    lab_factory: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Last line of defence: an exception that escapes a neighbour's tasks (its driver
    loop, its reader) is logged with its traceback and ends that neighbour only; the
    speaker's other sessions (one TaskGroup) keep running."""
    caplog.set_level(logging.WARNING)
    async with lab_factory() as lab:
        raw = await lab.raw_peer()
        driver = lab.speaker.peers["raw"]

        async def broken() -> None:
            raise RuntimeError("injected driver fault")

        monkeypatch.setattr(driver, "_drain", broken)
        raw.send(raw.codec.encode(_update("10.99.0.0/24")))  # wakes the driver loop
        await lab.speaker.wait_for(
            lambda: any("injected driver fault" in str(r.exc_info) for r in caplog.records),
            timeout=10,
        )
        await lab.assert_bystander_works()
        await raw.close()
