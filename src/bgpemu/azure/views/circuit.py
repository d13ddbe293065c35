"""``az network express-route list-route-tables --path primary|secondary`` ([AZ-er]).

The route table of one MSEE of a circuit's private peering: its Loc-RIB (best path and
the rest of its multipath set), one row per path, AS path space-joined as a router
prints it (§4.3 [ER-S2S] shows ``12076 65020``-style paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.model import ExpressRouteCircuit, Network
from bgpemu.azure.plan import Endpoint, Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._lookup import node_of, snapshot_of
from bgpemu.azure.views._prefixes import address_key
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.rib.route import as_path_text
from bgpemu.types import prefix_key

__all__ = [
    "circuit_routes",
    "render_table",
    "table_rows",
]


def circuit_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    circuit: str,
    path: str,
) -> dict[str, Any]:
    """The route table of the ``path`` MSEE (speaker ``<circuit>.<path>``).

    az's shape: ``{"nextLink": null, "value": [...]}``, ``locPrf`` a string (the REST
    API's ExpressRouteCircuitRoutesTable), "" when the path has no LOCAL_PREF.
    """
    if path not in ("primary", "secondary"):
        raise ValueError(f"path must be 'primary' or 'secondary', not {path!r}")
    node_of(network, circuit, (ExpressRouteCircuit,), "ExpressRoute circuit")
    speaker = f"{circuit}.{path}"
    endpoint = plan.endpoints.get(speaker) or Endpoint(
        speaker=speaker,
        node=circuit,
        role="expressroute",
        azure_address="",
        lab_address="",
        asn=12076,
    )
    snap = snapshot_of(snapshots, endpoint)
    routes = sorted(
        snap.loc_rib,
        key=lambda r: (prefix_key(r.prefix), not r.best, address_key(r.next_hop)),
    )
    return {
        "nextLink": None,
        "value": [
            {
                "locPrf": "" if route.local_pref is None else str(route.local_pref),
                "network": route.prefix,
                "nextHop": route.next_hop,
                "path": as_path_text(route.as_path, " "),
                "weight": route.weight,
            }
            for route in routes
        ],
    }


def table_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`circuit_routes` in az's columns."""
    rows: list[list[object]] = [
        [item["network"], item["nextHop"], item["locPrf"], item["weight"], item["path"]]
        for item in view["value"]
    ]
    return ["Network", "NextHop", "LocPrf", "Weight", "Path"], rows


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`circuit_routes`."""
    return format_table(*table_rows(view))
