"""Topic filters and the subscription tree of the embedded broker (MQTT 5.0 §4.7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.mqttbroker.topics import (
    SubscriptionTree,
    filter_problem,
    is_wildcard,
    matches,
    topic_problem,
)

MATCHES = [  # (filter, topic, expected), from the examples of 5.0 §4.7.1 and §4.7.2
    ("sport/tennis/player1/#", "sport/tennis/player1", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
    ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
    ("sport/#", "sport", True),
    ("#", "sport/tennis", True),
    ("sport/tennis/+", "sport/tennis/player1", True),
    ("sport/tennis/+", "sport/tennis/player1/ranking", False),
    ("sport/+", "sport", False),
    ("sport/+", "sport/", True),
    ("+/+", "/finance", True),
    ("/+", "/finance", True),
    ("+", "/finance", False),
    ("+/tennis/#", "sport/tennis", True),
    ("a/b", "a/b", True),
    ("a/b", "a/B", False),
    ("a/b", "a/b/c", False),
    ("#", "$SYS/broker", False),
    ("+/monitor/Clients", "$SYS/monitor/Clients", False),
    ("$SYS/#", "$SYS/monitor/Clients", True),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
    ("a/+/#", "a/$x/y", True),  # '$' only matters in the first level
]


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), MATCHES)
def test_matches(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), MATCHES)
def test_tree_agrees_with_matches(topic_filter: str, topic: str, expected: bool) -> None:
    tree: SubscriptionTree[int] = SubscriptionTree()
    tree.add(topic_filter, "c", 1)
    assert tree.match(topic) == ([("c", 1)] if expected else [])


@pytest.mark.parametrize(
    ("topic_filter", "ok"),
    [
        ("a/#", True),
        ("#", True),
        ("+", True),
        ("+/a/+", True),
        ("/", True),
        ("", False),
        ("a/#/b", False),
        ("a#", False),
        ("a/b#", False),
        ("a+", False),
        ("a/+b/c", False),
    ],
)
def test_filter_problem(topic_filter: str, ok: bool) -> None:
    assert (filter_problem(topic_filter) is None) is ok


@pytest.mark.parametrize(
    ("topic", "ok"), [("a/b", True), ("/", True), ("$SYS/x", True), ("", False), ("a/+", False)]
)
def test_topic_problem(topic: str, ok: bool) -> None:
    assert (topic_problem(topic) is None) is ok
    assert is_wildcard("a/+")
    assert is_wildcard("#")
    assert not is_wildcard("a/b")


_levels = st.sampled_from(["a", "b", "$x", ""])
_topics = st.lists(_levels, min_size=1, max_size=4).map("/".join)


@st.composite
def _filters(draw: st.DrawFn) -> str:
    levels = draw(st.lists(st.sampled_from(["a", "b", "$x", "", "+"]), min_size=1, max_size=4))
    if draw(st.booleans()):
        levels.append("#")
    return "/".join(levels)


@given(
    subscriptions=st.lists(st.tuples(_filters(), st.sampled_from(["c1", "c2", "c3"])), max_size=12),
    removed=st.lists(st.integers(0, 11), max_size=4),
    topic=_topics,
)
def test_tree_is_a_fast_matches(
    subscriptions: list[tuple[str, str]], removed: list[int], topic: str
) -> None:
    tree: SubscriptionTree[str] = SubscriptionTree()
    live: dict[tuple[str, str], str] = {}
    for topic_filter, client in subscriptions:
        assert tree.add(topic_filter, client, topic_filter) is ((topic_filter, client) not in live)
        live[topic_filter, client] = topic_filter
    for index in removed:
        if index < len(subscriptions):
            key = subscriptions[index]
            assert tree.remove(*key) is (key in live)
            live.pop(key, None)
    assert len(tree) == len(live)
    expected = sorted((client, f) for (f, client) in live if matches(f, topic))
    assert sorted(tree.match(topic)) == expected


def test_removal_prunes_empty_branches() -> None:
    tree: SubscriptionTree[int] = SubscriptionTree()
    tree.add("a/b/c", "x", 1)
    tree.add("a/#", "y", 2)
    assert tree.remove("a/b/c", "x")
    assert not tree.remove("a/b/c", "x")
    assert not tree.remove("a/b", "y")
    assert tree.match("a/b/c") == [("y", 2)]
    assert tree.remove("a/#", "y")
    assert len(tree) == 0
    assert tree.match("a") == []
