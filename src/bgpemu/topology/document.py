"""The whole topology file: ``name``, ``defaults``, ``nodes`` and ``connections``
(:class:`NetworkModel`, compiled to :class:`bgpemu.azure.model.Network`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bgpemu.topology._base import Model
from bgpemu.topology.connections import ConnectionModel
from bgpemu.topology.nodes import NodeModel
from bgpemu.topology.security import ArmName, NetworkSecurityGroupModel

__all__ = ["NetworkModel", "RoleName"]

RoleName = Literal[
    "onprem",
    "vnet",
    "vpn_gateway",
    "expressroute_gateway",
    "expressroute",
    "route_server",
    "nva",
    "vwan",
    "vwan_hub",
    "azure_firewall",
]


class NetworkModel(Model):
    """A topology: what a user would build in Azure, plus the on-prem side."""

    name: str = Field(min_length=1)
    defaults: dict[RoleName, dict[str, Any]] = {}
    """Per-role field values merged into every node of that role that does not set them."""
    nodes: dict[str, NodeModel]
    """Node name -> node; names match ``[A-Za-z0-9_-]+``."""
    connections: list[ConnectionModel] = []
    network_security_groups: dict[ArmName, NetworkSecurityGroupModel] = {}
    """NSG name -> its rules (azure-traffic.md §1); subnets, interfaces and NVAs name them."""
    application_security_groups: list[ArmName] = []
    """Application security group names (§1.1 [ASG]); interfaces and NVAs join them,
    rules name them."""
