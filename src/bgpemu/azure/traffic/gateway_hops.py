"""The gateway and vWAN hub hops of a walk (§5.2, §5.4, §5.5 of ``shared/azure-traffic.md``):
where a route to the virtual network gateway sends, the ExpressRoute gateway before a
circuit's MSEEs, and a vWAN hub router's ingress route table and next hop targets.
Pure over the traffic index; :class:`bgpemu.azure.traffic.walk.Walker` drives them.
"""

from __future__ import annotations

from bgpemu.azure.hubrouting import DEFAULT_TABLE
from bgpemu.azure.model import (
    ExpressRouteConnection,
    ExpressRouteGateway,
    HubBgpConnection,
    HubExpressRouteConnection,
    HubVnetConnection,
    HubVpnConnection,
    VpnGateway,
)
from bgpemu.azure.traffic.flow import AddressSet, Flow
from bgpemu.azure.traffic.hops import Hop, HopType
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.views.sources import gateway_vnet

__all__ = ["er_gateway", "hub_targets", "ingress_table", "vpn_instances"]


def vpn_instances(ctx: TrafficContext, vnet: str) -> tuple[str, ...]:
    """The instances of the VPN gateway serving ``vnet`` (its own, or its hub's by
    gateway transit): where a UDR of type VirtualNetworkGateway sends (§5.2 [UDR]:
    VPN gateways only)."""
    serving = gateway_vnet(ctx.network, ctx.vnet(vnet)).name
    return tuple(
        endpoint.azure_address
        for gateway in ctx.network.of_type(VpnGateway)
        if gateway.vnet == serving
        for endpoint in ctx.plan.of_node(gateway.name)
    )


def er_gateway(ctx: TrafficContext, vnet: str, circuit: str) -> tuple[Hop, ...]:
    """The ER gateway between ``vnet`` and ``circuit``'s MSEEs (§5.5 [ER-GW]: VNet ->
    ER gateway -> MSEE; the effective route's next hops are the MSEEs themselves):
    the gateway of the VNet serving ``vnet`` (its own, or by gateway transit) linked
    to the circuit."""
    network = ctx.network
    serving = gateway_vnet(network, ctx.vnet(vnet)).name
    linked = {c.gateway for c in network.of_type(ExpressRouteConnection) if c.circuit == circuit}
    for gateway in network.of_type(ExpressRouteGateway):
        if gateway.vnet == serving and gateway.name in linked:
            owner = ctx.owner(ctx.key(gateway.bgp_peering_address))
            return (
                Hop(
                    type=HopType.VIRTUAL_NETWORK_GATEWAY,
                    name=gateway.name,
                    address=gateway.bgp_peering_address,
                    resource_id="Unknown" if owner is None else owner.resource_id,
                ),
            )
    return ()


def ingress_table(ctx: TrafficContext, hub: str, path: tuple[Hop, ...]) -> str:
    """The route table associated with the connection of ``hub`` the packet came in
    by (§5.4): the previous hop's VNet's connection, or its branch's; else Default."""
    previous = path[-1] if path else None
    network = ctx.network
    if previous is not None:
        vnet = previous.position[0] if previous.position is not None else None
        for connection in network.of_type(HubVnetConnection):
            if connection.hub == hub and connection.vnet == vnet:
                return connection.routing_configuration.associated_route_table
        for branch in network.of_type(HubVpnConnection):
            if branch.hub == hub and branch.site == previous.name:
                return branch.routing_configuration.associated_route_table
        for circuit in network.of_type(HubExpressRouteConnection):
            if circuit.hub == hub and circuit.circuit == previous.name:
                return circuit.routing_configuration.associated_route_table
    return DEFAULT_TABLE


def hub_targets(
    ctx: TrafficContext, flow: Flow, hub: str, next_hop: str, origin: str
) -> list[tuple[str, str]] | None:
    """Where a hub route's next hop (a resource id, :func:`views.hub.describe`) leads:
    ``(address, via)`` pairs; None when the kind is not modelled."""
    network = ctx.network
    tail = next_hop.partition("/providers/Microsoft.Network/")[2].split("/")
    name = tail[-1]
    if tail[:1] == ["virtualHubs"] and len(tail) == 2:
        remote = network.node(name)
        return [(address, "BGP") for address in getattr(remote, "virtual_router_ips", ())[:1]]
    if "hubVirtualNetworkConnections" in tail:
        connection = next(
            c for c in network.of_type(HubVnetConnection) if c.hub == hub and c.name == name
        )
        inside = ctx.vnets.lookup(flow.destination_key)
        if inside is None or inside[1] != connection.vnet:
            for static in connection.static_routes:
                if any(ctx.key(flow.destination) in _prefix_set(d) for d in static.destinations):
                    return [(static.next_hop, "VirtualAppliance")]
        return [(flow.destination, "VNetPeering")]
    if "bgpConnections" in tail:
        peering = next(
            c for c in network.of_type(HubBgpConnection) if c.hub == hub and c.name == name
        )
        return [(e.azure_address, "BGP") for e in ctx.plan.of_node(peering.nva)]
    origin_name = origin.rpartition("/")[2]
    if tail[:1] == ["vpnGateways"]:
        site = next(
            (c.site for c in network.of_type(HubVpnConnection) if c.name == origin_name), None
        )
        return None if site is None else [(e.azure_address, "BGP") for e in ctx.plan.of_node(site)]
    if tail[:1] == ["expressRouteGateways"]:
        circuit = next(
            (
                c.circuit
                for c in network.of_type(HubExpressRouteConnection)
                if c.name == origin_name
            ),
            None,
        )
        if circuit is None:
            return None
        return [(e.azure_address, "BGP") for e in ctx.plan.of_node(circuit)]
    return None


def _prefix_set(prefix: str) -> AddressSet:
    return AddressSet.of((prefix,))
