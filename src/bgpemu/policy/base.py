"""The shape of a policy (L4): a pure function from a path to a path or a rejection."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bgpemu.rib.path import Path, PeerInfo

__all__ = ["Direction", "Policy", "PolicyContext"]


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
