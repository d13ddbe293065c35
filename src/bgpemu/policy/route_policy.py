"""Route policies: ordered statements (match → actions → result), chains, accept/reject all.

Theory of operation: a :class:`RoutePolicy` walks its statements in order.  The
first statement whose match hits (a statement without a match always hits) applies
its actions to the path, then its result decides: ACCEPT returns the modified path,
REJECT returns None, NEXT carries the modified path on to the following statements.
When no statement decides, the policy's ``default`` does (with any NEXT changes
kept on ACCEPT).  A :class:`Chain` runs policies one after the other: each sees the
previous one's output and any rejection ends the chain.

Every policy here is a frozen dataclass (hashable, comparable) satisfying the
:class:`~bgpemu.policy.base.Policy` protocol, and ``str(policy)`` describes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bgpemu.policy.actions import Action
from bgpemu.policy.base import Policy, PolicyContext, sensitive_union
from bgpemu.policy.matches import Match
from bgpemu.rib.path import Path

__all__ = ["ACCEPT_ALL", "REJECT_ALL", "Chain", "Result", "RoutePolicy", "Statement"]


class Result(Enum):
    """What a statement does after its actions."""

    ACCEPT = "accept"
    REJECT = "reject"
    NEXT = "next"
    """Go on with the following statements, keeping the changes."""


@dataclass(frozen=True, slots=True)
class Statement:
    """``match`` (None: always) → ``actions`` in order → ``result``."""

    match: Match | None = None
    actions: tuple[Action, ...] = ()
    result: Result = Result.ACCEPT

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(self.actions))

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """Those of its match and actions (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
        parts: tuple[object, ...] = self.actions
        return sensitive_union(parts if self.match is None else (self.match, *parts))

    def describe(self) -> str:
        """``match (...) -> set med 10 -> accept``."""
        parts = ["always" if self.match is None else f"match {self.match.describe()}"]
        parts.extend(action.describe() for action in self.actions)
        parts.append(self.result.value)
        return " -> ".join(parts)

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """Ordered statements; the first one that matches and does not say NEXT decides.

    ``default`` (ACCEPT or REJECT; REJECT unless given) decides when no statement
    does.  RFC 8212 asks eBGP sessions to reject everything without an explicit
    policy: use :data:`REJECT_ALL` there, :data:`ACCEPT_ALL` for an open session.
    """

    statements: tuple[Statement, ...] = ()
    default: Result = Result.REJECT
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "statements", tuple(self.statements))
        if self.default is Result.NEXT:
            raise ValueError("a route policy's default must be ACCEPT or REJECT")

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """Those of its statements: prefix-independent when no statement matches on the
        prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
        return sensitive_union(self.statements)

    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None:
        """The path as the policy leaves it, or None when rejected."""
        for statement in self.statements:
            if statement.match is not None and not statement.match.matches(path, context):
                continue
            for action in statement.actions:
                path = action.apply(path, context)
            if statement.result is Result.ACCEPT:
                return path
            if statement.result is Result.REJECT:
                return None
        return path if self.default is Result.ACCEPT else None

    def describe(self) -> str:
        """One line per statement, numbered, then the default."""
        title = f"route-policy {self.name}".rstrip()
        lines = [title]
        lines.extend(f"  {i}: {s.describe()}" for i, s in enumerate(self.statements, start=1))
        lines.append(f"  default: {self.default.value}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def _describe_policy(policy: Policy) -> str:
    describe = getattr(policy, "describe", None)
    if callable(describe):
        return str(describe())
    return str(getattr(policy, "__name__", repr(policy)))


@dataclass(frozen=True, slots=True, init=False)
class Chain:
    """Policies applied in order; all must accept: ``Chain(strip, prefer, well_known_filter)``."""

    policies: tuple[Policy, ...]

    def __init__(self, *policies: Policy) -> None:
        object.__setattr__(self, "policies", tuple(policies))

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """Those of its steps: prefix-independent when every step is
        (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
        return sensitive_union(self.policies)

    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None:
        """Each policy gets the previous one's output; the first rejection wins."""
        for policy in self.policies:
            result = policy(path, context)
            if result is None:
                return None
            path = result
        return path

    def describe(self) -> str:
        """``chain:`` then each policy, indented."""
        lines = ["chain:"]
        for policy in self.policies:
            lines.extend("  " + line for line in _describe_policy(policy).splitlines())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


ACCEPT_ALL = RoutePolicy(default=Result.ACCEPT, name="accept-all")
"""Accept every path unchanged."""
REJECT_ALL = RoutePolicy(default=Result.REJECT, name="reject-all")
"""Reject every path (the RFC 8212 default for eBGP without a policy)."""
