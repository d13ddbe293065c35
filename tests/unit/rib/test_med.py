"""MED rules (RFC 4271 §9.1.2.2 c): same neighbour AS only, always-compare, missing = 0."""

from __future__ import annotations

from bgpemu.rib.decision import DecisionConfig, Step, compare, decide
from bgpemu.wire.messages import AsPathSegment, SegmentType

from .factories import LOCAL_ASN, attrs, path, peer, seq

DEFAULT = DecisionConfig()
ALWAYS = DecisionConfig(always_compare_med=True)
# From AS 65001 (higher router id) and AS 65002 (lower router id).
A = peer("a", asn=65001, router_id="10.0.0.2")
B = peer("b", asn=65002, router_id="10.0.0.1")


def test_med_not_compared_across_neighbor_as_by_default() -> None:
    low = path(attrs(seq(65001), med=0), source=A)
    high = path(attrs(seq(65002), med=500), source=B)
    assert compare(low, high, DEFAULT) == ("B", Step.ROUTER_ID)
    assert decide([low, high], DEFAULT).best is high


def test_always_compare_med_compares_across_neighbor_as() -> None:
    low = path(attrs(seq(65001), med=0), source=A)
    high = path(attrs(seq(65002), med=500), source=B)
    assert compare(low, high, ALWAYS) == ("A", Step.MED)
    decision = decide([high, low], ALWAYS)
    assert decision.best is low
    assert decision.reason is Step.MED


def test_missing_med_counts_as_zero() -> None:
    missing = path(attrs(seq(65001), med=None), source=A)
    five = path(attrs(seq(65001), med=5), source=peer("c", asn=65001, router_id="10.0.0.1"))
    assert compare(missing, five, DEFAULT) == ("A", Step.MED)
    zero = path(attrs(seq(65001), med=0), source=peer("c", asn=65001, router_id="10.0.0.1"))
    assert compare(missing, zero, DEFAULT)[1] is Step.ROUTER_ID


def test_neighbor_as_is_the_first_as_of_the_path_not_the_peer() -> None:
    # Two iBGP peers relaying routes from the same external AS 65009: MEDs compare.
    i1 = peer("i1", asn=LOCAL_ASN, router_id="10.0.0.1")
    i2 = peer("i2", asn=LOCAL_ASN, router_id="10.0.0.2")
    worse = path(attrs(seq(65009, 65100), med=30), source=i1)
    better = path(attrs(seq(65009, 65200), med=10), source=i2)
    assert compare(better, worse, DEFAULT) == ("A", Step.MED)


def test_neighbor_as_skips_confederation_segments() -> None:
    confed = AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512,))
    i1 = peer("i1", asn=LOCAL_ASN, router_id="10.0.0.1")
    i2 = peer("i2", asn=LOCAL_ASN, router_id="10.0.0.2")
    worse = path(attrs(confed, seq(65009), med=30), source=i1)
    better = path(attrs(seq(65009), med=10), source=i2)
    assert compare(better, worse, DEFAULT) == ("A", Step.MED)


def test_internal_routes_share_the_local_neighbor_as() -> None:
    # Empty AS_PATH from iBGP: originated inside our AS, neighbour AS = local AS.
    i1 = peer("i1", asn=LOCAL_ASN, router_id="10.0.0.1")
    i2 = peer("i2", asn=LOCAL_ASN, router_id="10.0.0.2")
    worse = path(attrs(med=30), source=i1)
    better = path(attrs(med=10), source=i2)
    assert compare(better, worse, DEFAULT) == ("A", Step.MED)


def test_med_elimination_is_per_neighbor_as() -> None:
    # AS 65001 offers MED 10 and 20, AS 65002 offers MED 99: the 65001/MED 20 path is
    # eliminated, the AS 65002 path survives MED and wins on router id.
    a10 = path(attrs(seq(65001), med=10), source=peer("a10", asn=65001, router_id="10.0.0.5"))
    a20 = path(attrs(seq(65001), med=20), source=peer("a20", asn=65001, router_id="10.0.0.1"))
    b99 = path(attrs(seq(65002), med=99), source=peer("b99", asn=65002, router_id="10.0.0.3"))
    decision = decide([a10, a20, b99], DEFAULT)
    assert decision.best is b99
    assert decision.reason is Step.ROUTER_ID
    decision = decide([a10, a20, b99], ALWAYS)
    assert decision.best is a10
    assert decision.reason is Step.MED
