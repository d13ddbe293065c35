"""Valid topology files load into the expected Network, with Azure's defaults filled in."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure import model as m
from bgpemu.topology import load_topology, parse_topology, validate_file

TOPOLOGIES = sorted((Path(__file__).parents[3] / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_reference_topologies_load(path: Path) -> None:
    assert validate_file(path) == []
    network = load_topology(path)
    assert network.name == path.stem
    assert network.nodes


def test_reference_topologies_exist() -> None:
    assert len(TOPOLOGIES) >= 9


def test_s2s_bgp_is_exactly_the_documented_network() -> None:
    network = load_topology(Path(__file__).parents[3] / "topologies" / "s2s-bgp.yaml")
    assert network == m.Network(
        name="s2s-bgp",
        nodes=(
            m.VNet(
                name="TestVNet1",
                address_space=("10.11.0.0/16", "10.12.0.0/16"),
                subnets=(
                    m.Subnet(name="FrontEnd", address_prefix="10.11.0.0/24"),
                    m.Subnet(name="BackEnd", address_prefix="10.12.0.0/24"),
                    m.Subnet(name="GatewaySubnet", address_prefix="10.12.255.0/27"),
                ),
            ),
            m.VpnGateway(
                name="VNet1GW", vnet="TestVNet1", asn=65010, bgp_peering_addresses=("10.12.255.30",)
            ),
            m.OnPrem(
                name="Site5",
                asn=65050,
                bgp_peering_address="10.51.255.254",
                router_id="10.51.255.254",
                prefixes=(
                    m.Announcement(prefix="10.51.0.0/16"),
                    m.Announcement(prefix="10.11.0.0/16"),
                    m.Announcement(prefix="10.0.0.0/8"),
                ),
            ),
        ),
        connections=(
            m.SiteToSite(name="VNet1toSite5", gateway="VNet1GW", site="Site5", enable_bgp=True),
        ),
    )


FULL = """
name: full
defaults:
  onprem: {maxPaths: 2}
  nva: {asn: 65001}
nodes:
  hub:
    role: vnet
    addressSpace: [10.0.0.0/16]
    subnets:
      - {name: nva, addressPrefix: 10.0.1.0/24, routeTable: rt}
      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}
      - {name: RouteServerSubnet, addressPrefix: 10.0.254.0/27}
    routeTables:
      - name: rt
        disableBgpRoutePropagation: true
        routes:
          - name: r
            addressPrefix: 0.0.0.0/0
            nextHopType: VirtualAppliance
            nextHopIpAddress: 10.0.1.4
  vpn:
    role: vpn_gateway
    vnet: hub
    activeActive: true
    apipaAddresses: [169.254.21.1, 169.254.22.1]
  er: {role: expressroute_gateway, vnet: hub, allowRemoteVnetTraffic: true}
  ars:
    role: route_server
    vnet: hub
    allowBranchToBranchTraffic: true
    hubRoutingPreference: ASPath
  nva1:
    {role: nva, vnet: hub, address: 10.0.1.4, nextHop: 10.0.1.100, prepend: 1, asOverride: true}
  site:
    role: onprem
    asn: 65050
    bgpPeeringAddress: 169.254.21.9
    routerId: 1.1.1.1
    prefixes:
      - 10.51.0.0/16
      - {prefix: 10.52.0.0/16, asPathPrepend: 2, communities: ["65050:1", no-advertise], med: 10}
    external: {port: 1179}
  ce: {role: onprem, asn: 65060, bgpPeeringAddress: 192.168.5.1, external: true}
  circuit:
    role: expressroute
    sku: Premium
    connectivity: ipvpn
    providerAsn: 65100
    peer: ce
    primaryPeerAddressPrefix: 192.168.5.0/30
    secondaryPeerAddressPrefix: 192.168.5.4/30
    peerPolicy: {localPref: 150}
  wan: {role: vwan}
  vhub:
    role: vwan_hub
    vwan: wan
    addressPrefix: 192.168.100.0/24
    hubRoutingPreference: VpnGateway
    routeTables:
      - name: RT_VNET
        labels: [rt_vnet]
        routes: [{name: r1, destinations: [10.9.0.0/16], nextHop: vhub-spoke}]
      - {name: defaultRouteTable, labels: [extra]}
    p2s: [{name: users, addressPools: [172.30.0.0/24]}]
  spoke: {role: vnet, addressSpace: [10.9.0.0/16]}
  nva2: {role: nva, vnet: spoke, address: 10.9.0.4}
connections:
  - type: site_to_site
    gateway: vpn
    site: site
    localAddressPrefixes: [10.53.0.0/16]
    sitePolicy: {prepend: 1}
  - {type: expressroute, gateway: er, circuit: circuit, routingWeight: 10}
  - {type: route_server_peer, routeServer: ars, nva: nva1}
  - type: hub_vnet
    hub: vhub
    vnet: spoke
    routingConfiguration:
      associatedRouteTable: RT_VNET
      propagatedRouteTables: {labels: [rt_vnet]}
    staticRoutes: [{name: s1, addressPrefixes: [10.99.0.0/16], nextHopIpAddress: 10.9.0.4}]
    propagateStaticRoutes: true
  - {type: hub_expressroute, hub: vhub, circuit: circuit}
  - {type: hub_bgp, hub: vhub, nva: nva2}
  - {type: bgp, name: overlay, a: nva1, b: ce}
"""


def test_every_default_and_field_is_resolved() -> None:
    network = parse_topology(FULL, "full.yaml")
    assert network.node("vpn") == m.VpnGateway(
        name="vpn",
        vnet="hub",
        active_active=True,
        bgp_peering_addresses=("10.0.255.4", "10.0.255.5"),
        apipa_addresses=("169.254.21.1", "169.254.22.1"),
    )
    assert network.node("er") == m.ExpressRouteGateway(
        name="er", vnet="hub", bgp_peering_address="10.0.255.6", allow_remote_vnet_traffic=True
    )
    assert network.node("ars") == m.RouteServer(
        name="ars",
        vnet="hub",
        virtual_router_ips=("10.0.254.4", "10.0.254.5"),
        allow_branch_to_branch_traffic=True,
        hub_routing_preference=m.RoutingPreference.AS_PATH,
    )
    assert network.node("nva1") == m.Nva(
        name="nva1",
        vnet="hub",
        address="10.0.1.4",
        asn=65001,
        router_id="10.0.1.4",
        next_hop="10.0.1.100",
        as_override=True,
        prepend=1,
    )
    assert network.node("site") == m.OnPrem(
        name="site",
        asn=65050,
        bgp_peering_address="169.254.21.9",
        router_id="1.1.1.1",
        prefixes=(
            m.Announcement(prefix="10.51.0.0/16"),
            m.Announcement(
                prefix="10.52.0.0/16",
                as_path_prepend=2,
                communities=("65050:1", "no-advertise"),
                med=10,
            ),
        ),
        external=True,
        external_port=1179,
        max_paths=2,
    )
    ce = network.node("ce")
    assert isinstance(ce, m.OnPrem)
    assert (ce.router_id, ce.external, ce.external_port, ce.max_paths) == (
        "192.168.5.1",
        True,
        179,
        2,
    )
    assert network.node("circuit") == m.ExpressRouteCircuit(
        name="circuit",
        sku=m.Sku.PREMIUM,
        connectivity=m.Connectivity.IPVPN,
        peer="ce",
        provider_asn=65100,
        primary_peer_address_prefix="192.168.5.0/30",
        secondary_peer_address_prefix="192.168.5.4/30",
        peer_policy=m.SessionPolicy(local_pref=150),
    )
    hub = network.node("vhub")
    assert isinstance(hub, m.VWanHub)
    assert hub.virtual_router_ips == ("192.168.100.68", "192.168.100.69")
    assert hub.hub_routing_preference is m.RoutingPreference.VPN_GATEWAY
    assert hub.route_tables == (
        m.HubRouteTable(name="defaultRouteTable", labels=("default", "extra")),
        m.HubRouteTable(name="noneRouteTable"),
        m.HubRouteTable(
            name="RT_VNET",
            labels=("rt_vnet",),
            routes=(
                m.HubStaticRoute(name="r1", destinations=("10.9.0.0/16",), next_hop="vhub-spoke"),
            ),
        ),
    )
    assert hub.p2s == (m.P2sConfig(name="users", address_pools=("172.30.0.0/24",)),)
    (table,) = network.of_type(m.VNet)[0].route_tables
    assert table.disable_bgp_route_propagation
    assert table.routes[0].next_hop_type is m.NextHopType.VIRTUAL_APPLIANCE


def test_connections_are_resolved_with_default_names() -> None:
    network = parse_topology(FULL, "full.yaml")
    assert [c.name for c in network.connections] == [
        "vpn-site",
        "er-circuit",
        "ars-nva1",
        "vhub-spoke",
        "vhub-circuit",
        "vhub-nva2",
        "overlay",
    ]
    s2s, er, rsp, hub_vnet, hub_er, hub_bgp, bgp = network.connections
    assert s2s == m.SiteToSite(
        name="vpn-site",
        gateway="vpn",
        site="site",
        local_address_prefixes=("10.53.0.0/16",),
        site_policy=m.SessionPolicy(prepend=1),
    )
    assert er == m.ExpressRouteConnection(
        name="er-circuit", gateway="er", circuit="circuit", routing_weight=10
    )
    assert rsp == m.RouteServerPeer(name="ars-nva1", route_server="ars", nva="nva1")
    assert hub_vnet == m.HubVnetConnection(
        name="vhub-spoke",
        hub="vhub",
        vnet="spoke",
        routing_configuration=m.HubRouting(
            associated_route_table="RT_VNET", propagated_route_tables=(), labels=("rt_vnet",)
        ),
        static_routes=(
            m.HubStaticRoute(name="s1", destinations=("10.99.0.0/16",), next_hop="10.9.0.4"),
        ),
        propagate_static_routes=True,
    )
    assert hub_er == m.HubExpressRouteConnection(name="vhub-circuit", hub="vhub", circuit="circuit")
    assert hub_er.routing_configuration == m.HubRouting()
    assert hub_bgp == m.HubBgpConnection(name="vhub-nva2", hub="vhub", nva="nva2")
    assert bgp == m.BgpPeering(name="overlay", a="nva1", b="ce")


def test_prefixes_are_normalised() -> None:
    text = (
        "name: t\nnodes:\n  v: {role: vnet, addressSpace: ['2001:DB8::/32']}\n"
        "  s: {role: onprem, asn: 65001, bgpPeeringAddress: '2001:DB9::1', routerId: 1.2.3.4}\n"
    )
    network = parse_topology(text)
    vnet, site = network.nodes
    assert isinstance(vnet, m.VNet)
    assert isinstance(site, m.OnPrem)
    assert vnet.address_space == ("2001:db8::/32",)
    assert site.bgp_peering_address == "2001:db9::1"
