"""What the running lab publishes about traffic after a convergence (issue 14), without a
lab: the documents of :mod:`bgpemu.lab.traffic` from the fabric's solution, an intent that
names nothing any more, the intents whose verdict changed, and no traffic at all for a
topology that declares none."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bgpemu.azure.converge import solve
from bgpemu.azure.model import Network
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.intents import Intent
from bgpemu.lab.traffic import Intents, declares_traffic, intent_changes, traffic_documents
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[3]
TOPOLOGY = ROOT / "tests" / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
INTENTS = Intents(
    "intents.yaml",
    (
        Intent(name="to-site", source="VM1", destination="10.2.0.10", port=443),
        Intent(name="from-vm1", source="VM1", destination="13.107.21.200", port=443),
    ),
)


def _ctx(network: Network) -> TrafficContext:
    solution = solve(network)
    return TrafficContext(solution.network, solution.plan, solution.snapshots)


def test_changed_verdicts_are_named_with_before_and_after() -> None:
    network = load_topology(TOPOLOGY)
    before = traffic_documents(_ctx(network), INTENTS)
    assert before.views["intents"]["ok"] == 2
    after = traffic_documents(_ctx(dataclasses.replace(network, connections=())), INTENTS)
    assert intent_changes(before.outcomes, before.outcomes) == []
    (changed,) = intent_changes(before.outcomes, after.outcomes)
    assert (changed["name"], changed["before"], changed["after"], changed["ok"]) == (
        "to-site",
        "reachable",
        "dropped_none_route",
        False,
    )
    assert after.views["intents"]["violated"] == 1


def test_an_intent_naming_nothing_is_violated_not_an_error() -> None:
    """A topology change removed VM1: its intents cannot be traced, and say why."""
    network = load_topology(TOPOLOGY)
    before = traffic_documents(_ctx(network), INTENTS)
    gone = Intents("intents.yaml", (dataclasses.replace(INTENTS.intents[0], source="VM2"),))
    after = traffic_documents(_ctx(network), gone)
    (entry,) = after.views["intents"]["intents"]
    assert (entry["actual"], entry["ok"]) == (None, False)
    assert entry["reason"].startswith("cannot be traced: ")
    assert "'VM2'" in entry["reason"]
    changes = intent_changes(before.outcomes, after.outcomes)
    assert [(c["before"], c["after"]) for c in changes] == [("reachable", None)]


def test_only_topologies_that_declare_traffic_publish_it() -> None:
    assert declares_traffic(load_topology(TOPOLOGY))
    for name in ("s2s-transit.yaml", "hub-spoke-transit.yaml", "vwan-basic.yaml"):
        assert not declares_traffic(load_topology(ROOT / "topologies" / name)), name


class _ChurningLab:
    """A lab that is converged whenever asked but changes while its routes are read."""

    def __init__(self, network: Network) -> None:
        solution = solve(network)
        self.network, self.plan, self.snapshot = network, solution.plan, solution.snapshots
        self.version = 0
        self.reads = 0

    async def converged(self, timeout: float) -> None:
        return None

    async def snapshots(self, **_: object) -> object:
        self.reads += 1
        self.version += 1
        return self.snapshot


async def test_a_lab_that_keeps_changing_gets_a_bounded_answer() -> None:
    """A question never waits forever on a lab that changes under every read: refused
    after a bounded number of reads, with the reason (the control topic goes on)."""
    import pytest

    from bgpemu.lab.traffic import ConvergedTraffic

    lab = _ChurningLab(load_topology(TOPOLOGY))
    traffic = ConvergedTraffic(lab)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError, match="the lab changed while its routes were read"):
        await traffic.context(5)
    assert lab.reads == 10
