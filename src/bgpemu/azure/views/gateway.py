"""``az network vnet-gateway list-learned-routes / list-advertised-routes /
list-bgp-peer-status`` for VPN and ExpressRoute gateways ([AZ-gw][AZ-gw-adv][AZ-peer]).

Every gateway instance is one speaker; the rows of all instances are listed together,
each with ``localAddress`` = the instance's Azure address.  Neighbours are shown by their
Azure address (the BGP peer IP Azure shows), never by speaker name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.model import ExpressRouteGateway, Network, VpnGateway
from bgpemu.azure.plan import Endpoint, Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._lookup import endpoints, node_of, peer_address, snapshot_of
from bgpemu.azure.views._prefixes import address_key
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.rib.route import RibRoute, as_path_text
from bgpemu.types import prefix_key

__all__ = [
    "LOCAL_WEIGHT",
    "ROUTE_COLUMNS",
    "TICKS_PER_SECOND",
    "advertised_routes",
    "bgp_peer_status",
    "connected_duration",
    "learned_routes",
    "origin_name",
    "peer_state",
    "peer_status_rows",
    "render_peer_status",
    "render_routes",
    "route_cells",
    "route_rows",
]

LOCAL_WEIGHT = 32768
"""Weight Azure shows on routes a gateway originates ([AZ-gw] samples)."""

_GATEWAYS = (VpnGateway, ExpressRouteGateway)
_ORIGIN_ORDER = {"Network": 0, "EBgp": 1, "IBgp": 2}


def _instances(network: Network, plan: Plan, gateway: str) -> list[Endpoint]:
    node_of(network, gateway, _GATEWAYS, "virtual network gateway")
    return endpoints(plan, gateway)


def _neighbor_asn(plan: Plan, speaker: str, fallback: int) -> int:
    endpoint = plan.endpoints.get(speaker)
    return fallback if endpoint is None else endpoint.asn


def learned_routes(
    network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot], gateway: str
) -> dict[str, Any]:
    """Every instance's originated routes and Adj-RIB-In paths ([AZ-gw]).

    Originated: origin ``Network``, sourcePeer = localAddress = the instance, nextHop
    null, weight 32768.  Learned: origin ``EBgp``/``IBgp`` by the neighbour's ASN,
    sourcePeer = the neighbour's Azure address, the path's NEXT_HOP, AS path and weight.
    Sorted per instance by prefix, then Network/EBgp/IBgp, then source peer.
    """
    value: list[dict[str, Any]] = []
    for endpoint in _instances(network, plan, gateway):
        snap = snapshot_of(snapshots, endpoint)
        rows: list[dict[str, Any]] = [
            _route_row(
                route,
                local=endpoint.azure_address,
                origin="Network",
                source=endpoint.azure_address,
                next_hop=None,
                weight=LOCAL_WEIGHT,
            )
            for route in snap.loc_rib
            if route.peer is None
        ]
        for peer, routes in snap.adj_rib_in.items():
            ebgp = _neighbor_asn(plan, peer, snap.asn) != snap.asn
            rows.extend(
                _route_row(
                    route,
                    local=endpoint.azure_address,
                    origin="EBgp" if ebgp else "IBgp",
                    source=peer_address(plan, peer),
                    next_hop=route.next_hop,
                    weight=route.weight,
                )
                for route in routes
            )
        rows.sort(
            key=lambda r: (
                prefix_key(r["network"]),
                _ORIGIN_ORDER[r["origin"]],
                address_key(r["sourcePeer"]),
            )
        )
        value.extend(rows)
    return {"value": value}


def advertised_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    gateway: str,
    peer: str,
) -> dict[str, Any]:
    """The Adj-RIB-Out toward the neighbour whose Azure address is ``peer`` ([AZ-gw-adv]).

    One block per instance that has that neighbour: origin = the ORIGIN attribute
    (``Igp``, ``Egp``, ``Incomplete``), sourcePeer null, weight 0, AS path as sent.
    KeyError when no instance has a neighbour at ``peer``.
    """
    value: list[dict[str, Any]] = []
    found = False
    for endpoint in _instances(network, plan, gateway):
        snap = snapshot_of(snapshots, endpoint)
        for neighbor, routes in sorted(snap.adj_rib_out.items()):
            if peer_address(plan, neighbor) != peer:
                continue
            found = True
            value.extend(
                _route_row(
                    route,
                    local=endpoint.azure_address,
                    origin=origin_name(route),
                    source=None,
                    next_hop=route.next_hop,
                    weight=0,
                )
                for route in sorted(routes, key=lambda r: prefix_key(r.prefix))
            )
        if not found:
            found = any(peer_address(plan, p.peer) == peer for p in snap.peers)
    if not found:
        raise KeyError(f"gateway {gateway!r} has no BGP peer {peer!r}")
    return {"value": value}


def origin_name(route: RibRoute) -> str:
    """The ORIGIN attribute as Azure prints it: ``Igp``, ``Egp`` or ``Incomplete``."""
    return (route.origin or "igp").capitalize()


def _route_row(
    route: RibRoute,
    *,
    local: str,
    origin: str,
    source: str | None,
    next_hop: str | None,
    weight: int,
) -> dict[str, Any]:
    return {
        "asPath": as_path_text(route.as_path),
        "localAddress": local,
        "network": route.prefix,
        "nextHop": next_hop,
        "origin": origin,
        "sourcePeer": source,
        "weight": weight,
    }


def peer_state(state: str) -> str:
    """RFC 4271 state -> ``list-bgp-peer-status`` state ([AZ-peer])."""
    if state == "Established":
        return "Connected"
    if state == "Idle":
        return "Idle"
    if state in ("Connect", "Active", "OpenSent", "OpenConfirm"):
        return "Connecting"
    return "Unknown"


TICKS_PER_SECOND = 10_000_000
"""A .NET TimeSpan counts 100-nanosecond ticks."""


def connected_duration(now: float, established_at: float | None) -> str:
    """The session's uptime at ``now`` as a .NET TimeSpan, "" if down ([AZ-peer]).

    .NET's constant format ``[d.]hh:mm:ss[.fffffff]``: days only from one day on, the
    seven-digit fraction only when not zero (``9.01:04:53.5768637`` in the
    Get-AzVirtualNetworkGatewayBGPPeerStatus example).  Pure: ``now`` is an input.
    """
    if established_at is None:
        return ""
    ticks = max(0, round((now - established_at) * TICKS_PER_SECOND))
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if days:
        text = f"{days}.{text}"
    return f"{text}.{fraction:07d}" if fraction else text


def bgp_peer_status(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    gateway: str,
    now: float,
) -> dict[str, Any]:
    """One row per session of every instance ([AZ-peer]); ``now`` = the fabric's clock."""
    value: list[dict[str, Any]] = []
    for endpoint in _instances(network, plan, gateway):
        snap = snapshot_of(snapshots, endpoint)
        rows: list[dict[str, Any]] = [
            {
                "asn": _neighbor_asn(plan, status.peer, 0),
                "connectedDuration": connected_duration(
                    now, status.established_at if status.state == "Established" else None
                ),
                "localAddress": endpoint.azure_address,
                "messagesReceived": status.messages_received,
                "messagesSent": status.messages_sent,
                "neighbor": peer_address(plan, status.peer),
                "routesReceived": status.routes_received,
                "state": peer_state(status.state),
            }
            for status in snap.peers
        ]
        rows.sort(key=lambda r: address_key(r["neighbor"]))
        value.extend(rows)
    return {"value": value}


def render_routes(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`learned_routes` / :func:`advertised_routes`: the columns of
    az's ``transform_vnet_gateway_routes_table`` (Origin before SourcePeer, no more)."""
    return format_table(*route_rows(view))


def route_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`learned_routes` / :func:`advertised_routes` (:func:`render_routes`)."""
    return list(ROUTE_COLUMNS), [route_cells(item) for item in view["value"]]


ROUTE_COLUMNS = ("Network", "NextHop", "Origin", "SourcePeer", "AsPath", "Weight")
"""az's columns for learned/advertised routes (azure-cli ``network/_format.py``)."""


def route_cells(item: Mapping[str, Any]) -> list[object]:
    """One learned/advertised route row in :data:`ROUTE_COLUMNS` order."""
    return [
        item["network"],
        item["nextHop"],
        item["origin"],
        item.get("sourcePeer"),
        item["asPath"],
        item["weight"],
    ]


def render_peer_status(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`bgp_peer_status`: the columns of az's
    ``transform_vnet_gateway_bgp_peer_table``."""
    return format_table(*peer_status_rows(view))


def peer_status_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`bgp_peer_status` (:func:`render_peer_status`)."""
    rows: list[list[object]] = [
        [
            item["neighbor"],
            item["asn"],
            item["state"],
            item["connectedDuration"],
            item["routesReceived"],
            item["messagesSent"],
            item["messagesReceived"],
        ]
        for item in view["value"]
    ]
    headers = [
        "Neighbor",
        "ASN",
        "State",
        "ConnectedDuration",
        "RoutesReceived",
        "MessagesSent",
        "MessagesReceived",
    ]
    return headers, rows
