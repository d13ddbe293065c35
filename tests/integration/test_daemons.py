"""Prove the BIRD / GoBGP fixtures: peering over loopback, route exchange, refresh, restart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.daemons import (
    Bird,
    BirdNeighbor,
    GoBgp,
    GoBgpNeighbor,
    bird_config,
    free_port,
    gobgp_config,
    parse_bird_routes,
    parse_gobgp_rib,
)

BIRD_IP = "127.0.0.61"
GOBGP_IP = "127.0.0.62"
BIRD_AS = 4200000061
GOBGP_AS = 4200000062


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    bird: Bird
    gobgp: GoBgp


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    bird_port = free_port(BIRD_IP)
    gobgp_port = free_port(GOBGP_IP)
    bird = Bird(
        tmp_path / "bird",
        bird_config(
            router_id=BIRD_IP,
            asn=BIRD_AS,
            neighbors=[
                BirdNeighbor(
                    name="gobgp",
                    address=GOBGP_IP,
                    port=gobgp_port,
                    asn=GOBGP_AS,
                    local_address=BIRD_IP,
                    local_port=bird_port,
                )
            ],
            routes_v4=["10.61.1.0/24", "10.61.2.0/24"],
            routes_v6=["2001:db8:61::/48"],
            communities=[(65061, 1), (65061, 2)],
            large_communities=[(BIRD_AS, 7, 8)],
            med=50,
        ),
    )
    gobgp = GoBgp(
        tmp_path / "gobgp",
        gobgp_config(
            router_id=GOBGP_IP,
            asn=GOBGP_AS,
            port=gobgp_port,
            local_address=GOBGP_IP,
            neighbors=[GoBgpNeighbor(address=BIRD_IP, asn=BIRD_AS, port=bird_port)],
        ),
    )
    with bird, gobgp:
        bird.wait_established("gobgp")
        gobgp.wait_established(BIRD_IP)
        yield Pair(bird=bird, gobgp=gobgp)


@pytest.mark.integration
def test_bird_routes_reach_gobgp_with_attributes(pair: Pair) -> None:
    rib4 = pair.gobgp.wait_routes("ipv4", lambda r: len(r) == 2)
    assert set(rib4) == {"10.61.1.0/24", "10.61.2.0/24"}
    route = rib4["10.61.1.0/24"]
    assert route.as_path == [BIRD_AS]
    assert route.next_hop == "192.0.2.2"
    assert route.med == 50
    assert route.communities == [(65061, 1), (65061, 2)]
    assert route.large_communities == [(BIRD_AS, 7, 8)]
    assert route.neighbor_ip == BIRD_IP
    rib6 = pair.gobgp.wait_routes("ipv6", lambda r: "2001:db8:61::/48" in r)
    assert rib6["2001:db8:61::/48"].next_hop == "2001:db8::2"
    assert rib6["2001:db8:61::/48"].as_path == [BIRD_AS]


@pytest.mark.integration
def test_gobgp_routes_reach_bird_and_parse(pair: Pair) -> None:
    pair.gobgp.add_route(
        "10.62.1.0/24",
        "192.0.2.3",
        as_path=[65001, 65002],
        origin="igp",
        med=20,
        communities=[(65062, 10), (65062, 11)],
        large_communities=[(GOBGP_AS, 1, 2)],
    )
    pair.gobgp.add_route("10.62.2.0/24", "192.0.2.3", route_targets=["65062:100"])
    pair.gobgp.add_route("2001:db8:62::/48", "2001:db8::3")
    v4 = pair.bird.wait_routes("master4", lambda r: {"10.62.1.0/24", "10.62.2.0/24"} <= set(r))
    route = v4["10.62.1.0/24"]
    assert route.protocol == "gobgp"
    assert route.from_address == GOBGP_IP
    assert route.as_path == [GOBGP_AS, 65001, 65002]
    assert route.next_hop == "192.0.2.3"
    assert route.origin == "IGP"
    assert route.med == 20
    assert route.communities == [(65062, 10), (65062, 11)]
    assert route.large_communities == [(GOBGP_AS, 1, 2)]
    assert v4["10.62.2.0/24"].ext_communities == ["rt:65062:100"]
    assert v4["10.61.1.0/24"].protocol == "static4"
    v6 = pair.bird.wait_routes("master6", lambda r: "2001:db8:62::/48" in r)
    assert v6["2001:db8:62::/48"].next_hop == "2001:db8::3"
    pair.gobgp.del_route("10.62.1.0/24")
    pair.bird.wait_routes("master4", lambda r: "10.62.1.0/24" not in r)


@pytest.mark.integration
def test_bird_reload_in_sends_route_refresh(pair: Pair) -> None:
    gobgp = pair.gobgp
    gobgp.add_route("10.62.7.0/24", "192.0.2.3")
    pair.bird.wait_routes("master4", lambda r: "10.62.7.0/24" in r)
    before = gobgp.message_counters(BIRD_IP)
    pair.bird.reload_in("gobgp")
    # One ROUTE-REFRESH per channel (ipv4, ipv6); GoBGP answers by re-sending its routes.
    gobgp.wait_until(
        lambda: (
            gobgp.message_counters(BIRD_IP)["received"].get("refresh", 0)
            >= before["received"].get("refresh", 0) + 2
        ),
        "two ROUTE-REFRESH from BIRD",
    )
    gobgp.wait_until(
        lambda: (
            gobgp.message_counters(BIRD_IP)["sent"].get("update", 0)
            > before["sent"].get("update", 0)
        ),
        "GoBGP to re-send its UPDATEs",
    )


@pytest.mark.integration
def test_gobgp_softreset_in_is_local_only(pair: Pair) -> None:
    pair.gobgp.wait_routes("ipv4", lambda r: len(r) == 2)
    pair.gobgp.softreset_in(BIRD_IP, "ipv4")
    counters = pair.gobgp.message_counters(BIRD_IP)
    assert counters["sent"].get("refresh", 0) == 0
    assert set(pair.gobgp.rib("ipv4")) == {"10.61.1.0/24", "10.61.2.0/24"}
    assert pair.bird.protocol_state("gobgp") == "Established"


@pytest.mark.integration
def test_kill_and_restart_recovers(pair: Pair) -> None:
    pair.gobgp.wait_routes("ipv4", lambda r: len(r) == 2)
    pair.gobgp.kill()
    pair.bird.wait_state("gobgp", ["Active", "Connect", "Idle", "Passive"], timeout=10.0)
    pair.gobgp.start()
    pair.gobgp.wait_established(BIRD_IP, timeout=20.0)
    pair.gobgp.wait_routes("ipv4", lambda r: len(r) == 2)

    pair.gobgp.add_route("10.62.5.0/24", "192.0.2.3")
    pair.bird.wait_routes("master4", lambda r: "10.62.5.0/24" in r)
    pair.bird.kill()
    pair.gobgp.wait_state(BIRD_IP, ["active", "idle", "connect"], timeout=10.0)
    pair.bird.restart()
    pair.bird.wait_established("gobgp", timeout=20.0)
    pair.bird.wait_routes("master4", lambda r: "10.62.5.0/24" in r)
    assert pair.gobgp.neighbor_state(BIRD_IP) == "established"


@pytest.mark.integration
def test_graceful_stop_sends_cease(pair: Pair) -> None:
    pair.gobgp.disable_neighbor(BIRD_IP, reason="bgpemu test")
    pair.bird.wait_state("gobgp", ["Active", "Connect", "Idle"], timeout=10.0)
    assert any("bgpemu test" in line for line in pair.bird.log_text().splitlines())
    pair.gobgp.enable_neighbor(BIRD_IP)
    pair.bird.wait_established("gobgp", timeout=20.0)


BIRD_SHOW_ROUTE = """\
Table master4:
10.0.0.0/24          unreachable [gobgp 18:11:55.136 from 127.0.0.62] * (100) [AS65002i]
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65001 {65002 65003}
\tBGP.next_hop: 192.0.2.3
\tBGP.med: 20
\tBGP.local_pref: 100
\tBGP.community: (65000,10) (65000,11)
\tBGP.ext_community: (rt, 65000, 100)
\tBGP.large_community: (4200000062, 1, 2) (1, 2, 3)
                     unreachable [other 18:11:56.000 from 127.0.0.63] (100) [AS65009i]
\tType: BGP univ
\tBGP.as_path: 65009
10.0.1.0/24          blackhole [static4 18:11:36.996] * (200)
\tType: static univ
"""


def test_parse_bird_routes_sample() -> None:
    routes = parse_bird_routes(BIRD_SHOW_ROUTE)
    assert set(routes) == {"10.0.0.0/24", "10.0.1.0/24"}
    route = routes["10.0.0.0/24"]
    assert route.primary
    assert route.protocol == "gobgp"
    assert route.from_address == "127.0.0.62"
    assert route.dest == "unreachable"
    assert route.as_path == [65001, 65002, 65003]
    assert route.med == 20
    assert route.local_pref == 100
    assert route.communities == [(65000, 10), (65000, 11)]
    assert route.ext_communities == ["rt:65000:100"]
    assert route.large_communities == [(4200000062, 1, 2), (1, 2, 3)]
    assert routes["10.0.1.0/24"].protocol == "static4"
    assert routes["10.0.1.0/24"].as_path == []


def test_parse_gobgp_rib_sample() -> None:
    text = (
        '{"10.0.0.0/24":[{"nlri":{"prefix":"10.0.0.0/24"},"best":false,"attrs":[]},'
        '{"nlri":{"prefix":"10.0.0.0/24"},"best":true,"id":2,"attrs":['
        '{"type":1,"value":0},{"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[65001]}]},'
        '{"type":3,"nexthop":"192.0.2.2"},{"type":8,"communities":[4259840001]},'
        '{"type":16,"value":[{"type":0,"subtype":2,"value":"65000:100"}]}]}]}'
    )
    paths = parse_gobgp_rib(text)["10.0.0.0/24"]
    assert [p.best for p in paths] == [True, False]
    assert paths[0].path_id == 2
    assert paths[0].as_path == [65001]
    assert paths[0].communities == [(65000, 1)]
    assert paths[0].ext_communities == ["0:2:65000:100"]
    assert parse_gobgp_rib("{}") == {}
