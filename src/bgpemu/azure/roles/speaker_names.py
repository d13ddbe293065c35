"""Speaker names of multi-speaker nodes (azure-common design, "Speakers").

Single-instance nodes are one speaker named like the node.  An active-active VPN
gateway and a Route Server are ``<node>.0`` / ``<node>.1``; an ExpressRoute circuit is
its MSEE pair ``<circuit>.primary`` / ``<circuit>.secondary`` plus, for IPVPN
connectivity, the provider PE ``<circuit>.provider``; a vWAN hub is one speaker (its
gateways folded in).
"""

from __future__ import annotations

from bgpemu.azure.model import Network, RouteServer, VpnGateway

__all__ = ["gateway_instances", "msees", "provider_edge", "route_server_instances"]


def _instances(node: str, count: int) -> list[str]:
    if count == 1:
        return [node]
    return [f"{node}.{i}" for i in range(count)]


def gateway_instances(network: Network, gateway: str) -> list[str]:
    """The speakers of VPN gateway ``gateway`` (two when active-active, §3.5 [VPN-AA])."""
    node = network.node(gateway)
    if not isinstance(node, VpnGateway):
        raise TypeError(f"{gateway} is not a VPN gateway")
    count = 2 if node.active_active and len(node.bgp_peering_addresses) >= 2 else 1
    return _instances(gateway, count)


def route_server_instances(network: Network, route_server: str) -> list[str]:
    """The two speakers of Route Server ``route_server`` (§6.1 [ARS-FAQ])."""
    node = network.node(route_server)
    if not isinstance(node, RouteServer):
        raise TypeError(f"{route_server} is not a Route Server")
    return _instances(route_server, 2)


def msees(circuit: str) -> list[str]:
    """The primary and secondary MSEE of ``circuit`` (§4.1 [ER-ROUTING])."""
    return [f"{circuit}.primary", f"{circuit}.secondary"]


def provider_edge(circuit: str) -> str:
    """The provider PE of an IPVPN circuit (§4.1)."""
    return f"{circuit}.provider"
