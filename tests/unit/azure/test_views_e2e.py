"""The views over converged fabrics: compile_network -> Fabric -> snapshots (§9 scenarios)."""

from __future__ import annotations

from typing import Any

from bgpemu.azure.model import (
    Announcement,
    ExpressRouteCircuit,
    ExpressRouteConnection,
    ExpressRouteGateway,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    Nva,
    OnPrem,
    Peering,
    RouteServer,
    RouteServerPeer,
    SiteToSite,
    Subnet,
    VNet,
    VpnGateway,
    VWan,
    VWanHub,
)
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.azure.views import (
    advertised_routes,
    bgp_peer_status,
    circuit_routes,
    effective_routes,
    hub_routes,
    route_server_routes,
)
from bgpemu.fabric import Fabric


def _converge(network: Network) -> tuple[Plan, dict[str, RouterSnapshot]]:
    plan = compile_network(network)
    fabric = Fabric(plan.speakers)
    fabric.run_until_idle()
    snaps = {n: snapshot(n, fabric.router(n), fabric.sessions(n)) for n in fabric.nodes()}
    return plan, snaps


def _vnet(name: str, space: str, *peerings: Peering) -> VNet:
    return VNet(
        name=name,
        address_space=(space,),
        subnets=(Subnet(name="s", address_prefix=space),),
        peerings=peerings,
    )


def _gateway_rows(view: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [
        (r["addressPrefix"][0], r["state"], r["nextHopIpAddress"])
        for r in view["value"]
        if r["source"] == "VirtualNetworkGateway"
    ]


def test_scenario_2_two_sites_transit_through_one_vpn_gateway() -> None:
    net = Network(
        name="lab",
        nodes=(
            _vnet("hub", "10.0.0.0/16"),
            VpnGateway(name="gw", vnet="hub", bgp_addresses=("10.0.255.4",)),
            OnPrem(
                name="a",
                asn=65001,
                bgp_address="172.16.1.1",
                router_id="172.16.1.1",
                announcements=(
                    Announcement(prefix="10.1.0.0/16"),
                    Announcement(prefix="0.0.0.0/0"),
                ),
            ),
            OnPrem(
                name="b",
                asn=65002,
                bgp_address="172.16.2.1",
                router_id="172.16.2.1",
                announcements=(Announcement(prefix="10.2.0.0/16"),),
            ),
            OnPrem(name="c", asn=65003, bgp_address="172.16.3.1", router_id="172.16.3.1"),
        ),
        connections=(
            SiteToSite(name="ca", gateway="gw", site="a"),
            SiteToSite(name="cb", gateway="gw", site="b"),
            SiteToSite(
                name="cc",
                gateway="gw",
                site="c",
                enable_bgp=False,
                local_address_prefixes=("10.3.0.0/16",),
            ),
        ),
    )
    plan, snaps = _converge(net)
    view = effective_routes(net, plan, snaps, "hub", "s")
    hop = ["10.0.255.4"]
    assert _gateway_rows(view) == [
        ("0.0.0.0/0", "Active", hop),
        ("10.1.0.0/16", "Active", hop),
        ("10.2.0.0/16", "Active", hop),
        ("10.3.0.0/16", "Active", hop),
    ]
    to_b = advertised_routes(net, plan, snaps, "gw", "172.16.2.1")["value"]
    assert [(r["network"], r["asPath"]) for r in to_b] == [
        ("10.0.0.0/16", "65515"),
        ("10.1.0.0/16", "65515-65001"),
        ("10.3.0.0/16", "65515"),
    ]
    status = bgp_peer_status(net, plan, snaps, "gw", now=0.0)["value"]
    assert [(r["neighbor"], r["state"]) for r in status] == [
        ("172.16.1.1", "Connected"),
        ("172.16.2.1", "Connected"),
    ]


def test_scenario_9_route_server_and_expressroute_branch_to_branch_off() -> None:
    net = Network(
        name="lab",
        nodes=(
            _vnet("hub", "10.1.0.0/16", Peering(remote_vnet="spoke", allow_gateway_transit=True)),
            _vnet("spoke", "10.5.0.0/16", Peering(remote_vnet="hub", use_remote_gateways=True)),
            RouteServer(name="ars", vnet="hub", addresses=("10.1.255.4", "10.1.255.5")),
            ExpressRouteGateway(name="ergw", vnet="hub", bgp_address="10.1.254.4"),
            OnPrem(
                name="op2",
                asn=65020,
                bgp_address="192.168.11.17",
                router_id="192.168.11.17",
                announcements=(Announcement(prefix="10.2.0.0/16"),),
            ),
            ExpressRouteCircuit(
                name="er",
                peer="op2",
                primary_peer_address_prefix="192.168.11.16/30",
                secondary_peer_address_prefix="192.168.11.20/30",
            ),
            Nva(
                name="sdwan",
                vnet="hub",
                address="10.1.1.4",
                asn=65001,
                router_id="10.1.1.4",
                announcements=(Announcement(prefix="10.250.0.0/16"),),
            ),
            Nva(
                name="fw",
                vnet="hub",
                address="10.1.2.4",
                asn=65002,
                router_id="10.1.2.4",
                announcements=(Announcement(prefix="0.0.0.0/0"),),
            ),
        ),
        connections=(
            ExpressRouteConnection(name="erc", gateway="ergw", circuit="er"),
            RouteServerPeer(name="p1", route_server="ars", nva="sdwan"),
            RouteServerPeer(name="p2", route_server="ars", nva="fw"),
        ),
    )
    plan, snaps = _converge(net)
    expected = [
        ("0.0.0.0/0", "Active", ["10.1.2.4"]),
        ("10.2.0.0/16", "Active", ["192.168.11.18", "192.168.11.22"]),
        ("10.250.0.0/16", "Active", ["10.1.1.4"]),
    ]
    assert _gateway_rows(effective_routes(net, plan, snaps, "hub", "s")) == expected
    assert _gateway_rows(effective_routes(net, plan, snaps, "spoke", "s")) == expected
    learned = route_server_routes(net, plan, snaps, "ars", "sdwan", "learned")
    assert [(r["network"], r["asPath"]) for r in learned["RouteServiceRole_IN_1"]] == [
        ("10.250.0.0/16", "65001")
    ]
    advertised = route_server_routes(net, plan, snaps, "ars", "sdwan", "advertised")
    networks = [r["network"] for r in advertised["RouteServiceRole_IN_0"]]
    assert "10.1.0.0/16" in networks
    assert "10.5.0.0/16" in networks
    assert "10.2.0.0/16" not in networks  # branch-to-branch off
    msee = circuit_routes(net, plan, snaps, "er", "primary")["value"]
    assert [(r["network"], r["path"]) for r in msee] == [
        ("10.1.0.0/16", "65515"),
        ("10.2.0.0/16", "65020"),
        ("10.5.0.0/16", "65515"),
    ]


def test_scenario_7_two_hubs_any_to_any() -> None:
    def branch(name: str, asn: int, prefix: str) -> OnPrem:
        address = prefix.replace("0.0/16", "255.1")
        return OnPrem(
            name=name,
            asn=asn,
            bgp_address=address,
            router_id=address,
            announcements=(Announcement(prefix=prefix),),
        )

    net = Network(
        name="lab",
        nodes=(
            VWan(name="wan"),
            VWanHub(
                name="hub1",
                vwan="wan",
                address_prefix="192.168.1.0/24",
                router_ips=("192.168.1.68", "192.168.1.69"),
            ),
            VWanHub(
                name="hub2",
                vwan="wan",
                address_prefix="192.168.2.0/24",
                router_ips=("192.168.2.68", "192.168.2.69"),
            ),
            *(_vnet(f"v{i}", f"10.{i}.0.0/24") for i in range(1, 5)),
            branch("b1", 65001, "10.100.0.0/16"),
            branch("b2", 65002, "10.200.0.0/16"),
        ),
        connections=(
            HubVnetConnection(name="c1", hub="hub1", vnet="v1"),
            HubVnetConnection(name="c2", hub="hub1", vnet="v2"),
            HubVnetConnection(name="c3", hub="hub2", vnet="v3"),
            HubVnetConnection(name="c4", hub="hub2", vnet="v4"),
            HubVpnConnection(name="cb1", hub="hub1", site="b1"),
            HubVpnConnection(name="cb2", hub="hub2", site="b2"),
        ),
    )
    plan, snaps = _converge(net)
    table = [
        (r["addressPrefixes"][0], r["nextHopType"], r["asPath"])
        for r in hub_routes(net, plan, snaps, "hub1")["value"]
    ]
    assert table == [
        ("10.1.0.0/24", "Virtual Network Connection", ""),
        ("10.2.0.0/24", "Virtual Network Connection", ""),
        ("10.3.0.0/24", "Remote Hub", "65520-65520"),
        ("10.4.0.0/24", "Remote Hub", "65520-65520"),
        ("10.100.0.0/16", "VPN_S2S_Gateway", "65001"),
        ("10.200.0.0/16", "Remote Hub", "65520-65520-65002"),
    ]
    routers = ["192.168.1.68", "192.168.1.69"]
    assert _gateway_rows(effective_routes(net, plan, snaps, "v1", "s")) == [
        (prefix, "Active", routers)
        for prefix in (
            "10.2.0.0/24",
            "10.3.0.0/24",
            "10.4.0.0/24",
            "10.100.0.0/16",
            "10.200.0.0/16",
        )
    ]
