"""Soft reconfiguration: Router.set_neighbor_policy on a running router (RFC 2918, RFC 7313)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.policy import (
    Policy,
    PrefixList,
    PrefixListEntry,
    Prepend,
    Result,
    RoutePolicy,
    SetLocalPref,
    Statement,
)
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.core import Router
from bgpemu.router.exports import Announce
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.reconfigure import prepend_policy
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import PathAttributes

from .test_core import ASN, PEERS, PREFIX, announce, make_router, sent

OTHER = "10.8.0.0/24"


def _only(prefix: str) -> PrefixList:
    return PrefixList((PrefixListEntry(prefix),))


def _prepend(count: int, prefix: str | None = None) -> RoutePolicy:
    """Prepend ``count`` own-ASN copies (to ``prefix`` only, when given), accept the rest."""
    match = None if prefix is None else _only(prefix)
    return RoutePolicy(
        (Statement(match=match, actions=(Prepend(count=count),)),), default=Result.ACCEPT
    )


def _prefer(prefix: str, local_pref: int) -> RoutePolicy:
    return RoutePolicy(
        (Statement(match=_only(prefix), actions=(SetLocalPref(local_pref),)),),
        default=Result.ACCEPT,
    )


def _as_path(attributes: PathAttributes | None) -> tuple[int, ...]:
    assert attributes is not None
    return tuple(attributes.as_path_asns())


def test_an_export_prepend_resends_only_the_changed_routes_to_that_peer() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, prefixes=(PREFIX, OTHER)), 1.0)
    out = router.set_neighbor_policy(NeighborPolicy(name="e2", export_policy=_prepend(2)), 2.0)
    assert list(out.exports) == ["e2"]  # nobody else hears of it
    (update,) = out.exports["e2"]
    assert isinstance(update, Announce)  # no withdrawal first: a replacement
    assert update.prefixes == (OTHER, PREFIX)
    assert _as_path(update.attributes) == (ASN, ASN, ASN, 65001)
    assert out.changes == []  # the Loc-RIB did not change
    assert out.refreshes == []  # nothing to ask of the peer for an export change
    assert router.config.neighbor("e2").export_policy == _prepend(2)

    # A prepend of one prefix only: the other one is not sent again.
    only = NeighborPolicy(name="e2", export_policy=_prepend(1, PREFIX))
    out = router.set_neighbor_policy(only, 3.0)
    assert list(out.exports) == ["e2"]
    assert {p: _as_path(a) for p, a in sent(out, "e2").items()} == {
        PREFIX: (ASN, ASN, 65001),
        OTHER: (ASN, 65001),
    }
    out = router.set_neighbor_policy(NeighborPolicy(name="e2", export_policy=_prepend(1)), 4.0)
    assert {p: _as_path(a) for p, a in sent(out, "e2").items()} == {OTHER: (ASN, ASN, 65001)}


def test_removing_a_prepend_restores_the_original_export() -> None:
    router = make_router()
    router.update_received("e1", announce(65001), 1.0)
    original = router.config.neighbor("e2")
    with_prepend = prepend_policy(original, original.export_policy, 3)
    out = router.set_neighbor_policy(with_prepend, 2.0)
    assert _as_path(sent(out, "e2")[PREFIX]) == (ASN, ASN, ASN, ASN, 65001)
    out = router.set_neighbor_policy(prepend_policy(with_prepend, original.export_policy, 0), 3.0)
    assert _as_path(sent(out, "e2")[PREFIX]) == (ASN, 65001)
    assert router.config.neighbor("e2") == original


def test_a_prepend_chains_after_the_configured_export_policy() -> None:
    configured = RoutePolicy(
        (Statement(match=_only(PREFIX), result=Result.REJECT),), default=Result.ACCEPT
    )
    router = make_router(NeighborPolicy(name="e2", export_policy=configured))
    router.update_received("e1", announce(65001, prefixes=(PREFIX, OTHER)), 1.0)
    policy = prepend_policy(router.config.neighbor("e2"), configured, 1)
    out = router.set_neighbor_policy(policy, 2.0)
    assert {p: _as_path(a) for p, a in sent(out, "e2").items()} == {OTHER: (ASN, ASN, 65001)}


def test_an_import_local_pref_change_flips_the_best_path_and_asks_for_a_refresh() -> None:
    router = make_router()
    router.update_received("e1", announce(65001), 1.0)
    router.update_received("e2", announce(65002, 65003), 2.0)
    best = router.loc_rib.best(IPV4_UNICAST, PREFIX)
    assert best is not None
    assert best.source.name == "e1"  # the shorter AS path

    out = router.set_neighbor_policy(
        NeighborPolicy(name="e2", import_policy=_prefer(PREFIX, 200)), 3.0
    )
    best = router.loc_rib.best(IPV4_UNICAST, PREFIX)
    assert best is not None
    assert best.source.name == "e2"
    assert best.attributes.local_pref == 200
    assert [
        (c.prefix, c.new.best.source.name if c.new and c.new.best else None) for c in out.changes
    ] == [(PREFIX, "e2")]
    assert _as_path(sent(out, "e1")[PREFIX]) == (ASN, 65002, 65003)
    assert sent(out, "e2") == {PREFIX: None}  # never back to its source
    assert sent(out, "i1")[PREFIX] is not None
    assert out.refreshes == [("e2", IPV4_UNICAST), ("e2", IPV6_UNICAST)]
    rib_in = router.adj_rib_in("e2")
    assert rib_in is not None
    pre = rib_in.pre(IPV4_UNICAST, PREFIX)
    assert pre is not None
    assert pre.attributes.local_pref is None  # the pre-policy path is kept as received

    # Back to no import policy: e1 wins again.
    out = router.set_neighbor_policy(NeighborPolicy(name="e2"), 4.0)
    best = router.loc_rib.best(IPV4_UNICAST, PREFIX)
    assert best is not None
    assert best.source.name == "e1"


def test_an_import_policy_can_reject_and_allowas_in_can_accept_stored_paths() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, ASN, 65009, prefixes=(OTHER,)), 1.0)
    router.update_received("e1", announce(65001), 1.0)
    assert router.loc_rib.best(IPV4_UNICAST, OTHER) is None  # a loop: rejected on receipt
    reject = RoutePolicy((Statement(match=_only(PREFIX), result=Result.REJECT),))
    out = router.set_neighbor_policy(
        NeighborPolicy(name="e1", import_policy=reject, allowas_in=1), 2.0
    )
    assert router.loc_rib.best(IPV4_UNICAST, PREFIX) is None
    assert router.loc_rib.best(IPV4_UNICAST, OTHER) is None  # allowed in, then rejected
    assert sent(out, "e2") == {PREFIX: None}  # withdrawn; OTHER was never sent
    out = router.set_neighbor_policy(NeighborPolicy(name="e1", allowas_in=1), 3.0)
    assert set(sent(out, "e2")) == {PREFIX, OTHER}
    assert _as_path(sent(out, "e2")[OTHER]) == (ASN, 65001, ASN, 65009)


def test_no_change_gives_an_empty_output() -> None:
    router = make_router(NeighborPolicy(name="e2", export_policy=_prepend(1)))
    router.update_received("e1", announce(65001), 1.0)
    assert router.set_neighbor_policy(NeighborPolicy(name="e1"), 2.0).empty()  # the defaults
    again = NeighborPolicy(name="e2", export_policy=_prepend(1))
    assert router.set_neighbor_policy(again, 2.0).empty()  # equal settings
    # An equivalent policy that is not equal runs export again and finds nothing to send.
    renamed = RoutePolicy(_prepend(1).statements, default=Result.ACCEPT, name="renamed")
    out = router.set_neighbor_policy(NeighborPolicy(name="e2", export_policy=renamed), 3.0)
    assert out.exports == {}


def test_a_peer_that_is_down_gets_the_new_settings_when_it_comes_up() -> None:
    router = make_router(up=("e1",))
    router.update_received("e1", announce(65001), 1.0)
    out = router.set_neighbor_policy(NeighborPolicy(name="e2", export_policy=_prepend(2)), 2.0)
    assert out.empty()
    out = router.peer_up(PEERS["e2"], (IPV4_UNICAST,), 3.0)
    assert _as_path(sent(out, "e2")[PREFIX]) == (ASN, ASN, ASN, 65001)


def test_an_export_change_waits_for_the_mrai() -> None:
    router = make_router(NeighborPolicy(name="e2", mrai=30.0), up=("e1",))
    router.peer_up(PEERS["e2"], (IPV4_UNICAST,), 0.0)
    router.update_received("e1", announce(65001), 1.0)
    out = router.set_neighbor_policy(
        NeighborPolicy(name="e2", mrai=30.0, export_policy=_prepend(1)), 2.0
    )
    assert "e2" not in out.exports
    assert router.next_deadline() == 30.0
    out = router.on_timer(30.0)
    assert _as_path(sent(out, "e2")[PREFIX]) == (ASN, ASN, 65001)


# -- the property: changing a policy later equals having it from the start ----------------

PREFIXES = ("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24")
NAMES = ("e1", "e2", "i1")

updates = st.tuples(
    st.sampled_from(NAMES),
    st.lists(st.sampled_from((65010, 65011, ASN)), max_size=3),
    st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=3, unique=True),
)
policies: st.SearchStrategy[Policy | None] = st.sampled_from(
    [
        None,
        _prepend(2),
        _prepend(1, PREFIXES[0]),
        _prefer(PREFIXES[1], 50),
        _prefer(PREFIXES[2], 300),
        RoutePolicy(
            (Statement(match=_only(PREFIXES[0]), result=Result.REJECT),), default=Result.ACCEPT
        ),
    ]
)


def _router(*neighbors: NeighborPolicy) -> Router:
    return make_router(
        *neighbors, decision=DecisionConfig(max_paths=2, multipath_relax=True), up=NAMES
    )


def _tables(router: Router) -> tuple[object, ...]:
    received = {}
    advertised = {}
    for name in NAMES:
        rib_in = router.adj_rib_in(name)
        rib_out = router.adj_rib_out(name)
        assert rib_in is not None
        assert rib_out is not None
        received[name] = sorted((p.prefix, p.attributes) for p in rib_in.paths_post(IPV4_UNICAST))
        advertised[name] = sorted(rib_out.advertised(IPV4_UNICAST))
    return router.table(), received, advertised


@settings(max_examples=80, deadline=None)
@given(
    batch=st.lists(updates, min_size=1, max_size=8),
    target=st.sampled_from(NAMES),
    import_policy=policies,
    export_policy=policies,
    allowas_in=st.integers(0, 1),
)
def test_a_later_policy_change_equals_the_policy_from_the_start(
    batch: list[tuple[str, list[int], list[str]]],
    target: str,
    import_policy: Policy | None,
    export_policy: Policy | None,
    allowas_in: int,
) -> None:
    policy = NeighborPolicy(
        name=target,
        import_policy=import_policy,
        export_policy=export_policy,
        allowas_in=allowas_in,
    )
    from_start = _router(policy)
    changed = _router()
    for now, (peer, tail, prefixes) in enumerate(batch):
        info = PEERS[peer]
        asns = tuple(tail) if info.ibgp else (info.asn, *tail)
        update = announce(*asns, prefixes=tuple(prefixes))
        from_start.update_received(peer, update, float(now))
        changed.update_received(peer, update, float(now))
    changed.set_neighbor_policy(policy, float(len(batch)))
    assert _tables(changed) == _tables(from_start)
