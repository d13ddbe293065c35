"""The views over converged fabrics: compile_network -> Fabric -> snapshots (§9 scenarios)."""

from __future__ import annotations

from typing import Any

from bgpemu.azure.model import (
    HubVnetConnection,
    HubVpnConnection,
    Network,
    VWan,
)
from bgpemu.azure.views import (
    advertised_routes,
    bgp_peer_status,
    circuit_routes,
    effective_routes,
    hub_routes,
    route_server_routes,
)
from tests.unit.azure.helpers import converge, site, vnet, vwan_hub
from tests.unit.azure.scenarios import scenario2, scenario9


def _gateway_rows(view: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [
        (r["addressPrefix"][0], r["state"], r["nextHopIpAddress"])
        for r in view["value"]
        if r["source"] == "VirtualNetworkGateway"
    ]


def test_scenario_2_two_sites_transit_through_one_vpn_gateway() -> None:
    net = scenario2()
    plan, _fabric, snaps = converge(net)
    view = effective_routes(net, plan, snaps, "Hub", "s")
    hop = ["10.0.255.4"]
    assert _gateway_rows(view) == [
        ("0.0.0.0/0", "Active", hop),
        ("10.1.0.0/16", "Active", hop),
        ("10.2.0.0/16", "Active", hop),
        ("10.3.0.0/16", "Active", hop),
    ]
    to_b = advertised_routes(net, plan, snaps, "gw", "10.2.255.1")["value"]
    assert [(r["network"], r["asPath"]) for r in to_b] == [
        ("10.0.0.0/16", "65515"),
        ("10.1.0.0/16", "65515-65001"),
        ("10.3.0.0/16", "65515"),
    ]
    status = bgp_peer_status(net, plan, snaps, "gw", now=0.0)["value"]
    assert [(r["neighbor"], r["state"]) for r in status] == [
        ("10.1.255.1", "Connected"),
        ("10.2.255.1", "Connected"),
    ]


def test_scenario_9_route_server_and_expressroute_branch_to_branch_off() -> None:
    net = scenario9(False)
    plan, _fabric, snaps = converge(net)
    expected = [
        ("0.0.0.0/0", "Active", ["10.1.2.4"]),
        ("10.2.0.0/16", "Active", ["192.168.2.18", "192.168.2.22"]),
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
    net = Network(
        name="lab",
        nodes=(
            VWan(name="wan"),
            vwan_hub("hub1", 1),
            vwan_hub("hub2", 2),
            *(vnet(f"v{i}", f"10.{i}.0.0/24") for i in range(1, 5)),
            site("b1", 65001, "10.100.255.1", "10.100.0.0/16"),
            site("b2", 65002, "10.200.255.1", "10.200.0.0/16"),
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
    plan, _fabric, snaps = converge(net)
    table = [
        (r["addressPrefixes"][0], r["nextHopType"], r.get("asPath"))
        for r in hub_routes(net, plan, snaps, "hub1")["value"]
    ]
    assert table == [
        ("10.1.0.0/24", "Virtual Network Connection", None),
        ("10.2.0.0/24", "Virtual Network Connection", None),
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
