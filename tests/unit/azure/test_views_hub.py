"""vWAN hub effective routes per route table (§5.3-§5.5, [AZ-vhub]), hand-built RIBs."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.azure.hubrouting import connection_tag
from bgpemu.azure.model import (
    Connection,
    ExpressRouteCircuit,
    HubExpressRouteConnection,
    HubRouteTable,
    HubRouting,
    HubStaticRoute,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    OnPrem,
    P2sConfig,
    RoutingPreference,
    VNet,
    VWan,
    VWanHub,
)
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views import hub_routes, render_hub_routes, render_table
from bgpemu.rib.route import RibRoute
from tests.unit.azure.helpers import endpoint, plan_of, vwan_hub

RG = (
    "/subscriptions/00000000-0000-0000-0000-000000000000"
    "/resourceGroups/lab/providers/Microsoft.Network"
)


def _hub(name: str, preference: RoutingPreference, *tables: HubRouteTable) -> VWanHub:
    third = 1 if name == "hub1" else 2
    return vwan_hub(
        name,
        third,
        hub_routing_preference=preference,
        route_tables=tables,
        p2s=(P2sConfig(name="p2s", address_pools=("172.30.0.0/24",)),) if name == "hub1" else (),
    )


ISOLATED = "RT_VNET"


def _network(
    preference: RoutingPreference = RoutingPreference.EXPRESS_ROUTE,
    *,
    tables: tuple[HubRouteTable, ...] = (),
) -> Network:
    branch = HubRouting(propagated_route_tables=("defaultRouteTable", ISOLATED))
    connections: tuple[Connection, ...] = (
        HubVnetConnection(name="c-v1", hub="hub1", vnet="v1"),
        HubVnetConnection(
            name="c-v2",
            hub="hub1",
            vnet="v2",
            routing_configuration=HubRouting(associated_route_table=ISOLATED, labels=()),
        ),
        HubVpnConnection(name="c-b1", hub="hub1", site="b1", routing_configuration=branch),
        HubExpressRouteConnection(
            name="c-er", hub="hub1", circuit="er", routing_configuration=branch
        ),
        HubExpressRouteConnection(
            name="c-er2", hub="hub1", circuit="er2", routing_configuration=branch, routing_weight=10
        ),
        HubVnetConnection(name="c-v3", hub="hub2", vnet="v3"),
        HubVpnConnection(name="c-b2", hub="hub2", site="b2"),
        HubExpressRouteConnection(name="c-er3", hub="hub2", circuit="er3"),
    )
    return Network(
        name="lab",
        nodes=(
            VWan(name="wan"),
            _hub("hub1", preference, HubRouteTable(name=ISOLATED), *tables),
            _hub("hub2", RoutingPreference.EXPRESS_ROUTE),
            VNet(name="v1", address_space=("10.1.0.0/24",)),
            VNet(name="v2", address_space=("10.2.0.0/24",)),
            VNet(name="v3", address_space=("10.3.0.0/24",)),
            OnPrem(name="b1", asn=65001, bgp_peering_address="10.100.0.1", router_id="10.100.0.1"),
            OnPrem(name="b2", asn=65002, bgp_peering_address="10.200.0.1", router_id="10.200.0.1"),
            *(
                ExpressRouteCircuit(
                    name=name,
                    peer="b1",
                    primary_peer_address_prefix="192.0.2.0/30",
                    secondary_peer_address_prefix="192.0.2.4/30",
                )
                for name in ("er", "er2", "er3")
            ),
        ),
        connections=connections,
    )


PLAN = plan_of(
    endpoint("hub1", "hub1", "vwan_hub", "192.168.1.68", 65515),
    endpoint("hub2", "hub2", "vwan_hub", "192.168.2.68", 65515),
    endpoint("b1", "b1", "onprem", "10.100.0.1", 65001),
    endpoint("er.primary", "er", "expressroute", "192.0.2.2", 12076),
    endpoint("er2.primary", "er2", "expressroute", "192.0.2.10", 12076),
)


def _path(
    net: Network, prefix: str, connection: str, peer: str | None, as_path: tuple[int, ...] = ()
) -> RibRoute:
    a, b, c = connection_tag(net, connection)
    return RibRoute(
        prefix=prefix,
        family="ipv4-unicast",
        next_hop="192.0.2.1",
        as_path=as_path,
        peer=peer,
        large_communities=(f"{a}:{b}:{c}",),
    )


def _snap(loc: tuple[RibRoute, ...], **adj: tuple[RibRoute, ...]) -> dict[str, RouterSnapshot]:
    return {
        "hub1": RouterSnapshot(
            name="hub1", asn=65515, router_id="192.168.1.68", loc_rib=loc, adj_rib_in=adj
        )
    }


def _table(view: dict[str, Any]) -> list[tuple[str, str, list[str], str | None, str]]:
    return [
        (
            r["addressPrefixes"][0],
            r["nextHopType"],
            [hop.removeprefix(RG) for hop in r["nextHops"]],
            r.get("asPath"),  # az has none on a VNet connection's routes
            r["routeOrigin"].removeprefix(RG),
        )
        for r in view["value"]
    ]


def test_default_table_lists_local_branch_and_remote_hub_routes() -> None:
    net = _network()
    snaps = _snap(
        (
            _path(net, "10.1.0.0/24", "c-v1", None),
            _path(net, "10.2.0.0/24", "c-v2", None),
            _path(net, "10.100.0.0/16", "c-b1", "b1", (65001,)),
            _path(net, "10.3.0.0/24", "c-v3", "hub2", (65520, 65520)),
            _path(net, "10.200.0.0/16", "c-b2", "hub2", (65520, 65520, 65002)),
        )
    )
    view = hub_routes(net, PLAN, snaps, "hub1")
    assert _table(view) == [
        (
            "10.1.0.0/24",
            "Virtual Network Connection",
            ["/virtualHubs/hub1/hubVirtualNetworkConnections/c-v1"],
            None,
            "/virtualHubs/hub1/hubVirtualNetworkConnections/c-v1",
        ),
        (
            "10.2.0.0/24",
            "Virtual Network Connection",
            ["/virtualHubs/hub1/hubVirtualNetworkConnections/c-v2"],
            None,
            "/virtualHubs/hub1/hubVirtualNetworkConnections/c-v2",
        ),
        (
            "10.3.0.0/24",
            "Remote Hub",
            ["/virtualHubs/hub2"],
            "65520-65520",
            "/virtualHubs/hub2",
        ),
        (
            "10.100.0.0/16",
            "VPN_S2S_Gateway",
            ["/vpnGateways/hub1-vpngw"],
            "65001",
            "/vpnGateways/hub1-vpngw/vpnConnections/c-b1",
        ),
        (
            "10.200.0.0/16",
            "Remote Hub",
            ["/virtualHubs/hub2"],
            "65520-65520-65002",
            "/virtualHubs/hub2",
        ),
    ]
    # Scenario 8a: RT_VNET (associated by v2) holds the branch only, not the VNets.
    isolated = hub_routes(net, PLAN, snaps, "hub1", ISOLATED)
    assert [r["addressPrefixes"] for r in isolated["value"]] == [["10.100.0.0/16"]]
    assert hub_routes(net, PLAN, snaps, "hub1", "noneRouteTable") == {"value": []}


def test_unknown_hub_or_table_is_a_key_error() -> None:
    net = _network()
    with pytest.raises(KeyError, match="RT_NOPE"):
        hub_routes(net, PLAN, {}, "hub1", "RT_NOPE")
    with pytest.raises(KeyError, match="v1"):
        hub_routes(net, PLAN, {}, "v1")


def _er_vs_vpn(net: Network) -> dict[str, RouterSnapshot]:
    vpn = _path(net, "10.50.0.0/16", "c-b1", "b1", (65001,))
    er = _path(net, "10.50.0.0/16", "c-er", "er.primary", (12076, 65001))
    # The hub's global best is the VPN copy; the ER copy is only in its Adj-RIB-In.
    return _snap((vpn,), **{"b1": (vpn,), "er.primary": (er,)})


@pytest.mark.parametrize(
    ("preference", "kind"),
    [
        (RoutingPreference.EXPRESS_ROUTE, "ExpressRouteGateway"),
        (RoutingPreference.VPN_GATEWAY, "VPN_S2S_Gateway"),
        (RoutingPreference.AS_PATH, "VPN_S2S_Gateway"),
    ],
)
def test_hub_routing_preference_between_local_er_and_vpn(
    preference: RoutingPreference, kind: str
) -> None:
    net = _network(preference)
    view = hub_routes(net, PLAN, _er_vs_vpn(net), "hub1")
    assert [r["nextHopType"] for r in view["value"]] == [kind]


def test_local_beats_remote_then_remote_vpn_beats_remote_er() -> None:
    net = _network()
    remote_vpn = _path(net, "10.60.0.0/16", "c-b2", "hub2", (65520, 65520, 65002))
    remote_er = _path(net, "10.60.0.0/16", "c-er3", "hub2", (65520, 65520, 12076, 65002))
    local_vpn = _path(net, "10.70.0.0/16", "c-b1", "b1", (65001, 65001, 65001, 65001))
    remote_short = _path(net, "10.70.0.0/16", "c-b2", "hub2", (65520, 65520, 65002))
    snaps = _snap((), hub2=(remote_vpn, remote_er, remote_short), b1=(local_vpn,))
    view = hub_routes(net, PLAN, snaps, "hub1")
    assert [(r["addressPrefixes"][0], r["nextHopType"], r["asPath"]) for r in view["value"]] == [
        ("10.60.0.0/16", "Remote Hub", "65520-65520-65002"),
        ("10.70.0.0/16", "VPN_S2S_Gateway", "65001-65001-65001-65001"),
    ]
    # AS Path preference: the shortest path first, whatever its origin.
    as_path = hub_routes(_network(RoutingPreference.AS_PATH), PLAN, snaps, "hub1")
    assert as_path["value"][1]["nextHopType"] == "Remote Hub"


def test_er_connection_routing_weight_and_ecmp() -> None:
    net = _network()
    low = _path(net, "10.80.0.0/16", "c-er", "er.primary", (12076, 65001))
    high = _path(net, "10.80.0.0/16", "c-er2", "er2.primary", (12076, 65001))
    view = hub_routes(
        net, PLAN, _snap((), **{"er.primary": (low,), "er2.primary": (high,)}), "hub1"
    )
    assert view["value"][0]["routeOrigin"].endswith("expressRouteConnections/c-er2")
    a = _path(net, "10.90.0.0/16", "c-b1", "b1", (65001,))
    b = _path(net, "10.90.0.0/16", "c-v1", None, (65001,))
    ecmp = hub_routes(net, PLAN, _snap((b,), b1=(a,)), "hub1")["value"][0]
    assert [hop.removeprefix(RG) for hop in ecmp["nextHops"]] == [
        "/virtualHubs/hub1/hubVirtualNetworkConnections/c-v1",
        "/vpnGateways/hub1-vpngw",
    ]


def test_static_route_beats_bgp_and_stays_in_its_own_table() -> None:
    static = HubStaticRoute(name="to-fw", destinations=("10.100.0.0/16",), next_hop="c-v1")
    net = _network(tables=(HubRouteTable(name="defaultRouteTable", routes=(static,)),))
    snaps = _snap((_path(net, "10.100.0.0/16", "c-b1", "b1", (65001,)),))
    (row,) = hub_routes(net, PLAN, snaps, "hub1")["value"]
    assert row["nextHopType"] == "Virtual Network Connection"
    assert row["nextHops"] == [f"{RG}/virtualHubs/hub1/hubVirtualNetworkConnections/c-v1"]
    assert row["routeOrigin"] == f"{RG}/virtualHubs/hub1/hubRouteTables/defaultRouteTable"
    assert "asPath" not in row  # a VNet connection's route, as az prints it


def test_untagged_p2s_pool_is_a_branch_route_of_default() -> None:
    pool = RibRoute(prefix="172.30.0.0/24", family="ipv4-unicast", next_hop=None, best=True)
    stray = RibRoute(prefix="172.31.0.0/24", family="ipv4-unicast", next_hop=None, best=True)
    net = _network()
    view = hub_routes(net, PLAN, _snap((pool, stray)), "hub1")
    assert _table(view) == [
        (
            "172.30.0.0/24",
            "P2S",
            ["/p2sVpnGateways/hub1-p2sgw"],
            "",
            "/p2sVpnGateways/hub1-p2sgw",
        )
    ]
    assert hub_routes(net, PLAN, _snap((pool,)), "hub1", ISOLATED) == {"value": []}


def test_same_tag_from_a_local_peer_and_from_the_remote_hub() -> None:
    """The candidate depends on the neighbour as well as the tag (the view works out each
    (neighbour, tag) once): a c-b1 path from b1 is local, one from hub2 is Remote Hub."""
    net = _network()
    local = _path(net, "10.100.0.0/16", "c-b1", "b1", (65001,))
    remote = _path(net, "10.101.0.0/16", "c-b1", "hub2", (65520, 65520, 65001))
    for order in ((local, remote), (remote, local)):
        view = hub_routes(net, PLAN, _snap(order), "hub1")
        assert [(r[0], r[1], r[2]) for r in _table(view)] == [
            ("10.100.0.0/16", "VPN_S2S_Gateway", ["/vpnGateways/hub1-vpngw"]),
            ("10.101.0.0/16", "Remote Hub", ["/virtualHubs/hub2"]),
        ]


def test_render() -> None:
    net = _network()
    view = hub_routes(net, PLAN, _snap((_path(net, "10.1.0.0/24", "c-v1", None),)), "hub1")
    text = render_hub_routes(view)
    assert text.splitlines()[0].split()[:2] == ["Address", "Prefixes"]
    assert "c-v1" in text
    assert render_table(view) == text
