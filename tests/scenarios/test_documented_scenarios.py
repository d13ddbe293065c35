"""Every canonical scenario of azure-routing.md §9, converged from its reference topology
and checked against the tables the documentation gives (section numbers: that file)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bgpemu.azure.converge import solve
from bgpemu.azure.model import VWan
from bgpemu.azure.views import effective_routes, hub_routes, learned_routes
from bgpemu.topology import load_topology
from tests.scenarios.conftest import TOPOLOGIES, loc_rib, routes_for, solved


def _types(view: dict[str, Any], prefix: str) -> list[str]:
    return [e["nextHopType"] for e in routes_for(view, prefix)]


def _hops(view: dict[str, Any], prefix: str) -> list[str]:
    (entry,) = routes_for(view, prefix)
    return sorted(entry["nextHopIpAddress"])


# --------------------------------------------------------------------- scenario 1


def test_scenario_1_s2s_bgp_subnets_get_the_site_prefix_over_the_gateway() -> None:
    s = solved("s2s-bgp")
    for subnet in ("FrontEnd", "BackEnd"):
        view = effective_routes(s.network, s.plan, s.snapshots, "TestVNet1", subnet)
        assert _types(view, "10.11.0.0/16") == ["VnetLocal"]
        assert _types(view, "10.12.0.0/16") == ["VnetLocal"]
        (route,) = routes_for(view, "10.51.0.0/16")
        assert route["source"] == "VirtualNetworkGateway"
        assert route["nextHopType"] == "VirtualNetworkGateway"
        # Site5's copy of the VNet's own 10.11.0.0/16 was rejected by the gateway [VPN-BGP].
        assert not [e for e in routes_for(view, "10.11.0.0/16", None) if e["source"] != "Default"]
        # The supernet 10.0.0.0/8 is accepted and beats the 10/8 None system route (BGP > system).
        assert _types(view, "10.0.0.0/8") == ["VirtualNetworkGateway"]
        assert [e["nextHopType"] for e in routes_for(view, "10.0.0.0/8", "Invalid")] == ["None"]


def test_scenario_1_gateway_learns_the_site_and_the_site_learns_the_vnet() -> None:
    s = solved("s2s-bgp")
    learned = learned_routes(s.network, s.plan, s.snapshots, "VNet1GW")["value"]
    site = [r for r in learned if r["network"] == "10.51.0.0/16"]
    assert [(r["sourcePeer"], r["asPath"], r["origin"]) for r in site] == [
        ("10.51.255.254", "65050", "EBgp")
    ]
    # Site5 also announces 10.11.0.0/16 itself, so look at what the gateway sent it.
    from_gateway = {r.prefix: r for r in s.snapshots["Site5"].adj_rib_in["VNet1GW"]}
    for prefix in ("10.11.0.0/16", "10.12.0.0/16"):
        assert from_gateway[prefix].as_path == (65010,)
        assert from_gateway[prefix].next_hop == "10.12.255.30"


# --------------------------------------------------------------------- scenario 2


def test_scenario_2_vnet_gets_bgp_static_and_default_routes_from_the_gateway() -> None:
    s = solved("s2s-transit")
    view = effective_routes(s.network, s.plan, s.snapshots, "Hub", "Workload")
    for prefix in ("10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16", "0.0.0.0/0"):
        assert _types(view, prefix) == ["VirtualNetworkGateway"], prefix
    assert [e["nextHopType"] for e in routes_for(view, "0.0.0.0/0", "Invalid")] == ["Internet"]


def test_scenario_2_sites_transit_through_the_gateway_without_the_default_route() -> None:
    s = solved("s2s-transit")
    site_a, site_b = loc_rib(s, "SiteA"), loc_rib(s, "SiteB")
    assert site_a["10.0.0.0/16"].as_path == (65515,)
    assert site_a["10.2.0.0/16"].as_path == (65515, 65002)
    assert site_a["10.3.0.0/16"].as_path == (65515,)
    assert site_b["10.1.0.0/16"].as_path == (65515, 65001)
    assert site_b["10.3.0.0/16"].as_path == (65515,)
    assert "0.0.0.0/0" not in site_b  # a VPN gateway never re-advertises a default route
    assert site_a["0.0.0.0/0"].peer is None  # SiteA only has its own


# --------------------------------------------------------------------- scenario 3


def test_scenario_3_hub_and_spokes_with_gateway_transit() -> None:
    s = solved("hub-spoke-transit")
    hub = effective_routes(s.network, s.plan, s.snapshots, "Hub", "Shared")
    assert _types(hub, "10.0.0.0/16") == ["VnetLocal"]
    assert _types(hub, "10.1.0.0/16") == ["VNetPeering"]
    assert _types(hub, "10.2.0.0/16") == ["VNetPeering"]
    assert _types(hub, "192.168.0.0/16") == ["VirtualNetworkGateway"]
    spoke1 = effective_routes(s.network, s.plan, s.snapshots, "Spoke1", "App")
    assert _types(spoke1, "10.1.0.0/16") == ["VnetLocal"]
    assert _types(spoke1, "10.0.0.0/16") == ["VNetPeering"]
    assert _types(spoke1, "192.168.0.0/16") == ["VirtualNetworkGateway"]
    assert [e["nextHopType"] for e in routes_for(spoke1, "192.168.0.0/16", "Invalid")] == ["None"]
    # Non-transitive: no route to Spoke2; its traffic falls into 10.0.0.0/8 -> None.
    assert routes_for(spoke1, "10.2.0.0/16", None) == []
    assert _types(spoke1, "10.0.0.0/8") == ["None"]


def test_scenario_3_onprem_learns_hub_and_spokes_and_propagation_off_drops_gateway_routes() -> None:
    s = solved("hub-spoke-transit")
    onprem = loc_rib(s, "OnPrem")
    for prefix in ("10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"):
        assert onprem[prefix].as_path == (65515,), prefix
    app = effective_routes(s.network, s.plan, s.snapshots, "Spoke2", "App")
    assert not [e for e in app["value"] if e["source"] == "VirtualNetworkGateway"]
    assert app["value"][0]["disableBgpRoutePropagation"] is True
    web = effective_routes(s.network, s.plan, s.snapshots, "Spoke2", "Web")
    assert _types(web, "192.168.0.0/16") == ["VirtualNetworkGateway"]


# --------------------------------------------------------------------- scenario 4


def test_scenario_4_udrs_chain_spoke_traffic_through_the_hub_nva() -> None:
    s = solved("service-chaining-nva")
    spoke1 = effective_routes(s.network, s.plan, s.snapshots, "Spoke1", "App")
    (udr,) = routes_for(spoke1, "10.2.0.0/16")
    assert (udr["source"], udr["nextHopType"], udr["nextHopIpAddress"]) == (
        "User",
        "VirtualAppliance",
        ["10.0.1.4"],
    )
    spoke2 = effective_routes(s.network, s.plan, s.snapshots, "Spoke2", "App")
    assert [e["source"] for e in routes_for(spoke2, "0.0.0.0/0")] == ["User"]
    assert [e["nextHopType"] for e in routes_for(spoke2, "0.0.0.0/0", "Invalid")] == ["Internet"]
    for dropped in ("10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10"):
        assert routes_for(spoke2, dropped, None) == [], dropped
    assert not [e for e in spoke2["value"] if e["source"] == "VirtualNetworkGateway"]


# --------------------------------------------------------------------- scenario 5


def test_scenario_5_azure_prefers_expressroute_for_the_same_prefix() -> None:
    s = solved("er-vpn-backup")
    for vnet, subnet in (("Hub", "Workload"), ("Spoke", "App")):
        view = effective_routes(s.network, s.plan, s.snapshots, vnet, subnet)
        assert _types(view, "10.1.11.0/25") == ["VirtualNetworkGateway"]
        assert _hops(view, "10.1.11.0/25") == ["192.168.11.18", "192.168.11.22"]  # the MSEEs


def test_scenario_5_vpn_gateway_holds_both_copies_and_onprem_prefers_er() -> None:
    s = solved("er-vpn-backup")
    learned = learned_routes(s.network, s.plan, s.snapshots, "VpnGW")["value"]
    copies = {(r["asPath"], r["weight"]) for r in learned if r["network"] == "10.1.11.0/25"}
    assert ("65020", 32768) in copies
    assert ("12076-65020", 32769) in copies
    firewall = loc_rib(s, "Firewall")
    for prefix in ("10.17.11.0/25", "10.17.11.128/26"):
        assert firewall[prefix].as_path == (12076,), prefix
        assert firewall[prefix].local_pref == 150
    backups = s.snapshots["Firewall"].adj_rib_in["VpnGW.0"]
    assert {r.prefix: r.as_path for r in backups} == {
        "10.17.11.0/25": (65515,),
        "10.17.11.128/26": (65515,),
    }


# --------------------------------------------------------------------- scenario 6


def test_scenario_6_vwan_basic_branch_to_branch() -> None:
    s = solved("vwan-basic")
    assert loc_rib(s, "Branch1")["10.50.2.0/24"].as_path == (65515, 65002)
    assert loc_rib(s, "Branch2")["10.50.1.0/24"].as_path == (65515, 65001)
    table = hub_routes(s.network, s.plan, s.snapshots, "hub1")["value"]
    assert {tuple(r["addressPrefixes"]): r["nextHopType"] for r in table} == {
        ("10.50.1.0/24",): "VPN_S2S_Gateway",
        ("10.50.2.0/24",): "VPN_S2S_Gateway",
    }


def test_scenario_6_branch_to_branch_off_stops_propagation_between_sites() -> None:
    network = load_topology(TOPOLOGIES / "vwan-basic.yaml")
    nodes = tuple(
        replace(n, allow_branch_to_branch_traffic=False) if isinstance(n, VWan) else n
        for n in network.nodes
    )
    s = solve(replace(network, nodes=nodes))
    assert "10.50.2.0/24" not in loc_rib(s, "Branch1")
    assert "10.50.1.0/24" not in loc_rib(s, "Branch2")


# --------------------------------------------------------------------- scenario 7


def test_scenario_7_two_standard_hubs_any_to_any() -> None:
    s = solved("vwan-standard-any-to-any")
    table = hub_routes(s.network, s.plan, s.snapshots, "Hub1")["value"]
    got = {r["addressPrefixes"][0]: (r["nextHopType"], r.get("asPath")) for r in table}
    assert got == {  # az prints no asPath on a VNet connection's routes
        "10.1.0.0/24": ("Virtual Network Connection", None),
        "10.2.0.0/24": ("Virtual Network Connection", None),
        "10.100.0.0/16": ("VPN_S2S_Gateway", "65001"),
        "10.3.0.0/24": ("Remote Hub", "65520-65520"),
        "10.4.0.0/24": ("Remote Hub", "65520-65520"),
        "10.200.0.0/16": ("Remote Hub", "65520-65520-65002"),
    }
    vnet1 = effective_routes(s.network, s.plan, s.snapshots, "VNet1", "default")
    for prefix in ("10.2.0.0/24", "10.3.0.0/24", "10.4.0.0/24", "10.100.0.0/16", "10.200.0.0/16"):
        assert _types(vnet1, prefix) == ["VirtualNetworkGateway"], prefix
    branch1 = loc_rib(s, "Branch1")
    assert branch1["10.1.0.0/24"].as_path == (65515,)
    assert branch1["10.200.0.0/16"].as_path == (65515, 65520, 65520, 65002)


# --------------------------------------------------------------------- scenario 8


def test_scenario_8_shared_services_route_table() -> None:
    s = solved("vwan-custom-route-tables")
    shared = hub_routes(s.network, s.plan, s.snapshots, "hub", "RT_SHARED")["value"]
    assert sorted(r["addressPrefixes"][0] for r in shared) == ["10.50.0.0/16", "10.9.0.0/16"]
    default = hub_routes(s.network, s.plan, s.snapshots, "hub", "defaultRouteTable")["value"]
    assert sorted(r["addressPrefixes"][0] for r in default) == [
        "10.1.0.0/16",
        "10.2.0.0/16",
        "10.50.0.0/16",
        "10.9.0.0/16",
    ]
    v1 = effective_routes(s.network, s.plan, s.snapshots, "V1", "default")
    assert _types(v1, "10.9.0.0/16") == ["VirtualNetworkGateway"]
    assert _types(v1, "10.50.0.0/16") == ["VirtualNetworkGateway"]
    assert routes_for(v1, "10.2.0.0/16", None) == []  # isolated from V2
    branch = loc_rib(s, "B")
    assert {"10.1.0.0/16", "10.2.0.0/16", "10.9.0.0/16"} <= set(branch)


# --------------------------------------------------------------------- NVA HA (§7)


def test_nva_ha_active_active_ecmp_and_active_passive_by_prepend() -> None:
    s = solved("nva-ha-route-server")
    for vnet, subnet in (("Hub", "workload"), ("Spoke", "app")):
        view = effective_routes(s.network, s.plan, s.snapshots, vnet, subnet)
        assert _hops(view, "0.0.0.0/0") == ["10.0.1.4", "10.0.1.5"]
        assert _hops(view, "10.200.0.0/16") == ["10.0.1.4"]
        assert routes_for(view, "10.0.3.0/24", None) == []  # inside the VNet space
    nva1 = loc_rib(s, "nva1")
    assert nva1["10.0.0.0/16"].as_path == (65515,)
    assert nva1["10.5.0.0/16"].as_path == (65515,)


# --------------------------------------------------------------------- scenario 9


def test_scenario_9_branch_to_branch_off() -> None:
    s = solved("route-server-sdwan-er-b2b-off")
    for vnet, subnet in (("Hub", "workload"), ("Spoke", "app")):
        view = effective_routes(s.network, s.plan, s.snapshots, vnet, subnet)
        assert _hops(view, "10.250.0.0/16") == ["10.1.1.4"]
        assert _hops(view, "0.0.0.0/0") == ["10.1.2.4"]
        assert _types(view, "10.2.0.0/16") == ["VirtualNetworkGateway"]
    sdwan = loc_rib(s, "sdwan")
    assert sdwan["10.1.0.0/16"].as_path == (65515,)
    assert sdwan["10.5.0.0/16"].as_path == (65515,)
    assert "10.2.0.0/16" not in sdwan
    onprem2 = loc_rib(s, "OnPrem2")
    assert onprem2["10.1.0.0/16"].as_path == (12076,)
    assert onprem2["10.5.0.0/16"].as_path == (12076,)
    assert "10.250.0.0/16" not in onprem2


def test_scenario_9_branch_to_branch_on() -> None:
    s = solved("route-server-sdwan-er-b2b-on")
    assert loc_rib(s, "sdwan")["10.2.0.0/16"].as_path == (65515, 12076, 65020)
    assert "10.2.0.0/16" in loc_rib(s, "OnPrem1")
    assert loc_rib(s, "OnPrem2")["10.250.0.0/16"].as_path == (12076,)
