"""AdjRibIn: pre- and post-policy views, rejection, ADD-PATH keys, clear."""

from __future__ import annotations

from dataclasses import replace

from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

from .factories import PREFIX, attrs, path, peer, seq

P = peer("p1")


def test_accepted_unchanged_is_both_pre_and_post() -> None:
    rib = AdjRibIn(P)
    a = path(source=P)
    rib.set(a, a)
    assert rib.pre(IPV4_UNICAST, PREFIX) is a
    assert rib.post(IPV4_UNICAST, PREFIX) is a
    assert rib.count() == 1
    assert rib.count(post=True) == 1
    assert rib.peer is P


def test_modified_by_policy_keeps_both_versions() -> None:
    rib = AdjRibIn(P)
    pre = path(source=P)
    post = replace(pre, attributes=attrs(seq(65001), local_pref=300))
    rib.set(pre, post)
    assert rib.pre(IPV4_UNICAST, PREFIX) is pre
    assert rib.post(IPV4_UNICAST, PREFIX) is post
    assert list(rib.paths_pre(IPV4_UNICAST)) == [pre]
    assert list(rib.paths_post(IPV4_UNICAST)) == [post]
    # Policy changes its mind: accepted unchanged now, the old pre copy goes.
    rib.set(pre, pre)
    assert list(rib.paths_pre(IPV4_UNICAST)) == [pre]
    assert rib.post(IPV4_UNICAST, PREFIX) is pre


def test_rejected_is_pre_only() -> None:
    rib = AdjRibIn(P)
    a = path(source=P)
    rib.set(a, None)
    assert rib.pre(IPV4_UNICAST, PREFIX) is a
    assert rib.post(IPV4_UNICAST, PREFIX) is None
    assert rib.count() == 1
    assert rib.count(post=True) == 0
    assert list(rib.paths_post(IPV4_UNICAST)) == []
    assert list(rib.prefixes(IPV4_UNICAST)) == [PREFIX]
    # A later, accepted announcement replaces the rejected one.
    b = path(attrs(seq(65001, 65002)), source=P)
    rib.set(b, b)
    assert rib.count() == 1
    assert rib.post(IPV4_UNICAST, PREFIX) is b
    # And an accepted path later rejected leaves the post view.
    rib.set(b, None)
    assert rib.post(IPV4_UNICAST, PREFIX) is None
    assert rib.pre(IPV4_UNICAST, PREFIX) is b
    assert rib.count() == 1


def test_remove_reports_whether_something_was_there() -> None:
    rib = AdjRibIn(P)
    assert not rib.remove(IPV4_UNICAST, PREFIX)
    a = path(source=P)
    rib.set(a, replace(a, weight=5))
    assert rib.remove(IPV4_UNICAST, PREFIX)
    assert rib.pre(IPV4_UNICAST, PREFIX) is None
    assert not rib.remove(IPV4_UNICAST, PREFIX)
    rib.set(a, None)
    assert rib.remove(IPV4_UNICAST, PREFIX)
    assert rib.count() == 0


def test_add_path_ids_are_separate_paths() -> None:
    rib = AdjRibIn(P)
    one, two = path(source=P, path_id=1), path(source=P, path_id=2)
    rib.set(one, one)
    rib.set(two, None)
    assert rib.post(IPV4_UNICAST, PREFIX, 1) is one
    assert rib.post(IPV4_UNICAST, PREFIX, 2) is None
    assert rib.pre(IPV4_UNICAST, PREFIX, 2) is two
    assert rib.post(IPV4_UNICAST, PREFIX) is None
    assert list(rib.prefixes(IPV4_UNICAST)) == [PREFIX]
    assert rib.count() == 2
    assert rib.remove(IPV4_UNICAST, PREFIX, 1)
    assert rib.count() == 1


def test_families_are_separate_and_counted() -> None:
    rib = AdjRibIn(P)
    v4 = path(source=P)
    v6 = path(source=P, family=IPV6_UNICAST, prefix="2001:db8::/32")
    rib.set(v4, v4)
    rib.set(v6, None)
    assert rib.count(IPV4_UNICAST) == 1
    assert rib.count(IPV6_UNICAST) == 1
    assert rib.count(IPV6_UNICAST, post=True) == 0
    assert rib.count() == 2
    assert rib.families() == [IPV4_UNICAST, IPV6_UNICAST]
    assert rib.pre(IPV6_UNICAST, PREFIX) is None
    assert list(rib.paths_pre(IPV6_UNICAST)) == [v6]


def test_unknown_family_is_empty() -> None:
    rib = AdjRibIn(P)
    assert rib.pre(IPV6_UNICAST, PREFIX) is None
    assert rib.post(IPV6_UNICAST, PREFIX) is None
    assert list(rib.prefixes(IPV6_UNICAST)) == []
    assert list(rib.paths_pre(IPV6_UNICAST)) == []
    assert list(rib.paths_post(IPV6_UNICAST)) == []
    assert rib.count(IPV6_UNICAST) == 0
    assert not rib.remove(IPV6_UNICAST, PREFIX)


def test_clear_returns_every_prefix_once() -> None:
    rib = AdjRibIn(P)
    for prefix, path_id in (("10.0.2.0/24", 0), ("10.0.1.0/24", 0), ("10.0.2.0/24", 7)):
        p = path(source=P, prefix=prefix, path_id=path_id)
        rib.set(p, p)
    rejected = path(source=P, prefix="10.0.9.0/24")
    rib.set(rejected, None)
    v6 = path(source=P, family=IPV6_UNICAST, prefix="2001:db8::/32")
    rib.set(v6, v6)
    assert rib.clear() == [
        (IPV4_UNICAST, "10.0.2.0/24"),
        (IPV4_UNICAST, "10.0.1.0/24"),
        (IPV4_UNICAST, "10.0.9.0/24"),
        (IPV6_UNICAST, "2001:db8::/32"),
    ]
    assert rib.count() == 0
    assert rib.clear() == []
