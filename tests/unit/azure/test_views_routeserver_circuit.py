"""Route Server per-instance routes ([AZ-ars]) and the MSEE route table ([AZ-er])."""

from __future__ import annotations

import pytest

from bgpemu.azure.model import (
    ExpressRouteCircuit,
    Network,
    Nva,
    OnPrem,
    RouteServer,
    RouteServerPeer,
    VNet,
)
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views import (
    circuit_routes,
    render_circuit_routes,
    render_route_server_routes,
    render_table,
    route_server_routes,
)
from bgpemu.rib.route import RibRoute
from tests.unit.azure.helpers import endpoint, plan_of

NET = Network(
    name="lab",
    nodes=(
        VNet(name="hub", address_space=("10.1.0.0/16",)),
        RouteServer(name="ars", vnet="hub", virtual_router_ips=("10.1.255.4", "10.1.255.5")),
        Nva(name="sdwan", vnet="hub", address="10.1.1.4", asn=65001, router_id="10.1.1.4"),
        OnPrem(name="op", asn=65020, bgp_peering_address="192.168.11.17", router_id="1.1.1.1"),
        ExpressRouteCircuit(
            name="er",
            peer="op",
            primary_peer_address_prefix="192.168.11.16/30",
            secondary_peer_address_prefix="192.168.11.20/30",
        ),
    ),
    connections=(RouteServerPeer(name="ars-sdwan", route_server="ars", nva="sdwan"),),
)


PLAN = plan_of(
    endpoint("ars.0", "ars", "route_server", "10.1.255.4", 65515, 0),
    endpoint("ars.1", "ars", "route_server", "10.1.255.5", 65515, 1),
    endpoint("sdwan", "sdwan", "nva", "10.1.1.4", 65001),
    endpoint("er.primary", "er", "expressroute", "192.168.11.18", 12076, 0),
    endpoint("er.secondary", "er", "expressroute", "192.168.11.22", 12076, 1),
    endpoint("op", "op", "onprem", "192.168.11.17", 65020),
)


def _route(prefix: str, next_hop: str, as_path: tuple[int, ...], **kw: object) -> RibRoute:
    return RibRoute(prefix=prefix, family="ipv4-unicast", next_hop=next_hop, as_path=as_path, **kw)  # type: ignore[arg-type]


def _ars(name: str, address: str) -> RouterSnapshot:
    return RouterSnapshot(
        name=name,
        asn=65515,
        router_id=address,
        adj_rib_in={
            "sdwan": (
                _route("10.250.0.0/16", "10.1.1.4", (65001,), peer="sdwan"),
                _route("10.200.0.0/16", "10.1.1.4", (65001, 65100), peer="sdwan"),
            )
        },
        adj_rib_out={"sdwan": (_route("10.1.0.0/16", address, (65515,), origin="igp"),)},
    )


SNAPS = {"ars.0": _ars("ars.0", "10.1.255.4"), "ars.1": _ars("ars.1", "10.1.255.5")}


def test_learned_routes_per_instance() -> None:
    view = route_server_routes(NET, PLAN, SNAPS, "ars", "sdwan", "learned")
    assert list(view) == ["RouteServiceRole_IN_0", "RouteServiceRole_IN_1", "value"]
    assert view["value"] is None
    assert view["RouteServiceRole_IN_1"] == [
        {
            "asPath": "65001-65100",
            "localAddress": "10.1.255.5",
            "network": "10.200.0.0/16",
            "nextHop": "10.1.1.4",
            "origin": "EBgp",
            "sourcePeer": "10.1.1.4",
            "weight": 32768,
        },
        {
            "asPath": "65001",
            "localAddress": "10.1.255.5",
            "network": "10.250.0.0/16",
            "nextHop": "10.1.1.4",
            "origin": "EBgp",
            "sourcePeer": "10.1.1.4",
            "weight": 32768,
        },
    ]


def test_advertised_routes_per_instance_by_peering_name() -> None:
    view = route_server_routes(NET, PLAN, SNAPS, "ars", "ars-sdwan", "advertised")
    assert view["RouteServiceRole_IN_0"] == [
        {
            "asPath": "65515",
            "localAddress": "10.1.255.4",
            "network": "10.1.0.0/16",
            "nextHop": "10.1.255.4",
            "origin": "Igp",
            "weight": 0,
        }
    ]
    text = render_route_server_routes(view)
    assert "RouteServiceRole_IN_1" in text
    assert render_table(view) == text


def test_route_server_errors() -> None:
    with pytest.raises(KeyError, match="op"):
        route_server_routes(NET, PLAN, SNAPS, "ars", "op", "learned")
    with pytest.raises(KeyError, match="hub"):
        route_server_routes(NET, PLAN, SNAPS, "hub", "sdwan", "learned")
    with pytest.raises(ValueError, match="sideways"):
        route_server_routes(NET, PLAN, SNAPS, "ars", "sdwan", "sideways")


def test_circuit_route_table_is_the_msee_loc_rib() -> None:
    msee = RouterSnapshot(
        name="er.secondary",
        asn=12076,
        router_id="192.168.11.22",
        loc_rib=(
            _route("10.1.11.0/25", "192.168.11.21", (65020,), local_pref=None, best=True),
            _route("10.17.11.0/25", "10.17.11.79", (65515,), best=True, multipath=True),
            _route("10.17.11.0/25", "10.17.11.78", (65515,), multipath=True),
        ),
    )
    view = circuit_routes(NET, PLAN, {"er.secondary": msee}, "er", "secondary")
    assert view["value"] == [
        {
            "locPrf": "",
            "network": "10.1.11.0/25",
            "nextHop": "192.168.11.21",
            "path": "65020",
            "weight": 0,
        },
        {
            "locPrf": "",
            "network": "10.17.11.0/25",
            "nextHop": "10.17.11.79",
            "path": "65515",
            "weight": 0,
        },
        {
            "locPrf": "",
            "network": "10.17.11.0/25",
            "nextHop": "10.17.11.78",
            "path": "65515",
            "weight": 0,
        },
    ]
    assert circuit_routes(NET, PLAN, {}, "er", "primary") == {"nextLink": None, "value": []}
    text = render_circuit_routes(view)
    assert text.splitlines()[0].split() == ["Network", "NextHop", "LocPrf", "Weight", "Path"]
    assert render_table(view) == text


def test_circuit_route_table_with_a_multi_asn_path_is_space_joined() -> None:
    msee = RouterSnapshot(
        name="er.primary",
        asn=12076,
        router_id="192.168.11.18",
        loc_rib=(
            _route("10.9.0.0/16", "192.168.11.17", (65100, 65020), local_pref=100, best=True),
        ),
    )
    (row,) = circuit_routes(NET, PLAN, {"er.primary": msee}, "er", "primary")["value"]
    assert row["path"] == "65100 65020"
    assert row["locPrf"] == "100"


def test_circuit_errors() -> None:
    with pytest.raises(ValueError, match="tertiary"):
        circuit_routes(NET, PLAN, {}, "er", "tertiary")
    with pytest.raises(KeyError, match="ars"):
        circuit_routes(NET, PLAN, {}, "ars", "primary")
