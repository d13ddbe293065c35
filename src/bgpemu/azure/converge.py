"""Converge a whole Azure network in the in-memory fabric and snapshot every speaker.

This is what ``bgpemu solve TOPOLOGY`` runs, and what tests and the golden files of the
reference topologies use: the fabric runs the very Router and session code of the TCP
lab in virtual time, so the tables are those the lab converges to, deterministically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.fabric import Fabric

__all__ = ["Solution", "snapshots_of", "solve"]


@dataclass(slots=True, kw_only=True)
class Solution:
    """A converged network: the plan, the fabric that ran it, and its snapshots."""

    network: Network
    plan: Plan
    fabric: Fabric
    converged_after: float
    """Virtual seconds from start to idle."""
    snapshots: dict[str, RouterSnapshot] = field(default_factory=dict)

    def refresh(self) -> None:
        """Take the snapshots again (after the fabric ran further)."""
        self.snapshots = snapshots_of(self.fabric)


def snapshots_of(fabric: Fabric) -> dict[str, RouterSnapshot]:
    """A snapshot of every speaker of ``fabric``, by speaker name."""
    return {
        name: snapshot(name, fabric.router(name), fabric.sessions(name)) for name in fabric.nodes()
    }


def solve(network: Network, *, seed: int = 0, max_time: float = 3600) -> Solution:
    """Compile ``network``, converge it in the fabric, snapshot every speaker."""
    plan = compile_network(network)
    fabric = Fabric(plan.speakers, seed=seed)
    elapsed = fabric.run_until_idle(max_time=max_time)
    return Solution(
        network=network,
        plan=plan,
        fabric=fabric,
        converged_after=elapsed,
        snapshots=snapshots_of(fabric),
    )
