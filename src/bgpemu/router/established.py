"""An established peer of the router: who it is, its settings and its two RIBs."""

from __future__ import annotations

from dataclasses import replace

from bgpemu.policy.base import Direction, PolicyContext, sensitive_prefixes
from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.adj_rib_out import AdjRibOut
from bgpemu.rib.path import PeerInfo
from bgpemu.router.config import RouterConfig
from bgpemu.router.neighbor import NeighborPolicy, export_scope
from bgpemu.types import Family

__all__ = ["EstablishedPeer"]


class EstablishedPeer:
    """An established peer: who it is, its settings and its two RIBs."""

    __slots__ = (
        "_policy",
        "export_context",
        "export_scope",
        "families",
        "import_context",
        "import_scope",
        "info",
        "mrai_until",
        "rib_in",
        "rib_out",
    )

    def __init__(
        self,
        info: PeerInfo,
        policy: NeighborPolicy,
        families: frozenset[Family],
        config: RouterConfig,
    ) -> None:
        self.info = info
        self.policy = policy
        self.families = families
        self.rib_in = AdjRibIn(info)
        self.rib_out = AdjRibOut()
        self.mrai_until = 0.0
        self.import_context = PolicyContext(
            direction=Direction.IMPORT,
            peer=info,
            local_asn=config.asn,
            local_router_id=config.router_id,
            local_next_hop_v4=config.next_hop_v4,
            local_next_hop_v6=config.next_hop_v6,
        )
        self.export_context = replace(self.import_context, direction=Direction.EXPORT)

    @property
    def policy(self) -> NeighborPolicy:
        """The neighbour's settings (setting them recomputes the policy scopes)."""
        return self._policy

    @policy.setter
    def policy(self, policy: NeighborPolicy) -> None:
        self._policy = policy
        self.import_scope = sensitive_prefixes(policy.import_policy)
        self.export_scope = export_scope(policy)
        """Prefixes whose import (export) is never shared: see SharedImport, Exporter.attributes."""
