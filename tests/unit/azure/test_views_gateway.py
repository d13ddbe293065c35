"""Gateway learned/advertised routes and BGP peer status ([AZ-gw], [AZ-peer]), hand-built RIBs."""

from __future__ import annotations

import pytest

from bgpemu.azure.model import Network, OnPrem, VNet, VpnGateway
from bgpemu.azure.snapshot import PeerStatus, RouterSnapshot
from bgpemu.azure.views import (
    advertised_routes,
    bgp_peer_status,
    learned_routes,
    render_peer_status,
    render_routes,
    render_table,
)
from bgpemu.azure.views.gateway import connected_duration, peer_state
from bgpemu.rib.route import RibRoute
from tests.unit.azure.helpers import endpoint, plan_of

NET = Network(
    name="lab",
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
)


PLAN = plan_of(
    endpoint("gw.0", "gw", "vpn_gateway", "10.17.11.76", 65515, 0),
    endpoint("gw.1", "gw", "vpn_gateway", "10.17.11.77", 65515, 1),
    endpoint("fw", "fw", "onprem", "192.168.11.88", 65020),
    endpoint("ergw", "ergw", "expressroute_gateway", "10.17.11.78", 65515),
)


def _route(prefix: str, **kw: object) -> RibRoute:
    return RibRoute(prefix=prefix, family="ipv4-unicast", **kw)  # type: ignore[arg-type]


def _snap(name: str, address: str) -> RouterSnapshot:
    return RouterSnapshot(
        name=name,
        asn=65515,
        router_id=address,
        loc_rib=(
            _route("10.17.11.0/25", next_hop=address, best=True, multipath=True, weight=32768),
            _route(
                "10.1.11.0/25",
                next_hop="10.17.11.78",
                as_path=(12076, 65020),
                peer="ergw",
                weight=32769,
                best=True,
                multipath=True,
            ),
        ),
        adj_rib_in={
            "fw": (
                _route(
                    "10.1.11.0/25",
                    next_hop="192.168.11.88",
                    as_path=(65020,),
                    peer="fw",
                    weight=32768,
                ),
            ),
            "ergw": (
                _route(
                    "10.1.11.0/25",
                    next_hop="10.17.11.78",
                    as_path=(12076, 65020),
                    peer="ergw",
                    weight=32769,
                ),
            ),
        },
        adj_rib_out={
            "fw": (
                _route("10.17.11.0/25", next_hop=address, as_path=(65515,), origin="igp"),
                _route("10.17.11.128/26", next_hop=address, as_path=(65515,), origin="incomplete"),
            )
        },
        peers=(
            PeerStatus(
                peer="fw",
                state="Established",
                established_at=10.0,
                routes_received=1,
                messages_sent=7,
                messages_received=5,
            ),
            PeerStatus(peer="ergw", state="OpenSent"),
        ),
    )


SNAPS = {"gw.0": _snap("gw.0", "10.17.11.76"), "gw.1": _snap("gw.1", "10.17.11.77")}


def test_learned_routes_list_network_ebgp_and_ibgp_rows_per_instance() -> None:
    value = learned_routes(NET, PLAN, SNAPS, "gw")["value"]
    first = [r for r in value if r["localAddress"] == "10.17.11.76"]
    assert first == [
        {
            "asPath": "65020",
            "localAddress": "10.17.11.76",
            "network": "10.1.11.0/25",
            "nextHop": "192.168.11.88",
            "origin": "EBgp",
            "sourcePeer": "192.168.11.88",
            "weight": 32768,
        },
        {
            "asPath": "12076-65020",
            "localAddress": "10.17.11.76",
            "network": "10.1.11.0/25",
            "nextHop": "10.17.11.78",
            "origin": "IBgp",
            "sourcePeer": "10.17.11.78",
            "weight": 32769,
        },
        {
            "asPath": "",
            "localAddress": "10.17.11.76",
            "network": "10.17.11.0/25",
            "nextHop": None,
            "origin": "Network",
            "sourcePeer": "10.17.11.76",
            "weight": 32768,
        },
    ]
    assert len(value) == 6
    assert {r["localAddress"] for r in value[3:]} == {"10.17.11.77"}


def test_advertised_routes_toward_one_peer_from_every_instance() -> None:
    value = advertised_routes(NET, PLAN, SNAPS, "gw", "192.168.11.88")["value"]
    assert [(r["localAddress"], r["network"], r["nextHop"], r["origin"]) for r in value] == [
        ("10.17.11.76", "10.17.11.0/25", "10.17.11.76", "Igp"),
        ("10.17.11.76", "10.17.11.128/26", "10.17.11.76", "Incomplete"),
        ("10.17.11.77", "10.17.11.0/25", "10.17.11.77", "Igp"),
        ("10.17.11.77", "10.17.11.128/26", "10.17.11.77", "Incomplete"),
    ]
    assert all(r["asPath"] == "65515" and r["weight"] == 0 for r in value)
    assert all(r["sourcePeer"] is None for r in value)


def test_advertised_routes_to_an_unknown_peer_is_a_key_error() -> None:
    with pytest.raises(KeyError, match=r"10\.9\.9\.9"):
        advertised_routes(NET, PLAN, SNAPS, "gw", "10.9.9.9")


def test_views_of_a_node_that_is_not_a_gateway_raise() -> None:
    with pytest.raises(KeyError, match="fw"):
        learned_routes(NET, PLAN, SNAPS, "fw")
    with pytest.raises(KeyError, match="nowhere"):
        bgp_peer_status(NET, PLAN, SNAPS, "nowhere", 0.0)


def test_bgp_peer_status_rows() -> None:
    value = bgp_peer_status(NET, PLAN, SNAPS, "gw", now=3725.0)["value"]
    assert value[:2] == [
        {
            "asn": 65515,
            "connectedDuration": "",
            "localAddress": "10.17.11.76",
            "messagesReceived": 0,
            "messagesSent": 0,
            "neighbor": "10.17.11.78",
            "routesReceived": 0,
            "state": "Connecting",
        },
        {
            "asn": 65020,
            "connectedDuration": "01:01:55",
            "localAddress": "10.17.11.76",
            "messagesReceived": 5,
            "messagesSent": 7,
            "neighbor": "192.168.11.88",
            "routesReceived": 1,
            "state": "Connected",
        },
    ]
    assert len(value) == 4


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ("Established", "Connected"),
        ("Idle", "Idle"),
        ("Connect", "Connecting"),
        ("Active", "Connecting"),
        ("OpenSent", "Connecting"),
        ("OpenConfirm", "Connecting"),
        ("Bogus", "Unknown"),
    ],
)
def test_peer_state_mapping(state: str, shown: str) -> None:
    assert peer_state(state) == shown


@pytest.mark.parametrize(
    ("now", "since", "text"),
    [
        (5.0, None, ""),
        (59.9, 0.0, "00:00:59.9000000"),
        (3600.0, 0.0, "01:00:00"),
        (90061.0, 0.0, "1.01:01:01"),
        (1.0, 2.0, "00:00:00"),
    ],
)
def test_connected_duration(now: float, since: float | None, text: str) -> None:
    assert connected_duration(now, since) == text


def test_tables_render() -> None:
    learned = learned_routes(NET, PLAN, SNAPS, "gw")
    text = render_routes(learned)
    assert text.splitlines()[0].split() == [
        "Network",
        "NextHop",
        "Origin",
        "SourcePeer",
        "AsPath",
        "Weight",
    ]
    assert "12076-65020" in text
    assert render_table(learned) == text
    status = bgp_peer_status(NET, PLAN, SNAPS, "gw", now=20.0)
    assert "Connected" in render_peer_status(status)
    assert render_table(status) == render_peer_status(status)
    assert render_table({"value": []}) == ""
