"""The running lab's traffic context reads a speaker's routes only when an answer needs
them (:class:`bgpemu.lab.traffic.LabSnapshots`): the Azure side's in one batch when the
context is made, an on-prem router's when a trace reaches it, each once per convergence;
answers equal to those over every snapshot up front; never read on the event loop's
thread; never mixed across two convergences.  A lab stand-in answers from the fabric's
solution of ``s2s-transit.yaml`` (a VPN gateway, three on-prem sites) and counts reads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.lab.errors import LabMovedError
from bgpemu.lab.questions import Question, answer, parse_question
from bgpemu.lab.traffic import ConvergedTraffic
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[3]
TOPOLOGY = ROOT / "topologies" / "s2s-transit.yaml"
SITES = {"SiteA", "SiteB", "SiteC"}


class _Lab:
    """A converged lab whose workers answer from the fabric's snapshots, slowly (the
    loop must run while a thread waits for them); ``moves`` bumps the version on the
    next read of that speaker, as a report arriving meanwhile would."""

    def __init__(self) -> None:
        solution = solve(load_topology(TOPOLOGY))
        self.network, self.plan, self.all = solution.network, solution.plan, solution.snapshots
        self.version = 0
        self.reads: list[frozenset[str]] = []
        self.moves: set[str] = set()

    async def converged(self, timeout: float) -> None:
        return None

    def groups(self) -> list[tuple[str, ...]]:
        return [tuple(self.plan.endpoints)]

    async def snapshots(
        self,
        timeout: float = 120.0,
        *,
        speakers: frozenset[str] | None = None,
        without_adj_rib_out: frozenset[str] = frozenset(),
    ) -> dict[str, RouterSnapshot]:
        assert speakers is not None
        assert speakers <= without_adj_rib_out
        self.reads.append(speakers)
        await asyncio.sleep(0.01)
        if speakers & self.moves:
            self.moves -= speakers
            self.version += 1
        return {name: snap for name, snap in self.all.items() if name in speakers}


def _question(source: str, destination: str) -> Question:
    args = {"source": source, "destination": destination, "port": 443}
    question = parse_question("trace", args)
    assert isinstance(question, Question), question
    return question


def _upfront(lab: _Lab, question: Question) -> dict[str, Any] | list[str]:
    return answer(TrafficContext(lab.network, lab.plan, lab.all), question)


async def test_a_trace_reads_only_the_sites_it_reaches_once_with_the_same_answer() -> None:
    lab = _Lab()
    traffic = ConvergedTraffic(lab)  # type: ignore[arg-type]
    azure = frozenset(n for n, e in lab.plan.endpoints.items() if e.role != "onprem")
    assert azure
    assert set(lab.plan.endpoints) >= SITES
    question = _question("10.1.0.10", "10.2.0.10")  # SiteA's host to SiteB's

    found = await traffic.compute(5, lambda ctx: answer(ctx, question))

    assert found == _upfront(lab, question)
    assert isinstance(found, dict)
    assert found["trace"]["verdict"] == "reachable", found
    assert lab.reads[0] == azure  # the Azure side, one batch, when the context was made
    lazy = lab.reads[1:]
    assert all(len(read) == 1 for read in lazy), lazy
    assert frozenset({"SiteA"}) in lazy  # the trace forwarded by SiteA's Loc-RIB
    assert set().union(*lazy) <= {"SiteA", "SiteB"}, lazy  # never SiteC
    assert len(lazy) == len(set(lazy)), lazy  # each at most once
    again = await traffic.compute(5, lambda ctx: answer(ctx, question))
    assert again == found
    assert len(lab.reads) == 1 + len(lazy)  # kept for this convergence: nothing read again
    other = _question("10.0.1.10", "10.3.0.10")  # from the hub VNet to SiteC's range
    assert await traffic.compute(5, lambda ctx: answer(ctx, other)) == _upfront(lab, other)


async def test_a_snapshot_read_on_the_loops_thread_fails_loudly() -> None:
    lab = _Lab()
    traffic = ConvergedTraffic(lab)  # type: ignore[arg-type]
    ctx = await traffic.context(5)  # made on the loop: it read no on-prem router
    reads = len(lab.reads)
    assert "SiteA" in ctx.snapshots
    with pytest.raises(RuntimeError, match="event loop's thread"):
        ctx.snapshots["SiteA"]
    assert len(lab.reads) == reads
    snap = await asyncio.to_thread(ctx.snapshots.get, "SiteA")
    assert snap is lab.all["SiteA"]
    assert len(lab.reads) == reads + 1


async def test_a_read_after_the_lab_moved_is_refused_and_the_answer_computed_again() -> None:
    """A report arriving while SiteB's routes are read: those routes are not mixed into
    the old convergence's answer; the answer is worked out again over the new one."""
    lab = _Lab()
    traffic = ConvergedTraffic(lab)  # type: ignore[arg-type]
    ctx = await traffic.context(5)
    lab.version += 1
    with pytest.raises(LabMovedError, match="'SiteA'"):
        await asyncio.to_thread(ctx.snapshots.get, "SiteA")

    lab.moves = {"SiteB"}
    question = _question("10.1.0.10", "10.2.0.10")
    found = await traffic.compute(5, lambda ctx: answer(ctx, question))
    assert found == _upfront(lab, question)
    assert sum(1 for read in lab.reads if "SiteB" in read) == 2  # read again, new version
    assert await traffic.context(5) is not ctx
