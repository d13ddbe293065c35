"""Address plan: overlaps, subnets, ExpressRoute /30s, hub prefixes, APIPA, peer IPs.

Rules (shared/azure-routing.md): peered or hub-connected address spaces must not overlap
(§2 [PEER-MGMT], §5.2 [VWAN-FAQ]); the hub address space is at least a /24 (§5.2);
ExpressRoute private peering uses two /30 links that must not overlap VNets (§4.1);
custom APIPA BGP addresses come from 169.254.21.0-169.254.22.255 (§3.1 [VPN-BGP-HOWTO]).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator

from bgpemu.azure.learn import see
from bgpemu.azure.model import Connectivity
from bgpemu.text import counted
from bgpemu.topology._yaml import Path
from bgpemu.topology.checks._index import Index, Issue, Network4or6, network
from bgpemu.topology.checks._overlap import Overlaps
from bgpemu.topology.connections import HubVnetConnectionModel, SiteToSiteModel
from bgpemu.topology.nodes import (
    ExpressRouteCircuitModel,
    ExpressRouteGatewayModel,
    NvaModel,
    OnPremModel,
    RouteServerModel,
    VNetModel,
    VpnGatewayModel,
    VWanHubModel,
)

__all__ = ["APIPA_FIRST", "APIPA_LAST", "check_addressing"]

APIPA_FIRST = ipaddress.IPv4Address("169.254.21.0")
APIPA_LAST = ipaddress.IPv4Address("169.254.22.255")
_LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")


def check_addressing(index: Index) -> Iterator[Issue]:
    """Every addressing rule, in file order per rule."""
    yield from _address_spaces(index)
    yield from _subnets(index)
    yield from _hubs(index)
    yield from _circuits(index)
    yield from _apipa(index)
    yield from _speaker_addresses(index)


def _address_spaces(index: Index) -> Iterator[Issue]:
    """No two ranges of any VNets or vWAN hubs overlap (§2, §5.2)."""
    ranges: list[tuple[Path, str, Network4or6]] = []
    for name, node in index.nodes.items():
        if isinstance(node, VNetModel):
            for i, prefix in enumerate(node.address_space):
                ranges.append((("nodes", name, "addressSpace", i), name, network(prefix)))
        elif isinstance(node, VWanHubModel):
            ranges.append((("nodes", name, "addressPrefix"), name, network(node.address_prefix)))
    overlaps = Overlaps([net for _, _, net in ranges])
    for position, (path, owner, net) in enumerate(ranges):
        earlier = overlaps.first_before(net, position)
        if earlier is not None:
            _, other_owner, other = ranges[earlier]
            where = "another range of this VNet" if other_owner == owner else other_owner
            yield Issue(
                path,
                f"{net} overlaps {other} of {where}",
                f"VNet and hub address spaces must not overlap ({see('PEER-MGMT')})",
            )


def _subnets(index: Index) -> Iterator[Issue]:
    """Subnets inside their VNet's address space, not overlapping each other (§1.1)."""
    for name, vnet in index.of(VNetModel):
        space = Overlaps([network(p) for p in vnet.address_space])
        nets = [network(subnet.address_prefix) for subnet in vnet.subnets]
        subnets = Overlaps(nets)
        for s, (subnet, net) in enumerate(zip(vnet.subnets, nets, strict=True)):
            path = ("nodes", name, "subnets", s, "addressPrefix")
            if space.container(net) is None:
                yield Issue(
                    path,
                    f"subnet {subnet.name} ({net}) is outside the address space of {name}",
                    f"address space: {', '.join(vnet.address_space)}",
                )
            earlier = subnets.first_before(net, s)
            if earlier is not None:
                other_name, other = vnet.subnets[earlier].name, nets[earlier]
                yield Issue(
                    path,
                    f"subnet {subnet.name} ({net}) overlaps subnet {other_name} ({other})",
                    "subnets of a VNet must not overlap",
                )


def _hubs(index: Index) -> Iterator[Issue]:
    """A hub address space is at least a /24 (§5.2 [VWAN-FAQ])."""
    for name, hub in index.of(VWanHubModel):
        net = network(hub.address_prefix)
        if net.prefixlen > 24:
            yield Issue(
                ("nodes", name, "addressPrefix"),
                f"hub address space {net} is smaller than a /24",
                f"use at least a /24, a /23 is recommended ({see('VWAN-FAQ')})",
            )


def _circuits(index: Index) -> Iterator[Issue]:
    """Private peering: two distinct /30 links, not overlapping any VNet (§4.1)."""
    spaces = [(n, network(p)) for n, v in index.of(VNetModel) for p in v.address_space]
    in_spaces = Overlaps([net for _, net in spaces])
    for name, circuit in index.of(ExpressRouteCircuitModel):
        links: list[Network4or6] = []
        for attr, value in (
            ("primaryPeerAddressPrefix", circuit.primary_peer_address_prefix),
            ("secondaryPeerAddressPrefix", circuit.secondary_peer_address_prefix),
        ):
            net = network(value)
            path = ("nodes", name, attr)
            if net.prefixlen != 30:
                yield Issue(
                    path,
                    f"{net} is not a /30",
                    "private peering uses one /30 per link: first usable IP = customer, "
                    f"second = MSEE ({see('ER-ROUTING')})",
                )
            elif links and links[0].overlaps(net):
                yield Issue(path, f"{net} overlaps the primary link", "use two distinct /30s")
            first = in_spaces.first(net)
            if first is not None:
                yield Issue(
                    path,
                    f"{net} overlaps the address space of {spaces[first][0]}",
                    f"peering subnets must not overlap VNets ({see('ER-ROUTING')})",
                )
            links.append(net)
        if circuit.connectivity is Connectivity.IPVPN and circuit.provider_asn is None:
            yield Issue(
                ("nodes", name, "providerAsn"),
                "an ipvpn circuit needs the provider's ASN",
                f"the provider PE peers with the MSEEs and its ASN shows in paths "
                f"({see('ER-ROUTING')})",
            )
        if circuit.connectivity is not Connectivity.IPVPN and circuit.provider_asn is not None:
            yield Issue(
                ("nodes", name, "providerAsn"),
                f"providerAsn is only for ipvpn circuits, not {circuit.connectivity.value}",
                "remove it, or set connectivity: ipvpn",
            )


def _in_apipa(address: str) -> bool:
    value = ipaddress.ip_address(address)
    return isinstance(value, ipaddress.IPv4Address) and APIPA_FIRST <= value <= APIPA_LAST


def _apipa(index: Index) -> Iterator[Issue]:
    """Custom APIPA BGP addresses: range, one per instance, unique (§3.1)."""
    owners: dict[str, str] = {}
    for name, gateway in index.of(VpnGatewayModel):
        instances = 2 if gateway.active_active else 1
        if len(gateway.apipa_addresses) > instances:
            yield Issue(
                ("nodes", name, "apipaAddresses"),
                f"{len(gateway.apipa_addresses)} APIPA addresses for "
                f"{counted(instances, 'instance')}",
                f"one custom APIPA address per gateway instance ({see('VPN-FAQ')})",
            )
        for i, address in enumerate(gateway.apipa_addresses):
            path = ("nodes", name, "apipaAddresses", i)
            if not _in_apipa(address):
                yield Issue(
                    path,
                    f"APIPA address {address} is outside 169.254.21.0-169.254.22.255",
                    "Azure accepts custom APIPA BGP addresses only in that range "
                    f"({see('VPN-BGP-HOWTO')})",
                )
            elif address in owners:
                yield Issue(
                    path,
                    f"APIPA address {address} is already used by {owners[address]}",
                    f"APIPA addresses must be unique across gateways ({see('VPN-FAQ')})",
                )
            owners.setdefault(address, name)
    for position, connection in index.conns(SiteToSiteModel):
        site = index.nodes.get(connection.site)
        gw = index.nodes.get(connection.gateway)
        if not (isinstance(site, OnPremModel) and isinstance(gw, VpnGatewayModel)):
            continue
        peer = ipaddress.ip_address(site.bgp_peering_address)
        if connection.enable_bgp and peer in _LINK_LOCAL and not gw.apipa_addresses:
            yield Issue(
                ("connections", position, "site"),
                f"{connection.site} peers from APIPA address {peer} but {connection.gateway} "
                "has no apipaAddresses",
                "give the gateway a custom APIPA BGP address in 169.254.21.0-169.254.22.255 "
                f"({see('VPN-BGP-HOWTO')})",
            )


def _inside(address: str, net: Network4or6 | None) -> bool:
    return net is not None and ipaddress.ip_address(address) in net


def _speaker_addresses(index: Index) -> Iterator[Issue]:
    """Given BGP addresses sit in their subnet; on-prem peer IPs outside every VNet (§3.1)."""

    @functools.cache
    def vnet_spaces() -> tuple[list[str], Overlaps]:
        """Every VNet range in file order: its VNet's name, and the overlap index."""
        ranges = [(n, network(p)) for n, v in index.of(VNetModel) for p in v.address_space]
        return [n for n, _ in ranges], Overlaps([net for _, net in ranges])

    for name, node in index.nodes.items():
        if isinstance(node, VpnGatewayModel) and node.bgp_peering_addresses is not None:
            yield from _gateway_addresses(index, name, node)
        elif isinstance(node, ExpressRouteGatewayModel) and node.bgp_peering_address is not None:
            subnet = index.subnet(node.vnet, "GatewaySubnet")
            if subnet is not None and not _inside(node.bgp_peering_address, subnet):
                yield Issue(
                    ("nodes", name, "bgpPeeringAddress"),
                    f"{node.bgp_peering_address} is not in GatewaySubnet {subnet}",
                    f"gateway BGP addresses come from GatewaySubnet ({see('VPN-FAQ')})",
                )
        elif isinstance(node, RouteServerModel) and node.virtual_router_ips is not None:
            subnet = index.subnet(node.vnet, "RouteServerSubnet")
            for i, address in enumerate(node.virtual_router_ips):
                if subnet is not None and not _inside(address, subnet):
                    yield Issue(
                        ("nodes", name, "virtualRouterIps", i),
                        f"{address} is not in RouteServerSubnet {subnet}",
                        f"Route Server instances live in RouteServerSubnet ({see('ARS-FAQ')})",
                    )
        elif isinstance(node, VWanHubModel) and node.virtual_router_ips is not None:
            for i, address in enumerate(node.virtual_router_ips):
                if not _inside(address, network(node.address_prefix)):
                    yield Issue(
                        ("nodes", name, "virtualRouterIps", i),
                        f"{address} is not in the hub address space {node.address_prefix}",
                        f"the hub router's IPs come from the hub address space ({see('VWAN-FAQ')})",
                    )
        elif isinstance(node, NvaModel):
            vnet = index.vnet(node.vnet)
            if vnet is not None and not any(
                _inside(node.address, network(p)) for p in vnet.address_space
            ):
                yield Issue(
                    ("nodes", name, "address"),
                    f"{node.address} is not in the address space of {node.vnet}",
                    f"address space: {', '.join(vnet.address_space)}",
                )
        elif isinstance(node, OnPremModel):
            owners, spaces = vnet_spaces()
            first = spaces.container(ipaddress.ip_network(node.bgp_peering_address))
            if first is not None:
                yield Issue(
                    ("nodes", name, "bgpPeeringAddress"),
                    f"{node.bgp_peering_address} is inside the address space of {owners[first]}",
                    f"the on-prem BGP peer IP must not sit in a VNet range ({see('VPN-FAQ')})",
                )
            if (
                node.router_id is None
                and ipaddress.ip_address(node.bgp_peering_address).version != 4
            ):
                yield Issue(
                    ("nodes", name, "routerId"),
                    "routerId is required when bgpPeeringAddress is IPv6",
                    "a BGP identifier is a dotted-quad IPv4 value (RFC 6286 §2.1)",
                )
    for position, connection in index.conns(HubVnetConnectionModel):
        vnet = index.vnet(connection.vnet)
        if vnet is None:
            continue
        for r, route in enumerate(connection.static_routes):
            if not any(_inside(route.next_hop_ip_address, network(p)) for p in vnet.address_space):
                yield Issue(
                    ("connections", position, "staticRoutes", r, "nextHopIpAddress"),
                    f"{route.next_hop_ip_address} is not in {connection.vnet}",
                    "the next hop of a VNet connection static route is an NVA IP in that VNet "
                    f"({see('VWAN-ROUTING')})",
                )


def _gateway_addresses(index: Index, name: str, gateway: VpnGatewayModel) -> Iterator[Issue]:
    addresses = gateway.bgp_peering_addresses or []
    instances = 2 if gateway.active_active else 1
    path = ("nodes", name, "bgpPeeringAddresses")
    if len(addresses) != instances:
        mode = "active-active" if gateway.active_active else "active-standby"
        yield Issue(
            path,
            f"{len(addresses)} BGP peer address(es) for an {mode} gateway",
            f"give {instances} (one per instance, {see('VPN-FAQ')}), or omit them for the defaults",
        )
    subnet = index.subnet(gateway.vnet, "GatewaySubnet")
    for i, address in enumerate(addresses):
        if subnet is not None and not _inside(address, subnet):
            yield Issue(
                (*path, i),
                f"{address} is not in GatewaySubnet {subnet}",
                f"gateway BGP addresses come from GatewaySubnet ({see('VPN-FAQ')})",
            )
