"""A solution snapshots a speaker only when something reads it (azure/converge.py).

At scale most speakers are customer routers holding full tables (a vWAN branch learns
every other branch) and no Azure view reads them: snapshotting every speaker cost
``bgpemu solve`` 7.9 s on vWAN 2 x 10 x 200.  The full report must read only the Azure
speakers', and still equal the report built from every snapshot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure import converge
from bgpemu.azure.converge import solve
from bgpemu.azure.report import azure_views, report_members
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.router.core import Router
from bgpemu.session import Session
from bgpemu.topology import load_topology

TOPOLOGIES = Path(__file__).parents[3] / "topologies"


def _drain(value: object) -> None:
    if isinstance(value, tuple):
        _drain(value[1])
    elif hasattr(value, "__next__"):
        for member in value:  # type: ignore[attr-defined]
            _drain(member)


@pytest.mark.parametrize("name", ["s2s-bgp", "vwan-standard-any-to-any"])
def test_the_report_snapshots_no_customer_router(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[str] = []

    def recording(
        node: str, router: Router, sessions: dict[str, Session], *, adj_rib_out: bool = True
    ) -> RouterSnapshot:
        taken.append(node)
        return snapshot(node, router, sessions, adj_rib_out=adj_rib_out)

    monkeypatch.setattr(converge, "snapshot", recording)
    network = load_topology(TOPOLOGIES / f"{name}.yaml")
    solution = solve(network)
    _drain(iter(report_members(solution)))
    onprem = {n for n, e in solution.plan.endpoints.items() if e.role == "onprem"}
    assert onprem, "the topology has customer routers"
    assert taken, "the report read snapshots"
    assert not onprem & set(taken), sorted(onprem & set(taken))
    assert len(taken) == len(set(taken)), "a snapshot was taken twice"
    every = {
        n: snapshot(n, solution.fabric.router(n), solution.fabric.sessions(n))
        for n in solution.fabric.nodes()
    }
    now = solution.converged_after
    assert azure_views(network, solution.plan, solution.snapshots, now) == azure_views(
        network, solution.plan, every, now
    )
    assert set(solution.snapshots) == set(every)
