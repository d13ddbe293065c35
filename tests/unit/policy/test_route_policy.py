"""Statements, route policies, chains, combinators and their descriptions."""

from __future__ import annotations

import pytest

from bgpemu.policy import (
    ACCEPT_ALL,
    REJECT_ALL,
    AddCommunities,
    And,
    AsPathRegex,
    Chain,
    CommunityMatch,
    Direction,
    FamilyMatch,
    Not,
    Or,
    PeerMatch,
    PrefixList,
    PrefixListEntry,
    Result,
    RoutePolicy,
    SetLocalPref,
    SetMed,
    SourcePeerMatch,
    Statement,
    parse_community,
    well_known_filter,
)
from bgpemu.rib.path import LOCAL
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import AsPathSegment

from .helpers import EBGP_PEER, IBGP_PEER, context, path, seq

C1 = parse_community("65001:1")
TEN = PrefixList((PrefixListEntry("10.0.0.0/8", le=32),))
FROM_65002 = AsPathRegex("^65002_")


def test_family_peer_and_source_matches() -> None:
    v4, v6 = path("10.1.0.0/24"), path("2001:db8:1::/48")
    ctx = context(EBGP_PEER)
    assert FamilyMatch(IPV4_UNICAST).matches(v4, ctx)
    assert not FamilyMatch(IPV4_UNICAST).matches(v6, ctx)
    assert FamilyMatch(IPV4_UNICAST, IPV6_UNICAST).matches(v6, ctx)
    assert PeerMatch("ext", "other").matches(v4, ctx)
    assert not PeerMatch("int").matches(v4, ctx)
    assert SourcePeerMatch("ext").matches(v4, context(IBGP_PEER))
    assert not SourcePeerMatch("int").matches(v4, context(IBGP_PEER))
    assert SourcePeerMatch("").matches(path(source=LOCAL), ctx)


@pytest.mark.parametrize(
    ("prefix", "as_path", "expected"),
    [
        # (And(TEN, FROM), Or(TEN, FROM), Not(TEN), Not(And(TEN, FROM)))
        ("10.1.0.0/24", (seq(65002),), (True, True, False, False)),
        ("10.1.0.0/24", (seq(65003),), (False, True, False, True)),
        ("192.0.2.0/24", (seq(65002),), (False, True, True, True)),
        ("192.0.2.0/24", (seq(65003),), (False, False, True, True)),
    ],
)
def test_combinators_truth_table(
    prefix: str, as_path: tuple[AsPathSegment, ...], expected: tuple[bool, bool, bool, bool]
) -> None:
    p = path(prefix, as_path=as_path)
    ctx = context()
    got = (
        And(TEN, FROM_65002).matches(p, ctx),
        Or(TEN, FROM_65002).matches(p, ctx),
        Not(TEN).matches(p, ctx),
        Not(And(TEN, FROM_65002)).matches(p, ctx),
    )
    assert got == expected


def test_empty_and_or() -> None:
    p, ctx = path(), context()
    assert And().matches(p, ctx)
    assert not Or().matches(p, ctx)
    assert And().describe() == "always"
    assert Or().describe() == "never"


def test_first_matching_statement_decides() -> None:
    policy = RoutePolicy(
        (
            Statement(FROM_65002, (SetLocalPref(300),), Result.ACCEPT),
            Statement(TEN, (SetLocalPref(200),), Result.ACCEPT),
            Statement(None, (), Result.REJECT),
        ),
        default=Result.ACCEPT,
    )
    ctx = context()
    both = policy(path("10.1.0.0/24", as_path=(seq(65002),)), ctx)
    assert both is not None
    assert both.attributes.local_pref == 300
    ten_only = policy(path("10.1.0.0/24", as_path=(seq(65003),)), ctx)
    assert ten_only is not None
    assert ten_only.attributes.local_pref == 200
    assert policy(path("192.0.2.0/24", as_path=(seq(65003),)), ctx) is None  # catch-all reject


def test_next_carries_the_modified_path_on() -> None:
    policy = RoutePolicy(
        (
            Statement(None, (AddCommunities((C1,)),), Result.NEXT),
            # sees the community added by the previous statement
            Statement(CommunityMatch(any_of=(C1,)), (SetMed(7),), Result.NEXT),
            Statement(TEN, (SetLocalPref(150),), Result.ACCEPT),
        ),
        default=Result.REJECT,
    )
    ctx = context()
    accepted = policy(path("10.1.0.0/24"), ctx)
    assert accepted is not None
    assert accepted.attributes.communities == (C1,)
    assert accepted.attributes.med == 7
    assert accepted.attributes.local_pref == 150
    assert policy(path("192.0.2.0/24"), ctx) is None  # NEXT never accepts by itself


@pytest.mark.parametrize(("default", "accepted"), [(Result.ACCEPT, True), (Result.REJECT, False)])
def test_default_decides_when_no_statement_does(default: Result, accepted: bool) -> None:
    policy = RoutePolicy((Statement(TEN, (), Result.REJECT),), default=default)
    result = policy(path("192.0.2.0/24"), context())
    assert (result is not None) is accepted
    assert policy(path("10.1.0.0/24"), context()) is None


def test_default_keeps_changes_made_by_next_statements() -> None:
    policy = RoutePolicy((Statement(None, (SetMed(3),), Result.NEXT),), default=Result.ACCEPT)
    result = policy(path(), context())
    assert result is not None
    assert result.attributes.med == 3


def test_route_policy_defaults_and_validation() -> None:
    assert RoutePolicy().default is Result.REJECT
    assert Statement().result is Result.ACCEPT
    with pytest.raises(ValueError, match="ACCEPT or REJECT"):
        RoutePolicy(default=Result.NEXT)


def test_accept_all_and_reject_all() -> None:
    p = path()
    assert ACCEPT_ALL(p, context()) is p
    assert REJECT_ALL(p, context()) is None


def test_chain_applies_in_order_and_stops_at_a_rejection() -> None:
    set_pref = RoutePolicy((Statement(None, (SetLocalPref(200),)),))
    add_med = RoutePolicy((Statement(None, (SetMed(1),), Result.NEXT),), default=Result.ACCEPT)
    ctx = context(EBGP_PEER, Direction.EXPORT)
    result = Chain(set_pref, add_med, well_known_filter)(path(), ctx)
    assert result is not None
    assert (result.attributes.local_pref, result.attributes.med) == (200, 1)
    assert Chain(set_pref, REJECT_ALL, add_med)(path(), ctx) is None
    no_export = path(communities=(parse_community("no-export"),))
    assert Chain(set_pref, well_known_filter)(no_export, ctx) is None
    p = path()
    assert Chain()(p, ctx) is p


def test_policies_are_hashable_and_comparable() -> None:
    def build() -> RoutePolicy:
        return RoutePolicy(
            [Statement(And(TEN, Not(FROM_65002)), [SetLocalPref(10)])],  # type: ignore[arg-type]
            default=Result.ACCEPT,
        )

    assert build() == build()
    assert hash(build()) == hash(build())
    assert Chain(build(), ACCEPT_ALL) == Chain(build(), ACCEPT_ALL)
    assert len({build(), build(), REJECT_ALL}) == 2


def test_describe_a_whole_policy() -> None:
    policy = RoutePolicy(
        (
            Statement(
                And(TEN, Not(FROM_65002)),
                (SetLocalPref(200), AddCommunities((C1,))),
                Result.ACCEPT,
            ),
            Statement(FamilyMatch(IPV6_UNICAST), (), Result.REJECT),
            Statement(None, (SetMed(5),), Result.NEXT),
        ),
        default=Result.ACCEPT,
        name="from-transit",
    )
    assert str(policy) == "\n".join(
        [
            "route-policy from-transit",
            "  1: match (prefix-list [permit 10.0.0.0/8 le 32]) and (not (as-path ~ /^65002_/))"
            " -> set local-pref 200 -> add communities [65001:1] -> accept",
            "  2: match family in [ipv6-unicast] -> reject",
            "  3: always -> set med 5 -> next",
            "  default: accept",
        ]
    )
    chain = Chain(policy, well_known_filter, REJECT_ALL)
    lines = str(chain).splitlines()
    assert lines[0] == "chain:"
    assert lines[1] == "  route-policy from-transit"
    assert "  well_known_filter" in lines
    assert lines[-2:] == ["  route-policy reject-all", "    default: reject"]
    assert str(PeerMatch("a", "b")) == "peer in [a, b]"
    assert str(SourcePeerMatch("", "b")) == "learned from [<local>, b]"
    assert str(Or(TEN, FROM_65002)).endswith("or (as-path ~ /^65002_/)")
