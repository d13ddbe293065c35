"""Bad topology files: every problem at once, each with file:line, dotted path, reason, hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.topology import load_topology, parse_topology, validate_file

DATA = Path(__file__).parents[2] / "data" / "topology"
BAD = sorted(DATA.glob("bad-*.yaml"))


def test_every_required_golden_case_exists() -> None:
    names = {path.stem for path in BAD}
    for required in (
        "bad-unknown-role",
        "bad-unknown-field",
        "bad-overlap",
        "bad-reserved-asn",
        "bad-remote-gateways",
        "bad-missing-node",
        "bad-apipa",
        "bad-yaml",
        "bad-many",
    ):
        assert required in names


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_golden_messages(path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_topology(path)
    expected = path.with_suffix(".expected.txt").read_text().replace("{file}", str(path))
    assert str(info.value) + "\n" == expected


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_validate_file_returns_the_same_problems(path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_topology(path)
    assert validate_file(path) == info.value.problems


def test_every_problem_has_a_line_a_path_and_a_hint() -> None:
    path = DATA / "bad-many.yaml"
    problems = validate_file(path)
    assert len(problems) >= 15
    for problem in problems:
        file, _, line = problem.file.rpartition(":")
        assert file == str(path)
        assert line.isdigit()
        assert problem.location
        assert problem.message
        assert problem.hint


def test_bad_yaml_stops_at_the_syntax_error() -> None:
    (problem,) = validate_file(DATA / "bad-yaml.yaml")
    assert problem.file.endswith(":7")
    assert "started on line 6" in problem.message
    assert "nothing else was checked" in problem.hint


def test_duplicate_node_names_are_reported() -> None:
    text = "name: dup\nnodes:\n  a: {role: vwan}\n  a: {role: vwan, type: Basic}\n"
    with pytest.raises(ConfigError) as info:
        parse_topology(text, "t.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.location) == ("t.yaml:4", "nodes.a")
    assert "first on line 3" in problem.message


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_topology("- a\n", "t.yaml")


def test_empty_file() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_topology("", "t.yaml")


def test_missing_file() -> None:
    (problem,) = validate_file(DATA / "no-such-file.yaml")
    assert "cannot read" in problem.message
    with pytest.raises(ConfigError, match="cannot read"):
        load_topology(DATA / "no-such-file.yaml")


def _problems(text: str) -> list[str]:
    try:
        parse_topology(text, "t.yaml")
    except ConfigError as exc:
        return [f"{p.location}: {p.message}" for p in exc.problems]
    return []


HUB = """
name: t
nodes:
  hub:
    role: vnet
    addressSpace: [10.0.0.0/16]
    subnets:
      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}
      - {name: RouteServerSubnet, addressPrefix: 10.0.254.0/27}
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  gw1: {role: vpn_gateway, vnet: hub}\n  gw2: {role: vpn_gateway, vnet: hub}\n",
            "nodes.gw2.vnet: hub already has gw1",
        ),
        (
            "  rs: {role: route_server, vnet: hub}\n  gw: {role: vpn_gateway, vnet: hub}\n",
            "nodes.gw.activeActive: gw shares its VNet with the Route Server rs but is not "
            "active-active",
        ),
        (
            "  gw: {role: vpn_gateway, vnet: hub, bgpPeeringAddresses: [10.0.1.4]}\n",
            "nodes.gw.bgpPeeringAddresses[0]: 10.0.1.4 is not in GatewaySubnet 10.0.255.0/27",
        ),
        (
            "  gw: {role: vpn_gateway, vnet: hub, activeActive: true,"
            " bgpPeeringAddresses: [10.0.255.4]}\n",
            "nodes.gw.bgpPeeringAddresses: 1 BGP peer address(es) for an active-active gateway",
        ),
        (
            "  site: {role: onprem, asn: 65001, bgpPeeringAddress: 10.0.3.3}\n",
            "nodes.site.bgpPeeringAddress: 10.0.3.3 is inside the address space of hub",
        ),
        (
            "  site: {role: onprem, asn: 65001, bgpPeeringAddress: '2001:db8::1'}\n",
            "nodes.site.routerId: routerId is required when bgpPeeringAddress is IPv6",
        ),
        (
            "  nva: {role: nva, vnet: hub, address: 10.9.0.4, asn: 65001}\n",
            "nodes.nva.address: 10.9.0.4 is not in the address space of hub",
        ),
        (
            "  spoke:\n    role: vnet\n    addressSpace: [10.1.0.0/16]\n"
            "    routeTables: [{name: t, routes: [{name: r, addressPrefix: 10.2.0.0/16,"
            " nextHopType: VirtualNetworkGateway}]}]\n",
            "nodes.spoke.routeTables[0].routes[0].nextHopType: spoke has no VPN gateway",
        ),
        (
            "  spoke:\n    role: vnet\n    addressSpace: [10.1.0.0/16]\n"
            "    routeTables: [{name: t, routes: [{name: r, addressPrefix: 10.2.0.0/16,"
            " nextHopType: Internet, nextHopIpAddress: 10.0.0.1}]}]\n",
            "nodes.spoke.routeTables[0].routes[0].nextHopIpAddress: nextHopIpAddress is only "
            "for VirtualAppliance, not Internet",
        ),
        (
            "  c: {role: expressroute, peer: s, providerAsn: 65100,"
            " primaryPeerAddressPrefix: 192.168.0.0/30, secondaryPeerAddressPrefix: 10.0.9.0/30}\n"
            "  s: {role: onprem, asn: 65001, bgpPeeringAddress: 192.168.0.1}\n",
            "nodes.c.providerAsn: providerAsn is only for ipvpn circuits, not colocation",
        ),
        (
            "  c: {role: expressroute, peer: s,"
            " primaryPeerAddressPrefix: 192.168.0.0/30, secondaryPeerAddressPrefix: 10.0.9.0/30}\n"
            "  s: {role: onprem, asn: 65001, bgpPeeringAddress: 192.168.0.1}\n",
            "nodes.c.secondaryPeerAddressPrefix: 10.0.9.0/30 overlaps the address space of hub",
        ),
    ],
)
def test_single_rules(extra: str, expected: str) -> None:
    assert expected in _problems(HUB + extra)


def test_gateway_subnet_and_route_server_subnet_are_required() -> None:
    text = (
        "name: t\nnodes:\n  v: {role: vnet, addressSpace: [10.0.0.0/16]}\n"
        "  gw: {role: expressroute_gateway, vnet: v}\n  rs: {role: route_server, vnet: v}\n"
    )
    assert _problems(text) == [
        "nodes.gw.vnet: v has no subnet named GatewaySubnet",
        "nodes.rs.vnet: v has no subnet named RouteServerSubnet",
    ]


def test_coexisting_gateways_need_a_slash_27() -> None:
    text = (
        "name: t\nnodes:\n  v:\n    role: vnet\n    addressSpace: [10.0.0.0/16]\n"
        "    subnets: [{name: GatewaySubnet, addressPrefix: 10.0.255.0/28}]\n"
        "  gw: {role: vpn_gateway, vnet: v}\n  er: {role: expressroute_gateway, vnet: v}\n"
    )
    (problem,) = _problems(text)
    assert problem.startswith("nodes.er.vnet: GatewaySubnet 10.0.255.0/28 of v is smaller than")


VWAN = """
name: t
nodes:
  wan: {role: vwan}
  h1:
    role: vwan_hub
    vwan: wan
    addressPrefix: 192.168.1.0/24
    routeTables:
      - name: RT
        labels: [shared]
        routes: [{name: r, destinations: [10.9.0.0/16], nextHop: nope}]
  v1: {role: vnet, addressSpace: [10.1.0.0/16]}
  b1: {role: onprem, asn: 65001, bgpPeeringAddress: 10.50.0.1}
  b2: {role: onprem, asn: 65002, bgpPeeringAddress: 10.51.0.1}
  nva: {role: nva, vnet: v1, address: 10.1.0.4, asn: 65010}
connections:
  - type: hub_vnet
    hub: h1
    vnet: v1
    routingConfiguration:
      associatedRouteTable: RT2
      propagatedRouteTables: {names: [RT, other], labels: [shared, typo]}
  - {type: hub_vpn, hub: h1, site: b1, routingConfiguration: {associatedRouteTable: RT}}
  - {type: hub_vpn, hub: h1, site: b2, routingConfiguration: {propagatedRouteTables: {names: [RT]}}}
  - {type: hub_bgp, hub: h1, nva: nva}
  - {type: bgp, a: b1, b: b1}
"""


def test_vwan_rules() -> None:
    assert _problems(VWAN) == [
        "connections[4].b: both ends of the connection are b1",
        "nodes.h1.routeTables[0].routes[0].nextHop: 'nope' is not a connection of hub h1",
        "connections[0].routingConfiguration.associatedRouteTable: hub h1 has no route table 'RT2'",
        "connections[0].routingConfiguration.propagatedRouteTables.names[1]: hub h1 has no "
        "route table 'other'",
        "connections[0].routingConfiguration.propagatedRouteTables.labels[1]: no route table "
        "of wan carries the label 'typo'",
        "connections[1].routingConfiguration.associatedRouteTable: a branch connection is "
        "associated to defaultRouteTable, not 'RT'",
        "connections[2].routingConfiguration.propagatedRouteTables: propagates differently "
        "from connections[1], another branch of h1",
    ]


def test_hub_bgp_needs_a_directly_connected_vnet() -> None:
    text = (
        VWAN.replace("  - {type: bgp, a: b1, b: b1}\n", "").replace(
            "    vnet: v1\n", "    vnet: v2\n"
        )
        + "  - {type: hub_vnet, hub: h1, vnet: v1, name: x}\n"
    )
    text = text.replace("  b1:", "  v2: {role: vnet, addressSpace: [10.2.0.0/16]}\n  b1:")
    problems = _problems(text)
    assert "connections[3].nva: nva is in v1, which has no hub_vnet connection to h1" not in (
        problems
    )
    text2 = VWAN.replace("  - {type: bgp, a: b1, b: b1}\n", "").replace("vnet: v1\n", "vnet: v2\n")
    text2 = text2.replace("  b1:", "  v2: {role: vnet, addressSpace: [10.2.0.0/16]}\n  b1:")
    assert "connections[3].nva: nva is in v1, which has no hub_vnet connection to h1" in (
        _problems(text2)
    )


def test_hub_connected_vnet_has_no_gateway() -> None:
    text = (
        "name: t\nnodes:\n  wan: {role: vwan}\n"
        "  h: {role: vwan_hub, vwan: wan, addressPrefix: 192.168.1.0/24}\n"
        "  v:\n    role: vnet\n    addressSpace: [10.0.0.0/16]\n"
        "    subnets: [{name: GatewaySubnet, addressPrefix: 10.0.255.0/27}]\n"
        "  gw: {role: vpn_gateway, vnet: v}\n"
        "connections:\n  - {type: hub_vnet, hub: h, vnet: v}\n"
    )
    assert _problems(text) == ["connections[0].vnet: v has its own gateway gw"]


def test_vnet_to_vnet_with_bgp_needs_two_asns() -> None:
    text = (
        "name: t\nnodes:\n"
        "  a:\n    role: vnet\n    addressSpace: [10.0.0.0/16]\n"
        "    subnets: [{name: GatewaySubnet, addressPrefix: 10.0.255.0/27}]\n"
        "  b:\n    role: vnet\n    addressSpace: [10.1.0.0/16]\n"
        "    subnets: [{name: GatewaySubnet, addressPrefix: 10.1.255.0/27}]\n"
        "  ga: {role: vpn_gateway, vnet: a}\n  gb: {role: vpn_gateway, vnet: b}\n"
        "connections:\n  - {type: vnet_to_vnet, gateway: ga, remoteGateway: gb}\n"
        "  - {type: vnet_to_vnet, gateway: gb, remoteGateway: ga, enableBgp: false}\n"
    )
    assert _problems(text) == [
        "connections[0].remoteGateway: ga and gb both use AS 65515",
    ]


def test_duplicate_connection_names() -> None:
    text = (
        "name: t\nnodes:\n  a: {role: onprem, asn: 65001, bgpPeeringAddress: 10.0.0.1}\n"
        "  b: {role: onprem, asn: 65002, bgpPeeringAddress: 10.0.0.2}\n"
        "connections:\n  - {type: bgp, a: a, b: b}\n  - {type: bgp, a: a, b: b}\n"
        "  - {type: bgp, a: b, b: a, name: 'x.y'}\n"
    )
    assert _problems(text) == [
        "connections[2].name: name 'x.y' contains '.'",
        "connections[1].type: connection name 'a-b' is already used by connections[0]",
    ]


def test_a_missing_node_hint_lists_at_most_ten_names() -> None:
    """Thousands of wrong references each listed every node name (output quadratic in
    the file)."""
    nodes = "".join(
        f"  v{i:02}: {{role: vnet, addressSpace: [10.{i}.0.0/16], "
        "peerings: [{remoteVirtualNetwork: nowhere}]}\n"
        for i in range(20)
    )
    problems = validate_file_text(f"name: many\nnodes:\n{nodes}")
    assert len(problems) == 20
    assert problems[0].hint == (
        "vnet nodes: v00, v01, v02, v03, v04, v05, v06, v07, v08, v09, ... (20 in all)"
    )


def validate_file_text(text: str) -> list[ConfigProblem]:
    from bgpemu.topology import check_topology

    return check_topology(text, "t.yaml")[0]
