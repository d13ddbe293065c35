"""One test per decision step: the winner and the Step that decided (RFC 4271 §9.1.2.2).

Each pair differs at the step under test, and the loser is made *better* at later
steps wherever possible, so a test fails if the step runs in the wrong order.
"""

from __future__ import annotations

from itertools import permutations

import pytest

from bgpemu.rib.decision import STEPS, DecisionConfig, Step, compare, decide
from bgpemu.rib.path import LOCAL, Path
from bgpemu.wire.messages import Origin

from .factories import LOCAL_ASN, attrs, path, peer, seq

DEFAULT = DecisionConfig()
# p2 has the lower router id and address, so it wins every late tie-break unless told.
P1 = peer("p1", asn=65001, router_id="192.0.2.2", address="198.51.100.2")
P2 = peer("p2", asn=65001, router_id="192.0.2.1", address="198.51.100.1")
IBGP = peer("i1", asn=LOCAL_ASN, router_id="192.0.2.1", address="198.51.100.1")


def assert_decides(winner: Path, loser: Path, step: Step, config: DecisionConfig = DEFAULT) -> None:
    assert compare(winner, loser, config) == ("A", step)
    assert compare(loser, winner, config) == ("B", step)
    for order in ([winner, loser], [loser, winner]):
        decision = decide(order, config)
        assert decision.best is winner
        assert decision.reason is step
        assert decision.multipath == (winner,)


def test_steps_are_in_rfc_order_with_vendor_steps() -> None:
    assert [step for step, _ in STEPS] == [
        Step.NEXT_HOP_REACHABLE,
        Step.WEIGHT,
        Step.LOCAL_PREF,
        Step.LOCALLY_ORIGINATED,
        Step.AS_PATH_LENGTH,
        Step.ORIGIN,
        Step.MED,
        Step.EBGP_OVER_IBGP,
        Step.IGP_COST,
        Step.OLDEST_EBGP,
        Step.ROUTER_ID,
        Step.PEER_ADDRESS,
        Step.PATH_ID,
    ]


def test_only_path() -> None:
    only = path(source=P1)
    assert decide([only], DEFAULT) == decide((only,), DEFAULT)
    decision = decide([only], DEFAULT)
    assert decision.best is only
    assert decision.multipath == (only,)
    assert decision.reason is Step.ONLY_PATH


def test_no_candidates_and_only_unreachable_have_no_best() -> None:
    assert decide([], DEFAULT).best is None
    assert decide([], DEFAULT).multipath == ()
    dead = path(source=P1, next_hop_reachable=False)
    for candidates in ([dead], [dead, path(source=P2, next_hop_reachable=False)]):
        decision = decide(candidates, DEFAULT)
        assert decision.best is None
        assert decision.multipath == ()
        assert decision.reason is Step.NEXT_HOP_REACHABLE


def test_next_hop_reachable() -> None:
    winner = path(source=P1)
    loser = path(source=P2, next_hop_reachable=False, weight=100)
    assert_decides(winner, loser, Step.NEXT_HOP_REACHABLE)


def test_weight_higher_wins() -> None:
    winner = path(source=P1, weight=10)
    loser = path(attrs(seq(65001), local_pref=500), source=P2)
    assert_decides(winner, loser, Step.WEIGHT)


def test_local_pref_higher_wins() -> None:
    winner = path(attrs(seq(65001, 65010, 65020), local_pref=200), source=P1)
    loser = path(attrs(), source=LOCAL)  # locally originated: would win the next step
    assert_decides(winner, loser, Step.LOCAL_PREF)


def test_local_pref_absent_uses_the_configured_default() -> None:
    absent = path(attrs(seq(65001), local_pref=None), source=P1)
    explicit = path(attrs(seq(65001), local_pref=100), source=P2)
    assert compare(absent, explicit, DEFAULT)[1] is not Step.LOCAL_PREF
    assert_decides(explicit, absent, Step.LOCAL_PREF, DecisionConfig(default_local_pref=50))
    assert_decides(absent, explicit, Step.LOCAL_PREF, DecisionConfig(default_local_pref=150))


def test_locally_originated_wins() -> None:
    winner = path(attrs(seq(65001, 65002, 65003), origin=Origin.INCOMPLETE), source=LOCAL)
    loser = path(attrs(seq(65001)), source=P2)
    assert_decides(winner, loser, Step.LOCALLY_ORIGINATED)


def test_as_path_length_shorter_wins() -> None:
    winner = path(attrs(seq(65001), origin=Origin.INCOMPLETE), source=P1)
    loser = path(attrs(seq(65001, 65002), origin=Origin.IGP), source=P2)
    assert_decides(winner, loser, Step.AS_PATH_LENGTH)


def test_origin_lower_wins() -> None:
    winner = path(attrs(seq(65001), origin=Origin.IGP, med=50), source=P1)
    loser = path(attrs(seq(65001), origin=Origin.EGP, med=0), source=P2)
    assert_decides(winner, loser, Step.ORIGIN)
    egp = path(attrs(seq(65001), origin=Origin.EGP), source=P1)
    incomplete = path(attrs(seq(65001), origin=Origin.INCOMPLETE), source=P2)
    assert_decides(egp, incomplete, Step.ORIGIN)


def test_origin_absent_counts_as_incomplete() -> None:
    egp = path(attrs(seq(65001), origin=Origin.EGP), source=P1)
    absent = path(attrs(seq(65001), origin=None), source=P2)
    assert_decides(egp, absent, Step.ORIGIN)
    incomplete = path(attrs(seq(65001), origin=Origin.INCOMPLETE), source=P1)
    assert compare(incomplete, absent, DEFAULT)[1] is not Step.ORIGIN


def test_med_lower_wins_from_the_same_neighbor_as() -> None:
    # The winner comes over iBGP: the loser would win EBGP_OVER_IBGP next.
    winner = path(attrs(seq(65001), med=10), source=IBGP)
    loser = path(attrs(seq(65001), med=20), source=P1)
    assert_decides(winner, loser, Step.MED)


def test_ebgp_over_ibgp() -> None:
    winner = path(attrs(seq(65001)), source=P1, igp_cost=10)
    loser = path(attrs(seq(65001)), source=IBGP, igp_cost=0)
    assert_decides(winner, loser, Step.EBGP_OVER_IBGP)


def test_igp_cost_lower_wins() -> None:
    winner = path(source=P1, igp_cost=5)
    loser = path(source=P2, igp_cost=10)
    assert_decides(winner, loser, Step.IGP_COST)


def test_oldest_ebgp_when_configured() -> None:
    config = DecisionConfig(prefer_oldest_ebgp=True)
    older = path(source=P1, arrival=1)
    newer = path(source=P2, arrival=2)
    assert_decides(older, newer, Step.OLDEST_EBGP, config)
    # Off by default: the router id decides.
    assert_decides(newer, older, Step.ROUTER_ID)


def test_oldest_ebgp_ignores_ibgp_paths() -> None:
    config = DecisionConfig(prefer_oldest_ebgp=True)
    i1 = peer("i1", asn=LOCAL_ASN, router_id="192.0.2.2", address="198.51.100.2")
    i2 = peer("i2", asn=LOCAL_ASN, router_id="192.0.2.1", address="198.51.100.1")
    older = path(attrs(seq(65001)), source=i1, arrival=1)
    newer = path(attrs(seq(65001)), source=i2, arrival=2)
    assert_decides(newer, older, Step.ROUTER_ID, config)


def test_router_id_lower_wins() -> None:
    winner = path(source=peer("a", router_id="10.0.0.1", address="198.51.100.9"))
    loser = path(source=peer("b", router_id="10.0.0.2", address="198.51.100.1"), path_id=0)
    assert_decides(winner, loser, Step.ROUTER_ID)


def test_router_id_compares_numerically() -> None:
    winner = path(source=peer("a", router_id="9.0.0.1"))
    loser = path(source=peer("b", router_id="10.0.0.1"))
    assert_decides(winner, loser, Step.ROUTER_ID)


def test_router_id_uses_originator_id_when_present() -> None:
    # RFC 4456 §9: the reflected route's ORIGINATOR_ID stands in for the router id.
    reflected = path(
        attrs(seq(65001), originator_id="10.0.0.1"), source=peer("a", router_id="10.0.0.9")
    )
    direct = path(attrs(seq(65001)), source=peer("b", router_id="10.0.0.5"))
    assert_decides(reflected, direct, Step.ROUTER_ID)


def test_peer_address_lower_wins() -> None:
    winner = path(source=peer("b", router_id="10.0.0.1", address="198.51.100.1"), path_id=2)
    loser = path(source=peer("a", router_id="10.0.0.1", address="198.51.100.10"), path_id=1)
    assert_decides(winner, loser, Step.PEER_ADDRESS)


def test_peer_address_ipv4_before_ipv6() -> None:
    v4 = path(source=peer("b", router_id="10.0.0.1", address="203.0.113.1"))
    v6 = path(source=peer("a", router_id="10.0.0.1", address="2001:db8::1"))
    assert_decides(v4, v6, Step.PEER_ADDRESS)


def test_path_id_lower_wins() -> None:
    winner = path(source=P1, path_id=1)
    loser = path(source=P1, path_id=2)
    assert_decides(winner, loser, Step.PATH_ID)


def test_identical_paths_tie() -> None:
    one = path(source=P1)
    assert compare(one, path(source=P1), DEFAULT) == ("tie", Step.PATH_ID)


@pytest.mark.parametrize("config", [DEFAULT, DecisionConfig(always_compare_med=True)])
def test_compare_is_antisymmetric_on_every_step(config: DecisionConfig) -> None:
    pairs = [
        (path(source=P1, weight=1), path(source=P2)),
        (path(attrs(seq(65001), med=1), source=P1), path(attrs(seq(65001), med=2), source=P2)),
        (path(source=P1, igp_cost=1), path(source=P2, igp_cost=2)),
    ]
    flip = {"A": "B", "B": "A", "tie": "tie"}
    for a, b in pairs:
        winner, step = compare(a, b, config)
        assert compare(b, a, config) == (flip[winner], step)


def test_decide_uses_elimination_not_pairwise_order() -> None:
    # The RFC 4271 §9.1.2.2 c example of MED non-transitivity: pairwise comparison in
    # input order picks a different winner depending on the order; elimination
    # (lowest MED per neighbour AS first) always picks the AS 200 path.
    a = path(attrs(seq(100), med=200), source=peer("a", asn=100, router_id="10.0.0.1"))
    b = path(attrs(seq(100), med=100), source=peer("b", asn=100, router_id="10.0.0.3"))
    c = path(attrs(seq(200), med=50), source=peer("c", asn=200, router_id="10.0.0.2"))
    for order in permutations([a, b, c]):
        decision = decide(list(order), DEFAULT)
        assert decision.best is c
        assert decision.reason is Step.ROUTER_ID
    # And the pairwise relation really is non-transitive here.
    assert compare(a, b, DEFAULT)[0] == "B"
    assert compare(b, c, DEFAULT)[0] == "B"
    assert compare(a, c, DEFAULT)[0] == "A"


def test_reason_is_the_step_that_left_one_candidate() -> None:
    # Three paths: LOCAL_PREF removes one, then the router id separates the other two.
    low_lp = path(attrs(seq(65001), local_pref=50), source=peer("x", router_id="10.0.0.0"))
    a = path(source=peer("a", router_id="10.0.0.1"))
    b = path(source=peer("b", router_id="10.0.0.2"))
    decision = decide([low_lp, b, a], DEFAULT)
    assert decision.best is a
    assert decision.reason is Step.ROUTER_ID


def test_unreachable_candidate_dropped_before_the_steps() -> None:
    reachable = path(source=P1)
    unreachable = path(source=P2, next_hop_reachable=False)
    third = path(source=peer("p3", router_id="192.0.2.3", address="198.51.100.3"))
    decision = decide([unreachable, third, reachable], DEFAULT)
    assert decision.best is reachable
    assert decision.reason is Step.ROUTER_ID
