"""The holders of the addresses a packet can be delivered to (§5.1 step 3, §5.2 of
``shared/azure-traffic.md``): what :class:`~bgpemu.azure.traffic.index.TrafficContext`
indexes by address and a trace walks through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bgpemu.azure.model import Nva
from bgpemu.azure.security import AzureFirewall, NetworkInterface

__all__ = ["Owner", "OwnerKind"]


class OwnerKind(StrEnum):
    """What holds an address a packet can be delivered to (§5.2)."""

    INTERFACE = "NetworkInterface"
    NVA = "Nva"
    FIREWALL = "AzureFirewall"
    VPN_GATEWAY = "VpnGateway"
    EXPRESSROUTE_GATEWAY = "ExpressRouteGateway"
    MSEE = "ExpressRouteCircuit"
    ROUTE_SERVER = "RouteServer"
    HUB_ROUTER = "VirtualHub"
    ONPREM = "OnPremRouter"
    ONPREM_HOST = "OnPremHost"


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """The holder of one address.

    ``forwarding``: it may receive packets not addressed to it and send packets with a
    foreign source (a NIC's ``enableIPForwarding``, §5.3 [NIC-IPFWD]; gateways, routers
    and the firewall always forward).  ``stateful``: it keeps connection state, so the
    reply must cross it too (an NVA or a firewall, §6 P1).
    """

    kind: OwnerKind
    name: str
    """The interface, NVA, firewall or topology node name."""
    address: str
    vnet: str | None = None
    subnet: str | None = None
    """The subnet holding the address (None: outside any declared subnet)."""
    speaker: str | None = None
    """The plan's speaker at this address (gateways, routers, NVAs)."""
    resource_id: str = "Unknown"
    forwarding: bool = True
    stateful: bool = False
    running: bool = True
    interface: NetworkInterface | None = None
    nva: Nva | None = None
    firewall: AzureFirewall | None = None
