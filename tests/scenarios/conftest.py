"""Shared helpers of the Azure scenario tests: load a reference topology and solve it once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from bgpemu.azure.converge import Solution, solve
from bgpemu.topology import load_topology

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


@cache
def solved(name: str) -> Solution:
    """The reference topology ``topologies/<name>.yaml``, converged in the fabric."""
    return solve(load_topology(TOPOLOGIES / f"{name}.yaml"))


def routes_for(
    view: dict[str, Any], prefix: str, state: str | None = "Active"
) -> list[dict[str, Any]]:
    """The entries of an effective-route view for ``prefix`` (Active ones by default)."""
    return [
        entry
        for entry in view["value"]
        if entry["addressPrefix"] == [prefix] and (state is None or entry["state"] == state)
    ]


def loc_rib(solution: Solution, speaker: str) -> dict[str, Any]:
    """prefix -> best RibRoute of ``speaker``'s Loc-RIB."""
    return {r.prefix: r for r in solution.snapshots[speaker].loc_rib if r.best}
