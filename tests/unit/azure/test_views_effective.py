"""Effective routes of a VNet subnet (§1, §2, §10 of azure-routing.md), hand-built RIBs."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.azure.model import (
    ExpressRouteGateway,
    HubRouting,
    HubVnetConnection,
    Network,
    NextHopType,
    Node,
    OnPrem,
    Peering,
    RouteServer,
    RouteTable,
    RoutingPreference,
    SiteToSite,
    Subnet,
    UserRoute,
    VNet,
    VpnGateway,
    VWan,
)
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views import effective_routes, render_effective_routes, render_table
from bgpemu.rib.route import RibRoute
from tests.unit.azure.helpers import endpoint, plan_of, vwan_hub

NONE_ROUTES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"}


def _learned(
    prefix: str, peer: str, as_path: tuple[int, ...], next_hop: str, weight: int = 0
) -> RibRoute:
    return RibRoute(
        prefix=prefix,
        family="ipv4-unicast",
        next_hop=next_hop,
        as_path=as_path,
        peer=peer,
        weight=weight,
        best=True,
        multipath=True,
    )


def _snap(name: str, asn: int, **adj_in: tuple[RibRoute, ...]) -> RouterSnapshot:
    return RouterSnapshot(name=name, asn=asn, router_id="10.0.0.1", adj_rib_in=adj_in)


def _rows(view: dict[str, Any]) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    return [
        (
            r["source"],
            r["state"],
            r["addressPrefix"][0],
            r["nextHopType"],
            tuple(r["nextHopIpAddress"]),
        )
        for r in view["value"]
    ]


def _find(view: dict[str, Any], source: str, prefix: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in view["value"] if r["source"] == source and r["addressPrefix"] == [prefix]
    ]
    assert len(found) == 1, (source, prefix, view)
    return found[0]


def _vnet(name: str = "v", space: tuple[str, ...] = ("10.1.0.0/16",), **kw: Any) -> VNet:
    return VNet(
        name=name, address_space=space, subnets=(Subnet(name="s", address_prefix=space[0]),), **kw
    )


def _net(*nodes: Node, connections: tuple[Any, ...] = ()) -> Network:
    return Network(name="lab", nodes=nodes, connections=connections)


# --------------------------------------------------------------------------- system routes


def test_default_system_routes_in_order() -> None:
    view = effective_routes(_net(_vnet()), plan_of(), {}, "v", "s")
    assert _rows(view) == [  # the order of the Azure docs' system-route table
        ("Default", "Active", "10.1.0.0/16", "VnetLocal", ()),
        ("Default", "Active", "0.0.0.0/0", "Internet", ()),
        ("Default", "Active", "10.0.0.0/8", "None", ()),
        ("Default", "Active", "172.16.0.0/12", "None", ()),
        ("Default", "Active", "192.168.0.0/16", "None", ()),
        ("Default", "Active", "100.64.0.0/10", "None", ()),
    ]
    first = view["value"][0]
    assert first["name"] is None
    assert first["disableBgpRoutePropagation"] is False
    assert set(first) == {
        "addressPrefix",
        "disableBgpRoutePropagation",
        "name",
        "nextHopIpAddress",
        "nextHopType",
        "source",
        "state",
    }


def test_one_vnet_local_route_per_range() -> None:
    vnet = _vnet(space=("10.11.0.0/16", "10.12.0.0/16"))
    view = effective_routes(_net(vnet), plan_of(), {}, "v", "s")
    local = [r["addressPrefix"][0] for r in view["value"] if r["nextHopType"] == "VnetLocal"]
    assert local == ["10.11.0.0/16", "10.12.0.0/16"]


def test_range_equal_to_a_none_route_flips_it_to_vnet_local() -> None:
    view = effective_routes(_net(_vnet(space=("10.0.0.0/8",))), plan_of(), {}, "v", "s")
    tens = [r for r in view["value"] if r["addressPrefix"] == ["10.0.0.0/8"]]
    assert [(r["nextHopType"], r["state"]) for r in tens] == [("VnetLocal", "Active")]


def test_range_containing_a_none_route_removes_it() -> None:
    view = effective_routes(_net(_vnet(space=("172.0.0.0/8",))), plan_of(), {}, "v", "s")
    prefixes = {r["addressPrefix"][0] for r in view["value"]}
    assert "172.16.0.0/12" not in prefixes
    assert _find(view, "Default", "172.0.0.0/8")["nextHopType"] == "VnetLocal"
    assert {"10.0.0.0/8", "192.168.0.0/16", "100.64.0.0/10"} <= prefixes


def test_peering_routes_need_both_sides() -> None:
    a = _vnet("a", ("10.1.0.0/16",), peerings=(Peering(remote_virtual_network="b"),))
    b = _vnet("b", ("10.2.0.0/16", "10.3.0.0/16"), peerings=(Peering(remote_virtual_network="a"),))
    c = _vnet("c", ("10.4.0.0/16",), peerings=(Peering(remote_virtual_network="a"),))
    view = effective_routes(_net(a, b, c), plan_of(), {}, "a", "s")
    peered = [r["addressPrefix"][0] for r in view["value"] if r["nextHopType"] == "VNetPeering"]
    assert peered == ["10.2.0.0/16", "10.3.0.0/16"]


def test_unknown_vnet_subnet_and_wrong_kind_raise_key_error_naming_them() -> None:
    net = _net(
        _vnet(), OnPrem(name="op", asn=65001, bgp_peering_address="1.1.1.1", router_id="1.1.1.1")
    )
    with pytest.raises(KeyError, match="nope"):
        effective_routes(net, plan_of(), {}, "nope", "s")
    with pytest.raises(KeyError, match="ghost"):
        effective_routes(net, plan_of(), {}, "v", "ghost")
    with pytest.raises(KeyError, match="op"):
        effective_routes(net, plan_of(), {}, "op")


# --------------------------------------------------------------------------- UDRs


def _with_table(*routes: UserRoute, disable: bool = False, **kw: Any) -> VNet:
    return VNet(
        name="v",
        address_space=("10.1.0.0/16",),
        subnets=(Subnet(name="s", address_prefix="10.1.0.0/24", route_table="rt"),),
        route_tables=(RouteTable(name="rt", routes=routes, disable_bgp_route_propagation=disable),),
        **kw,
    )


def test_user_default_route_overrides_internet_and_removes_none_routes() -> None:
    udr = UserRoute(
        name="to-fw",
        address_prefix="0.0.0.0/0",
        next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
        next_hop_ip_address="10.1.1.4",
    )
    view = effective_routes(_net(_with_table(udr)), plan_of(), {}, "v", "s")
    assert _rows(view) == [
        ("Default", "Active", "10.1.0.0/16", "VnetLocal", ()),
        ("Default", "Invalid", "0.0.0.0/0", "Internet", ()),
        ("User", "Active", "0.0.0.0/0", "VirtualAppliance", ("10.1.1.4",)),
    ]
    assert view["value"][-1]["name"] == "to-fw"


def test_udr_more_specific_than_the_vnet_wins_by_longest_prefix() -> None:
    udr = UserRoute(name="local24", address_prefix="10.1.0.0/24", next_hop_type=NextHopType.NONE)
    view = effective_routes(_net(_with_table(udr)), plan_of(), {}, "v", "s")
    assert _find(view, "User", "10.1.0.0/24")["state"] == "Active"
    assert _find(view, "Default", "10.1.0.0/16")["state"] == "Active"


def test_vnet_wide_table_has_no_udrs() -> None:
    udr = UserRoute(name="x", address_prefix="10.9.0.0/16", next_hop_type=NextHopType.NONE)
    view = effective_routes(_net(_with_table(udr)), plan_of(), {}, "v")
    assert all(r["source"] != "User" for r in view["value"])


# --------------------------------------------------------------------------- gateway routes

VPN = VpnGateway(
    name="gw", vnet="v", active_active=True, bgp_peering_addresses=("10.1.255.4", "10.1.255.5")
)
SITE = OnPrem(name="site", asn=65001, bgp_peering_address="172.20.0.1", router_id="172.20.0.1")
VPN_PLAN = (
    endpoint("gw.0", "gw", "vpn_gateway", "10.1.255.4", 65515, 0),
    endpoint("gw.1", "gw", "vpn_gateway", "10.1.255.5", 65515, 1),
    endpoint("site", "site", "onprem", "172.20.0.1", 65001),
)


def _vpn_snaps(*routes: tuple[str, tuple[int, ...]]) -> dict[str, RouterSnapshot]:
    learned = tuple(_learned(p, "site", path, "172.20.0.1", 32768) for p, path in routes)
    return {name: _snap(name, 65515, site=learned) for name in ("gw.0", "gw.1")}


def test_bgp_route_beats_none_route_with_both_instances_as_ecmp_next_hops() -> None:
    net = _net(_vnet(), VPN, SITE)
    view = effective_routes(
        net, plan_of(*VPN_PLAN), _vpn_snaps(("192.168.0.0/16", (65001,))), "v", "s"
    )
    gateway = _find(view, "VirtualNetworkGateway", "192.168.0.0/16")
    assert gateway["state"] == "Active"
    assert gateway["nextHopType"] == "VirtualNetworkGateway"
    assert gateway["nextHopIpAddress"] == ["10.1.255.4", "10.1.255.5"]
    assert _find(view, "Default", "192.168.0.0/16")["state"] == "Invalid"
    sources = [r["source"] for r in view["value"]]
    assert sources[:2] == ["Default", "VirtualNetworkGateway"]  # right after VnetLocal


def test_bgp_route_inside_the_vnet_or_a_peered_vnet_is_invalid() -> None:
    vnet = _vnet(space=("10.1.0.0/16",), peerings=(Peering(remote_virtual_network="p"),))
    peer = _vnet("p", ("10.2.0.0/16",), peerings=(Peering(remote_virtual_network="v"),))
    snaps = _vpn_snaps(
        ("10.1.5.0/24", (65001,)), ("10.2.0.0/16", (65001,)), ("10.0.0.0/8", (65001,))
    )
    view = effective_routes(_net(vnet, peer, VPN, SITE), plan_of(*VPN_PLAN), snaps, "v", "s")
    assert _find(view, "VirtualNetworkGateway", "10.1.5.0/24")["state"] == "Invalid"
    assert _find(view, "VirtualNetworkGateway", "10.2.0.0/16")["state"] == "Invalid"
    assert _find(view, "Default", "10.2.0.0/16")["state"] == "Active"
    # A supernet is not inside them: it beats the 10/8 None route (BGP > system).
    assert _find(view, "VirtualNetworkGateway", "10.0.0.0/8")["state"] == "Active"
    assert _find(view, "Default", "10.0.0.0/8")["state"] == "Invalid"


def test_bgp_default_route_overrides_internet_but_keeps_none_routes() -> None:
    view = effective_routes(
        _net(_vnet(), VPN, SITE), plan_of(*VPN_PLAN), _vpn_snaps(("0.0.0.0/0", (65001,))), "v", "s"
    )
    assert _find(view, "VirtualNetworkGateway", "0.0.0.0/0")["state"] == "Active"
    assert _find(view, "Default", "0.0.0.0/0")["state"] == "Invalid"
    assert {
        r["addressPrefix"][0] for r in view["value"] if r["nextHopType"] == "None"
    } >= NONE_ROUTES


def test_udr_beats_gateway_route_on_the_same_prefix() -> None:
    udr = UserRoute(
        name="fw",
        address_prefix="192.168.0.0/16",
        next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
        next_hop_ip_address="10.1.1.4",
    )
    net = _net(_with_table(udr), VPN, SITE)
    view = effective_routes(
        net, plan_of(*VPN_PLAN), _vpn_snaps(("192.168.0.0/16", (65001,))), "v", "s"
    )
    assert _find(view, "User", "192.168.0.0/16")["state"] == "Active"
    assert _find(view, "VirtualNetworkGateway", "192.168.0.0/16")["state"] == "Invalid"
    assert _find(view, "Default", "192.168.0.0/16")["state"] == "Invalid"
    assert [r["source"] for r in view["value"]][-1] == "User"


def test_disable_bgp_route_propagation_drops_gateway_routes() -> None:
    net = _net(_with_table(disable=True), VPN, SITE)
    view = effective_routes(
        net, plan_of(*VPN_PLAN), _vpn_snaps(("192.168.0.0/16", (65001,))), "v", "s"
    )
    assert all(r["source"] == "Default" for r in view["value"])
    assert all(r["disableBgpRoutePropagation"] is True for r in view["value"])


def test_lng_static_prefixes_are_gateway_routes_but_not_the_bgp_peer_host_route() -> None:
    s2s = SiteToSite(
        name="c1",
        gateway="gw",
        site="site",
        local_address_prefixes=("10.3.0.0/16", "172.20.0.1/32"),
    )
    view = effective_routes(
        _net(_vnet(), VPN, SITE, connections=(s2s,)), plan_of(*VPN_PLAN), {}, "v", "s"
    )
    gateway = [r for r in view["value"] if r["source"] == "VirtualNetworkGateway"]
    assert [(r["addressPrefix"], r["nextHopIpAddress"]) for r in gateway] == [
        (["10.3.0.0/16"], ["10.1.255.4", "10.1.255.5"])
    ]


def test_shorter_as_path_instance_only_when_instances_differ() -> None:
    snaps = {
        "gw.0": _snap(
            "gw.0", 65515, site=(_learned("10.9.0.0/16", "site", (65001,), "172.20.0.1"),)
        ),
        "gw.1": _snap(
            "gw.1", 65515, site=(_learned("10.9.0.0/16", "site", (65001, 65001), "172.20.0.1"),)
        ),
    }
    view = effective_routes(_net(_vnet(), VPN, SITE), plan_of(*VPN_PLAN), snaps, "v", "s")
    assert _find(view, "VirtualNetworkGateway", "10.9.0.0/16")["nextHopIpAddress"] == ["10.1.255.4"]


# --------------------------------------------------------------------------- ER / ARS choice

ERGW = ExpressRouteGateway(name="ergw", vnet="hub", bgp_peering_address="10.0.255.6")
VPN_HUB = VpnGateway(name="vpngw", vnet="hub", bgp_peering_addresses=("10.0.255.4",))
ARS = RouteServer(name="ars", vnet="hub", virtual_router_ips=("10.0.254.4", "10.0.254.5"))
HUB_PLAN = (
    endpoint("ergw", "ergw", "expressroute_gateway", "10.0.255.6", 65515),
    endpoint("vpngw", "vpngw", "vpn_gateway", "10.0.255.4", 65515),
    endpoint("er.primary", "er", "expressroute", "192.168.11.18", 12076, 0),
    endpoint("er.secondary", "er", "expressroute", "192.168.11.22", 12076, 1),
    endpoint("site", "site", "onprem", "192.168.11.88", 65020),
    endpoint("ars.0", "ars", "route_server", "10.0.254.4", 65515, 0),
    endpoint("ars.1", "ars", "route_server", "10.0.254.5", 65515, 1),
    endpoint("nva1", "nva1", "nva", "10.0.1.4", 65001),
    endpoint("nva2", "nva2", "nva", "10.0.1.5", 65002),
)


def _hub_snaps(prefix: str = "10.1.11.0/25") -> dict[str, RouterSnapshot]:
    er = (65020,)
    return {
        "ergw": _snap(
            "ergw",
            65515,
            **{
                "er.primary": (
                    _learned(prefix, "er.primary", (12076, *er), "192.168.11.18", 32769),
                ),
                "er.secondary": (
                    _learned(prefix, "er.secondary", (12076, *er), "192.168.11.22", 32769),
                ),
            },
        ),
        "vpngw": RouterSnapshot(
            name="vpngw",
            asn=65515,
            router_id="10.0.255.4",
            # The VPN gateway's own decision prefers the ER copy (weight 32769) ...
            loc_rib=(_learned(prefix, "ergw", (12076, 65020), "10.0.255.6", 32769),),
            # ... yet its VPN copy must still compete in the VNet.
            adj_rib_in={
                "site": (_learned(prefix, "site", er, "192.168.11.88", 32768),),
                "ergw": (_learned(prefix, "ergw", (12076, 65020), "10.0.255.6", 32769),),
            },
        ),
    }


def _hub(preference: RoutingPreference | None) -> Network:
    hub = _vnet("hub", ("10.0.0.0/16",))
    nodes: list[Node] = [hub, ERGW, VPN_HUB]
    if preference is not None:
        nodes.append(
            RouteServer(
                name="ars",
                vnet="hub",
                virtual_router_ips=("10.0.254.4", "10.0.254.5"),
                hub_routing_preference=preference,
            )
        )
    return _net(*nodes)


def test_er_beats_vpn_without_route_server_next_hops_are_the_msees() -> None:
    view = effective_routes(_hub(None), plan_of(*HUB_PLAN), _hub_snaps(), "hub", "s")
    route = _find(view, "VirtualNetworkGateway", "10.1.11.0/25")
    assert route["nextHopIpAddress"] == ["192.168.11.18", "192.168.11.22"]


@pytest.mark.parametrize(
    ("preference", "hops"),
    [
        (RoutingPreference.EXPRESS_ROUTE, ["192.168.11.18", "192.168.11.22"]),
        (RoutingPreference.VPN_GATEWAY, ["10.0.255.4"]),
        (RoutingPreference.AS_PATH, ["10.0.255.4"]),
    ],
)
def test_route_server_routing_preference_chooses_between_er_and_vpn(
    preference: RoutingPreference, hops: list[str]
) -> None:
    view = effective_routes(_hub(preference), plan_of(*HUB_PLAN), _hub_snaps(), "hub", "s")
    assert _find(view, "VirtualNetworkGateway", "10.1.11.0/25")["nextHopIpAddress"] == hops


def _ars_snaps(*paths: tuple[str, str, tuple[int, ...], str]) -> dict[str, RouterSnapshot]:
    adj: dict[str, list[RibRoute]] = {}
    for prefix, nva, as_path, next_hop in paths:
        adj.setdefault(nva, []).append(_learned(prefix, nva, as_path, next_hop))
    frozen = {k: tuple(v) for k, v in adj.items()}
    return {name: _snap(name, 65515, **frozen) for name in ("ars.0", "ars.1")}


def test_route_server_injects_nva_routes_with_their_next_hop_and_ecmp() -> None:
    net = _net(_vnet("hub", ("10.0.0.0/16",)), ARS)
    snaps = _ars_snaps(
        ("10.250.0.0/16", "nva1", (65001,), "10.0.1.4"),
        ("10.250.0.0/16", "nva2", (65002,), "10.0.1.5"),
        ("0.0.0.0/0", "nva1", (65001,), "10.0.2.100"),
        ("0.0.0.0/0", "nva2", (65002, 65002), "10.0.1.5"),
        ("10.0.3.0/24", "nva1", (65001,), "10.0.1.4"),
        ("10.0.0.0/8", "nva1", (65001,), "10.0.1.4"),
    )
    view = effective_routes(net, plan_of(*HUB_PLAN), snaps, "hub", "s")
    ecmp = _find(view, "VirtualNetworkGateway", "10.250.0.0/16")
    assert ecmp["nextHopIpAddress"] == ["10.0.1.4", "10.0.1.5"]
    assert _find(view, "VirtualNetworkGateway", "0.0.0.0/0")["nextHopIpAddress"] == ["10.0.2.100"]
    prefixes = {r["addressPrefix"][0] for r in view["value"] if r["source"] != "Default"}
    assert "10.0.3.0/24" not in prefixes  # inside the Route Server's VNet: never injected
    assert "10.0.0.0/8" in prefixes  # a supernet is injected


def test_gateway_transit_needs_use_remote_gateways_and_allow_gateway_transit() -> None:
    def build(transit: bool) -> Network:
        hub = _vnet(
            "hub",
            ("10.0.0.0/16",),
            peerings=(Peering(remote_virtual_network="spoke", allow_gateway_transit=transit),),
        )
        spoke = _vnet(
            "spoke",
            ("10.5.0.0/16",),
            peerings=(Peering(remote_virtual_network="hub", use_remote_gateways=True),),
        )
        return _net(hub, spoke, ARS)

    snaps = _ars_snaps(("10.250.0.0/16", "nva1", (65001,), "10.0.1.4"))
    on = effective_routes(build(True), plan_of(*HUB_PLAN), snaps, "spoke", "s")
    assert _find(on, "VirtualNetworkGateway", "10.250.0.0/16")["nextHopIpAddress"] == ["10.0.1.4"]
    assert _find(on, "Default", "10.0.0.0/16")["nextHopType"] == "VNetPeering"
    off = effective_routes(build(False), plan_of(*HUB_PLAN), snaps, "spoke", "s")
    assert all(r["source"] == "Default" for r in off["value"])


# --------------------------------------------------------------------------- vWAN spokes


def test_vwan_spoke_gets_its_associated_table_through_the_hub_router() -> None:
    from bgpemu.azure.hubrouting import connection_tag

    v1 = _vnet("v1", ("10.1.0.0/24",))
    v2 = _vnet("v2", ("10.2.0.0/24",))
    hub = vwan_hub("hub1", 1)

    def conn(name: str, vnet: str, internet: bool) -> HubVnetConnection:
        return HubVnetConnection(
            name=name,
            hub="hub1",
            vnet=vnet,
            routing_configuration=HubRouting(),
            enable_internet_security=internet,
        )

    net = _net(
        VWan(name="wan"),
        hub,
        v1,
        v2,
        connections=(conn("c1", "v1", False), conn("c2", "v2", True)),
    )

    def local(prefix: str, connection: str) -> RibRoute:
        a, b, c = connection_tag(net, connection)
        return RibRoute(
            prefix=prefix,
            family="ipv4-unicast",
            next_hop="192.168.1.68",
            large_communities=(f"{a}:{b}:{c}",),
            best=True,
            multipath=True,
        )

    snap = RouterSnapshot(
        name="hub1",
        asn=65515,
        router_id="192.168.1.68",
        loc_rib=(local("10.1.0.0/24", "c1"), local("10.2.0.0/24", "c2"), local("0.0.0.0/0", "c2")),
    )
    plan = plan_of(endpoint("hub1", "hub1", "vwan_hub", "192.168.1.68", 65515))
    view = effective_routes(net, plan, {"hub1": snap}, "v1", "s")
    gateway = [r for r in view["value"] if r["source"] == "VirtualNetworkGateway"]
    # Its own range is never programmed back; 0/0 only with enable_internet_security.
    assert [(r["addressPrefix"], r["nextHopIpAddress"]) for r in gateway] == [
        (["10.2.0.0/24"], ["192.168.1.68", "192.168.1.69"])
    ]
    v2_view = effective_routes(net, plan, {"hub1": snap}, "v2", "s")
    assert _find(v2_view, "VirtualNetworkGateway", "0.0.0.0/0")["state"] == "Active"


def test_render_table_has_az_columns() -> None:
    view = effective_routes(_net(_vnet()), plan_of(), {}, "v", "s")
    text = render_effective_routes(view)
    lines = text.splitlines()
    assert lines[0].split() == [
        "Source",
        "State",
        "Address",
        "Prefix",
        "Next",
        "Hop",
        "Type",
        "Next",
        "Hop",
        "IP",
    ]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["Default", "Active", "10.1.0.0/16", "VnetLocal"]
    assert render_table(view) == text


# --------------------------------------------------------------------------- shared pieces


def test_shared_gateway_offers_give_every_vnet_the_views_it_gets_alone() -> None:
    """One GatewayOffers (and HubTables) over many VNets' views, as a traffic context
    keeps them: the serving hub's routes are chosen once, and no VNet's hub routes
    (vWAN, §5.3) leak into another's through the shared choice."""
    from bgpemu.azure.views.hub import HubTables
    from bgpemu.azure.views.sources import GatewayOffers, gateway_vnet

    hub = _vnet(
        "hub",
        ("10.0.0.0/16",),
        peerings=(
            Peering(remote_virtual_network="s1", allow_gateway_transit=True),
            Peering(remote_virtual_network="s2", allow_gateway_transit=True),
        ),
    )
    spokes = [
        _vnet(
            name,
            (space,),
            peerings=(Peering(remote_virtual_network="hub", use_remote_gateways=True),),
        )
        for name, space in (("s1", "10.5.0.0/16"), ("s2", "10.6.0.0/16"))
    ]
    net = _net(hub, *spokes, ARS)
    plan = plan_of(*HUB_PLAN)
    snaps = _ars_snaps(
        ("10.250.0.0/16", "nva1", (65001,), "10.0.1.4"),
        ("10.250.0.0/16", "nva2", (65002,), "10.0.1.5"),
    )
    offers = GatewayOffers(net, plan, snaps)
    tables = HubTables(net, plan, snaps)
    for name in ("s1", "hub", "s2"):
        shared = effective_routes(
            net, plan, snaps, name, "s", hub_tables=tables, gateway_offers=offers
        )
        assert shared == effective_routes(net, plan, snaps, name, "s")
    served = gateway_vnet(net, spokes[0])
    assert served.name == "hub"
    assert offers.chosen(served) is offers.chosen(gateway_vnet(net, spokes[1]))


def test_shared_gateway_offers_keep_each_vnet_its_own_hub_routes() -> None:
    """Two spokes served by one hub's Route Server, one of them also connected to a vWAN
    hub: its hub routes stay its own when the other's view is made after it."""
    from bgpemu.azure.hubrouting import connection_tag
    from bgpemu.azure.views.hub import HubTables
    from bgpemu.azure.views.sources import GatewayOffers

    hub = _vnet(
        "hub",
        ("10.0.0.0/16",),
        peerings=tuple(
            Peering(remote_virtual_network=name, allow_gateway_transit=True)
            for name in ("s1", "s2")
        ),
    )
    s1, s2 = (
        _vnet(
            name,
            (space,),
            peerings=(Peering(remote_virtual_network="hub", use_remote_gateways=True),),
        )
        for name, space in (("s1", "10.5.0.0/16"), ("s2", "10.6.0.0/16"))
    )
    connection = HubVnetConnection(
        name="c2",
        hub="hub1",
        vnet="s2",
        routing_configuration=HubRouting(),
        enable_internet_security=True,
    )
    net = _net(VWan(name="wan"), vwan_hub("hub1", 1), hub, s1, s2, ARS, connections=(connection,))
    a, b, c = connection_tag(net, "c2")
    snaps = _ars_snaps(("10.250.0.0/16", "nva1", (65001,), "10.0.1.4"))
    snaps["hub1"] = RouterSnapshot(
        name="hub1",
        asn=65515,
        router_id="192.168.1.68",
        loc_rib=tuple(
            RibRoute(
                prefix=prefix,
                family="ipv4-unicast",
                next_hop="192.168.1.68",
                large_communities=(f"{a}:{b}:{c}",),
                best=True,
                multipath=True,
            )
            for prefix in ("10.6.0.0/16", "0.0.0.0/0", "10.99.0.0/16")
        ),
    )
    plan = plan_of(*HUB_PLAN, endpoint("hub1", "hub1", "vwan_hub", "192.168.1.68", 65515))
    alone = {name: effective_routes(net, plan, snaps, name, "s") for name in ("s1", "s2")}
    assert _find(alone["s2"], "VirtualNetworkGateway", "10.99.0.0/16")["state"] == "Active"
    assert not [r for r in alone["s1"]["value"] if r["addressPrefix"] == ["10.99.0.0/16"]]
    offers = GatewayOffers(net, plan, snaps)
    tables = HubTables(net, plan, snaps)
    for name in ("s2", "s1", "s2"):
        shared = effective_routes(
            net, plan, snaps, name, "s", hub_tables=tables, gateway_offers=offers
        )
        assert shared == alone[name], name
