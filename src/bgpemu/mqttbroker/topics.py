"""Topic names, topic filters and wildcard matching (3.1.1 §4.7, 5.0 §4.7); pure.

A topic is split on ``/`` into levels (5.0 §4.7.1.1).  In a filter ``+`` matches exactly
one level and ``#`` any number of trailing levels, including none (so ``a/#`` matches
``a``).  Filters starting with a wildcard never match topics starting with ``$``
(5.0 §4.7.2), which keeps ``$SYS``-style topics out of ``#`` subscriptions.

:class:`SubscriptionTree` indexes filters by level, so routing a message costs the depth
of the topic, not the number of subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = [
    "SubscriptionTree",
    "filter_problem",
    "is_wildcard",
    "matches",
    "topic_problem",
]

T = TypeVar("T")


def topic_problem(topic: str) -> str | None:
    """Why ``topic`` cannot be a PUBLISH topic name, or None when it can.

    3.1.1 §4.7.3 / 5.0 §4.7.3: at least one character; 5.0 §3.3.2.1: no wildcard.
    """
    if not topic:
        return "empty topic name"
    if "+" in topic or "#" in topic:
        return f"wildcard in topic name {topic!r}"
    return None


def filter_problem(topic_filter: str) -> str | None:
    """Why ``topic_filter`` is not a valid topic filter, or None when it is.

    5.0 §4.7.1.2: ``#`` alone in the last level; §4.7.1.3: ``+`` alone in its level;
    §4.7.3: at least one character.
    """
    if not topic_filter:
        return "empty topic filter"
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return f"'#' must be a whole last level in {topic_filter!r}"
        if "+" in level and level != "+":
            return f"'+' must be a whole level in {topic_filter!r}"
    return None


def is_wildcard(topic_filter: str) -> bool:
    """True when the filter contains ``+`` or ``#``."""
    return "+" in topic_filter or "#" in topic_filter


def matches(topic_filter: str, topic: str) -> bool:
    """True when the (valid) ``topic_filter`` matches the topic name ``topic`` (5.0 §4.7)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    wanted = topic_filter.split("/")
    levels = topic.split("/")
    for index, pattern in enumerate(wanted):
        if pattern == "#":
            return True
        if index >= len(levels):
            return False
        if pattern != "+" and pattern != levels[index]:
            return False
    return len(wanted) == len(levels)


@dataclass(slots=True)
class _Node(Generic[T]):
    children: dict[str, _Node[T]] = field(default_factory=dict)
    entries: dict[str, T] = field(default_factory=dict)


class SubscriptionTree(Generic[T]):
    """Subscriptions keyed by (topic filter, client id), found by the topics they match."""

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, topic_filter: str, client_id: str, value: T) -> bool:
        """Set the client's subscription to ``topic_filter``; True if it is new."""
        node = self._root
        for level in topic_filter.split("/"):
            node = node.children.setdefault(level, _Node())
        is_new = client_id not in node.entries
        node.entries[client_id] = value
        self._count += is_new
        return is_new

    def remove(self, topic_filter: str, client_id: str) -> bool:
        """Drop the client's subscription to ``topic_filter``; True if it existed."""
        path = [self._root]
        levels = topic_filter.split("/")
        for level in levels:
            child = path[-1].children.get(level)
            if child is None:
                return False
            path.append(child)
        if path[-1].entries.pop(client_id, None) is None:
            return False
        self._count -= 1
        for depth in range(len(levels), 0, -1):  # prune branches left empty
            node = path[depth]
            if node.entries or node.children:
                break
            del path[depth - 1].children[levels[depth - 1]]
        return True

    def match(self, topic: str) -> list[tuple[str, T]]:
        """Every (client id, value) whose filter matches ``topic``, one per subscription."""
        found: list[tuple[str, T]] = []
        levels = topic.split("/")
        dollar = topic.startswith("$")
        stack: list[tuple[_Node[T], int]] = [(self._root, 0)]
        while stack:
            node, depth = stack.pop()
            wildcards_allowed = depth > 0 or not dollar
            if wildcards_allowed:
                rest = node.children.get("#")
                if rest is not None:
                    found.extend(rest.entries.items())
            if depth == len(levels):
                found.extend(node.entries.items())
                continue
            exact = node.children.get(levels[depth])
            if exact is not None:
                stack.append((exact, depth + 1))
            if wildcards_allowed:
                single = node.children.get("+")
                if single is not None:
                    stack.append((single, depth + 1))
        return found
