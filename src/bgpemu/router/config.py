"""Core configuration of a router: who it is and what it originates (no pydantic here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.types import Family

__all__ = ["OriginatedRoute", "RouterConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginatedRoute:
    """A prefix this router announces, with the attributes it sets on it."""

    prefix: str
    family: Family
    med: int | None = None
    communities: tuple[int, ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()
    as_path_prepend: int = 0
    """Extra copies of the router's own ASN prepended toward eBGP peers."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterConfig:
    """A router's identity and originated routes."""

    asn: int
    router_id: str
    next_hop_v4: str | None = None
    """NEXT_HOP advertised for IPv4 routes (RFC 4271 §5.1.3); not in 127/8 for GoBGP peers."""
    next_hop_v6: str | None = None
    """Global next hop in MP_REACH_NLRI for IPv6 routes (RFC 2545 §3)."""
    routes: tuple[OriginatedRoute, ...] = ()
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    """Decision-process knobs (ECMP width, MED comparison...) of the routing router."""
    neighbors: tuple[NeighborPolicy, ...] = ()
    """Import/export settings per neighbour name; a neighbour without one gets defaults."""

    def neighbor(self, name: str) -> NeighborPolicy:
        """The settings of neighbour ``name`` (defaults when none are configured)."""
        for policy in self.neighbors:
            if policy.name == name:
                return policy
        return NeighborPolicy(name=name)
