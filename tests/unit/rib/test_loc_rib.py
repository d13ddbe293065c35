"""LocRib: change reporting (best, multipath, reason), removal, lookups and ordering."""

from __future__ import annotations

from bgpemu.rib.decision import Decision, DecisionConfig, Step
from bgpemu.rib.loc_rib import BestPathChange, LocRib
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

from .factories import PREFIX, attrs, path, peer, seq

A = peer("a", asn=65001, router_id="10.0.0.1")
B = peer("b", asn=65001, router_id="10.0.0.2")


def test_first_update_reports_a_new_route() -> None:
    rib = LocRib(DecisionConfig())
    a = path(source=A)
    change = rib.update(IPV4_UNICAST, PREFIX, [a])
    assert change == BestPathChange(IPV4_UNICAST, PREFIX, None, Decision(a, (a,), Step.ONLY_PATH))
    assert change.best_changed
    assert rib.get(IPV4_UNICAST, PREFIX) == Decision(a, (a,), Step.ONLY_PATH)
    assert rib.best(IPV4_UNICAST, PREFIX) is a
    assert len(rib) == 1


def test_same_candidates_again_report_nothing() -> None:
    rib = LocRib(DecisionConfig())
    a, b = path(source=A), path(source=B)
    assert rib.update(IPV4_UNICAST, PREFIX, [a, b]) is not None
    assert rib.update(IPV4_UNICAST, PREFIX, [b, a]) is None
    assert rib.update(IPV4_UNICAST, PREFIX, iter([a, b])) is None
    # Equal by value, different objects: still no change.
    assert rib.update(IPV4_UNICAST, PREFIX, [path(source=A), path(source=B)]) is None


def test_a_better_path_changes_the_best() -> None:
    rib = LocRib(DecisionConfig())
    b = path(source=B)
    rib.update(IPV4_UNICAST, PREFIX, [b])
    a = path(source=A)
    change = rib.update(IPV4_UNICAST, PREFIX, [b, a])
    assert change is not None
    assert change.old == Decision(b, (b,), Step.ONLY_PATH)
    assert change.new == Decision(a, (a,), Step.ROUTER_ID)
    assert change.best_changed


def test_a_reason_change_alone_is_reported() -> None:
    rib = LocRib(DecisionConfig())
    a = path(source=A)
    rib.update(IPV4_UNICAST, PREFIX, [a])
    worse = path(attrs(seq(65001, 65002)), source=B)
    change = rib.update(IPV4_UNICAST, PREFIX, [a, worse])
    assert change is not None
    assert not change.best_changed
    assert change.new is not None
    assert change.new.reason is Step.AS_PATH_LENGTH


def test_a_multipath_change_alone_is_reported() -> None:
    rib = LocRib(DecisionConfig(max_paths=2))
    a, b = path(source=A), path(source=B)
    rib.update(IPV4_UNICAST, PREFIX, [a, b])
    c = path(source=peer("c", asn=65001, router_id="10.0.0.3"))
    assert rib.update(IPV4_UNICAST, PREFIX, [a, b, c]) is None  # cap 2: c does not join
    change = rib.update(IPV4_UNICAST, PREFIX, [a, c])
    assert change is not None
    assert not change.best_changed
    assert change.new == Decision(a, (a, c), Step.ROUTER_ID)


def test_removing_every_candidate_removes_the_route() -> None:
    rib = LocRib(DecisionConfig())
    a = path(source=A)
    rib.update(IPV4_UNICAST, PREFIX, [a])
    change = rib.update(IPV4_UNICAST, PREFIX, [])
    assert change == BestPathChange(IPV4_UNICAST, PREFIX, Decision(a, (a,), Step.ONLY_PATH), None)
    assert change.best_changed
    assert rib.get(IPV4_UNICAST, PREFIX) is None
    assert len(rib) == 0
    assert rib.update(IPV4_UNICAST, PREFIX, []) is None


def test_only_unreachable_candidates_mean_no_route() -> None:
    rib = LocRib(DecisionConfig())
    dead = path(source=A, next_hop_reachable=False)
    assert rib.update(IPV4_UNICAST, PREFIX, [dead]) is None
    assert rib.get(IPV4_UNICAST, PREFIX) is None
    a = path(source=B)
    rib.update(IPV4_UNICAST, PREFIX, [a])
    change = rib.update(IPV4_UNICAST, PREFIX, [dead])
    assert change is not None
    assert change.new is None


def test_entries_sorted_by_family_then_prefix_and_counts() -> None:
    rib = LocRib(DecisionConfig())
    for prefix in ("10.0.2.0/24", "10.0.1.0/24"):
        rib.update(IPV4_UNICAST, prefix, [path(source=A, prefix=prefix)])
    v6 = path(source=A, prefix="2001:db8::/32", family=IPV6_UNICAST)
    rib.update(IPV6_UNICAST, "2001:db8::/32", [v6])
    assert [(f, p) for f, p, _ in rib.entries()] == [
        (IPV4_UNICAST, "10.0.1.0/24"),
        (IPV4_UNICAST, "10.0.2.0/24"),
        (IPV6_UNICAST, "2001:db8::/32"),
    ]
    assert [p for _, p, _ in rib.entries(IPV6_UNICAST)] == ["2001:db8::/32"]
    assert rib.count(IPV4_UNICAST) == 2
    assert rib.count(IPV6_UNICAST) == 1
    assert len(rib) == 3
    assert rib.get(IPV6_UNICAST, "10.0.1.0/24") is None
    assert rib.config == DecisionConfig()


def test_families_are_separate() -> None:
    rib = LocRib(DecisionConfig())
    rib.update(IPV4_UNICAST, PREFIX, [path(source=A)])
    assert rib.get(IPV6_UNICAST, PREFIX) is None
    assert list(rib.entries(IPV6_UNICAST)) == []
