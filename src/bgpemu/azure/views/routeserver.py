"""``az network routeserver peering list-learned-routes / list-advertised-routes`` ([AZ-ars]).

The answer is keyed by instance, ``RouteServiceRole_IN_0`` and ``RouteServiceRole_IN_1``,
each the routes that instance exchanges with one NVA peer (§6.1: every NVA peers with
both instances).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.model import Network, Nva, RouteServer, RouteServerPeer
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._lookup import endpoints, node_of, peer_address, snapshot_of
from bgpemu.azure.views.gateway import ROUTE_COLUMNS, route_cells
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.rib.route import as_path_text
from bgpemu.types import prefix_key

__all__ = [
    "LEARNED_WEIGHT",
    "render_table",
    "route_server_routes",
    "table_rows",
]

LEARNED_WEIGHT = 32768
"""Weight Azure shows on routes a Route Server learned ([AZ-ars])."""


def _nva(network: Network, route_server: str, peer_nva: str) -> str:
    """The NVA node named by ``peer_nva``: an NVA name or a RouteServerPeer connection name."""
    for connection in network.of_type(RouteServerPeer):
        named = peer_nva in (connection.name, connection.nva)
        if connection.route_server == route_server and named:
            return connection.nva
    node = node_of(network, peer_nva, (Nva,), "NVA")
    raise KeyError(f"NVA {node.name!r} does not peer with Route Server {route_server!r}")


def route_server_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    route_server: str,
    peer_nva: str,
    direction: str,
) -> dict[str, Any]:
    """Routes each Route Server instance learned from / advertised to ``peer_nva``.

    Learned: origin ``EBgp``, sourcePeer = the NVA's address, weight 32768.  Advertised:
    origin ``Igp``, no sourcePeer, weight 0, AS path as sent (``65515`` for the VNet
    space, §6.3 [OBS]).  ``peer_nva`` is the NVA node or the RouteServerPeer name.
    Like az, the answer ends with ``"value": null`` after the per-instance lists.
    """
    if direction not in ("learned", "advertised"):
        raise ValueError(f"direction must be 'learned' or 'advertised', not {direction!r}")
    node_of(network, route_server, (RouteServer,), "Route Server")
    nva = _nva(network, route_server, peer_nva)
    nva_speakers = {e.speaker for e in endpoints(plan, nva)}
    answer: dict[str, Any] = {}
    for position, endpoint in enumerate(endpoints(plan, route_server)):
        snap = snapshot_of(snapshots, endpoint)
        table = snap.adj_rib_in if direction == "learned" else snap.adj_rib_out
        rows: list[dict[str, Any]] = []
        for speaker in sorted(nva_speakers):
            for route in sorted(table.get(speaker, ()), key=lambda r: prefix_key(r.prefix)):
                row: dict[str, Any] = {
                    "asPath": as_path_text(route.as_path),
                    "localAddress": endpoint.azure_address,
                    "network": route.prefix,
                    "nextHop": route.next_hop,
                }
                if direction == "learned":
                    row["origin"] = "EBgp"
                    row["sourcePeer"] = peer_address(plan, speaker)
                    row["weight"] = LEARNED_WEIGHT
                else:
                    row["origin"] = "Igp"
                    row["weight"] = 0
                rows.append(row)
        answer[f"RouteServiceRole_IN_{position}"] = rows
    answer["value"] = None
    return answer


def table_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`route_server_routes`: one block of rows per instance, in the
    gateway routes' columns (az's ``transform_vnet_gateway_routes_table``) after the
    instance, which tells the two lists apart."""
    rows: list[list[object]] = [
        [role, *route_cells(item)]
        for role, items in view.items()
        if role != "value"
        for item in items or ()
    ]
    return ["Instance", *ROUTE_COLUMNS], rows


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`route_server_routes` (:func:`table_rows`)."""
    return format_table(*table_rows(view))
