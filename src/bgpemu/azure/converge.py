"""Converge a whole Azure network in the in-memory fabric and snapshot every speaker.

This is what ``bgpemu solve TOPOLOGY`` runs, and what tests and the golden files of the
reference topologies use: the fabric runs the very Router and session code of the TCP
lab in virtual time, so the tables are those the lab converges to, deterministically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.fabric import Fabric

__all__ = [
    "Converged",
    "Elsewhere",
    "Snapshots",
    "Solution",
    "Split",
    "Splitter",
    "snapshots_of",
    "solve",
]


class Converged(Protocol):
    """Nodes of a split run that another process converged, and their snapshots."""

    @property
    def names(self) -> frozenset[str]:
        """The nodes."""

    def snapshot(self, name: str) -> RouterSnapshot:
        """Node ``name``'s snapshot, taken where it converged."""


class Elsewhere(Converged, Protocol):
    """The nodes of a split run that another process converged (``bgpemu solve`` on two
    cores, :mod:`bgpemu.cli._solve_split`): what is read of them is read from there."""

    def close(self) -> None:
        """End the other process."""


@dataclass(frozen=True, slots=True)
class Split:
    """What a :data:`Splitter` did: the virtual seconds to idle, and the nodes converged
    elsewhere (None when it became idle before it could split)."""

    elapsed: float
    elsewhere: Elsewhere | None


Splitter = Callable[[Fabric, float, Network, Plan], "Split | None"]
"""``split(fabric, max_time, network, plan)`` converges ``fabric`` (compiled from
``network`` as ``plan``, which the other processes may read for the Azure views of
their nodes) on more than one core within ``max_time`` virtual seconds, or returns
None when it gave up (the fabric is then in no useful state)."""


@dataclass(slots=True, kw_only=True)
class Solution:
    """A converged network: the plan, the fabric that ran it, and its snapshots."""

    network: Network
    plan: Plan
    fabric: Fabric
    converged_after: float
    """Virtual seconds from start to idle."""
    snapshots: Mapping[str, RouterSnapshot] = field(default_factory=dict)
    """Speaker -> its snapshot (:class:`Snapshots`: each taken when first read)."""
    elsewhere: Elsewhere | None = None
    """The nodes converged in another process (a split run), or None."""

    def refresh(self) -> None:
        """Forget the snapshots taken (after the fabric ran further): the next reads
        snapshot the speakers as they are now."""
        self.snapshots = snapshots_of(self.fabric)


class Snapshots(Mapping[str, RouterSnapshot]):
    """Every speaker of a fabric -> its snapshot, each taken when first read, then kept.

    At scale most speakers are customer routers holding full tables (a vWAN branch
    learns every other branch) and the Azure views read none of them: the full report
    of vWAN 2 x 10 x 200 spent 7.9 s snapshotting every speaker.  Read them before
    running the fabric further, or :meth:`Solution.refresh` after.

    The snapshots of the nodes of ``elsewhere`` are read from there; those of
    ``without_adj_rib_out`` leave the Adj-RIBs-Out out (for readers that never look:
    :meth:`Plan.views_without_adj_rib_out <bgpemu.azure.plan.Plan.views_without_adj_rib_out>`).
    """

    def __init__(
        self,
        fabric: Fabric,
        elsewhere: Converged | None = None,
        without_adj_rib_out: frozenset[str] = frozenset(),
    ) -> None:
        self._fabric = fabric
        self._elsewhere = elsewhere
        self._names = frozenset(fabric.nodes())
        self._taken: dict[str, RouterSnapshot] = {}
        self._lean = without_adj_rib_out
        """Speakers whose snapshots leave the Adj-RIBs-Out out (none reads them)."""

    def __getitem__(self, name: str) -> RouterSnapshot:
        taken = self._taken.get(name)
        if taken is None:
            if name not in self._names:
                raise KeyError(name)
            fabric = self._fabric
            elsewhere = self._elsewhere
            if elsewhere is not None and name in elsewhere.names:
                taken = elsewhere.snapshot(name)
            else:
                taken = snapshot(
                    name,
                    fabric.router(name),
                    fabric.sessions(name),
                    adj_rib_out=name not in self._lean,
                )
            self._taken[name] = taken
        return taken

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._fabric.nodes())

    def __len__(self) -> int:
        return len(self._names)


def snapshots_of(fabric: Fabric) -> Snapshots:
    """The snapshot of every speaker of ``fabric`` by speaker name, each taken when read."""
    return Snapshots(fabric)


def solve(
    network: Network, *, seed: int = 0, max_time: float = 3600, split: Splitter | None = None
) -> Solution:
    """Compile ``network``, converge it in the fabric; its speakers are snapshotted when read.

    With ``split``, the fabric converges on two cores (the same tables and times), or,
    when the splitter gives up, again from the start on one.
    """
    plan = compile_network(network)
    fabric = Fabric(plan.speakers, seed=seed)
    if split is not None:
        done = split(fabric, max_time, network, plan)
        if done is not None:
            return Solution(
                network=network,
                plan=plan,
                fabric=fabric,
                converged_after=done.elapsed,
                snapshots=Snapshots(fabric, done.elsewhere),
                elsewhere=done.elsewhere,
            )
        fabric = Fabric(plan.speakers, seed=seed)
    elapsed = fabric.run_until_idle(max_time=max_time)
    return Solution(
        network=network,
        plan=plan,
        fabric=fabric,
        converged_after=elapsed,
        snapshots=snapshots_of(fabric),
    )
