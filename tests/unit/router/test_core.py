"""The routing Router: import and export rules, max-prefix, peer life cycle, timers."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest

from bgpemu.policy import (
    NO_ADVERTISE,
    NO_EXPORT,
    NO_EXPORT_SUBCONFED,
    MaxPrefix,
    PolicyContext,
    PrefixList,
    PrefixListEntry,
    Result,
    RoutePolicy,
    SetLocalPref,
    SetMed,
    Statement,
)
from bgpemu.rib.decision import DecisionConfig, Step
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.core import Router
from bgpemu.router.exports import Announce, EndOfRib, Withdraw
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.outputs import RouterOutput
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import (
    AsPathSegment,
    MpReach,
    MpUnreach,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)

ASN = 65000
ROUTER_ID = "10.255.0.100"
NH4 = "192.0.2.100"
NH6 = "2001:db8::100"
PREFIX = "10.9.0.0/24"

PEERS = {
    "e1": PeerInfo(name="e1", asn=65001, router_id="10.0.0.1", address="192.0.2.1", local_asn=ASN),
    "e2": PeerInfo(name="e2", asn=65002, router_id="10.0.0.2", address="192.0.2.2", local_asn=ASN),
    "i1": PeerInfo(name="i1", asn=ASN, router_id="10.0.0.11", address="192.0.2.11", local_asn=ASN),
    "i2": PeerInfo(name="i2", asn=ASN, router_id="10.0.0.12", address="192.0.2.12", local_asn=ASN),
}
BOTH = (IPV4_UNICAST, IPV6_UNICAST)


def make_router(
    *neighbors: NeighborPolicy,
    routes: tuple[OriginatedRoute, ...] = (),
    decision: DecisionConfig | None = None,
    up: tuple[str, ...] = ("e1", "e2", "i1", "i2"),
) -> Router:
    """A router in AS 65000 with ``up`` peers established (initial output discarded)."""
    router = Router(
        RouterConfig(
            asn=ASN,
            router_id=ROUTER_ID,
            next_hop_v4=NH4,
            next_hop_v6=NH6,
            routes=routes,
            decision=decision or DecisionConfig(),
            neighbors=neighbors,
        )
    )
    for name in up:
        router.peer_up(PEERS[name], BOTH, 0.0)
    return router


def seq(*asns: int) -> tuple[AsPathSegment, ...]:
    return (AsPathSegment(SegmentType.AS_SEQUENCE, asns),) if asns else ()


def announce(
    *asns: int,
    prefixes: tuple[str, ...] = (PREFIX,),
    next_hop: str = "192.0.2.200",
    **attrs: object,
) -> Update:
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=seq(*asns),
        next_hop=next_hop,
        **attrs,  # type: ignore[arg-type]
    )
    return Update(attributes=attributes, nlri=prefixes)


def sent(out: RouterOutput, peer: str) -> dict[str, PathAttributes | None]:
    """prefix -> attributes announced (None: withdrawn) to ``peer`` in ``out``."""
    result: dict[str, PathAttributes | None] = {}
    for export in out.exports.get(peer, []):
        if isinstance(export, Announce):
            result.update(dict.fromkeys(export.prefixes, export.attributes))
        elif isinstance(export, Withdraw):
            result.update(dict.fromkeys(export.prefixes))
    return result


# -- import: loop prevention -------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_path", "allowas_in", "accepted"),
    [
        ((65001,), 0, True),
        ((65001, ASN), 0, False),
        ((65001, ASN, 65003), 0, False),
        ((65001, ASN), 1, True),
        ((65001, ASN, 65003, ASN), 1, False),
        ((65001, ASN, 65003, ASN), 2, True),
    ],
)
def test_import_loop_prevention_and_allowas_in(
    as_path: tuple[int, ...], allowas_in: int, accepted: bool
) -> None:
    router = make_router(NeighborPolicy(name="e1", allowas_in=allowas_in))
    out = router.update_received("e1", announce(*as_path), 1.0)
    rib_in = router.adj_rib_in("e1")
    assert rib_in is not None
    assert rib_in.pre(IPV4_UNICAST, PREFIX) is not None  # kept as received either way
    assert (rib_in.post(IPV4_UNICAST, PREFIX) is not None) is accepted
    assert (router.loc_rib.get(IPV4_UNICAST, PREFIX) is not None) is accepted
    assert bool(out.changes) is accepted
    assert bool(sent(out, "e2")) is accepted


def test_import_originator_id_of_our_own_is_a_loop() -> None:
    router = make_router()
    router.update_received("i1", announce(originator_id=ROUTER_ID), 1.0)
    assert router.loc_rib.get(IPV4_UNICAST, PREFIX) is None


@dataclass(frozen=True, slots=True)
class _RejectAll:
    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None:
        return None


def test_import_policy_modifies_or_rejects() -> None:
    deny_10_9 = RoutePolicy(
        statements=(
            Statement(match=PrefixList((PrefixListEntry("10.9.0.0/24"),)), result=Result.REJECT),
            Statement(actions=(SetLocalPref(300),)),
        )
    )
    router = make_router(NeighborPolicy(name="e1", import_policy=deny_10_9))
    router.update_received("e1", announce(65001, prefixes=(PREFIX, "10.8.0.0/24")), 1.0)
    rib_in = router.adj_rib_in("e1")
    assert rib_in is not None
    assert rib_in.post(IPV4_UNICAST, PREFIX) is None
    accepted = rib_in.post(IPV4_UNICAST, "10.8.0.0/24")
    assert accepted is not None
    assert accepted.attributes.local_pref == 300
    pre = rib_in.pre(IPV4_UNICAST, "10.8.0.0/24")
    assert pre is not None
    assert pre.attributes.local_pref is None
    assert [e["prefix"] for e in router.table()] == ["10.8.0.0/24"]


# -- export: who gets what --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # eBGP-learned: to every other peer, never back to the sender.
        ("e1", {"e1": False, "e2": True, "i1": True, "i2": True}),
        # iBGP-learned: to eBGP only (RFC 4271 §9.2 split horizon, no reflection).
        ("i1", {"e1": True, "e2": True, "i1": False, "i2": False}),
    ],
)
def test_export_split_horizon_and_not_back_to_sender(
    source: str, expected: dict[str, bool]
) -> None:
    router = make_router()
    asns = () if PEERS[source].ibgp else (PEERS[source].asn,)
    out = router.update_received(source, announce(*asns, local_pref=150), 1.0)
    for peer, exported in expected.items():
        assert (PREFIX in sent(out, peer)) is exported, peer


def test_export_locally_originated_goes_to_everyone() -> None:
    router = make_router()
    out = router.originate(OriginatedRoute(prefix=PREFIX, family=IPV4_UNICAST), 1.0)
    assert all(PREFIX in sent(out, peer) for peer in PEERS)


@pytest.mark.parametrize(
    ("source", "target", "next_hop_self", "expected"),
    [
        ("e1", "e2", None, NH4),  # eBGP: ourselves (RFC 4271 §5.1.3)
        ("e1", "i1", None, "192.0.2.200"),  # iBGP: unchanged
        ("e1", "i1", True, NH4),  # next-hop-self toward iBGP
        ("e1", "e2", False, "192.0.2.200"),  # next-hop-unchanged toward eBGP
        ("i1", "e1", None, NH4),
        ("local", "i1", None, NH4),  # our own routes: always our next hop
        ("local", "e1", False, NH4),
    ],
)
def test_export_next_hop(
    source: str, target: str, next_hop_self: bool | None, expected: str
) -> None:
    router = make_router(NeighborPolicy(name=target, next_hop_self=next_hop_self))
    if source == "local":
        out = router.originate(OriginatedRoute(prefix=PREFIX, family=IPV4_UNICAST), 1.0)
    else:
        asns = () if PEERS[source].ibgp else (PEERS[source].asn,)
        out = router.update_received(source, announce(*asns), 1.0)
    attrs = sent(out, target)[PREFIX]
    assert attrs is not None
    assert attrs.next_hop == expected


@pytest.mark.parametrize(
    ("source", "target", "as_path", "local_pref", "med"),
    [
        # eBGP: our ASN prepended, no LOCAL_PREF, the received MED not passed on.
        ("e1", "e2", (ASN, 65001), None, None),
        # iBGP: AS_PATH unchanged, LOCAL_PREF kept (or the default), MED kept.
        ("e1", "i1", (65001,), 100, 7),
        ("i1", "e1", (ASN,), None, None),
    ],
)
def test_export_as_path_local_pref_and_med(
    source: str,
    target: str,
    as_path: tuple[int, ...],
    local_pref: int | None,
    med: int | None,
) -> None:
    router = make_router()
    asns = () if PEERS[source].ibgp else (PEERS[source].asn,)
    lp = 200 if PEERS[source].ibgp else None
    out = router.update_received(source, announce(*asns, med=7, local_pref=lp), 1.0)
    attrs = sent(out, target)[PREFIX]
    assert attrs is not None
    assert attrs.as_path_asns() == as_path
    assert attrs.local_pref == local_pref
    assert attrs.med == med


def test_export_ibgp_keeps_a_received_local_pref() -> None:
    router = make_router(
        NeighborPolicy(
            name="e1",
            import_policy=RoutePolicy(statements=(Statement(actions=(SetLocalPref(250),)),)),
        )
    )
    out = router.update_received("e1", announce(65001), 1.0)
    attrs = sent(out, "i1")[PREFIX]
    assert attrs is not None
    assert attrs.local_pref == 250


def test_export_originated_med_and_prepend() -> None:
    router = make_router()
    route = OriginatedRoute(prefix=PREFIX, family=IPV4_UNICAST, med=5, as_path_prepend=2)
    out = router.originate(route, 1.0)
    to_ebgp, to_ibgp = sent(out, "e1")[PREFIX], sent(out, "i1")[PREFIX]
    assert to_ebgp is not None
    assert to_ibgp is not None
    assert to_ebgp.as_path_asns() == (ASN, ASN, ASN)
    assert to_ebgp.med == 5  # our own MED goes out (RFC 4271 §5.1.4)
    assert to_ibgp.as_path_asns() == ()
    assert (to_ibgp.local_pref, to_ibgp.med) == (100, 5)


def test_export_policy_sets_med_toward_ebgp_after_the_standard_rewrite() -> None:
    policy = RoutePolicy(statements=(Statement(actions=(SetMed(42),)),))
    router = make_router(NeighborPolicy(name="e2", export_policy=policy))
    out = router.update_received("e1", announce(65001, med=7), 1.0)
    attrs = sent(out, "e2")[PREFIX]
    assert attrs is not None
    assert attrs.med == 42
    assert attrs.as_path_asns() == (ASN, 65001)


def test_export_policy_can_reject() -> None:
    router = make_router(NeighborPolicy(name="e2", export_policy=_RejectAll()))
    out = router.update_received("e1", announce(65001), 1.0)
    assert PREFIX not in sent(out, "e2")
    assert PREFIX not in sent(out, "e1")  # never back to the sender anyway
    assert PREFIX in sent(out, "i1")


@pytest.mark.parametrize(
    ("community", "expected"),
    [
        (NO_EXPORT, {"e2": False, "i1": True}),
        (NO_EXPORT_SUBCONFED, {"e2": False, "i1": True}),
        (NO_ADVERTISE, {"e2": False, "i1": False}),
        (65001 << 16 | 7, {"e2": True, "i1": True}),
    ],
)
def test_export_well_known_communities(community: int, expected: dict[str, bool]) -> None:
    router = make_router()
    out = router.update_received("e1", announce(65001, communities=(community,)), 1.0)
    assert router.loc_rib.get(IPV4_UNICAST, PREFIX) is not None  # accepted all the same
    for peer, exported in expected.items():
        assert (PREFIX in sent(out, peer)) is exported, peer


# -- max-prefix ----------------------------------------------------------------------------


def _three_prefixes() -> Update:
    return announce(65001, prefixes=("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24"))


def test_max_prefix_resets_with_cease_1_and_the_limit() -> None:
    router = make_router(NeighborPolicy(name="e1", max_prefix=MaxPrefix(2)))
    out = router.update_received("e1", _three_prefixes(), 1.0)
    assert len(out.resets) == 1
    reset = out.resets[0]
    assert reset.peer == "e1"
    assert (reset.notification.code, reset.notification.subcode) == (
        ErrorCode.CEASE,
        CeaseSubcode.MAXIMUM_PREFIXES_REACHED,
    )
    assert reset.notification.data == struct.pack("!HBI", 1, 1, 2)  # RFC 4486 §4
    assert reset.restart_after is None
    assert len(router.loc_rib) == 0  # the peer's paths are gone
    assert router.adj_rib_in("e1") is None
    assert "e2" not in out.exports  # nothing was announced, so nothing to withdraw
    assert router.next_deadline() is None
    assert router.peer_down("e1", 2.0).empty()  # the shell's SessionDown is harmless


def test_max_prefix_at_the_limit_is_fine_and_withdraws_follow_a_trip() -> None:
    router = make_router(NeighborPolicy(name="e1", max_prefix=MaxPrefix(2)))
    first = router.update_received(
        "e1", announce(65001, prefixes=("10.1.0.0/24", "10.2.0.0/24")), 1.0
    )
    assert not first.resets
    out = router.update_received("e1", announce(65001, prefixes=("10.3.0.0/24",)), 2.0)
    assert [r.peer for r in out.resets] == ["e1"]
    assert sent(out, "e2") == {"10.1.0.0/24": None, "10.2.0.0/24": None}


def test_max_prefix_restart_timer() -> None:
    router = make_router(NeighborPolicy(name="e1", max_prefix=MaxPrefix(2, restart_after=30.0)))
    out = router.update_received("e1", _three_prefixes(), 10.0)
    assert out.resets[0].restart_after == 30.0
    assert router.next_deadline() == 40.0
    assert router.on_timer(39.0).restarts == []
    assert router.on_timer(40.0).restarts == ["e1"]
    assert router.next_deadline() is None


def test_max_prefix_warning_only_keeps_the_session() -> None:
    router = make_router(NeighborPolicy(name="e1", max_prefix=MaxPrefix(2, warning_only=True)))
    out = router.update_received("e1", _three_prefixes(), 1.0)
    assert not out.resets
    assert len(router.loc_rib) == 3


# -- life cycle ------------------------------------------------------------------------------


def test_peer_up_sends_the_table_then_end_of_rib_per_family() -> None:
    router = make_router(
        routes=(
            OriginatedRoute(prefix="10.1.0.0/24", family=IPV4_UNICAST),
            OriginatedRoute(prefix="10.2.0.0/24", family=IPV4_UNICAST),
            OriginatedRoute(prefix="2001:db8:1::/48", family=IPV6_UNICAST),
        ),
        up=(),
    )
    out = router.peer_up(PEERS["e1"], BOTH, 0.0)
    exports = out.exports["e1"]
    assert exports[-2:] == [EndOfRib(family=IPV4_UNICAST), EndOfRib(family=IPV6_UNICAST)]
    v4 = exports[0]
    assert isinstance(v4, Announce)
    assert v4.prefixes == ("10.1.0.0/24", "10.2.0.0/24")  # packed: identical attributes
    v6 = exports[1]
    assert isinstance(v6, Announce)
    assert v6.family == IPV6_UNICAST
    assert v6.attributes.next_hop == NH6


def test_peer_up_only_negotiated_families() -> None:
    router = make_router(
        routes=(OriginatedRoute(prefix="2001:db8:1::/48", family=IPV6_UNICAST),), up=()
    )
    out = router.peer_up(PEERS["e1"], (IPV4_UNICAST,), 0.0)
    assert out.exports["e1"] == [EndOfRib(family=IPV4_UNICAST)]


def test_peer_down_withdraws_and_falls_back() -> None:
    router = make_router()
    router.update_received("e1", announce(65001), 1.0)
    router.update_received("e2", announce(65002, 65009), 1.0)
    decision = router.loc_rib.get(IPV4_UNICAST, PREFIX)
    assert decision is not None
    assert decision.best is not None
    assert decision.best.source.name == "e1"
    out = router.peer_down("e1", 2.0)
    [change] = out.changes
    assert change.new is not None
    assert change.new.best is not None
    assert change.new.best.source.name == "e2"
    assert change.reason is Step.ONLY_PATH
    # e2 now hears nothing of its own route back: withdrawn; iBGP gets e2's path.
    assert sent(out, "e2") == {PREFIX: None}
    to_i1 = sent(out, "i1")[PREFIX]
    assert to_i1 is not None
    assert to_i1.as_path_asns() == (65002, 65009)


def test_same_update_twice_changes_nothing() -> None:
    router = make_router()
    first = router.update_received("e1", announce(65001), 1.0)
    assert first.changes
    again = router.update_received("e1", announce(65001), 2.0)
    assert again.empty()


def test_announce_then_withdraw_restores_previous_best() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, 65005), 1.0)
    before = router.loc_rib.get(IPV4_UNICAST, PREFIX)
    out = router.update_received("e2", announce(65002), 2.0)
    assert out.changes[0].reason is Step.AS_PATH_LENGTH
    out = router.update_received("e2", Update(withdrawn=(PREFIX,)), 3.0)
    assert router.loc_rib.get(IPV4_UNICAST, PREFIX) == before
    to_e2 = sent(out, "e2")[PREFIX]  # e2 now gets e1's path again
    assert to_e2 is not None
    assert to_e2.as_path_asns() == (ASN, 65001, 65005)


def test_withdraw_of_unknown_prefix_is_a_no_op() -> None:
    router = make_router()
    assert router.update_received("e1", Update(withdrawn=(PREFIX,)), 1.0).empty()


def test_update_from_unknown_peer_is_ignored() -> None:
    router = make_router(up=())
    assert router.update_received("e1", announce(65001), 1.0).empty()


def test_ipv6_mp_reach_and_unreach() -> None:
    router = make_router()
    update = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=seq(65001)),
        mp_reach=MpReach(family=IPV6_UNICAST, next_hop="2001:db8::1", nlri=("2001:db8:9::/48",)),
    )
    out = router.update_received("e1", update, 1.0)
    attrs = sent(out, "i1")["2001:db8:9::/48"]
    assert attrs is not None
    assert attrs.next_hop == "2001:db8::1"
    attrs = sent(out, "e2")["2001:db8:9::/48"]
    assert attrs is not None
    assert attrs.next_hop == NH6
    withdraw = Update(mp_unreach=MpUnreach(family=IPV6_UNICAST, withdrawn=("2001:db8:9::/48",)))
    out = router.update_received("e1", withdraw, 2.0)
    assert sent(out, "i1") == {"2001:db8:9::/48": None}
    assert router.loc_rib.get(IPV6_UNICAST, "2001:db8:9::/48") is None


def test_route_refresh_resends_the_adj_rib_out() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, prefixes=(PREFIX, "10.8.0.0/24")), 1.0)
    out = router.route_refresh("e2", IPV4_UNICAST, 2.0)
    assert sent(out, "e2").keys() == {PREFIX, "10.8.0.0/24"}
    assert not any(isinstance(e, EndOfRib) for e in out.exports["e2"])
    assert router.route_refresh("e2", IPV6_UNICAST, 2.0).exports == {"e2": []}
    assert router.route_refresh("nobody", IPV4_UNICAST, 2.0).empty()


def test_originate_and_withdraw_originated() -> None:
    router = make_router()
    route = OriginatedRoute(prefix=PREFIX, family=IPV4_UNICAST)
    router.originate(route, 1.0)
    out = router.withdraw_originated(IPV4_UNICAST, PREFIX, 2.0)
    assert all(sent(out, peer) == {PREFIX: None} for peer in PEERS)
    assert router.withdraw_originated(IPV4_UNICAST, PREFIX, 3.0).empty()


def test_locally_originated_beats_received_and_reason_is_reported() -> None:
    router = make_router(routes=(OriginatedRoute(prefix=PREFIX, family=IPV4_UNICAST),))
    out = router.update_received("i1", announce(local_pref=100), 1.0)
    [change] = out.changes
    assert change.reason is Step.LOCALLY_ORIGINATED
    assert not out.exports  # the best path did not change: nothing to send


def test_multipath_change_alone_sends_nothing() -> None:
    router = make_router(decision=DecisionConfig(max_paths=2, multipath_relax=True))
    router.update_received("e1", announce(65001), 1.0)
    out = router.update_received("e2", announce(65002), 2.0)
    [change] = out.changes
    assert change.new is not None
    assert len(change.new.multipath) == 2
    assert change.reason is Step.ROUTER_ID
    assert not out.exports
    entry = router.table()[0]
    assert entry["reason"] == Step.ROUTER_ID.value
    assert [p["peer"] for p in entry["multipath"]] == ["e1", "e2"]


def test_mrai_holds_exports_until_the_interval_passes() -> None:
    router = make_router(NeighborPolicy(name="e2", mrai=30.0), up=())
    router.peer_up(PEERS["e1"], BOTH, 0.0)
    router.peer_up(PEERS["e2"], BOTH, 0.0)  # initial table at once; MRAI runs until 30
    out = router.update_received("e1", announce(65001), 1.0)
    assert "e2" not in out.exports
    assert router.next_deadline() == 30.0
    assert router.on_timer(29.0).empty()
    released = router.on_timer(30.0)
    assert PREFIX in sent(released, "e2")
    assert router.next_deadline() is None
    router.update_received("e1", Update(withdrawn=(PREFIX,)), 31.0)
    assert router.next_deadline() == 60.0


def test_mrai_zero_flushes_every_time() -> None:
    router = make_router()
    out = router.update_received("e1", announce(65001), 1.0)
    assert PREFIX in sent(out, "e2")
    assert router.next_deadline() is None


def test_table_is_json_ready() -> None:
    router = make_router()
    router.update_received(
        "e1",
        announce(65001, med=3, communities=(65001 << 16 | 9,), large_communities=((1, 2, 3),)),
        1.0,
    )
    assert router.table() == [
        {
            "prefix": PREFIX,
            "family": "ipv4-unicast",
            "best": {
                "next_hop": "192.0.2.200",
                "as_path": [65001],
                "origin": "igp",
                "med": 3,
                "local_pref": None,
                "communities": ["65001:9"],
                "large_communities": ["1:2:3"],
                "peer": "e1",
            },
            "multipath": [
                {
                    "next_hop": "192.0.2.200",
                    "as_path": [65001],
                    "origin": "igp",
                    "med": 3,
                    "local_pref": None,
                    "communities": ["65001:9"],
                    "large_communities": ["1:2:3"],
                    "peer": "e1",
                }
            ],
            "reason": "only path",
        }
    ]


def test_no_next_hop_configured_means_nothing_to_send() -> None:
    router = Router(RouterConfig(asn=ASN, router_id=ROUTER_ID))
    router.peer_up(PEERS["e1"], BOTH, 0.0)
    router.peer_up(PEERS["e2"], BOTH, 0.0)
    out = router.update_received("e1", announce(65001), 1.0)
    assert "e2" not in out.exports


def test_neighbor_policy_validation() -> None:
    with pytest.raises(ValueError, match="allowas_in"):
        NeighborPolicy(name="x", allowas_in=-1)
    with pytest.raises(ValueError, match="mrai"):
        NeighborPolicy(name="x", mrai=-1.0)
