"""Role vwan_hub: tags, inter-hub 65520 prepend, branch-to-branch, route tables, 0/0."""

from __future__ import annotations

from bgpemu.azure.hubrouting import connection_tag
from bgpemu.azure.model import (
    ExpressRouteCircuit,
    HubBgpConnection,
    HubExpressRouteConnection,
    HubRouteTable,
    HubRouting,
    HubStaticRoute,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    RoutingPreference,
    VNet,
    VWan,
    VWanType,
)
from bgpemu.azure.roles import compile_network
from bgpemu.azure.roles.vwan import hub_weight, p2s_tag
from bgpemu.policy import Direction
from tests.unit.azure.helpers import (
    apply,
    best,
    converge,
    from_peer,
    loc_prefixes,
    neighbor_names,
    nva,
    route,
    site,
    vwan_hub,
)
from tests.unit.azure.scenarios import scenario7


def test_two_standard_hubs_any_to_any() -> None:
    plan, _fabric, t = converge(scenario7())
    assert neighbor_names(plan, "hub1") == ["branch1", "branch3", "hub2"]
    hub1 = t["hub1"]
    for prefix in ("10.3.0.0/24", "10.4.0.0/24"):
        r = best(hub1, prefix)
        assert r is not None
        assert r.as_path == (65520, 65520)
        assert r.peer == "hub2"
    remote_branch = best(hub1, "10.200.0.0/16")
    assert remote_branch is not None
    assert remote_branch.as_path == (65520, 65520, 65002)
    b2 = t["branch2"]
    for prefix in ("10.1.0.0/24", "10.2.0.0/24"):
        r = best(b2, prefix)
        assert r is not None
        assert r.as_path == (65515, 65520, 65520)
        assert r.large_communities == ()  # tags stripped toward branches
    local = best(b2, "10.3.0.0/24")
    assert local is not None
    assert local.as_path == (65515,)
    far = best(b2, "10.100.0.0/16")
    assert far is not None
    assert far.as_path == (65515, 65520, 65520, 65001)


def test_hub_routes_carry_connection_tags() -> None:
    network = scenario7()
    _plan, _fabric, t = converge(network)
    tag = "{}:{}:{}".format(*connection_tag(network, "c3"))
    r = best(t["hub1"], "10.3.0.0/24")
    assert r is not None
    assert tag in r.large_communities
    learned = best(t["hub1"], "10.100.0.0/16")
    assert learned is not None
    assert "{}:{}:{}".format(*connection_tag(network, "b1")) in learned.large_communities


def test_default_route_only_with_internet_security_and_never_to_other_hubs() -> None:
    _plan, _fabric, off = converge(scenario7(internet_security=False))
    assert "0.0.0.0/0" in loc_prefixes(off["hub1"])
    assert "0.0.0.0/0" not in loc_prefixes(off["branch3"])
    assert "0.0.0.0/0" not in loc_prefixes(off["hub2"])
    _plan, _fabric, on = converge(scenario7(internet_security=True))
    r = best(on["branch3"], "0.0.0.0/0")
    assert r is not None
    assert r.as_path == (65515, 65001)


def test_branch_to_branch_off_stops_vpn_to_vpn() -> None:
    _plan, _fabric, t = converge(scenario7(branch_to_branch=False))
    b1 = loc_prefixes(t["branch1"])
    assert {"10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24", "10.4.0.0/24"} <= b1
    assert "10.150.0.0/16" not in b1
    assert "10.200.0.0/16" not in b1
    assert "172.20.0.0/24" not in b1  # P2S is a branch too


def test_p2s_pools_reach_branches() -> None:
    network = scenario7()
    _plan, _fabric, t = converge(network)
    r = best(t["branch2"], "172.20.0.0/24")
    assert r is not None
    assert r.as_path == (65515, 65520, 65520)
    hub = best(t["hub1"], "172.20.0.0/24")
    assert hub is not None
    assert "{}:{}:{}".format(*p2s_tag(network, "hub1")) in hub.large_communities


def test_basic_wan_has_no_hub_mesh() -> None:
    plan, _fabric, t = converge(scenario7(wan_type=VWanType.BASIC))
    assert "hub2" not in neighbor_names(plan, "hub1")
    assert "10.3.0.0/24" not in loc_prefixes(t["hub1"])
    assert "10.150.0.0/16" in loc_prefixes(t["branch1"])  # branch-to-branch in one hub


def test_custom_route_tables_8a_branches_learn_every_vnet() -> None:
    """§9 scenario 8 (10a) [VWAN-S-ISO]: isolated VNets, branches reach all of them."""
    isolated = HubRouting(
        associated_route_table="RT_VNET",
        propagated_route_tables=("defaultRouteTable",),
        labels=(),
    )
    branch = HubRouting(
        associated_route_table="defaultRouteTable",
        propagated_route_tables=("RT_VNET", "defaultRouteTable"),
        labels=(),
    )
    network = Network(
        name="s8a",
        nodes=(
            VWan(name="wan"),
            vwan_hub("hub", 0, route_tables=(HubRouteTable(name="RT_VNET"),)),
            VNet(name="v1", address_space=("10.1.0.0/16",)),
            VNet(name="v2", address_space=("10.2.0.0/16",)),
            site("b", 65050, "10.50.255.1", "10.50.0.0/16"),
        ),
        connections=(
            HubVnetConnection(name="v1c", hub="hub", vnet="v1", routing_configuration=isolated),
            HubVnetConnection(name="v2c", hub="hub", vnet="v2", routing_configuration=isolated),
            HubVpnConnection(name="bc", hub="hub", site="b", routing_configuration=branch),
        ),
    )
    _plan, _fabric, t = converge(network)
    assert {"10.1.0.0/16", "10.2.0.0/16"} <= loc_prefixes(t["b"])


def test_vnet_not_propagated_to_default_is_hidden_from_branches() -> None:
    hidden = HubRouting(
        associated_route_table="defaultRouteTable", propagated_route_tables=(), labels=()
    )
    network = scenario7()
    connections = tuple(
        HubVnetConnection(name="c1", hub="hub1", vnet="vnet1", routing_configuration=hidden)
        if c.name == "c1"
        else c
        for c in network.connections
    )
    _plan, _fabric, t = converge(Network(name="h", nodes=network.nodes, connections=connections))
    assert "10.1.0.0/24" not in loc_prefixes(t["branch1"])
    assert "10.1.0.0/24" not in loc_prefixes(t["branch2"])
    assert "10.2.0.0/24" in loc_prefixes(t["branch2"])


def er_hub(preference: RoutingPreference) -> Network:
    return Network(
        name="er-hub",
        nodes=(
            VWan(name="wan"),
            vwan_hub("hub", 0, hub_routing_preference=preference),
            site("dc", 65020, "192.168.11.17", "10.9.0.0/16"),
            site("vpnsite", 65030, "10.30.255.1", "10.9.0.0/16"),
            ExpressRouteCircuit(
                name="er",
                peer="dc",
                primary_peer_address_prefix="192.168.11.16/30",
                secondary_peer_address_prefix="192.168.11.20/30",
            ),
            ExpressRouteCircuit(
                name="er2",
                peer="vpnsite",
                primary_peer_address_prefix="192.168.12.16/30",
                secondary_peer_address_prefix="192.168.12.20/30",
            ),
        ),
        connections=(
            HubExpressRouteConnection(name="erc", hub="hub", circuit="er"),
            HubExpressRouteConnection(name="erc2", hub="hub", circuit="er2"),
            HubVpnConnection(name="vpn", hub="hub", site="vpnsite"),
        ),
    )


def test_hub_routing_preference_er_over_vpn_and_vpn_over_er() -> None:
    _plan, _fabric, t = converge(er_hub(RoutingPreference.EXPRESS_ROUTE))
    r = best(t["hub"], "10.9.0.0/16")
    assert r is not None
    assert r.peer is not None
    assert r.peer.startswith("er")
    _plan, _fabric, t = converge(er_hub(RoutingPreference.VPN_GATEWAY))
    r = best(t["hub"], "10.9.0.0/16")
    assert r is not None
    assert r.peer == "vpnsite"


def test_er_learned_never_to_another_circuit() -> None:
    plan = compile_network(er_hub(RoutingPreference.EXPRESS_ROUTE))
    network = er_hub(RoutingPreference.EXPRESS_ROUTE)
    tag = connection_tag(network, "erc")
    path = route(
        "10.9.0.0/16", 12076, 65020, source=from_peer(plan, "hub", "er.primary"), large=(tag,)
    )
    assert apply(plan, "hub", "er2.primary", Direction.EXPORT, path) is None
    assert apply(plan, "hub", "er.secondary", Direction.EXPORT, path) is None
    out = apply(plan, "hub", "vpnsite", Direction.EXPORT, path)
    assert out is not None
    assert out.attributes.large_communities == ()


def test_hub_weights_rank_over_routing_weight() -> None:
    hub = vwan_hub("h", 0, vwan="w")
    assert hub_weight(hub, "er", 32000) > hub_weight(hub, "er", 0) > hub_weight(hub, "vpn")
    vpn_first = vwan_hub("h", 0, vwan="w", hub_routing_preference=RoutingPreference.VPN_GATEWAY)
    assert hub_weight(vpn_first, "vpn") > hub_weight(vpn_first, "er", 32000)


def test_nva_bgp_peer_of_hub_and_propagated_static_routes() -> None:
    """§5.6 [VWAN-BGP]: an NVA in a connected VNet peers with the hub router."""
    network = scenario7()
    sdwan = nva("sdwan", "10.1.0.10", 65510, "10.2.1.0/24", vnet="vnet1")
    static = HubStaticRoute(
        name="s", destinations=("10.77.0.0/16", "0.0.0.0/0"), next_hop="10.1.0.10"
    )
    connections = tuple(
        HubVnetConnection(
            name="c1",
            hub="hub1",
            vnet="vnet1",
            static_routes=(static,),
            propagate_static_routes=True,
            enable_internet_security=False,
        )
        if c.name == "c1"
        else c
        for c in network.connections
    )
    _plan, _fabric, t = converge(
        Network(
            name="nva",
            nodes=(*network.nodes, sdwan),
            connections=(*connections, HubBgpConnection(name="bgp", hub="hub1", nva="sdwan")),
        )
    )
    r = best(t["hub1"], "10.2.1.0/24")
    assert r is not None
    assert r.as_path == (65510,)
    assert best(t["branch2"], "10.77.0.0/16") is not None  # propagated static, inter-hub
    nva_rib = loc_prefixes(t["sdwan"])
    assert "10.100.0.0/16" in nva_rib  # branch-to-branch on
    assert "0.0.0.0/0" not in nva_rib  # its VNet connection does not propagate 0/0
