"""The page's graph of every reference topology: every speaker and session, grouped as
Azure groups them (azure-routing.md §1, §3.1, §4.1, §5.1, §6.1)."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.azure.graph import topology_graph
from bgpemu.topology import load_topology
from bgpemu.web.elements import elements, group_id, session_edge_id, session_states
from tests.unit.web.helpers import TOPOLOGIES, plan_of

REFERENCE = sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))


def _graph_elements(name: str) -> list[dict[str, Any]]:
    network = load_topology(TOPOLOGIES / f"{name}.yaml")
    return elements(topology_graph(network, plan_of(name)), {}, {})


@pytest.mark.parametrize("name", REFERENCE)
def test_every_speaker_and_session_is_drawn_once(name: str) -> None:
    plan = plan_of(name)
    found = _graph_elements(name)
    ids = [e["data"]["id"] for e in found]
    assert len(ids) == len(set(ids)), "element ids must be unique (cytoscape)"
    nodes = {e["data"]["id"]: e["data"] for e in found if e["group"] == "nodes"}
    for speaker in plan.endpoints:
        assert nodes[speaker]["speaker"] == speaker
        assert nodes[speaker]["tier"] in (0, 1, 2, 3)
    sessions = {
        session_edge_id(spec.name, n.name) for spec in plan.speakers for n in spec.neighbors
    }
    edges = {e["data"]["id"]: e["data"] for e in found if e["group"] == "edges"}
    assert sessions <= set(edges)
    for ident in sessions:
        data = edges[ident]
        assert data["kind"] == "session"
        assert data["state"] is None  # no sessions document yet
        assert {data["source"], data["target"]} == set(ident.removeprefix("session:").split("|"))
    for data in [*nodes.values(), *edges.values()]:
        for end in ("parent", "source", "target"):
            if end in data:
                assert data[end] in nodes, f"{data['id']}: {end} {data[end]} is not drawn"


def test_a_vnet_holds_its_gateways_and_an_active_active_gateway_its_instances() -> None:
    found = {e["data"]["id"]: e["data"] for e in _graph_elements("er-vpn-backup")}
    assert found["group:vnet:Hub"]["role"] == "group-vnet"
    assert found["ErGW"]["parent"] == group_id("vnet:Hub")
    assert found["ErGW"]["role"] == "er_gateway"
    assert found["group:node:VpnGW"]["role"] == "group-instances"
    assert found["group:node:VpnGW"]["parent"] == group_id("vnet:Hub")
    for instance in ("VpnGW.0", "VpnGW.1"):
        assert found[instance]["parent"] == "group:node:VpnGW"
        assert found[instance]["role"] == "gateway_instance"
    assert found["Circuit.primary"]["role"] == "msee"
    assert found["CE"]["role"] == "onprem"
    assert found["CE"]["tier"] == 0
    assert found["vnet:Hub"]["speaker"] is None


def test_a_virtual_wan_holds_its_hubs() -> None:
    found = {e["data"]["id"]: e["data"] for e in _graph_elements("vwan-standard-any-to-any")}
    hubs = [d for d in found.values() if d.get("role") == "hub"]
    assert len(hubs) == 2
    for hub in hubs:
        assert found[hub["parent"]]["role"] == "group-wan"
        assert hub["tier"] == 2


def test_a_session_is_up_only_when_both_ends_say_established() -> None:
    docs = {
        "a": {"sessions": [{"peer": "b", "state": "Established"}]},
        "b": {"sessions": [{"peer": "a", "state": "Active"}]},
    }
    assert session_states(docs)[session_edge_id("a", "b")][2] == "Active"
    docs["b"]["sessions"][0]["state"] = "Established"
    assert session_states(docs)[session_edge_id("b", "a")][2] == "Established"


def test_without_a_topology_the_speakers_and_sessions_are_drawn_from_their_documents() -> None:
    infos = {"r1": {"role": "onprem"}, "r2": {"role": "vwan_hub"}, "r3": {"role": 7}}
    sessions = {
        "r1": {"sessions": [{"peer": "r2", "state": "Idle"}, {"peer": "gone", "state": "Idle"}]}
    }
    found = {e["data"]["id"]: e["data"] for e in elements(None, infos, sessions)}
    assert found["r1"]["tier"] == 0
    assert found["r2"]["role"] == "hub"
    assert found["r3"]["role"] == "speaker"  # a bad role is no crash
    assert found[session_edge_id("r1", "r2")]["state"] == "Idle"
    assert session_edge_id("r1", "gone") not in found  # no node to draw it to
