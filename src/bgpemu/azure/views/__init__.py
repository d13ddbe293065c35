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
from bgpemu.azure.views.circuit import table_rows as circuit_rows
from bgpemu.azure.views.effective import effective_routes
from bgpemu.azure.views.effective import render_table as render_effective_routes
from bgpemu.azure.views.effective import table_rows as effective_rows
from bgpemu.azure.views.gateway import (
    advertised_routes,
    bgp_peer_status,
    learned_routes,
    peer_status_rows,
    render_peer_status,
    render_routes,
    route_rows,
)
from bgpemu.azure.views.hub import HubTables, hub_routes
from bgpemu.azure.views.hub import render_table as render_hub_routes
from bgpemu.azure.views.hub import table_rows as hub_rows
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.azure.views.routeserver import render_table as render_route_server_routes
from bgpemu.azure.views.routeserver import route_server_routes
from bgpemu.azure.views.routeserver import table_rows as route_server_rows

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
    "view_rows",
]


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of any view, recognised by its shape ("" for an empty list, like az)."""
    items = view.get("value")
    if items is not None and not items:
        return ""
    return format_table(*view_rows(view))


def view_rows(view: Mapping[str, Any]) -> Rows:
    """The headers and rows of any view in the Azure CLI's columns, recognised by its
    shape (an empty list has no columns); ``-o table`` and the web view show them."""
    items = view.get("value")
    if items is None:  # Route Server: RouteServiceRole_IN_0/1 lists, "value": null
        return route_server_rows(view)
    if not items:
        return [], []
    first = items[0]
    if "addressPrefix" in first:
        return effective_rows(view)
    if "addressPrefixes" in first:
        return hub_rows(view)
    if "neighbor" in first:
        return peer_status_rows(view)
    if "locPrf" in first:
        return circuit_rows(view)
    return route_rows(view)
