"""A lab's trace drawn on the web view's graph (issue 16): every hop of the reference
traffic topologies' traces finds its element, and the highlight names only drawn ones."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.graph import topology_graph
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.lab.questions import Question, answer, parse_question
from bgpemu.topology import load_topology
from bgpemu.web.elements import elements
from bgpemu.web.trace_paths import trace_on_graph
from bgpemu.web.traffic import endpoints

ROOT = Path(__file__).resolve().parents[3]
TESTS = ROOT / "tests" / "data" / "traffic" / "topologies"
TOPOLOGIES = [
    *sorted(TESTS.glob("*.yaml")),
    *(ROOT / "topologies" / "traffic" / f"{name}.yaml" for name in ("s5-hub-nva", "s6-two-nvas")),
]
NO_ELEMENT = ("Internet", "Destination")


class _Lab:
    """A topology solved in the fabric, drawn as the page draws it."""

    def __init__(self, path: Path) -> None:
        solution = solve(load_topology(path))
        self.network, self.plan = solution.network, solution.plan
        self.ctx = TrafficContext(solution.network, solution.plan, solution.snapshots)
        self.elements = elements(topology_graph(self.network, self.plan), {}, {})
        self.ids = {e["data"]["id"] for e in self.elements}

    def trace(self, source: str, destination: str) -> dict[str, Any]:
        question = parse_question(
            "trace", {"source": source, "destination": destination, "port": 443}
        )
        assert isinstance(question, Question)
        found = answer(self.ctx, question)
        assert isinstance(found, dict), found
        trace: dict[str, Any] = found["trace"]
        return trace

    def drawn(self, source: str, destination: str) -> dict[str, Any]:
        trace = self.trace(source, destination)
        return trace_on_graph(trace, self.network, self.plan, self.elements)


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
def test_every_hop_of_every_trace_is_drawn(path: Path) -> None:
    lab = _Lab(path)
    ends = [
        e["address"] if e["kind"] == "onprem" else e["name"]
        for e in endpoints(lab.network, None)
        if e["kind"] in ("interface", "nva", "onprem")
    ]
    traced = 0
    for source, destination in itertools.permutations(ends, 2):
        drawn = lab.drawn(source, destination)
        traced += 1
        assert set(drawn["highlight"]["nodes"]) <= lab.ids
        assert set(drawn["highlight"]["edges"]) <= lab.ids
        for hop in drawn["hops"]:
            assert (hop["node"] is None) == (hop["type"] in NO_ELEMENT), hop
            assert hop["node"] is None or hop["node"] in lab.ids
    assert traced >= 2


def test_ecmp_over_expressroute_lights_both_msees_and_the_peering() -> None:
    lab = _Lab(TESTS / "er-vpn-failover.yaml")
    drawn = lab.drawn("App-vm", "10.1.11.10")
    assert drawn["highlight"] == {
        "nodes": ["vnet:Spoke", "ErGW", "Circuit.primary", "CE", "Circuit.secondary"],
        "edges": [
            "peering:vnet:Hub|vnet:Spoke",  # the spoke reaches its hub's gateway (§2)
            "session:Circuit.primary|ErGW",
            "session:CE|Circuit.primary",
            "session:Circuit.secondary|ErGW",
            "session:CE|Circuit.secondary",
        ],
    }
    first = drawn["hops"][0]
    assert first["node"] == "vnet:Spoke"
    assert first["route"].startswith("10.1.11.0/25 -> VirtualNetworkGateway")
    assert "App-nsg" in first["rule"]
    reply = [h for h in drawn["hops"] if h["direction"] == "reply"]
    assert reply[0]["label"].startswith("host behind CE")
    assert reply[0]["node"] == "CE"  # the on-prem host's router


def test_a_firewall_and_a_vpn_site() -> None:
    firewall = _Lab(TESTS / "firewall-symmetric.yaml").drawn("App-vm", "Hub-vm")
    assert firewall["highlight"]["nodes"] == ["vnet:Spoke", "firewall:Firewall", "vnet:Hub"]
    assert firewall["highlight"]["edges"] == ["peering:vnet:Hub|vnet:Spoke"]
    assert "AzureFirewall Firewall Inbound Allow" in firewall["hops"][1]["rule"]
    vpn = _Lab(TESTS / "lab-vpn-site.yaml").drawn("VM1", "10.2.0.10")
    assert vpn["highlight"] == {
        "nodes": ["vnet:Hub", "HubGW", "SiteB"],
        "edges": ["session:HubGW|SiteB"],
    }


def test_without_the_topology_only_loc_ribs_and_names_are_found() -> None:
    lab = _Lab(TESTS / "lab-vpn-site.yaml")
    drawn = trace_on_graph(lab.trace("VM1", "10.2.0.10"), None, None, lab.elements)
    forward = [h["node"] for h in drawn["hops"] if h["direction"] == "forward"]
    assert forward == [None, "HubGW", "SiteB"]


@pytest.mark.parametrize(
    "trace",
    [
        {},
        {"paths": "x"},
        {"paths": [3, {"hops": "x"}, {"hops": [None, {"type": 5, "name": ["x"]}]}]},
        {"paths": [{"hops": [{"type": "Source", "name": "VM1", "route": {"table": 3}}]}]},
    ],
)
def test_a_malformed_trace_draws_nothing_and_raises_nothing(trace: dict[str, Any]) -> None:
    lab = _Lab(TESTS / "lab-vpn-site.yaml")
    drawn = trace_on_graph(trace, lab.network, lab.plan, [*lab.elements, {"data": 3}, "x"])  # type: ignore[list-item]
    assert set(drawn["highlight"]["nodes"]) <= lab.ids
    assert drawn["highlight"]["edges"] == []
