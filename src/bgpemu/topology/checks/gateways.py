"""Gateways and VNet routing: gateway subnets, one gateway of a kind per VNet, gateway
transit (``useRemoteGateways``) and user-defined routes.

Rules (shared/azure-routing.md): GatewaySubnet holds VPN/ER gateways, /27 when both
coexist (§4.4 [ER-GW][ER-COEX]); RouteServerSubnet is at least /27, one Route Server per
VNet (§6.1); one VPN and one ER gateway per VNet (§4.4); useRemoteGateways needs a
gateway or Route Server and allowGatewayTransit on the other side, no gateway of its
own, and one such peering per VNet (§2); a UDR has a next-hop IP iff VirtualAppliance,
and VirtualNetworkGateway needs a VPN gateway without an ER gateway beside it (§1.3);
a VNet connected to a vWAN hub has no gateway nor Route Server (§5.2); a VPN gateway
next to a Route Server is active-active with ASN 65515 (§4.5, §6.4 [ARS-FAQ]).
"""

from __future__ import annotations

from collections.abc import Iterator

from bgpemu.azure.learn import see
from bgpemu.azure.model import AZURE_ASN
from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.connections import HubVnetConnectionModel
from bgpemu.topology.nodes import (
    ExpressRouteGatewayModel,
    RouteServerModel,
    VNetModel,
    VpnGatewayModel,
)

__all__ = ["VnetGateways", "check_gateways", "gateways_by_vnet"]

GatewayNode = VpnGatewayModel | ExpressRouteGatewayModel | RouteServerModel


class VnetGateways:
    """The VPN gateway, ER gateway and Route Server of one VNet (names), if any."""

    __slots__ = ("er", "route_server", "vpn")

    def __init__(self) -> None:
        self.vpn: str | None = None
        self.er: str | None = None
        self.route_server: str | None = None

    def any(self) -> str | None:
        """A gateway or Route Server of the VNet, if it has one."""
        return self.vpn or self.er or self.route_server


def gateways_by_vnet(index: Index) -> dict[str, VnetGateways]:
    """VNet name -> its gateways (first of each kind, in file order)."""
    found: dict[str, VnetGateways] = {}
    for name, node in index.nodes.items():
        if isinstance(node, VpnGatewayModel | ExpressRouteGatewayModel | RouteServerModel):
            entry = found.setdefault(node.vnet, VnetGateways())
            if isinstance(node, VpnGatewayModel) and entry.vpn is None:
                entry.vpn = name
            elif isinstance(node, ExpressRouteGatewayModel) and entry.er is None:
                entry.er = name
            elif isinstance(node, RouteServerModel) and entry.route_server is None:
                entry.route_server = name
    return found


def check_gateways(index: Index) -> Iterator[Issue]:
    """Every gateway and VNet-routing rule."""
    gateways = gateways_by_vnet(index)
    yield from _one_per_vnet(index, gateways)
    yield from _subnets(index, gateways)
    yield from _remote_gateways(index, gateways)
    yield from _user_routes(index, gateways)
    yield from _hub_vnets(index, gateways)
    yield from _route_server_vpn(index, gateways)


def _one_per_vnet(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    kinds: tuple[tuple[type[GatewayNode], str, str], ...] = (
        (VpnGatewayModel, "vpn", f"VPN gateway ({see('ER-GW')})"),
        (ExpressRouteGatewayModel, "er", f"ExpressRoute gateway ({see('ER-GW')})"),
        (RouteServerModel, "route_server", f"Route Server ({see('ARS-FAQ')})"),
    )
    for kind, attr, what in kinds:
        for name, node in index.of(kind):
            first = getattr(gateways[node.vnet], attr)
            if first != name:
                yield Issue(
                    ("nodes", name, "vnet"),
                    f"{node.vnet} already has {first}",
                    f"a VNet has at most one {what}",
                )


def _subnets(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    for vnet, entry in gateways.items():
        if index.vnet(vnet) is None:
            continue
        for gateway in (entry.vpn, entry.er):
            if gateway is None:
                continue
            subnet = index.subnet(vnet, "GatewaySubnet")
            path = ("nodes", gateway, "vnet")
            if subnet is None:
                yield Issue(
                    path,
                    f"{vnet} has no subnet named GatewaySubnet",
                    f"add {{name: GatewaySubnet, addressPrefix: <a /27>}} to its subnets "
                    f"({see('VPN-FAQ')})",
                )
            elif subnet.prefixlen > 29:
                yield Issue(
                    path,
                    f"GatewaySubnet {subnet} of {vnet} is smaller than a /29",
                    f"use a /27 ({see('ER-GW')})",
                )
            elif entry.vpn and entry.er and subnet.prefixlen > 27 and gateway == entry.er:
                yield Issue(
                    path,
                    f"GatewaySubnet {subnet} of {vnet} is smaller than a /27, but a VPN and "
                    "an ExpressRoute gateway share it",
                    f"coexisting gateways need a /27 or larger ({see('ER-COEX')})",
                )
        if entry.route_server is not None:
            subnet = index.subnet(vnet, "RouteServerSubnet")
            path = ("nodes", entry.route_server, "vnet")
            if subnet is None:
                yield Issue(
                    path,
                    f"{vnet} has no subnet named RouteServerSubnet",
                    f"add {{name: RouteServerSubnet, addressPrefix: <a /27>}} ({see('ARS-FAQ')})",
                )
            elif subnet.prefixlen > 27:
                yield Issue(
                    path,
                    f"RouteServerSubnet {subnet} of {vnet} is smaller than a /27",
                    f"a Route Server needs a /27 or larger ({see('ARS-FAQ')})",
                )


def _remote_gateways(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    """useRemoteGateways (§2 [PEER-MGMT][GW-XREGION])."""
    transit: dict[tuple[str, str], bool] = {}
    """(VNet, remote) -> whether any peering of VNet to remote allows gateway transit."""
    for name, vnet in index.of(VNetModel):
        for peering in vnet.peerings:
            key = (name, peering.remote_virtual_network)
            transit[key] = transit.get(key, False) or peering.allow_gateway_transit
    for name, vnet in index.of(VNetModel):
        first: int | None = None
        for p, peering in enumerate(vnet.peerings):
            if not peering.use_remote_gateways:
                continue
            path = ("nodes", name, "peerings", p, "useRemoteGateways")
            remote = peering.remote_virtual_network
            if first is not None:
                yield Issue(
                    path,
                    f"{name} already uses the remote gateways of peerings[{first}]",
                    f"only one peering per VNet may set useRemoteGateways ({see('PEER')})",
                )
                continue
            first = p
            own = gateways.get(name)
            if own is not None and own.any():
                yield Issue(
                    path,
                    f"{name} has its own gateway {own.any()}",
                    f"a VNet with its own gateway or Route Server cannot use a remote one "
                    f"({see('PEER')})",
                )
            remote_vnet = index.vnet(remote)
            if remote_vnet is None:
                continue  # reported as a reference problem, or the VNet is itself invalid
            theirs = gateways.get(remote)
            if theirs is None or theirs.any() is None:
                yield Issue(
                    path,
                    f"{remote} has no VPN gateway, ExpressRoute gateway or Route Server",
                    f"add a gateway to {remote}, or set useRemoteGateways: false ({see('PEER')})",
                )
            back = transit.get((remote, name))
            if not back:
                hint = (
                    f"set allowGatewayTransit: true on {remote}'s peering to {name}"
                    if back is not None
                    else f"add a peering from {remote} to {name} with allowGatewayTransit: true"
                )
                yield Issue(
                    path,
                    f"{remote} does not allow gateway transit to {name}",
                    f"{hint} ({see('GW-TRANSIT')})",
                )


def _transit_vnet(index: Index, name: str) -> str:
    """The VNet whose gateways ``name`` uses: a useRemoteGateways peer, else itself."""
    vnet = index.vnet(name)
    if vnet is not None:
        for peering in vnet.peerings:
            if peering.use_remote_gateways:
                return peering.remote_virtual_network
    return name


def _user_routes(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    """UDR next hops (§1.3 [UDR])."""
    for name, vnet in index.of(VNetModel):
        for t, table in enumerate(vnet.route_tables):
            for r, route in enumerate(table.routes):
                path = ("nodes", name, "routeTables", t, "routes", r)
                appliance = route.next_hop_type == "VirtualAppliance"
                if appliance and route.next_hop_ip_address is None:
                    yield Issue(
                        (*path, "nextHopType"),
                        "a VirtualAppliance route needs nextHopIpAddress",
                        f"the NVA's (or internal load balancer's) private IP ({see('UDR')})",
                    )
                elif not appliance and route.next_hop_ip_address is not None:
                    yield Issue(
                        (*path, "nextHopIpAddress"),
                        f"nextHopIpAddress is only for VirtualAppliance, not {route.next_hop_type}",
                        f"remove it ({see('UDR')})",
                    )
                if route.next_hop_type == "VirtualNetworkGateway":
                    yield from _gateway_hop(index, gateways, name, (*path, "nextHopType"))


def _gateway_hop(
    index: Index, gateways: dict[str, VnetGateways], vnet: str, path: tuple[str | int, ...]
) -> Iterator[Issue]:
    holder = _transit_vnet(index, vnet)
    entry = gateways.get(holder, VnetGateways())
    where = vnet if holder == vnet else f"{holder} (the gateway {vnet} uses)"
    if entry.er is not None:
        yield Issue(
            path,
            f"{where} has the ExpressRoute gateway {entry.er}",
            "VirtualNetworkGateway UDRs need a VPN gateway and are not allowed when VPN and "
            f"ExpressRoute gateways coexist ({see('UDR')})",
        )
    elif entry.vpn is None:
        yield Issue(
            path,
            f"{where} has no VPN gateway",
            "a VirtualNetworkGateway next hop is a VPN gateway of this VNet or of the VNet "
            f"it uses through useRemoteGateways ({see('UDR')})",
        )


def _hub_vnets(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    """A VNet connected to a hub has no gateway nor Route Server (§5.2 [VWAN-FAQ])."""
    for position, connection in index.conns(HubVnetConnectionModel):
        entry = gateways.get(connection.vnet)
        if entry is not None and entry.any() is not None:
            yield Issue(
                ("connections", position, "vnet"),
                f"{connection.vnet} has its own gateway {entry.any()}",
                "a VNet connected to a vWAN hub cannot have a gateway or Route Server "
                f"({see('VWAN-FAQ', 'ARS-FAQ')})",
            )


def _route_server_vpn(index: Index, gateways: dict[str, VnetGateways]) -> Iterator[Issue]:
    """A VPN gateway used with Route Server is active-active, AS 65515 (§4.5, §6.4)."""
    for entry in gateways.values():
        if entry.vpn is None or entry.route_server is None:
            continue
        gateway = index.nodes[entry.vpn]
        assert isinstance(gateway, VpnGatewayModel)
        if not gateway.active_active:
            yield Issue(
                ("nodes", entry.vpn, "activeActive"),
                f"{entry.vpn} shares its VNet with the Route Server {entry.route_server} "
                "but is not active-active",
                f"set activeActive: true ({see('ARS-FAQ', 'ARS-ERVPN')})",
            )
        if gateway.asn != AZURE_ASN:
            yield Issue(
                ("nodes", entry.vpn, "asn"),
                f"{entry.vpn} shares its VNet with the Route Server {entry.route_server} "
                f"but uses AS {gateway.asn}",
                f"keep the default 65515 ({see('ER-COEX', 'ARS-FAQ')})",
            )
