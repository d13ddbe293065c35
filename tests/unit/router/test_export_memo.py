"""Policy results shared across prefixes equal the ones computed prefix by prefix.

The router runs an import policy once per UPDATE (``SharedImport``) and computes an
export once per (attributes object, source, peer, family, prepend count), sharing the
result across prefixes, when the policy does not look at the prefix
(``sensitive_prefixes``; exact prefix lists name the prefixes they treat apart).
Wrapping the same policies in an opaque callable (which says nothing, so nothing is
shared) must give identical outputs, Loc-RIB and Adj-RIBs-In/Out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.policy import (
    AddCommunities,
    AddLargeCommunities,
    AsPathRegex,
    Chain,
    CommunityMatch,
    LargeCommunityMatch,
    Not,
    Or,
    PrefixList,
    PrefixListEntry,
    Prepend,
    RemoveLargeCommunities,
    Result,
    RoutePolicy,
    SetMed,
    SetWeight,
    SourcePeerMatch,
    Statement,
)
from bgpemu.policy.base import (
    Policy,
    PolicyContext,
    prefix_independent,
    sensitive_prefixes,
)
from bgpemu.rib.path import Path
from bgpemu.router import NeighborPolicy, OriginatedRoute, Router, RouterOutput
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import PathAttributes, Update

from .test_core import PEERS, announce, make_router

PREFIXES = ("0.0.0.0/0", "10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24", "10.4.0.0/24")
TAGS = ((65515, 1, 1), (65515, 1, 2))
NAMES = ("e1", "e2", "i1", "i2")


@dataclass(frozen=True)
class _Opaque:
    """The same policy behind a callable that says nothing about the prefix."""

    policy: Policy

    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None:
        return self.policy(path, context)


exact_lists = st.lists(st.sampled_from(PREFIXES), min_size=1, max_size=2).map(
    lambda ps: PrefixList(tuple(PrefixListEntry(p) for p in ps))
)
# Exact prefix lists (the prefixes a policy treats apart) half of the time.
matches = st.one_of(
    exact_lists,
    st.one_of(
        st.none(),
        exact_lists.map(Not),
        st.just(PrefixList((PrefixListEntry("10.0.0.0/8", ge=24),))),
        st.just(CommunityMatch(any_of=(65000 << 16 | 1,))),
        st.sampled_from(TAGS).map(lambda t: LargeCommunityMatch(any_of=(t,))),
        st.just(SourcePeerMatch("e1", "")),
        st.just(AsPathRegex("_65011_")),
        st.tuples(exact_lists, st.just(SourcePeerMatch("i1"))).map(lambda ms: Or(*ms)),
    ),
)
actions = st.one_of(
    st.integers(0, 3).map(SetMed),
    st.just(Prepend(count=1)),
    st.just(AddCommunities((65000 << 16 | 1,))),
    st.sampled_from(TAGS).map(lambda t: AddLargeCommunities((t,))),
    st.just(RemoveLargeCommunities(TAGS)),
    st.sampled_from((0, 100)).map(SetWeight),
)
statements = st.builds(
    Statement,
    matches,
    st.lists(actions, max_size=2).map(tuple),
    st.sampled_from(list(Result)),
)
route_policies = st.builds(
    RoutePolicy,
    st.lists(statements, max_size=3).map(tuple),
    st.sampled_from([Result.ACCEPT, Result.REJECT]),
)
policies = st.one_of(
    st.none(),
    route_policies,
    st.tuples(route_policies, route_policies).map(lambda ps: Chain(*ps)),
)

# One step: ("a", peer, AS_PATH tail, MED, large community, prefixes) announce;
# ("w", peer, prefixes) withdraw; ("o", prefix, prepend) originate; ("x", prefix)
# stop originating; ("p", peer, policy) a new export policy; ("b", peer) a bounce.
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("a"),
            st.sampled_from(NAMES),
            st.lists(st.integers(65010, 65012), max_size=2),
            st.none() | st.integers(0, 3),
            st.sampled_from(((), *((t,) for t in TAGS))),
            st.lists(st.sampled_from(PREFIXES), min_size=2, max_size=5),
        ),
        st.tuples(
            st.just("w"), st.sampled_from(NAMES), st.lists(st.sampled_from(PREFIXES), max_size=3)
        ),
        st.tuples(st.just("o"), st.sampled_from(PREFIXES), st.integers(0, 2)),
        st.tuples(st.just("x"), st.sampled_from(PREFIXES)),
        st.tuples(st.just("p"), st.sampled_from(NAMES), policies),
        st.tuples(st.just("b"), st.sampled_from(NAMES)),
    ),
    min_size=1,
    max_size=14,
)


def _neighbor(
    name: str, policy: Policy | None, opaque: bool, imports: Policy | None = None
) -> NeighborPolicy:
    def wrap(policy: Policy | None) -> Policy | None:
        return _Opaque(policy) if opaque and policy is not None else policy

    return NeighborPolicy(name=name, import_policy=wrap(imports), export_policy=wrap(policy))


def _step(router: Router, step: tuple[object, ...], opaque: bool, now: float) -> RouterOutput:
    kind = step[0]
    if kind == "a":
        _, peer, tail, med, large, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(tail, list)
        assert isinstance(prefixes, list)
        info = PEERS[peer]
        asns = tuple(tail) if info.ibgp else (info.asn, *tail)
        update = announce(*asns, med=med, large_communities=large, prefixes=tuple(prefixes))
        return router.update_received(peer, update, now)
    if kind == "w":
        _, peer, prefixes = step
        assert isinstance(peer, str)
        assert isinstance(prefixes, list)
        return router.update_received(peer, Update(withdrawn=tuple(prefixes)), now)
    if kind == "o":
        _, prefix, count = step
        assert isinstance(prefix, str)
        assert isinstance(count, int)
        route = OriginatedRoute(prefix=prefix, family=IPV4_UNICAST, as_path_prepend=count)
        return router.originate(route, now)
    if kind == "x":
        prefix = step[1]
        assert isinstance(prefix, str)
        return router.withdraw_originated(IPV4_UNICAST, prefix, now)
    if kind == "p":
        _, peer, policy = step
        assert isinstance(peer, str)
        return router.set_neighbor_policy(_neighbor(peer, cast(Policy | None, policy), opaque), now)
    peer = step[1]
    assert isinstance(peer, str)
    out = router.peer_down(peer, now)
    out.extend(router.peer_up(PEERS[peer], (IPV4_UNICAST,), now))
    return out


def _expected(router: Router, name: str) -> dict[str, PathAttributes]:
    """The oracle: each Loc-RIB best path exported to ``name`` on its own (RFC 4271 §9.2)."""
    peer = router._peers[name]
    expected = {}
    for family, prefix, best in router.loc_rib.best_paths():
        source = best.source
        if not best.local and (source.name == name or (source.ibgp and peer.info.ibgp)):
            continue  # not back to its source; iBGP split horizon (RFC 4271 §9.1.3, §9.2)
        extra = router._originated[(family, prefix)].as_path_prepend if best.local else 0
        attributes = router._exporter.uncached(peer, family, best, best.local, extra)
        if attributes is not None:
            expected[prefix] = attributes
    return expected


@settings(max_examples=300, deadline=None)
@given(
    exports=st.tuples(*(policies for _ in NAMES)),
    imports=st.tuples(*(policies for _ in NAMES)),
    batch=steps,
)
def test_shared_results_equal_the_prefix_by_prefix_ones(
    exports: tuple[Policy | None, ...],
    imports: tuple[Policy | None, ...],
    batch: list[tuple[object, ...]],
) -> None:
    memo, plain = (
        make_router(
            *(_neighbor(n, e, opaque, i) for n, e, i in zip(NAMES, exports, imports, strict=True))
        )
        for opaque in (False, True)
    )
    for now, step in enumerate(batch):
        assert _step(memo, step, False, float(now)) == _step(plain, step, True, float(now))
        assert memo.table() == plain.table()
        for name in NAMES:
            shared, alone = memo.adj_rib_out(name), plain.adj_rib_out(name)
            assert shared is not None
            assert alone is not None
            assert shared.full_table(IPV4_UNICAST) == alone.full_table(IPV4_UNICAST)
            assert dict(shared.advertised(IPV4_UNICAST)) == _expected(memo, name)
            rib_in, rib_in_plain = memo.adj_rib_in(name), plain.adj_rib_in(name)
            assert rib_in is not None
            assert rib_in_plain is not None
            assert list(rib_in.paths_post(IPV4_UNICAST)) == list(
                rib_in_plain.paths_post(IPV4_UNICAST)
            )


def test_sensitive_prefixes_of_the_building_blocks() -> None:
    exact = PrefixList((PrefixListEntry("0.0.0.0/0"), PrefixListEntry("2001:db8::0/32")))
    assert sensitive_prefixes(exact) == frozenset({"0.0.0.0/0", "2001:db8::/32"})
    assert sensitive_prefixes(PrefixList((PrefixListEntry("10.0.0.0/8", le=24),))) is None
    tagged = Statement(match=LargeCommunityMatch(any_of=TAGS), actions=(SetMed(1),))
    assert prefix_independent(RoutePolicy((tagged,)))
    filtered = RoutePolicy((Statement(match=exact, result=Result.REJECT), tagged))
    assert sensitive_prefixes(filtered) == frozenset({"0.0.0.0/0", "2001:db8::/32"})
    assert sensitive_prefixes(Chain(RoutePolicy((tagged,)), filtered)) == sensitive_prefixes(
        filtered
    )
    assert sensitive_prefixes(Chain(RoutePolicy((tagged,)), _Opaque(filtered))) is None
    assert not prefix_independent(_Opaque(RoutePolicy((tagged,))))
    assert sensitive_prefixes(Not(exact)) == sensitive_prefixes(exact)
