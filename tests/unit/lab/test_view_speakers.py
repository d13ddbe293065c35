"""The lab gathers only the Azure speakers' snapshots for the Azure views, without the
Adj-RIBs-Out no view reads (Plan.views_without_adj_rib_out)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.report import azure_views
from bgpemu.topology import load_topology

TOPOLOGIES = sorted((Path(__file__).parents[3] / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("path", TOPOLOGIES, ids=[p.stem for p in TOPOLOGIES])
def test_views_from_the_azure_speakers_equal_the_views_from_all(path: Path) -> None:
    network = load_topology(path)
    solution = solve(network)
    wanted = solution.plan.view_speakers()
    assert wanted < set(solution.plan.endpoints) or not any(
        e.role == "onprem" for e in solution.plan.endpoints.values()
    )
    trimmed = solution.plan.views_without_adj_rib_out()
    assert trimmed <= wanted
    some = {
        name: replace(snap, adj_rib_out={}) if name in trimmed else snap
        for name, snap in solution.snapshots.items()
        if name in wanted
    }
    if path.stem.startswith("vwan"):
        assert trimmed, "every vWAN topology has hubs"
    assert azure_views(network, solution.plan, some, 10.0) == azure_views(
        network, solution.plan, solution.snapshots, 10.0
    )
