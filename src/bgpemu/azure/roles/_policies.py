"""Route-policy building blocks the roles share (all built from bgpemu.policy parts).

Each helper returns a printable :class:`~bgpemu.policy.RoutePolicy`; the rule it
serves is cited where it is used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bgpemu.policy import (
    And,
    Not,
    PrefixList,
    PrefixListEntry,
    Result,
    RoutePolicy,
    SetWeight,
    SourcePeerMatch,
    Statement,
)
from bgpemu.policy.actions import Action

__all__ = [
    "DEFAULT_ROUTES",
    "actions",
    "exact",
    "overlapping",
    "reject_from",
    "reject_learned_overlapping",
    "reject_prefixes",
    "set_weight",
]

DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")


def exact(prefixes: Iterable[str]) -> PrefixList:
    """A prefix list permitting exactly ``prefixes``."""
    return PrefixList(tuple(PrefixListEntry(p) for p in dict.fromkeys(prefixes)))


def overlapping(prefixes: Iterable[str]) -> PrefixList:
    """A prefix list permitting every prefix that overlaps one of ``prefixes``.

    Overlap = equal, more specific (``ge`` the length) or a supernet (each shorter
    mask of the same address, 0.0.0.0/0 included).
    """
    entries: list[PrefixListEntry] = []
    for text in dict.fromkeys(prefixes):
        net = ipaddress.ip_network(text)
        entries.append(PrefixListEntry(text, ge=net.prefixlen))
        entries.extend(
            PrefixListEntry(str(net.supernet(new_prefix=k))) for k in range(net.prefixlen)
        )
    return PrefixList(tuple(entries))


def reject_prefixes(name: str, prefixes: Iterable[str]) -> RoutePolicy | None:
    """Reject routes to exactly ``prefixes``, accept the rest (None when empty)."""
    wanted = tuple(dict.fromkeys(prefixes))
    if not wanted:
        return None
    return RoutePolicy(
        (Statement(match=exact(wanted), result=Result.REJECT),), default=Result.ACCEPT, name=name
    )


def reject_learned_overlapping(name: str, prefixes: Iterable[str]) -> RoutePolicy | None:
    """Reject *learned* routes overlapping ``prefixes``; originated ones pass."""
    wanted = tuple(dict.fromkeys(prefixes))
    if not wanted:
        return None
    match = And(Not(SourcePeerMatch("")), overlapping(wanted))
    return RoutePolicy(
        (Statement(match=match, result=Result.REJECT),), default=Result.ACCEPT, name=name
    )


def reject_from(name: str, sources: Iterable[str]) -> RoutePolicy | None:
    """Reject routes learned from the speakers ``sources`` (None when empty)."""
    names = tuple(dict.fromkeys(sources))
    if not names:
        return None
    return RoutePolicy(
        (Statement(match=SourcePeerMatch(*names), result=Result.REJECT),),
        default=Result.ACCEPT,
        name=name,
    )


def actions(name: str, *steps: Action) -> RoutePolicy:
    """Apply ``steps`` to every route and accept it."""
    return RoutePolicy((Statement(actions=steps),), default=Result.ACCEPT, name=name)


def set_weight(weight: int) -> RoutePolicy:
    """The local weight of every route learned on the session (vendor step, §4.3 OBS)."""
    return actions(f"weight-{weight}", SetWeight(weight))
