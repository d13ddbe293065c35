"""azure.graph: the picture of a topology (tiers, groups, edge labels), on small topologies."""

from __future__ import annotations

from bgpemu.azure.graph import EdgeKind, Graph, Tier, topology_graph
from bgpemu.azure.roles import compile_network
from bgpemu.topology import parse_topology

ACTIVE_ACTIVE = """
name: aa
nodes:
  Hub:
    role: vnet
    addressSpace: [10.1.0.0/16]
    subnets:
      - {name: GatewaySubnet, addressPrefix: 10.1.255.0/27}
      - {name: RouteServerSubnet, addressPrefix: 10.1.250.0/27}
      - {name: nva, addressPrefix: 10.1.1.0/24}
    peerings:
      - {remoteVirtualNetwork: Spoke, allowForwardedTraffic: true, allowGatewayTransit: true}
  Spoke:
    role: vnet
    addressSpace: [10.2.0.0/16]
    peerings:
      - {remoteVirtualNetwork: Hub, useRemoteGateways: true}
  gw:
    role: vpn_gateway
    vnet: Hub
    activeActive: true
    bgpPeeringAddresses: [10.1.255.4, 10.1.255.5]
  ars:
    role: route_server
    vnet: Hub
  nva:
    role: nva
    vnet: Hub
    address: 10.1.1.4
    asn: 65001
  site:
    role: onprem
    asn: 65050
    bgpPeeringAddress: 10.50.0.1
    prefixes: [10.50.0.0/16]
connections:
  - {type: site_to_site, name: s2s, gateway: gw, site: site, enableBgp: true}
  - {type: route_server_peer, routeServer: ars, nva: nva}
"""

VWAN = """
name: w
nodes:
  wan: {role: vwan}
  hub1: {role: vwan_hub, vwan: wan, addressPrefix: 10.100.0.0/24}
  V1: {role: vnet, addressSpace: [10.1.0.0/16]}
  branch: {role: onprem, asn: 65001, bgpPeeringAddress: 10.50.1.1}
connections:
  - {type: hub_vpn, hub: hub1, site: branch, enableBgp: true}
  - {type: hub_vnet, hub: hub1, vnet: V1}
"""


def _graph(text: str) -> Graph:
    network = parse_topology(text, "t.yaml")
    return topology_graph(network, compile_network(network))


def _tiers(graph: Graph) -> dict[str, Tier]:
    return {node.id: node.tier for node in graph.nodes}


def test_tiers_put_onprem_on_top_gateways_next_and_vnets_last() -> None:
    tiers = _tiers(_graph(ACTIVE_ACTIVE))
    assert tiers["site"] is Tier.ONPREM
    assert tiers["gw.0"] is tiers["gw.1"] is Tier.EDGE
    assert tiers["vnet:Hub"] is tiers["vnet:Spoke"] is Tier.VNET
    assert tiers["ars.0"] is tiers["nva"] is Tier.VNET


def test_a_vnet_groups_its_gateway_instances_route_server_and_nvas() -> None:
    graph = _graph(ACTIVE_ACTIVE)
    groups = {group.id: group for group in graph.groups}
    group_of = {node.id: node.group for node in graph.nodes}
    assert groups["node:gw"].parent == "vnet:Hub"
    assert groups["node:gw"].kind == "vpn_gateway"
    assert groups["node:ars"].parent == "vnet:Hub"
    assert group_of["gw.0"] == group_of["gw.1"] == "node:gw"
    assert group_of["ars.0"] == group_of["ars.1"] == "node:ars"
    assert group_of["nva"] == "vnet:Hub"
    assert group_of["site"] is None
    assert groups["vnet:Spoke"].parent is None


def test_sessions_are_labelled_with_their_connection_and_asns_peerings_with_flags() -> None:
    edges = {(e.a, e.b): e for e in _graph(ACTIVE_ACTIVE).edges}
    assert edges["site", "gw.0"].label == "S2S\neBGP 65050-65515"
    assert edges["site", "gw.1"].kind is EdgeKind.SESSION
    assert edges["ars.0", "nva"].label == "Route Server peer\neBGP 65515-65001"
    peering = edges["vnet:Hub", "vnet:Spoke"]
    assert peering.kind is EdgeKind.PEERING
    assert peering.label == "peering\nHub: forwarded,gateway-transit\nSpoke: remote-gateways"
    assert len(edges) == 5  # two S2S sessions, two Route Server sessions, one peering


def test_a_hub_sits_in_its_vwan_and_a_vnet_connection_is_an_edge_without_a_session() -> None:
    graph = _graph(VWAN)
    assert {node.id: node.group for node in graph.nodes}["hub1"] == "vwan:wan"
    assert _tiers(graph)["hub1"] is Tier.HUB
    edges = {(e.a, e.b): e for e in graph.edges}
    assert edges["branch", "hub1"].label == "hub VPN connection\neBGP 65001-65515"
    connection = edges["hub1", "vnet:V1"]
    assert (connection.kind, connection.label) == (EdgeKind.CONNECTION, "hub VNet connection")


def test_the_graph_is_the_same_every_time() -> None:
    assert _graph(ACTIVE_ACTIVE) == _graph(ACTIVE_ACTIVE)


IPVPN = """
name: ipvpn
nodes:
  Hub:
    role: vnet
    addressSpace: [10.1.0.0/16]
    subnets:
      - {name: GatewaySubnet, addressPrefix: 10.1.255.0/27}
      - {name: AzureFirewallSubnet, addressPrefix: 10.1.3.0/26}
  ergw: {role: expressroute_gateway, vnet: Hub}
  fw: {role: azure_firewall, vnet: Hub}
  ce: {role: onprem, asn: 65020, bgpPeeringAddress: 10.60.0.1}
  circuit:
    role: expressroute
    connectivity: ipvpn
    providerAsn: 65300
    peer: ce
    primaryPeerAddressPrefix: 192.168.11.16/30
    secondaryPeerAddressPrefix: 192.168.11.20/30
connections:
  - {type: expressroute, gateway: ergw, circuit: circuit}
"""


def test_a_circuit_groups_its_msees_and_provider_pe_and_a_firewall_sits_in_its_vnet() -> None:
    graph = _graph(IPVPN)
    nodes = {node.id: node for node in graph.nodes}
    circuit = [node for node in graph.nodes if node.group == "node:circuit"]
    labels = [node.label.split("\n")[1] for node in circuit]
    assert labels == ["MSEE AS 12076", "MSEE AS 12076", "provider PE AS 65300"]
    assert {node.tier for node in circuit} == {Tier.EDGE}
    assert nodes["firewall:fw"].group == "vnet:Hub"
    assert nodes["firewall:fw"].role == "azure_firewall"
    assert nodes["ergw"].group == "vnet:Hub"


def test_on_an_ipvpn_circuit_the_private_peering_is_msee_to_pe_and_the_customer_uses_ipvpn() -> (
    None
):
    edges = {(e.a, e.b): e.label for e in _graph(IPVPN).edges}
    assert edges["ce", "circuit.provider"] == "IPVPN\neBGP 65020-65300"
    assert edges["circuit.primary", "circuit.provider"] == "ER private peering\neBGP 12076-65300"
    assert edges["ergw", "circuit.secondary"] == "ER connection\neBGP 65515-12076"


def test_two_hubs_of_a_vwan_are_linked_by_a_hub_to_hub_session() -> None:
    network = parse_topology(
        VWAN.replace(
            "  V1:", "  hub2: {role: vwan_hub, vwan: wan, addressPrefix: 10.101.0.0/24}\n  V1:"
        ),
        "t.yaml",
    )
    edges = {(e.a, e.b): e.label for e in topology_graph(network, compile_network(network)).edges}
    assert edges["hub1", "hub2"] == "hub-to-hub\niBGP 65515"
