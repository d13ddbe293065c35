"""bgpemu speakers against real BGP daemons from Debian (BIRD 2, GoBGP) over loopback.

Routes flow both ways, IPv4 and IPv6; ROUTE-REFRESH makes the peer resend; a killed peer
is detected and the session recovers when it returns; a NOTIFICATION from the peer is
logged with its decoded code and subcode.  Next hops are outside 127/8 (GoBGP treats
those as invalid).  The daemon helpers block, so they run in threads while the speaker
runs on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from bgpemu.runtime import NeighborSpec, Speaker, SpeakerSpec
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.constants import MessageType
from bgpemu.wire.messages import AddPathMode
from tests.helpers import neighbor, running, speaker_spec
from tests.integration.daemons import (
    Bird,
    BirdNeighbor,
    GoBgp,
    GoBgpNeighbor,
    bird_config,
    free_port,
    gobgp_config,
)

pytestmark = pytest.mark.integration

EMU, BIRD, GOBGP = "127.0.0.31", "127.0.0.32", "127.0.0.33"
EMU_AS, BIRD_AS, GOBGP_AS = 4200000031, 65032, 65033
EMU_ROUTES = ["10.31.1.0/24", "10.31.2.0/24", "2001:db8:31::/48"]
T = TypeVar("T")


async def _thread(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    return await asyncio.to_thread(fn, *args, **kwargs)


def _received(speaker: Speaker, peer: str) -> dict[str, object]:
    return {r.prefix: r for r in speaker.received_paths() if r.source.name == peer}


def _emu_spec(port: int, peer: NeighborSpec) -> SpeakerSpec:
    """The bgpemu speaker of these tests, with next hops GoBGP and BIRD accept."""
    return speaker_spec(
        "emu",
        EMU,
        port,
        asn=EMU_AS,
        router_id="10.0.0.31",
        routes=EMU_ROUTES,
        next_hop_v4="192.0.2.31",
        next_hop_v6="2001:db8::31",
        neighbors=[peer],
    )


# -- BIRD ---------------------------------------------------------------------------------


@dataclass
class BirdLab:
    speaker: Speaker
    bird: Bird


@pytest.fixture
async def bird_lab(tmp_path: Path) -> AsyncIterator[BirdLab]:
    from tests.integration.daemons import require_binary

    require_binary("bird")
    emu_port, bird_port = free_port(EMU), free_port(BIRD)
    bird = Bird(
        tmp_path / "bird",
        bird_config(
            router_id=BIRD,
            asn=BIRD_AS,
            neighbors=[
                BirdNeighbor(
                    name="emu",
                    address=EMU,
                    port=emu_port,
                    asn=EMU_AS,
                    local_address=BIRD,
                    local_port=bird_port,
                    graceful_restart="aware",
                )
            ],
            routes_v4=["10.32.1.0/24", "10.32.2.0/24"],
            routes_v6=["2001:db8:32::/48"],
            next_hop_v4="198.51.100.32",
            next_hop_v6="2001:db8:ffff::32",
            communities=[(65032, 1), (65032, 2)],
            large_communities=[(65032, 7, 8)],
            med=50,
        ),
    )
    spec = _emu_spec(
        emu_port,
        neighbor("bird", BIRD, bird_port, local_as=EMU_AS, peer_as=BIRD_AS, router_id="10.0.0.31"),
    )
    with bird:
        async with running(spec) as (speaker,):
            await speaker.wait_established("bird", timeout=30)
            yield BirdLab(speaker, bird)


async def test_bird_routes_flow_both_ways_ipv4_and_ipv6(bird_lab: BirdLab) -> None:
    speaker, bird = bird_lab.speaker, bird_lab.bird
    await speaker.wait_for(lambda: len(_received(speaker, "bird")) == 3, timeout=30)
    routes = speaker.received_paths()
    v4 = {r.prefix: r.attributes for r in routes if r.family == IPV4_UNICAST}
    v6 = {r.prefix: r.attributes for r in routes if r.family == IPV6_UNICAST}
    assert set(v4) == {"10.32.1.0/24", "10.32.2.0/24"}
    attrs = v4["10.32.1.0/24"]
    assert attrs.as_path_asns() == (BIRD_AS,)
    assert attrs.next_hop == "198.51.100.32"
    assert attrs.med == 50
    assert attrs.communities == (65032 << 16 | 1, 65032 << 16 | 2)
    assert attrs.large_communities == ((65032, 7, 8),)
    assert v6["2001:db8:32::/48"].next_hop == "2001:db8:ffff::32"

    table4 = await _thread(bird.wait_routes, "master4", lambda r: "10.31.2.0/24" in r, 30)
    assert table4["10.31.1.0/24"].as_path == [EMU_AS]
    assert table4["10.31.1.0/24"].next_hop == "192.0.2.31"
    table6 = await _thread(bird.wait_routes, "master6", lambda r: "2001:db8:31::/48" in r, 30)
    assert table6["2001:db8:31::/48"].as_path == [EMU_AS]


async def test_bird_route_refresh_both_directions(bird_lab: BirdLab) -> None:
    speaker, bird = bird_lab.speaker, bird_lab.bird
    await speaker.wait_for(lambda: len(_received(speaker, "bird")) == 3, timeout=30)
    counters = speaker.peers["bird"].session.counters
    refresh = MessageType.ROUTE_REFRESH
    # We ask: BIRD re-sends its IPv4 table between BoRR and EoRR (RFC 7313 §4).
    received, markers = counters.updates_received, counters.messages_received[refresh]
    await speaker.request_route_refresh("bird", IPV4_UNICAST)
    await speaker.wait_for(lambda: counters.messages_received[refresh] == markers + 2, timeout=30)
    assert counters.updates_received > received
    # BIRD asks (`birdc reload in`, one ROUTE-REFRESH per family): we re-send both tables.
    sent, asked = counters.updates_sent, counters.messages_received[refresh]
    await _thread(bird.reload_in, "emu")
    await speaker.wait_for(lambda: counters.messages_received[refresh] == asked + 2, timeout=30)
    await speaker.wait_for(lambda: counters.updates_sent == sent + 2, timeout=30)
    assert len(_received(speaker, "bird")) == 3


async def test_bird_killed_is_detected_and_the_session_recovers(bird_lab: BirdLab) -> None:
    speaker, bird = bird_lab.speaker, bird_lab.bird
    await speaker.wait_for(lambda: len(_received(speaker, "bird")) == 3, timeout=30)
    await _thread(bird.kill)
    await speaker.wait_for(
        lambda: speaker.peers["bird"].state != SessionState.ESTABLISHED, timeout=30
    )
    assert _received(speaker, "bird") == {}
    await _thread(bird.start)
    await speaker.wait_established("bird", timeout=60)
    await speaker.wait_for(lambda: len(_received(speaker, "bird")) == 3, timeout=30)


async def test_bird_notification_is_logged_decoded(
    bird_lab: BirdLab, caplog: pytest.LogCaptureFixture
) -> None:
    speaker, bird = bird_lab.speaker, bird_lab.bird
    caplog.set_level(logging.WARNING, logger="bgpemu.runtime.peer")
    await _thread(bird.disable, "emu", "maintenance window")
    expected = 'Cease (6) / Administrative Shutdown (2), "maintenance window"'
    await speaker.wait_for(
        lambda: speaker.peers["bird"].last_notification_received == expected, timeout=30
    )
    assert f"NOTIFICATION received: {expected}" in caplog.text
    await _thread(bird.enable, "emu")
    await speaker.wait_established("bird", timeout=60)


# -- GoBGP --------------------------------------------------------------------------------


@dataclass
class GoBgpLab:
    speaker: Speaker
    gobgp: GoBgp


@pytest.fixture
async def gobgp_lab(tmp_path: Path) -> AsyncIterator[GoBgpLab]:
    from tests.integration.daemons import require_binary

    require_binary("gobgpd")
    require_binary("gobgp")
    emu_port, gobgp_port = free_port(EMU), free_port(GOBGP)
    gobgp = GoBgp(
        tmp_path / "gobgp",
        gobgp_config(
            router_id=GOBGP,
            asn=GOBGP_AS,
            port=gobgp_port,
            local_address=GOBGP,
            neighbors=[
                GoBgpNeighbor(
                    address=EMU,
                    asn=EMU_AS,
                    port=emu_port,
                    local_address=GOBGP,
                    add_paths_send_max=2,
                )
            ],
        ),
    )
    spec = _emu_spec(
        emu_port,
        neighbor(
            "gobgp",
            GOBGP,
            gobgp_port,
            local_as=EMU_AS,
            peer_as=GOBGP_AS,
            router_id="10.0.0.31",
            add_path=((IPV4_UNICAST, AddPathMode.RECEIVE),),
        ),
    )
    with gobgp:
        async with running(spec) as (speaker,):
            await speaker.wait_established("gobgp", timeout=30)
            yield GoBgpLab(speaker, gobgp)


async def test_gobgp_routes_flow_both_ways_with_add_path(gobgp_lab: GoBgpLab) -> None:
    speaker, gobgp = gobgp_lab.speaker, gobgp_lab.gobgp
    await _thread(gobgp.add_route, "10.33.1.0/24", "198.51.100.33", communities=[(65033, 5)], med=9)
    await _thread(gobgp.add_route, "10.33.9.0/24", "198.51.100.33", identifier=1)
    await _thread(gobgp.add_route, "10.33.9.0/24", "198.51.100.34", identifier=2)
    await _thread(gobgp.add_route, "2001:db8:33::/48", "2001:db8:ffff::33", family="ipv6")
    await speaker.wait_for(lambda: len(speaker.received_paths()) == 4, timeout=30)
    routes = {(r.prefix, r.path_id): r.attributes for r in speaker.received_paths()}
    one = routes[next(k for k in routes if k[0] == "10.33.1.0/24")]
    assert one.as_path_asns() == (GOBGP_AS,)
    assert one.next_hop == "198.51.100.33"
    assert one.med == 9
    assert one.communities == (65033 << 16 | 5,)
    # ADD-PATH (RFC 7911): both paths of 10.33.9.0/24 kept apart by their path ids.
    hops = {a.next_hop for (p, _), a in routes.items() if p == "10.33.9.0/24"}
    assert hops == {"198.51.100.33", "198.51.100.34"}
    v6 = [a for (p, _), a in routes.items() if p == "2001:db8:33::/48"]
    assert v6[0].next_hop == "2001:db8:ffff::33"

    rib4 = await _thread(gobgp.wait_routes, "ipv4", lambda r: "10.31.2.0/24" in r, 30)
    assert rib4["10.31.1.0/24"].as_path == [EMU_AS]
    assert rib4["10.31.1.0/24"].next_hop == "192.0.2.31"
    rib6 = await _thread(gobgp.wait_routes, "ipv6", lambda r: "2001:db8:31::/48" in r, 30)
    assert rib6["2001:db8:31::/48"].next_hop == "2001:db8::31"

    await _thread(gobgp.del_route, "10.33.1.0/24")
    await speaker.wait_for(lambda: len(speaker.received_paths()) == 3, timeout=30)


async def test_gobgp_resends_on_our_route_refresh(gobgp_lab: GoBgpLab) -> None:
    speaker, gobgp = gobgp_lab.speaker, gobgp_lab.gobgp
    await _thread(gobgp.add_route, "10.33.1.0/24", "198.51.100.33")
    await speaker.wait_for(lambda: len(speaker.received_paths()) == 1, timeout=30)
    counters = speaker.peers["gobgp"].session.counters
    received = counters.updates_received
    await speaker.request_route_refresh("gobgp", IPV4_UNICAST)
    await speaker.wait_for(lambda: counters.updates_received > received, timeout=30)
    assert len(speaker.received_paths()) == 1


async def test_gobgp_killed_is_detected_and_the_session_recovers(gobgp_lab: GoBgpLab) -> None:
    speaker, gobgp = gobgp_lab.speaker, gobgp_lab.gobgp
    await _thread(gobgp.add_route, "10.33.1.0/24", "198.51.100.33")
    await speaker.wait_for(lambda: len(speaker.received_paths()) == 1, timeout=30)
    await _thread(gobgp.kill)
    await speaker.wait_for(
        lambda: speaker.peers["gobgp"].state != SessionState.ESTABLISHED, timeout=30
    )
    assert speaker.received_paths() == []
    await _thread(gobgp.start)
    await speaker.wait_established("gobgp", timeout=60)
    await _thread(gobgp.add_route, "10.33.1.0/24", "198.51.100.33")
    await speaker.wait_for(lambda: len(speaker.received_paths()) == 1, timeout=30)


async def test_gobgp_notification_is_logged_decoded(
    gobgp_lab: GoBgpLab, caplog: pytest.LogCaptureFixture
) -> None:
    speaker, gobgp = gobgp_lab.speaker, gobgp_lab.gobgp
    caplog.set_level(logging.WARNING, logger="bgpemu.runtime.peer")
    await _thread(gobgp.disable_neighbor, EMU, "upgrade")
    expected = 'Cease (6) / Administrative Shutdown (2), "upgrade"'
    await speaker.wait_for(
        lambda: speaker.peers["gobgp"].last_notification_received == expected, timeout=30
    )
    assert f"NOTIFICATION received: {expected}" in caplog.text
