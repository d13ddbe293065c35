"""Role vpn_gateway: compiled specs and §9 scenarios 1-2 converged in the fabric."""

from __future__ import annotations

from bgpemu.azure.model import (
    Network,
    OnPrem,
    Peering,
    SiteToSite,
    VNet,
    VnetToVnet,
    VpnGateway,
)
from bgpemu.azure.roles import compile_network
from bgpemu.policy import Direction
from tests.unit.azure.helpers import (
    apply,
    best,
    converge,
    established,
    from_peer,
    loc_prefixes,
    neighbor_names,
    received,
    route,
    sent,
    site,
    spec,
)
from tests.unit.azure.scenarios import scenario1, scenario2


def test_scenario1_site_learns_vnet_ranges_with_gateway_asn() -> None:
    _plan, _fabric, t = converge(scenario1("10.51.0.0/16"))
    site = t["Site5"]
    for prefix in ("10.11.0.0/16", "10.12.0.0/16"):
        r = best(site, prefix)
        assert r is not None
        assert r.as_path == (65010,)
        assert r.next_hop == "10.12.255.30"
    learned = received(t["VNet1GW"], "Site5")
    assert learned["10.51.0.0/16"].as_path == (65050,)
    assert learned["10.51.0.0/16"].weight == 32768


def test_scenario1_exact_vnet_prefix_rejected_supernet_accepted() -> None:
    _plan, _fabric, t = converge(scenario1("10.11.0.0/16", "10.0.0.0/8"))
    gw = t["VNet1GW"]
    assert "10.11.0.0/16" not in received(gw, "Site5")
    assert "10.0.0.0/8" in received(gw, "Site5")
    local = best(gw, "10.11.0.0/16")
    assert local is not None
    assert local.peer is None


def test_scenario1_default_route_accepted_not_readvertised() -> None:
    network = scenario1("0.0.0.0/0")
    network = Network(
        name=network.name,
        nodes=(
            *network.nodes,
            OnPrem(name="Site6", asn=65060, bgp_peering_address="10.61.0.1", router_id="10.61.0.1"),
        ),
        connections=(
            *network.connections,
            SiteToSite(name="VNet1toSite6", gateway="VNet1GW", site="Site6"),
        ),
    )
    _plan, _fabric, t = converge(network)
    gw = t["VNet1GW"]
    assert "0.0.0.0/0" in loc_prefixes(gw)
    assert "0.0.0.0/0" not in sent(gw, "Site6")
    assert "0.0.0.0/0" not in loc_prefixes(t["Site6"])


def test_scenario2_transit_between_sites_without_default() -> None:
    _plan, _fabric, t = converge(scenario2())
    a, b = t["SiteA"], t["SiteB"]
    assert loc_prefixes(b) == {"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"}
    r = best(b, "10.1.0.0/16")
    assert r is not None
    assert r.as_path == (65515, 65001)
    assert "0.0.0.0/0" in loc_prefixes(a)  # its own
    assert "0.0.0.0/0" not in sent(t["gw"], "SiteB")
    static = best(a, "10.3.0.0/16")
    assert static is not None
    assert static.as_path == (65515,)
    assert best(t["gw"], "0.0.0.0/0") is not None  # learned, installed in the VNet


def test_scenario2_static_site_has_no_session_and_keeps_its_statics() -> None:
    plan, _fabric, t = converge(scenario2())
    assert neighbor_names(plan, "gw") == ["SiteA", "SiteB"]
    assert neighbor_names(plan, "SiteC") == []
    assert "10.3.0.0/16" in {r.prefix for r in spec(plan, "gw").router.routes}
    assert all(established(t["gw"]).values())


def test_lng_statics_not_sent_back_to_their_site() -> None:
    network = scenario2()
    connections = tuple(
        SiteToSite(name="a", gateway="gw", site="SiteA", local_address_prefixes=("10.9.0.0/16",))
        if c.name == "a"
        else c
        for c in network.connections
    )
    plan = compile_network(Network(name="x", nodes=network.nodes, connections=connections))
    static = route("10.9.0.0/16")
    assert apply(plan, "gw", "SiteA", Direction.EXPORT, static) is None
    assert apply(plan, "gw", "SiteB", Direction.EXPORT, static) is not None


def test_export_never_default_nor_learned_vnet_overlap() -> None:
    plan = compile_network(scenario2())
    site_a = from_peer(plan, "gw", "SiteA")
    assert (
        apply(plan, "gw", "SiteB", Direction.EXPORT, route("0.0.0.0/0", 65001, source=site_a))
        is None
    )
    learned_super = route("10.0.0.0/8", 65001, source=site_a)
    assert apply(plan, "gw", "SiteB", Direction.EXPORT, learned_super) is None
    learned_more = route("10.0.5.0/24", 65001, source=site_a)
    assert apply(plan, "gw", "SiteB", Direction.EXPORT, learned_more) is None
    assert apply(plan, "gw", "SiteB", Direction.EXPORT, route("10.0.0.0/16")) is not None


def test_max_prefix_4000_without_restart() -> None:
    plan = compile_network(scenario2())
    limit = spec(plan, "gw").router.neighbor("SiteA").max_prefix
    assert limit is not None
    assert limit.limit == 4000
    assert limit.restart_after is None


def test_gateway_transit_filters_peered_prefixes_and_spokes_are_originated() -> None:
    network = Network(
        name="t",
        nodes=(
            VNet(
                name="hub",
                address_space=("10.0.0.0/16",),
                peerings=(Peering(remote_virtual_network="spoke", allow_gateway_transit=True),),
            ),
            VNet(
                name="spoke",
                address_space=("10.1.0.0/16",),
                peerings=(Peering(remote_virtual_network="hub", use_remote_gateways=True),),
            ),
            VpnGateway(name="gw", vnet="hub", bgp_peering_addresses=("10.0.255.4",)),
            site("site", 65010, "192.168.0.1", "10.1.0.0/16"),
        ),
        connections=(SiteToSite(name="s", gateway="gw", site="site"),),
    )
    _plan, _fabric, t = converge(network)
    assert "10.1.0.0/16" not in received(t["gw"], "site")
    assert sent(t["gw"], "site")["10.1.0.0/16"].as_path == (65515,)  # spoke, via transit
    r = best(t["gw"], "10.1.0.0/16")
    assert r is not None
    assert r.peer is None


def test_active_active_two_instances_and_ecmp_on_prem() -> None:
    network = Network(
        name="aa",
        nodes=(
            VNet(name="v", address_space=("10.17.11.0/25",)),
            VpnGateway(
                name="gw",
                vnet="v",
                active_active=True,
                bgp_peering_addresses=("10.17.11.76", "10.17.11.77"),
            ),
            OnPrem(
                name="fw", asn=65020, bgp_peering_address="192.168.11.88", router_id="192.168.11.88"
            ),
        ),
        connections=(SiteToSite(name="c", gateway="gw", site="fw"),),
    )
    plan, _fabric, t = converge(network)
    assert neighbor_names(plan, "fw") == ["gw.0", "gw.1"]
    assert [e.speaker for e in plan.of_node("gw")] == ["gw.0", "gw.1"]
    routes = [r for r in t["fw"].loc_rib if r.prefix == "10.17.11.0/25"]
    assert {r.next_hop for r in routes if r.multipath} == {"10.17.11.76", "10.17.11.77"}


def _vnet_to_vnet(name: str, *links: VnetToVnet) -> Network:
    """Two VNets with a VPN gateway each (65010, 65020), ``links`` between the gateways,
    and site5 (65050) connected to gw1."""
    return Network(
        name=name,
        nodes=(
            VNet(name="v1", address_space=("10.11.0.0/16",)),
            VNet(name="v2", address_space=("10.21.0.0/16",)),
            VpnGateway(name="gw1", vnet="v1", asn=65010, bgp_peering_addresses=("10.11.255.30",)),
            VpnGateway(name="gw2", vnet="v2", asn=65020, bgp_peering_addresses=("10.21.255.30",)),
            site("site5", 65050, "10.51.255.254", "10.51.0.0/16"),
        ),
        connections=(SiteToSite(name="s", gateway="gw1", site="site5"), *links),
    )


def test_vnet_to_vnet_bgp_transit_to_site() -> None:
    network = _vnet_to_vnet(
        "v2v",
        VnetToVnet(name="1to2", gateway="gw1", remote_gateway="gw2"),
        VnetToVnet(name="2to1", gateway="gw2", remote_gateway="gw1"),
    )
    plan, _fabric, t = converge(network)
    assert neighbor_names(plan, "gw1") == ["gw2", "site5"]
    r = best(t["gw2"], "10.51.0.0/16")
    assert r is not None
    assert r.as_path == (65010, 65050)
    back = best(t["site5"], "10.21.0.0/16")
    assert back is not None
    assert back.as_path == (65010, 65020)


def test_apipa_site_makes_the_gateway_passive() -> None:
    network = scenario1()
    nodes = tuple(
        OnPrem(
            name="Site5", asn=65050, bgp_peering_address="169.254.21.1", router_id="10.51.255.254"
        )
        if n.name == "Site5"
        else n
        for n in network.nodes
    )
    plan, _fabric, t = converge(Network(name="apipa", nodes=nodes, connections=network.connections))
    gw_side = next(n for n in spec(plan, "VNet1GW").neighbors if n.name == "Site5")
    assert gw_side.session.passive
    assert established(t["VNet1GW"]) == {"Site5": True}


def test_vnet_to_vnet_without_bgp_gives_static_routes_between_the_two_vnets_only() -> None:
    from bgpemu.azure.snapshot import snapshot
    from bgpemu.azure.views import effective_routes

    network = _vnet_to_vnet(
        "v2v-static",
        VnetToVnet(name="1to2", gateway="gw1", remote_gateway="gw2", enable_bgp=False),
    )
    plan, fabric, _t = converge(network)
    snaps = {n: snapshot(n, fabric.router(n), fabric.sessions(n)) for n in fabric.nodes()}

    def gateway_prefixes(vnet: str) -> set[str]:
        view = effective_routes(network, plan, snaps, vnet)
        return {
            e["addressPrefix"][0]
            for e in view["value"]
            if e["source"] == "VirtualNetworkGateway" and e["state"] == "Active"
        }

    assert gateway_prefixes("v1") == {"10.21.0.0/16", "10.51.0.0/16"}
    assert gateway_prefixes("v2") == {"10.11.0.0/16"}  # no transit to site5 without BGP
    assert "10.21.0.0/16" not in loc_prefixes(snaps["site5"])  # nor to v2 from the site
