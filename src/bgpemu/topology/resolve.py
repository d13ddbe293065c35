"""Compile a valid topology file into the :class:`bgpemu.azure.model.Network` it describes.

Addresses Azure allocates are filled in here (each default is listed in
docs/topology.md): a VPN gateway's BGP peer IPs are GatewaySubnet network+4 (and +5
for the second instance of an active-active gateway, §3.1 [VPN-FAQ]), an ExpressRoute
gateway's is network+6, a Route Server's two ``virtualRouterIps`` are RouteServerSubnet
network+4/+5 (§6.1 [ARS-QS] shows .4/.5), a hub router's are hub address prefix
network+68/+69 (decision: Azure does not document the offset); an on-prem router's id
defaults to its BGP peer IP, an NVA's is its address.  Hub route tables always include
``defaultRouteTable`` (label ``default``) and ``noneRouteTable`` (§5.3).
"""

from __future__ import annotations

import ipaddress

from bgpemu.azure import model as m
from bgpemu.azure import security as sec
from bgpemu.azure.hubrouting import DEFAULT_TABLE, NONE_TABLE
from bgpemu.topology.connections import (
    BgpPeeringModel,
    ConnectionModel,
    ExpressRouteConnectionModel,
    HubBgpConnectionModel,
    HubExpressRouteConnectionModel,
    HubRoutingModel,
    HubVnetConnectionModel,
    HubVpnConnectionModel,
    RouteServerPeerModel,
    SiteToSiteModel,
    VnetToVnetModel,
)
from bgpemu.topology.document import NetworkModel
from bgpemu.topology.firewall import AzureFirewallModel, firewall_rule
from bgpemu.topology.nodes import (
    AnnouncementModel,
    ExpressRouteCircuitModel,
    ExpressRouteGatewayModel,
    HubRouteTableModel,
    NodeModel,
    NvaModel,
    OnPremModel,
    RouteServerModel,
    SessionPolicyModel,
    VNetModel,
    VpnGatewayModel,
    VWanHubModel,
    VWanModel,
)
from bgpemu.topology.security import NetworkSecurityGroupModel, SecurityRuleModel

__all__ = ["resolve"]


def resolve(topology: NetworkModel) -> m.Network:
    """The Network of a topology that passed every check (KeyError/ValueError otherwise)."""
    vnets = {name: n for name, n in topology.nodes.items() if isinstance(n, VNetModel)}
    nodes = tuple(
        _node(name, node, vnets)
        for name, node in topology.nodes.items()
        if not isinstance(node, AzureFirewallModel)
    )
    firewalls = tuple(
        _firewall(name, node, vnets)
        for name, node in topology.nodes.items()
        if isinstance(node, AzureFirewallModel)
    )
    connections = tuple(_connection(c) for c in topology.connections)
    return m.Network(
        name=topology.name,
        nodes=nodes,
        connections=connections,
        network_security_groups=tuple(
            _nsg(name, nsg) for name, nsg in topology.network_security_groups.items()
        ),
        application_security_groups=tuple(topology.application_security_groups),
        firewalls=firewalls,
    )


def _tagged(values: list[str]) -> tuple[str, ...]:
    """Address values with service tags in their current spelling (§3.4 classic names)."""
    return tuple(sec.service_tag(v) or v for v in values)


def _side(
    rule: SecurityRuleModel, side: str
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(address prefixes, application security groups, port ranges) of one side, the
    singular and plural ARM forms folded into one tuple each."""
    prefix: str | None = getattr(rule, f"{side}_address_prefix")
    prefixes: list[str] = getattr(rule, f"{side}_address_prefixes") or []
    asgs: list[str] = getattr(rule, f"{side}_application_security_groups") or []
    port: str | None = getattr(rule, f"{side}_port_range")
    ports: list[str] = getattr(rule, f"{side}_port_ranges") or []
    addresses = _tagged([prefix] if prefix is not None else prefixes)
    return addresses, tuple(asgs), (port,) if port is not None else tuple(ports)


def _nsg(name: str, nsg: NetworkSecurityGroupModel) -> sec.NetworkSecurityGroup:
    rules = []
    for rule in nsg.security_rules:
        source, source_asgs, source_ports = _side(rule, "source")
        destination, destination_asgs, destination_ports = _side(rule, "destination")
        rules.append(
            sec.SecurityRule(
                name=rule.name,
                priority=rule.priority,
                direction=rule.direction,
                access=rule.access,
                protocol=rule.protocol,
                source_address_prefixes=source,
                source_application_security_groups=source_asgs,
                source_port_ranges=source_ports,
                destination_address_prefixes=destination,
                destination_application_security_groups=destination_asgs,
                destination_port_ranges=destination_ports,
            )
        )
    return sec.NetworkSecurityGroup(name=name, security_rules=tuple(rules))


def _firewall(
    name: str, node: AzureFirewallModel, vnets: dict[str, VNetModel]
) -> sec.AzureFirewall:
    return sec.AzureFirewall(
        name=name,
        vnet=node.vnet,
        private_ip_address=node.private_ip_address
        or _offset(vnets, node.vnet, "AzureFirewallSubnet", 4),
        rule_collection_groups=tuple(
            sec.FirewallRuleCollectionGroup(
                name=group.name,
                priority=group.priority,
                rule_collections=tuple(
                    sec.FirewallRuleCollection(
                        name=collection.name,
                        priority=collection.priority,
                        action=collection.action.type,
                        rules=tuple(firewall_rule(rule) for rule in collection.rules),
                    )
                    for collection in group.rule_collections
                ),
            )
            for group in node.rule_collection_groups
        ),
    )


def _offset(vnets: dict[str, VNetModel], vnet: str, subnet: str, offset: int) -> str:
    for item in vnets[vnet].subnets:
        if item.name == subnet:
            return str(ipaddress.ip_network(item.address_prefix).network_address + offset)
    raise KeyError(f"{vnet} has no {subnet}")


def _announcements(items: list[AnnouncementModel]) -> tuple[m.Announcement, ...]:
    return tuple(
        m.Announcement(
            prefix=a.prefix,
            as_path_prepend=a.as_path_prepend,
            communities=tuple(a.communities),
            med=a.med,
        )
        for a in items
    )


def _policy(policy: SessionPolicyModel) -> m.SessionPolicy:
    return m.SessionPolicy(local_pref=policy.local_pref, prepend=policy.prepend, med=policy.med)


def _vnet(name: str, node: VNetModel) -> m.VNet:
    return m.VNet(
        name=name,
        address_space=tuple(node.address_space),
        subnets=tuple(
            m.Subnet(
                name=s.name,
                address_prefix=s.address_prefix,
                route_table=s.route_table,
                network_security_group=s.network_security_group,
                network_interfaces=tuple(
                    sec.NetworkInterface(
                        name=nic.name,
                        vnet=name,
                        subnet=s.name,
                        private_ip_address=nic.private_ip_address,
                        network_security_group=nic.network_security_group,
                        application_security_groups=tuple(nic.application_security_groups),
                        enable_ip_forwarding=nic.enable_ip_forwarding,
                        running=nic.running,
                    )
                    for nic in s.network_interfaces
                ),
            )
            for s in node.subnets
        ),
        route_tables=tuple(
            m.RouteTable(
                name=t.name,
                disable_bgp_route_propagation=t.disable_bgp_route_propagation,
                routes=tuple(
                    m.UserRoute(
                        name=r.name,
                        address_prefix=r.address_prefix,
                        next_hop_type=m.NextHopType(r.next_hop_type),
                        next_hop_ip_address=r.next_hop_ip_address,
                    )
                    for r in t.routes
                ),
            )
            for t in node.route_tables
        ),
        peerings=tuple(
            m.Peering(
                remote_virtual_network=p.remote_virtual_network,
                allow_virtual_network_access=p.allow_virtual_network_access,
                allow_forwarded_traffic=p.allow_forwarded_traffic,
                allow_gateway_transit=p.allow_gateway_transit,
                use_remote_gateways=p.use_remote_gateways,
            )
            for p in node.peerings
        ),
    )


def _hub(name: str, node: VWanHubModel) -> m.VWanHub:
    base = ipaddress.ip_network(node.address_prefix).network_address
    ips = node.virtual_router_ips or [str(base + 68), str(base + 69)]
    custom = {t.name: t for t in node.route_tables}
    default = custom.pop(DEFAULT_TABLE, None)
    none = custom.pop(NONE_TABLE, None)

    def table(
        name: str, labels: tuple[str, ...], source: HubRouteTableModel | None
    ) -> m.HubRouteTable:
        routes: tuple[m.HubStaticRoute, ...] = ()
        if source is not None:
            labels = tuple(dict.fromkeys((*labels, *source.labels)))
            routes = tuple(
                m.HubStaticRoute(
                    name=r.name, destinations=tuple(r.destinations), next_hop=r.next_hop
                )
                for r in source.routes
            )
        return m.HubRouteTable(name=name, labels=labels, routes=routes)

    tables = (
        table(DEFAULT_TABLE, ("default",), default),
        table(NONE_TABLE, (), none),
        *(table(t.name, (), t) for t in custom.values()),
    )
    return m.VWanHub(
        name=name,
        vwan=node.vwan,
        address_prefix=node.address_prefix,
        virtual_router_ips=(ips[0], ips[1]),
        hub_routing_preference=node.hub_routing_preference,
        route_tables=tables,
        p2s=tuple(m.P2sConfig(name=p.name, address_pools=tuple(p.address_pools)) for p in node.p2s),
    )


def _node(name: str, node: NodeModel, vnets: dict[str, VNetModel]) -> m.Node:
    if isinstance(node, VNetModel):
        return _vnet(name, node)
    if isinstance(node, OnPremModel):
        return m.OnPrem(
            name=name,
            asn=node.asn,
            bgp_peering_address=node.bgp_peering_address,
            router_id=node.router_id or node.bgp_peering_address,
            prefixes=_announcements(node.prefixes),
            external=node.external is not None,
            external_port=node.external.port if node.external is not None else 179,
            max_paths=node.max_paths,
        )
    if isinstance(node, VpnGatewayModel):
        count = 2 if node.active_active else 1
        addresses = node.bgp_peering_addresses or [
            _offset(vnets, node.vnet, "GatewaySubnet", 4 + i) for i in range(count)
        ]
        return m.VpnGateway(
            name=name,
            vnet=node.vnet,
            asn=node.asn,
            active_active=node.active_active,
            bgp_peering_addresses=tuple(addresses),
            apipa_addresses=tuple(node.apipa_addresses),
        )
    if isinstance(node, ExpressRouteGatewayModel):
        return m.ExpressRouteGateway(
            name=name,
            vnet=node.vnet,
            bgp_peering_address=node.bgp_peering_address
            or _offset(vnets, node.vnet, "GatewaySubnet", 6),
            allow_remote_vnet_traffic=node.allow_remote_vnet_traffic,
        )
    if isinstance(node, ExpressRouteCircuitModel):
        return m.ExpressRouteCircuit(
            name=name,
            sku=node.sku,
            connectivity=node.connectivity,
            peer=node.peer,
            provider_asn=node.provider_asn,
            primary_peer_address_prefix=node.primary_peer_address_prefix,
            secondary_peer_address_prefix=node.secondary_peer_address_prefix,
            peer_policy=_policy(node.peer_policy),
            shared_key=node.shared_key,
        )
    if isinstance(node, RouteServerModel):
        ips = node.virtual_router_ips or [
            _offset(vnets, node.vnet, "RouteServerSubnet", 4),
            _offset(vnets, node.vnet, "RouteServerSubnet", 5),
        ]
        return m.RouteServer(
            name=name,
            vnet=node.vnet,
            virtual_router_ips=(ips[0], ips[1]),
            allow_branch_to_branch_traffic=node.allow_branch_to_branch_traffic,
            hub_routing_preference=node.hub_routing_preference,
        )
    if isinstance(node, NvaModel):
        return m.Nva(
            name=name,
            vnet=node.vnet,
            address=node.address,
            asn=node.asn,
            router_id=node.address,
            prefixes=_announcements(node.prefixes),
            next_hop=node.next_hop,
            as_override=node.as_override,
            prepend=node.prepend,
            max_paths=node.max_paths,
            subnet=node.subnet,
            enable_ip_forwarding=node.enable_ip_forwarding,
            network_security_group=node.network_security_group,
            application_security_groups=tuple(node.application_security_groups),
        )
    if isinstance(node, VWanModel):
        return m.VWan(
            name=name,
            type=node.type,
            allow_branch_to_branch_traffic=node.allow_branch_to_branch_traffic,
        )
    assert isinstance(node, VWanHubModel)
    return _hub(name, node)


def _routing(config: HubRoutingModel) -> m.HubRouting:
    propagated = config.propagated_route_tables
    if propagated is None:
        return m.HubRouting(associated_route_table=config.associated_route_table)
    return m.HubRouting(
        associated_route_table=config.associated_route_table,
        propagated_route_tables=tuple(propagated.names),
        labels=tuple(propagated.labels),
    )


def _connection(c: ConnectionModel) -> m.Connection:
    name = c.effective_name()
    if isinstance(c, SiteToSiteModel):
        return m.SiteToSite(
            name=name,
            gateway=c.gateway,
            site=c.site,
            enable_bgp=c.enable_bgp,
            local_address_prefixes=tuple(c.local_address_prefixes),
            site_policy=_policy(c.site_policy),
        )
    if isinstance(c, VnetToVnetModel):
        return m.VnetToVnet(
            name=name, gateway=c.gateway, remote_gateway=c.remote_gateway, enable_bgp=c.enable_bgp
        )
    if isinstance(c, ExpressRouteConnectionModel):
        return m.ExpressRouteConnection(
            name=name, gateway=c.gateway, circuit=c.circuit, routing_weight=c.routing_weight
        )
    if isinstance(c, HubVnetConnectionModel):
        return m.HubVnetConnection(
            name=name,
            hub=c.hub,
            vnet=c.vnet,
            routing_configuration=_routing(c.routing_configuration),
            static_routes=tuple(
                m.HubStaticRoute(
                    name=r.name,
                    destinations=tuple(r.address_prefixes),
                    next_hop=r.next_hop_ip_address,
                )
                for r in c.static_routes
            ),
            propagate_static_routes=c.propagate_static_routes,
            enable_internet_security=c.enable_internet_security,
        )
    if isinstance(c, HubVpnConnectionModel):
        return m.HubVpnConnection(
            name=name,
            hub=c.hub,
            site=c.site,
            enable_bgp=c.enable_bgp,
            address_prefixes=tuple(c.address_prefixes),
            routing_configuration=_routing(c.routing_configuration),
            enable_internet_security=c.enable_internet_security,
            site_policy=_policy(c.site_policy),
        )
    if isinstance(c, HubExpressRouteConnectionModel):
        return m.HubExpressRouteConnection(
            name=name,
            hub=c.hub,
            circuit=c.circuit,
            routing_weight=c.routing_weight,
            routing_configuration=_routing(c.routing_configuration),
            enable_internet_security=c.enable_internet_security,
        )
    if isinstance(c, HubBgpConnectionModel):
        return m.HubBgpConnection(name=name, hub=c.hub, nva=c.nva)
    if isinstance(c, RouteServerPeerModel):
        return m.RouteServerPeer(name=name, route_server=c.route_server, nva=c.nva)
    assert isinstance(c, BgpPeeringModel)
    return m.BgpPeering(name=name, a=c.a, b=c.b, password=c.password)
