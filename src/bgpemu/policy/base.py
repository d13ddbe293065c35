"""The shape of a policy (L4): a pure function from a path to a path or a rejection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bgpemu.rib.path import Path, PeerInfo

__all__ = [
    "NO_PREFIXES",
    "Direction",
    "Policy",
    "PolicyContext",
    "prefix_independent",
    "sensitive_prefixes",
    "sensitive_union",
]

NO_PREFIXES: frozenset[str] = frozenset()
"""The ``sensitive_prefixes`` of something that never looks at the prefix."""


class Direction(Enum):
    """Which side of the RIBs a policy runs on."""

    IMPORT = "import"
    EXPORT = "export"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyContext:
    """What a policy may look at besides the path: the session and the local router."""

    direction: Direction
    peer: PeerInfo
    """The neighbour the path comes from (import) or goes to (export)."""
    local_asn: int
    local_router_id: str
    local_next_hop_v4: str | None = None
    """Our IPv4 address toward this peer: what ``SetNextHop("self")`` writes on IPv4 paths."""
    local_next_hop_v6: str | None = None
    """Our global IPv6 address toward this peer: ``SetNextHop("self")`` on IPv6 paths."""


class Policy(Protocol):
    """``policy(path, context)`` returns the (possibly modified) path, or None to reject."""

    def __call__(self, path: Path, context: PolicyContext, /) -> Path | None: ...


def sensitive_prefixes(item: object) -> frozenset[str] | None:
    """How far the outcome of a policy, statement, match or action depends on the prefix.

    Read from the item's optional ``sensitive_prefixes`` attribute:

    - ``None`` (the default for anything that does not say, e.g. a plain function):
      the outcome may depend on anything about the path, its prefix included;
    - a set ``S`` of prefixes (canonical text, as the codec and the topology loader
      write them): the outcome (accepted or not, and the attributes) depends on the
      path only through its attributes, source and family, except for routes to a
      prefix in ``S``; every route to a prefix outside ``S`` with the same attributes,
      source and family is treated alike (a policy returns them with the same changes,
      their prefix, path id and arrival number passed through).  Empty: the item never
      looks at the prefix.

    The router runs such an import policy once per UPDATE
    (:class:`~bgpemu.router.shared_import.SharedImport`) and memoises such an export policy's
    result per attribute set (:meth:`Exporter.attributes
    <bgpemu.router.exporter.Exporter.attributes>`): most of a large table shares a few
    attribute sets, so one policy evaluation serves many prefixes.
    """
    value = getattr(item, "sensitive_prefixes", None)
    return value if isinstance(value, frozenset) else None


def sensitive_union(items: Iterable[object]) -> frozenset[str] | None:
    """The :func:`sensitive_prefixes` of a composition: None if any part says None."""
    union: frozenset[str] = NO_PREFIXES
    for item in items:
        part = sensitive_prefixes(item)
        if part is None:
            return None
        if part:
            union = union | part
    return union


def prefix_independent(item: object) -> bool:
    """True when ``item``'s outcome never depends on the prefix (see :func:`sensitive_prefixes`)."""
    return sensitive_prefixes(item) == NO_PREFIXES
