"""The tables the Azure CLI would show, computed from converged RIBs (L6, pure).

Every view is a function of ``(network, plan, snapshots[, ...])`` returning the JSON
shape of the matching ``az`` command (shared/peers.md §3.4), and has a ``render_*``
companion for ``-o table``; :func:`render_table` picks the right one from the shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.views.circuit import circuit_routes
from bgpemu.azure.views.circuit import render_table as render_circuit_routes
from bgpemu.azure.views.effective import effective_routes
from bgpemu.azure.views.effective import render_table as render_effective_routes
from bgpemu.azure.views.gateway import (
    advertised_routes,
    bgp_peer_status,
    learned_routes,
    render_peer_status,
    render_routes,
)
from bgpemu.azure.views.hub import HubTables, hub_routes
from bgpemu.azure.views.hub import render_table as render_hub_routes
from bgpemu.azure.views.routeserver import render_table as render_route_server_routes
from bgpemu.azure.views.routeserver import route_server_routes

__all__ = [
    "HubTables",
    "advertised_routes",
    "bgp_peer_status",
    "circuit_routes",
    "effective_routes",
    "hub_routes",
    "learned_routes",
    "render_circuit_routes",
    "render_effective_routes",
    "render_hub_routes",
    "render_peer_status",
    "render_route_server_routes",
    "render_routes",
    "render_table",
    "route_server_routes",
]


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of any view, recognised by its shape ("" for an empty list, like az)."""
    items = view.get("value")
    if items is None:  # Route Server: RouteServiceRole_IN_0/1 lists, "value": null
        return render_route_server_routes(view)
    if not items:
        return ""
    first = items[0]
    if "addressPrefix" in first:
        return render_effective_routes(view)
    if "addressPrefixes" in first:
        return render_hub_routes(view)
    if "neighbor" in first:
        return render_peer_status(view)
    if "locPrf" in first:
        return render_circuit_routes(view)
    return render_routes(view)
