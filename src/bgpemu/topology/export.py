"""A :class:`~bgpemu.azure.model.Network` written back as a topology document.

The inverse of the loader, for runtime topology changes (:mod:`bgpemu.topology.edit`):
a running lab may have been started from a ``Network`` rather than a file, so the
document an edit works on is rebuilt from the Network.  Every value the loader
resolved (gateway BGP peer IPs, Route Server and hub router IPs, router ids) is
written explicitly, so the document loads back to an equal Network
(``tests/unit/topology/test_edit.py`` checks it on every reference topology).  Keys
are the file's camelCase names; node and connection order is kept (hub connection
tags depend on it, see :mod:`bgpemu.azure.hubrouting`).
"""

from __future__ import annotations

from typing import Any

from bgpemu.azure import model as m
from bgpemu.azure.hubrouting import DEFAULT_TABLE, NONE_TABLE
from bgpemu.types import TcpMd5Key

__all__ = ["to_document"]

Document = dict[str, Any]


def to_document(network: m.Network) -> Document:
    """The topology mapping (as ``yaml.safe_load`` would return it) that loads as ``network``."""
    document: Document = {
        "name": network.name,
        "nodes": {node.name: _node(node) for node in network.nodes},
    }
    if network.connections:
        document["connections"] = [_connection(c) for c in network.connections]
    return document


def _announcement(a: m.Announcement) -> Any:
    if a.as_path_prepend == 0 and not a.communities and a.med is None:
        return a.prefix
    item: Document = {"prefix": a.prefix}
    if a.as_path_prepend:
        item["asPathPrepend"] = a.as_path_prepend
    if a.communities:
        item["communities"] = list(a.communities)
    if a.med is not None:
        item["med"] = a.med
    return item


def _policy(p: m.SessionPolicy) -> Document:
    item: Document = {}
    if p.local_pref is not None:
        item["localPref"] = p.local_pref
    if p.prepend:
        item["prepend"] = p.prepend
    if p.med is not None:
        item["med"] = p.med
    return item


def _peering(p: m.Peering) -> Document:
    return {
        "remoteVirtualNetwork": p.remote_vnet,
        "allowVirtualNetworkAccess": p.allow_virtual_network_access,
        "allowForwardedTraffic": p.allow_forwarded_traffic,
        "allowGatewayTransit": p.allow_gateway_transit,
        "useRemoteGateways": p.use_remote_gateways,
    }


def _route(r: m.UserRoute) -> Document:
    item: Document = {
        "name": r.name,
        "addressPrefix": r.address_prefix,
        "nextHopType": str(r.next_hop_type),
    }
    if r.next_hop_ip_address is not None:
        item["nextHopIpAddress"] = r.next_hop_ip_address
    return item


def _vnet(v: m.VNet) -> Document:
    subnets = []
    for s in v.subnets:
        subnet: Document = {"name": s.name, "addressPrefix": s.address_prefix}
        if s.route_table is not None:
            subnet["routeTable"] = s.route_table
        subnets.append(subnet)
    return {
        "role": "vnet",
        "addressSpace": list(v.address_space),
        "subnets": subnets,
        "routeTables": [
            {
                "name": t.name,
                "disableBgpRoutePropagation": t.disable_bgp_route_propagation,
                "routes": [_route(r) for r in t.routes],
            }
            for t in v.route_tables
        ],
        "peerings": [_peering(p) for p in v.peerings],
    }


def _hub(h: m.VWanHub) -> Document:
    tables = []
    for t in h.route_tables:
        labels = [
            label for label in t.labels if not (t.name == DEFAULT_TABLE and label == "default")
        ]
        if t.name in (DEFAULT_TABLE, NONE_TABLE) and not labels and not t.routes:
            continue  # always there (§5.3)
        tables.append(
            {
                "name": t.name,
                "labels": labels,
                "routes": [
                    {"name": r.name, "destinations": list(r.destinations), "nextHop": r.next_hop}
                    for r in t.routes
                ],
            }
        )
    return {
        "role": "vwan_hub",
        "vwan": h.vwan,
        "addressPrefix": h.address_prefix,
        "hubRoutingPreference": str(h.hub_routing_preference),
        "virtualRouterIps": list(h.router_ips),
        "routeTables": tables,
        "p2s": [{"name": p.name, "addressPools": list(p.address_pools)} for p in h.p2s],
    }


def _node(node: m.Node) -> Document:
    match node:
        case m.VNet():
            return _vnet(node)
        case m.OnPrem():
            item: Document = {
                "role": "onprem",
                "asn": node.asn,
                "bgpPeeringAddress": node.bgp_address,
                "routerId": node.router_id,
                "maxPaths": node.max_paths,
                "prefixes": [_announcement(a) for a in node.announcements],
            }
            if node.external:
                item["external"] = {"port": node.external_port}
            return item
        case m.VpnGateway():
            return {
                "role": "vpn_gateway",
                "vnet": node.vnet,
                "asn": node.asn,
                "activeActive": node.active_active,
                "bgpPeeringAddresses": list(node.bgp_addresses),
                "apipaAddresses": list(node.apipa_addresses),
            }
        case m.ExpressRouteGateway():
            return {
                "role": "expressroute_gateway",
                "vnet": node.vnet,
                "bgpPeeringAddress": node.bgp_address,
                "allowRemoteVnetTraffic": node.allow_remote_vnet_traffic,
            }
        case m.ExpressRouteCircuit():
            item = {
                "role": "expressroute",
                "sku": str(node.sku),
                "connectivity": str(node.connectivity),
                "peer": node.peer,
                "primaryPeerAddressPrefix": node.primary_peer_address_prefix,
                "secondaryPeerAddressPrefix": node.secondary_peer_address_prefix,
                "peerPolicy": _policy(node.peer_policy),
            }
            if node.provider_asn is not None:
                item["providerAsn"] = node.provider_asn
            if node.shared_key is not None:
                item["sharedKey"] = _key_text(node.shared_key)
            return item
        case m.RouteServer():
            return {
                "role": "route_server",
                "vnet": node.vnet,
                "allowBranchToBranchTraffic": node.allow_branch_to_branch_traffic,
                "hubRoutingPreference": str(node.hub_routing_preference),
                "virtualRouterIps": list(node.addresses),
            }
        case m.Nva():
            item = {
                "role": "nva",
                "vnet": node.vnet,
                "address": node.address,
                "asn": node.asn,
                "prefixes": [_announcement(a) for a in node.announcements],
                "asOverride": node.as_override,
                "prepend": node.prepend,
                "maxPaths": node.max_paths,
            }
            if node.next_hop is not None:
                item["nextHop"] = node.next_hop
            return item
        case m.VWan():
            return {
                "role": "vwan",
                "type": str(node.type),
                "allowBranchToBranchTraffic": node.allow_branch_to_branch_traffic,
            }
    return _hub(node)


def _routing(r: m.HubRouting) -> Document:
    item: Document = {"associatedRouteTable": r.associated_route_table}
    if r != m.HubRouting(associated_route_table=r.associated_route_table):
        item["propagatedRouteTables"] = {
            "names": list(r.propagated_route_tables),
            "labels": list(r.labels),
        }
    return item


def _connection(c: m.Connection) -> Document:
    match c:
        case m.SiteToSite():
            return {
                "type": "site_to_site",
                "name": c.name,
                "gateway": c.gateway,
                "site": c.site,
                "enableBgp": c.enable_bgp,
                "localAddressPrefixes": list(c.local_address_prefixes),
                "sitePolicy": _policy(c.site_policy),
            }
        case m.VnetToVnet():
            return {
                "type": "vnet_to_vnet",
                "name": c.name,
                "gateway": c.gateway,
                "remoteGateway": c.remote_gateway,
                "enableBgp": c.enable_bgp,
            }
        case m.ExpressRouteConnection():
            return {
                "type": "expressroute",
                "name": c.name,
                "gateway": c.gateway,
                "circuit": c.circuit,
                "routingWeight": c.routing_weight,
            }
        case m.HubVnetConnection():
            return {
                "type": "hub_vnet",
                "name": c.name,
                "hub": c.hub,
                "vnet": c.vnet,
                "routingConfiguration": _routing(c.routing),
                "staticRoutes": [
                    {
                        "name": r.name,
                        "addressPrefixes": list(r.destinations),
                        "nextHopIpAddress": r.next_hop,
                    }
                    for r in c.static_routes
                ],
                "propagateStaticRoutes": c.propagate_static_routes,
                "enableInternetSecurity": c.enable_internet_security,
            }
        case m.HubVpnConnection():
            return {
                "type": "hub_vpn",
                "name": c.name,
                "hub": c.hub,
                "site": c.site,
                "enableBgp": c.enable_bgp,
                "addressPrefixes": list(c.address_prefixes),
                "routingConfiguration": _routing(c.routing),
                "enableInternetSecurity": c.enable_internet_security,
                "sitePolicy": _policy(c.site_policy),
            }
        case m.HubErConnection():
            return {
                "type": "hub_expressroute",
                "name": c.name,
                "hub": c.hub,
                "circuit": c.circuit,
                "routingWeight": c.routing_weight,
                "routingConfiguration": _routing(c.routing),
                "enableInternetSecurity": c.enable_internet_security,
            }
        case m.HubBgpConnection():
            return {"type": "hub_bgp", "name": c.name, "hub": c.hub, "nva": c.nva}
        case m.RouteServerPeer():
            return {
                "type": "route_server_peer",
                "name": c.name,
                "routeServer": c.route_server,
                "nva": c.nva,
            }
    item = {"type": "bgp", "name": c.name, "a": c.a, "b": c.b}
    if c.password is not None:
        item["password"] = _key_text(c.password)
    return item


def _key_text(key: TcpMd5Key) -> str:
    """A TCP-MD5 key as inline text (keys are UTF-8 text, config/keys.py), so the document
    loads back to an equal Network.  The document stays in memory: it is never printed."""
    return key.secret.decode("utf-8")
