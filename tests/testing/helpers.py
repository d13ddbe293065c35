"""Small readers of the testing API's JSON shapes, shared by the tests of bgpemu.testing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bgpemu.testing import Lab

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"

__all__ = ["TOPOLOGIES", "effective_hops", "node_hops"]


def effective_hops(lab: Lab, subnet: str, prefix: str) -> list[str]:
    """Next-hop IPs of the active effective route for exactly ``prefix`` in ``subnet``."""
    rows = [
        r
        for r in lab.effective_routes(subnet)["value"]
        if prefix in r["addressPrefix"] and r["state"] == "Active"
    ]
    assert len(rows) == 1, rows
    return sorted(rows[0]["nextHopIpAddress"])


def node_hops(lab: Lab, node: str, prefix: str) -> list[str]:
    """Next hops of ``node``'s best path and ECMP set for ``prefix`` (all its speakers)."""
    routes: list[dict[str, Any]] = [
        r for rows in lab.routes(node).values() for r in rows if r["prefix"] == prefix
    ]
    return sorted(str(r["next_hop"]) for r in routes if r["multipath"] or r["best"])
