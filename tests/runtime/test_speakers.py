"""Two bgpemu speakers over loopback TCP: establish, exchange, refresh, stop, recover."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bgpemu.policy import MaxPrefix
from bgpemu.router import NeighborPolicy, OriginatedRoute
from bgpemu.runtime import Speaker, SpeakerSpec
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode, MessageType
from bgpemu.wire.messages import Notification
from tests.helpers import free_port, neighbor, running, speaker_spec

A, B = "127.0.0.11", "127.0.0.12"


def _pair(port: int, *, b_passive: bool = False) -> tuple[SpeakerSpec, SpeakerSpec]:
    a = speaker_spec(
        "a",
        A,
        port,
        asn=65001,
        router_id="10.0.0.1",
        routes=["10.1.0.0/24", "10.1.1.0/24", "2001:db8:1::/48"],
        next_hop_v4="192.0.2.1",
        neighbors=[
            neighbor("b", B, port, local_as=65001, peer_as=4200000002, router_id="10.0.0.1")
        ],
    )
    b = speaker_spec(
        "b",
        B,
        port,
        asn=4200000002,
        router_id="10.0.0.2",
        routes=["10.2.0.0/16", "2001:db8:2::/48"],
        next_hop_v4="192.0.2.2",
        next_hop_v6="2001:db8::2",
        neighbors=[
            neighbor(
                "a",
                A,
                port,
                local_as=4200000002,
                peer_as=65001,
                router_id="10.0.0.2",
                passive=b_passive,
            )
        ],
    )
    return a, b


def _prefixes(speaker: Speaker) -> set[str]:
    return {r.prefix for r in speaker.received_paths()}


async def test_two_speakers_exchange_ipv4_and_ipv6_routes() -> None:
    port = free_port(A, B)
    a_spec, b_spec = _pair(port)
    async with running(a_spec, b_spec) as (a, b):
        await a.wait_established(timeout=10)
        await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=10)
        await b.wait_for(lambda: len(_prefixes(b)) == 3, timeout=10)
        assert _prefixes(a) == {"10.2.0.0/16", "2001:db8:2::/48"}
        routes = {r.prefix: r for r in a.received_paths()}
        assert routes["10.2.0.0/16"].attributes.as_path_asns() == (4200000002,)
        assert routes["10.2.0.0/16"].attributes.next_hop == "192.0.2.2"
        assert routes["2001:db8:2::/48"].attributes.next_hop == "2001:db8::2"
        dump = b.dump()
        session = dump["sessions"][0]
        # Spelled as RFC 4271, the MQTT documents and az do (issue 15), and dated.
        assert session["state"] == "Established"
        assert 0 <= session["uptime"] < 60
        assert abs(time.time() - session["uptime"] - session["established_since"]) < 5
        assert {r["prefix"] for r in dump["received_routes"]} == {
            "10.1.0.0/24",
            "10.1.1.0/24",
            "2001:db8:1::/48",
        }


async def test_route_refresh_makes_the_peer_resend_between_borr_and_eorr() -> None:
    port = free_port(A, B)
    a_spec, b_spec = _pair(port)
    async with running(a_spec, b_spec) as (a, b):
        await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=10)
        counters = b.peers["a"].session.counters
        updates, refreshes = (
            counters.updates_sent,
            counters.messages_sent[MessageType.ROUTE_REFRESH],
        )
        await a.request_route_refresh("b", IPV6_UNICAST)
        # RFC 7313 §4: BoRR, b's IPv6 table (one UPDATE), EoRR.
        await b.wait_for(
            lambda: counters.messages_sent[MessageType.ROUTE_REFRESH] == refreshes + 2, timeout=10
        )
        assert counters.updates_sent == updates + 1
        await a.request_route_refresh("b", IPV4_UNICAST)
        await b.wait_for(
            lambda: counters.messages_sent[MessageType.ROUTE_REFRESH] == refreshes + 4, timeout=10
        )
        assert counters.updates_sent == updates + 2
        assert _prefixes(a) == {"10.2.0.0/16", "2001:db8:2::/48"}


async def test_clean_stop_sends_cease_and_the_peer_recovers_when_it_returns() -> None:
    port = free_port(A, B)
    a_spec, b_spec = _pair(port, b_passive=True)
    async with running(a_spec) as (a,):
        async with running(b_spec) as (b,):
            await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=10)
        # b stopped cleanly: a got Cease / Administrative Shutdown and dropped b's routes.
        await a.wait_for(lambda: a.peers["b"].state != SessionState.ESTABLISHED, timeout=5)
        assert a.peers["b"].last_notification_received == (
            "Cease (6) / Administrative Shutdown (2)"
        )
        assert _prefixes(a) == set()
        async with running(b_spec) as (b,):
            await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=15)
            assert b.peers["a"].state == SessionState.ESTABLISHED


async def test_an_operator_stop_and_start_wake_whoever_watches_the_speaker() -> None:
    """The lab's ``fail link`` stops a session from outside the driver's loop; the
    speaker's watchers (its MQTT feed, ``wait_for``) must hear of it, or the initiating
    side's sessions document stays Established (seen with ``bgpemu fail link``)."""
    port = free_port(A, B)
    a_spec, b_spec = _pair(port)
    async with running(a_spec, b_spec) as (a, _b):
        await a.wait_established(timeout=10)
        driver = a.peers["b"]
        now = asyncio.get_running_loop().time()
        stopped = asyncio.create_task(
            a.wait_for(lambda: driver.state is not SessionState.ESTABLISHED, timeout=5)
        )
        await asyncio.sleep(0)  # the watcher waits on the speaker's change before the stop
        driver.reset(
            Notification(
                code=ErrorCode.CEASE, subcode=CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, data=b""
            ),
            now,
        )
        await stopped
        started = asyncio.create_task(
            a.wait_for(lambda: driver.state is not SessionState.IDLE, timeout=5)
        )
        await asyncio.sleep(0)
        driver.restart(asyncio.get_running_loop().time())
        await started
        await a.wait_established(timeout=15)


@pytest.mark.parametrize("b_passive", [False, True])
async def test_both_sides_active_or_one_passive_converge_to_one_session(b_passive: bool) -> None:
    port = free_port(A, B)
    a_spec, b_spec = _pair(port, b_passive=b_passive)
    async with running(a_spec, b_spec) as (a, b):
        await a.wait_established(timeout=10)
        await b.wait_established(timeout=10)
        await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=10)
        await b.wait_for(lambda: len(_prefixes(b)) == 3, timeout=10)


async def test_max_prefix_trips_the_session_with_cease_1_and_restarts() -> None:
    port = free_port(A, B)
    a_spec, b_spec = _pair(port)
    limited = replace(
        a_spec.router,
        neighbors=(NeighborPolicy(name="b", max_prefix=MaxPrefix(1, restart_after=0.3)),),
    )
    a_spec = replace(a_spec, router=limited)
    async with running(a_spec, b_spec) as (a, b):
        # b sends one IPv4 and one IPv6 prefix: one per family, within the limit.
        await a.wait_for(lambda: len(_prefixes(a)) == 2, timeout=10)
        ipv4 = OriginatedRoute(prefix="10.2.1.0/24", family=IPV4_UNICAST)
        b.originate(ipv4)
        # RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data AFI 1, SAFI 1, limit 1.
        expected = "Cease (6) / Maximum Prefixes Reached (1), data 00010100000001"
        await b.wait_for(lambda: b.peers["a"].last_notification_received == expected, timeout=10)
        assert a.peers["b"].last_notification_sent == expected
        # After restart_after the session comes back (and trips again: b still sends two).
        await a.wait_for(lambda: a.peers["b"].session.counters.established_transitions >= 2, 10)
