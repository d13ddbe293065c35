"""The foundation router: origination per peer type, Adj-RIB-In bookkeeping, route refresh."""

from __future__ import annotations

from bgpemu.router import Announce, EndOfRib, OriginatedRoute, Router, RouterConfig, Withdraw
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import (
    AsPathSegment,
    MpReach,
    MpUnreach,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)

CONFIG = RouterConfig(
    asn=65001,
    router_id="10.0.0.1",
    next_hop_v4="192.0.2.1",
    next_hop_v6="2001:db8::1",
    routes=(
        OriginatedRoute(prefix="10.1.0.0/24", family=IPV4_UNICAST),
        OriginatedRoute(prefix="10.1.1.0/24", family=IPV4_UNICAST),
        OriginatedRoute(prefix="10.1.2.0/24", family=IPV4_UNICAST, med=5, as_path_prepend=2),
        OriginatedRoute(prefix="2001:db8:1::/48", family=IPV6_UNICAST),
    ),
)


def test_ebgp_table_groups_shared_attributes_and_ends_with_end_of_rib() -> None:
    router = Router(CONFIG)
    exports = router.session_up("b", 65002, [IPV6_UNICAST, IPV4_UNICAST])
    plain = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),),
        next_hop="192.0.2.1",
    )
    prepended = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65001, 65001)),),
        next_hop="192.0.2.1",
        med=5,
    )
    assert exports == [
        Announce(family=IPV4_UNICAST, attributes=plain, prefixes=("10.1.0.0/24", "10.1.1.0/24")),
        Announce(family=IPV4_UNICAST, attributes=prepended, prefixes=("10.1.2.0/24",)),
        EndOfRib(family=IPV4_UNICAST),
        Announce(
            family=IPV6_UNICAST,
            attributes=PathAttributes(
                origin=Origin.IGP,
                as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),),
                next_hop="2001:db8::1",
            ),
            prefixes=("2001:db8:1::/48",),
        ),
        EndOfRib(family=IPV6_UNICAST),
    ]


def test_ibgp_has_empty_as_path_and_local_pref() -> None:
    router = Router(CONFIG)
    first = router.session_up("c", 65001, [IPV4_UNICAST])[0]
    assert isinstance(first, Announce)
    assert first.attributes.as_path == ()
    assert first.attributes.local_pref == 100  # RFC 4271 §5.1.5: sent to internal peers


def test_only_negotiated_families_are_sent() -> None:
    exports = Router(CONFIG).session_up("b", 65002, [IPV6_UNICAST])
    assert {e.family for e in exports} == {IPV6_UNICAST}


def test_updates_fill_and_drain_the_adj_rib_in() -> None:
    router = Router(CONFIG)
    router.session_up("b", 65002, [IPV4_UNICAST, IPV6_UNICAST])
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65002,)),),
        next_hop="192.0.2.2",
        communities=(65002 << 16 | 7,),
    )
    changed = router.update_received(
        "b",
        Update(
            attributes=attrs,
            nlri=("10.2.0.0/16", "10.3.0.0/16"),
            mp_reach=MpReach(
                family=IPV6_UNICAST, next_hop="2001:db8::2", nlri=("2001:db8:2::/48",)
            ),
        ),
    )
    assert changed == 3
    routes = {r.prefix: r for r in router.received_routes()}
    assert routes["2001:db8:2::/48"].attributes.next_hop == "2001:db8::2"
    assert routes["10.2.0.0/16"].to_json() == {
        "peer": "b",
        "prefix": "10.2.0.0/16",
        "family": "ipv4-unicast",
        "path_id": 0,
        "next_hop": "192.0.2.2",
        "as_path": [65002],
        "origin": "igp",
        "med": None,
        "local_pref": None,
        "communities": ["65002:7"],
        "large_communities": [],
    }
    withdrawn = router.update_received(
        "b",
        Update(
            withdrawn=("10.2.0.0/16",),
            mp_unreach=MpUnreach(family=IPV6_UNICAST, withdrawn=("2001:db8:2::/48",)),
        ),
    )
    assert withdrawn == 2
    assert [r.prefix for r in router.received_routes()] == ["10.3.0.0/16"]
    assert router.session_down("b") == 1
    assert router.received_routes() == []


def test_add_path_keeps_paths_apart() -> None:
    router = Router(CONFIG)
    router.session_up("b", 65002, [IPV4_UNICAST])
    attrs = PathAttributes(origin=Origin.IGP, next_hop="192.0.2.2")
    router.update_received(
        "b", Update(attributes=attrs, nlri=("10.9.0.0/16",) * 2, nlri_path_ids=(1, 2))
    )
    assert [(r.prefix, r.path_id) for r in router.received_routes()] == [
        ("10.9.0.0/16", 1),
        ("10.9.0.0/16", 2),
    ]
    router.update_received("b", Update(withdrawn=("10.9.0.0/16",), withdrawn_path_ids=(1,)))
    assert [r.path_id for r in router.received_routes()] == [2]


def test_route_refresh_resends_the_family_and_unknown_peers_get_nothing() -> None:
    router = Router(CONFIG)
    assert router.route_refresh("b", IPV4_UNICAST) == []
    assert router.update_received("b", Update(nlri=("10.0.0.0/8",))) == 0
    router.session_up("b", 65002, [IPV4_UNICAST])
    refreshed = router.route_refresh("b", IPV4_UNICAST)
    assert all(isinstance(e, Announce) for e in refreshed)  # no End-of-RIB on a refresh
    assert sum(len(e.prefixes) for e in refreshed if isinstance(e, Announce | Withdraw)) == 3


def test_routes_without_a_next_hop_are_not_originated() -> None:
    config = RouterConfig(
        asn=65001,
        router_id="10.0.0.1",
        routes=(OriginatedRoute(prefix="10.1.0.0/24", family=IPV4_UNICAST),),
    )
    assert Router(config).session_up("b", 65002, [IPV4_UNICAST]) == [EndOfRib(family=IPV4_UNICAST)]
