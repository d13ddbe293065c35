"""Runtime topology edits (issue 6) on the model of record (issue 13, item 3).

A loaded Network carries the document it was compiled from, as written; an edit
changes that document and compiles it again through the loader, so every rule of a
file holds for an edit and a broken one is refused with the loader's own message.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure import model as m
from bgpemu.errors import ConfigError
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.edit import EDIT_OPS, apply_edit, edit_document, references
from bgpemu.topology.source import source_of

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"
FILES = sorted(p.name for p in TOPOLOGIES.glob("*.yaml"))


def _hub_spoke() -> m.Network:
    return load_topology(TOPOLOGIES / "hub-spoke-transit.yaml")


def _document(network: m.Network) -> dict[str, Any]:
    return source_of(network, "test").document


def _problems(network: m.Network, op: str, args: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        apply_edit(network, op, args)
    return str(caught.value)


@pytest.mark.parametrize("file", FILES)
def test_a_loaded_network_carries_its_file_as_written(file: str) -> None:
    import yaml

    path = TOPOLOGIES / file
    network = load_topology(path)
    assert _document(network) == yaml.safe_load(path.read_text())
    # An edit and its inverse compile the same document again, to an equal network.
    added = apply_edit(network, "add_node", {"name": "EditWan", "role": "vwan"})
    assert added != network
    back = apply_edit(added, "remove_node", {"name": "EditWan"})
    assert back == network
    assert _document(back) == _document(network)


def test_edits_return_a_new_network_and_leave_the_input_alone() -> None:
    network = _hub_spoke()
    original = copy.deepcopy(_document(network))
    new = apply_edit(network, "add_peering", {"vnet": "Spoke1", "remote_virtual_network": "Spoke2"})
    assert _document(network) == original
    assert _document(new)["nodes"]["Spoke1"]["peerings"][-1] == {"remoteVirtualNetwork": "Spoke2"}
    spoke1 = new.node("Spoke1")
    assert isinstance(spoke1, m.VNet)
    assert [p.remote_virtual_network for p in spoke1.peerings] == ["Hub", "Spoke2"]


def test_add_and_remove_every_kind_round_trips() -> None:
    network = _hub_spoke()
    branch = {"role": "onprem", "asn": 65020, "bgpPeeringAddress": "172.16.9.1"}
    steps: list[tuple[str, dict[str, Any]]] = [
        ("add_node", {"name": "Branch", **branch}),
        ("add_connection", {"type": "site_to_site", "gateway": "HubGW", "site": "Branch"}),
        ("add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}),
        ("remove_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}),
        ("remove_connection", {"type": "site_to_site", "name": "HubGW-Branch"}),
        ("remove_node", {"name": "Branch"}),
    ]
    current = network
    for op, args in steps:
        current = apply_edit(current, op, args)
    assert current == network
    assert _document(current) == _document(network)
    traffic = load_topology(TOPOLOGIES / "traffic" / "s5-hub-nva.yaml")
    deny = {
        "name": "deny-443",
        "priority": 100,
        "direction": "Inbound",
        "access": "Deny",
        "protocol": "Tcp",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "443",
    }
    route = {"name": "drop", "addressPrefix": "10.9.0.0/16", "nextHopType": "None"}
    traffic_steps: list[tuple[str, dict[str, Any]]] = [
        ("add_security_rule", {"networkSecurityGroup": "Spoke2-nsg", **deny}),
        ("add_route", {"vnet": "Spoke1", "routeTable": "to-spoke2", **route}),
        ("remove_route", {"vnet": "Spoke1", "routeTable": "to-spoke2", "name": "spoke2-via-nva"}),
        ("remove_security_rule", {"networkSecurityGroup": "Spoke2-nsg", "name": "deny-443"}),
        (
            "add_route",
            {
                "vnet": "Spoke1",
                "routeTable": "to-spoke2",
                "name": "spoke2-via-nva",
                "addressPrefix": "10.2.0.0/16",
                "nextHopType": "VirtualAppliance",
                "nextHopIpAddress": "10.0.1.4",
            },
        ),
        ("remove_route", {"vnet": "Spoke1", "routeTable": "to-spoke2", "name": "drop"}),
    ]
    current = traffic
    for op, args in traffic_steps:
        current = apply_edit(current, op, args)
    assert current == traffic
    all_steps = steps + traffic_steps
    assert sorted({op for op, _ in all_steps}) == sorted(EDIT_OPS)


def test_an_edit_that_breaks_a_rule_is_refused_with_the_loaders_message() -> None:
    network = _hub_spoke()
    # The loader's message for the same document written as a file...
    document = edit_document(
        _document(network), "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub"}
    )
    import yaml

    with pytest.raises(ConfigError) as loaded:
        parse_topology(yaml.safe_dump(document, sort_keys=False), "file.yaml")
    (expected,) = loaded.value.problems
    # ...is the edit's, labelled with the edit instead of the file and line.
    with pytest.raises(ConfigError) as edited:
        apply_edit(network, "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub"})
    (problem,) = edited.value.problems
    assert problem.file == "add_peering Spoke1->Hub"
    assert (problem.location, problem.message, problem.hint) == (
        expected.location,
        expected.message,
        expected.hint,
    )
    assert str(problem).startswith("add_peering Spoke1->Hub: nodes.Spoke1.peerings[1]")


def test_an_added_node_takes_the_documents_defaults() -> None:
    text = (TOPOLOGIES / "hub-spoke-transit.yaml").read_text()
    network = parse_topology(text + "defaults:\n  onprem: {maxPaths: 2}\n", "d.yaml")
    new = apply_edit(
        network,
        "add_node",
        {"name": "Branch", "role": "onprem", "asn": 65020, "bgpPeeringAddress": "172.16.9.1"},
    )
    branch = new.node("Branch")
    assert isinstance(branch, m.OnPrem)
    assert branch.max_paths == 2


def test_a_network_built_in_code_cannot_be_edited_and_says_why() -> None:
    built = m.Network(name="code", nodes=(m.VNet(name="v", address_space=("10.0.0.0/16",)),))
    text = _problems(built, "add_peering", {"vnet": "v", "remoteVirtualNetwork": "w"})
    assert text.startswith("add_peering v->w: ")
    assert "built in code" in text
    # A network derived in code from a loaded one is one built in code: its edits
    # would otherwise silently start again from the original document.
    from dataclasses import replace

    network = _hub_spoke()
    derived = replace(network, connections=())
    assert "built in code" in _problems(derived, "remove_node", {"name": "OnPrem"})


def test_problems_name_the_edit() -> None:
    network = _hub_spoke()
    assert "add_peering Nope->Hub: no VNet 'Nope' (VNets: Hub, Spoke1, Spoke2)" in _problems(
        network, "add_peering", {"vnet": "Nope", "remoteVirtualNetwork": "Hub"}
    )
    text = _problems(network, "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub"})
    assert text.startswith("add_peering Spoke1->Hub: nodes.Spoke1.peerings[1]")
    assert "already peers with Hub" in text
    text = _problems(
        network, "add_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Hub", "bogus": 1}
    )
    assert "bogus" in text
    assert "no peering to 'Spoke2' (it peers with: Hub)" in _problems(
        network, "remove_peering", {"vnet": "Spoke1", "remoteVirtualNetwork": "Spoke2"}
    )
    text = _problems(network, "remove_node", {"name": "Hub"})
    assert "peering Spoke1->Hub" in text
    assert "peering Spoke2->Hub" in text
    assert "node HubGW (vnet)" in text
    assert "connection HubGW-OnPrem" in _problems(network, "remove_node", {"name": "OnPrem"})
    assert "a node is already called 'Hub' (a vnet)" in _problems(
        network, "add_node", {"name": "Hub", "role": "vnet", "addressSpace": ["10.9.0.0/16"]}
    )
    assert "unknown topology edit" in _problems(network, "rename_node", {})


def test_remove_connection_needs_exactly_one_match() -> None:
    network = load_topology(TOPOLOGIES / "vwan-basic.yaml")
    text = _problems(network, "remove_connection", {"type": "hub_vpn", "hub": "hub1"})
    assert "2 hub_vpn connections match: hub1-Branch1, hub1-Branch2" in text
    text = _problems(network, "remove_connection", {"type": "hub_vpn", "site": "Nope"})
    assert "no hub_vpn connections match (hint: hub_vpn connections: hub1-Branch1" in text
    text = _problems(network, "remove_connection", {"type": "hub_vpn", "gateway": "x"})
    assert "identify the hub_vpn connection by name, hub, site, not gateway" in text
    assert "is not a connection type" in _problems(network, "remove_connection", {"type": "x"})
    new = edit_document(
        _document(network), "remove_connection", {"type": "hub_vpn", "site": "Branch2"}
    )
    assert [c["site"] for c in new["connections"]] == ["Branch1"]


def test_references_list_every_user_of_a_node() -> None:
    network = _hub_spoke()
    document = _document(network)
    assert references(document, "Spoke1") == ["peering Hub->Spoke1"]
    assert references(document, "Spoke2") == ["peering Hub->Spoke2"]
    assert references(document, "HubGW") == ["connection HubGW-OnPrem"]
