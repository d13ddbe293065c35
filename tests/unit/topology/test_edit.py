"""Topology document edits and the Network -> document export (runtime topology changes)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bgpemu.errors import ConfigError
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.edit import EDIT_OPS, apply_edit, edit_document, references
from bgpemu.topology.export import to_document

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"
FILES = sorted(p.name for p in TOPOLOGIES.glob("*.yaml"))


def _hub_spoke() -> dict[str, Any]:
    return to_document(load_topology(TOPOLOGIES / "hub-spoke-transit.yaml"))


def _problems(document: dict[str, Any], op: str, args: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        apply_edit(document, op, args)
    return str(caught.value)


@pytest.mark.parametrize("file", FILES)
def test_every_reference_topology_exports_to_a_document_that_loads_back_equal(file: str) -> None:
    network = load_topology(TOPOLOGIES / file)
    text = yaml.safe_dump(to_document(network), sort_keys=False)
    assert parse_topology(text, file) == network


def test_edits_return_a_new_document_and_leave_the_input_alone() -> None:
    document = _hub_spoke()
    original = copy.deepcopy(document)
    new, network = apply_edit(
        document, "add_peering", {"vnet": "Spoke1", "remote_virtual_network": "Spoke2"}
    )
    assert document == original
    assert new["nodes"]["Spoke1"]["peerings"][-1] == {"remoteVirtualNetwork": "Spoke2"}
    spoke1 = network.node("Spoke1")
    assert [p.remote_vnet for p in spoke1.peerings] == ["Hub", "Spoke2"]  # type: ignore[union-attr]


def test_add_and_remove_every_kind_round_trips() -> None:
    document = _hub_spoke()
    branch = {"role": "onprem", "asn": 65020, "bgpPeeringAddress": "172.16.9.1"}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("add_node", {"name": "Branch", **branch}),
        ("add_connection", {"type": "site_to_site", "gateway": "HubGW", "site": "Branch"}),
        ("add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}),
        ("remove_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}),
        ("remove_connection", {"type": "site_to_site", "name": "HubGW-Branch"}),
        ("remove_node", {"name": "Branch"}),
    ]
    current = document
    for op, args in steps:
        current, _ = apply_edit(current, op, args)
    assert current == document
    assert sorted(op for op, _ in steps) == sorted(EDIT_OPS)


def test_problems_name_the_edit() -> None:
    document = _hub_spoke()
    assert "add_peering Nope->Hub: no VNet 'Nope' (VNets: Hub, Spoke1, Spoke2)" in _problems(
        document, "add_peering", {"vnet": "Nope", "remoteVirtualNetwork": "Hub"}
    )
    text = _problems(document, "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub"})
    assert text.startswith("add_peering Spoke1->Hub: nodes.Spoke1.peerings[1]")
    assert "already peers with Hub" in text
    text = _problems(
        document, "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub", "bogus": 1}
    )
    assert "bogus" in text
    assert "no peering to 'Spoke2' (it peers with: Hub)" in _problems(
        document, "remove_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}
    )
    text = _problems(document, "remove_node", {"name": "Hub"})
    assert "peering Spoke1->Hub" in text
    assert "peering Spoke2->Hub" in text
    assert "node HubGW (vnet)" in text
    assert "connection HubGW-OnPrem" in _problems(document, "remove_node", {"name": "OnPrem"})
    assert "a node is already called 'Hub' (a vnet)" in _problems(
        document, "add_node", {"name": "Hub", "role": "vnet", "addressSpace": ["10.9.0.0/16"]}
    )
    assert "unknown topology edit" in _problems(document, "rename_node", {})


def test_remove_connection_needs_exactly_one_match() -> None:
    document = to_document(load_topology(TOPOLOGIES / "vwan-basic.yaml"))
    text = _problems(document, "remove_connection", {"type": "hub_vpn", "hub": "hub1"})
    assert "2 hub_vpn connection(s) match: hub1-Branch1, hub1-Branch2" in text
    text = _problems(document, "remove_connection", {"type": "hub_vpn", "site": "Nope"})
    assert "no hub_vpn connection(s) match (hint: hub_vpn connections: hub1-Branch1" in text
    text = _problems(document, "remove_connection", {"type": "hub_vpn", "gateway": "x"})
    assert "identify the hub_vpn connection by name, hub, site, not gateway" in text
    assert "is not a connection type" in _problems(document, "remove_connection", {"type": "x"})
    new = edit_document(document, "remove_connection", {"type": "hub_vpn", "site": "Branch2"})
    assert [c["site"] for c in new["connections"]] == ["Branch1"]


def test_references_list_every_user_of_a_node() -> None:
    document = _hub_spoke()
    assert references(document, "Spoke1") == ["peering Hub->Spoke1"]
    assert references(document, "Spoke2") == ["peering Hub->Spoke2"]
    assert references(document, "HubGW") == ["connection HubGW-OnPrem"]
