"""ECMP: max_paths, strict vs relaxed AS_PATH, exclusions, deterministic order."""

from __future__ import annotations

from itertools import permutations

from bgpemu.rib.decision import DecisionConfig, Step, decide

from .factories import LOCAL_ASN, attrs, path, peer, seq

ECMP2 = DecisionConfig(max_paths=2)
ECMP8 = DecisionConfig(max_paths=8)
# Two links into AS 65001: identical AS_PATH, different routers.
A = peer("a", asn=65001, router_id="10.0.0.1", address="198.51.100.1")
B = peer("b", asn=65001, router_id="10.0.0.2", address="198.51.100.2")
C = peer("c", asn=65002, router_id="10.0.0.3", address="198.51.100.3")


def test_two_equal_paths_form_a_multipath_set() -> None:
    a, b = path(source=A), path(source=B)
    for order in ([a, b], [b, a]):
        decision = decide(order, ECMP2)
        assert decision.best is a
        assert decision.multipath == (a, b)
        assert decision.reason is Step.ROUTER_ID


def test_max_paths_one_means_no_multipath() -> None:
    a, b = path(source=A), path(source=B)
    assert decide([a, b], DecisionConfig()).multipath == (a,)


def test_max_paths_caps_the_set_in_router_id_order() -> None:
    peers = [
        peer(f"p{i}", asn=65001, router_id=f"10.0.0.{i}", address=f"198.51.100.{i}")
        for i in (5, 3, 9, 1, 7)
    ]
    paths = [path(source=p) for p in peers]
    expected = tuple(sorted(paths, key=lambda p: int(p.source.router_id.rsplit(".", 1)[1])))
    for order in permutations(paths):
        assert decide(list(order), DecisionConfig(max_paths=3)).multipath == expected[:3]
        assert decide(list(order), ECMP8).multipath == expected


def test_strict_multipath_needs_an_identical_as_path() -> None:
    a = path(attrs(seq(65001, 65100)), source=A)
    c = path(attrs(seq(65002, 65100)), source=C)
    assert decide([a, c], ECMP2).multipath == (a,)
    relaxed = decide([c, a], DecisionConfig(max_paths=2, multipath_relax=True))
    assert relaxed.best is a
    assert relaxed.multipath == (a, c)


def test_relax_still_needs_equal_length() -> None:
    a = path(attrs(seq(65001)), source=A)
    c = path(attrs(seq(65002, 65100)), source=C)
    decision = decide([a, c], DecisionConfig(max_paths=2, multipath_relax=True))
    assert decision.multipath == (a,)
    assert decision.reason is Step.AS_PATH_LENGTH


def test_equal_but_distinct_attribute_objects_join() -> None:
    a = path(attrs(seq(65001, 65100)), source=A)
    b = path(attrs(seq(65001, 65100)), source=B)
    assert a.attributes is not b.attributes
    assert decide([a, b], ECMP2).multipath == (a, b)


def test_unreachable_next_hop_never_joins() -> None:
    a, b = path(source=A), path(source=B, next_hop_reachable=False)
    c = path(source=peer("c", asn=65001, router_id="10.0.0.3"))
    decision = decide([a, b, c], ECMP8)
    assert decision.multipath == (a, c)


def test_paths_worse_before_igp_cost_do_not_join() -> None:
    a = path(source=A)
    for worse in (
        path(source=B, weight=-1),
        path(attrs(seq(65001), local_pref=90), source=B),
        path(attrs(seq(65001), med=5), source=B),
        path(source=B, igp_cost=1),
        path(attrs(seq(65001)), source=peer("i", asn=LOCAL_ASN, router_id="10.0.0.2")),
    ):
        assert decide([worse, a], ECMP8).multipath == (a,), worse


def test_best_is_first_even_when_oldest_ebgp_picks_a_higher_router_id() -> None:
    config = DecisionConfig(max_paths=4, prefer_oldest_ebgp=True)
    a = path(source=A, arrival=9)
    b = path(source=B, arrival=1)
    c = path(source=peer("c", asn=65001, router_id="10.0.0.3"), arrival=5)
    decision = decide([a, b, c], config)
    assert decision.best is b
    assert decision.reason is Step.OLDEST_EBGP
    assert decision.multipath == (b, a, c)


def test_multipath_with_relax_keeps_lowest_med_per_neighbor_as() -> None:
    config = DecisionConfig(max_paths=4, multipath_relax=True)
    a = path(attrs(seq(65001), med=10), source=A)
    b = path(attrs(seq(65001), med=20), source=B)
    c = path(attrs(seq(65002), med=50), source=C)
    decision = decide([c, b, a], config)
    assert decision.multipath == (a, c)
