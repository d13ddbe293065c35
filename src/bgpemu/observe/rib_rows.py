"""The columns of a route table's rows: ``bgpemu routes -o table`` and the web view (pure).

One definition of what a row of a Loc-RIB (with the reason its best path won, RFC 4271
§9.1.2) and of an Adj-RIB-In/Out (§3.2) shows, read from the route entries of the
table documents (:func:`bgpemu.rib.route.route_doc`).  The CLI's table adds the speaker
(and the peer) in front; the web view shows one node's table at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.rib.route import as_path_text

__all__ = ["ADJ_RIB_COLUMNS", "LOC_RIB_COLUMNS", "adj_rib_cells", "as_path_cell", "loc_rib_cells"]

LOC_RIB_COLUMNS = ("Prefix", "NextHop", "AsPath", "From", "Best", "Ecmp", "Reason")
ADJ_RIB_COLUMNS = ("Prefix", "NextHop", "AsPath", "Origin", "LocPrf", "Med")


def as_path_cell(route: Mapping[str, Any]) -> str:
    """The AS path as FRR prints it, ``(local)`` when empty."""
    return as_path_text(route.get("as_path", []), " ") or "(local)"


def loc_rib_cells(route: Mapping[str, Any]) -> list[object]:
    """One Loc-RIB route in :data:`LOC_RIB_COLUMNS` order: ``*`` marks the best path,
    ``=`` a member of its multipath set, and the reason says which step chose it."""
    return [
        route["prefix"],
        route["next_hop"] or "-",
        as_path_cell(route),
        route["peer"] or "local",
        "*" if route["best"] else "",
        "=" if route["multipath"] else "",
        route["reason"],
    ]


def adj_rib_cells(route: Mapping[str, Any]) -> list[object]:
    """One Adj-RIB-In/Out route in :data:`ADJ_RIB_COLUMNS` order."""
    return [
        route["prefix"],
        route["next_hop"],
        as_path_cell(route),
        route["origin"],
        route["local_pref"],
        route["med"],
    ]
