"""replan: what changes between two compilations, speaker by speaker (issue 6)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bgpemu.azure.model import Network, Node, Nva, OnPrem
from bgpemu.azure.replan import replan
from bgpemu.azure.roles import compile_network
from bgpemu.topology import load_topology
from bgpemu.topology.edit import apply_edit

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"
FILES = sorted(p.name for p in TOPOLOGIES.glob("*.yaml"))


def _load(name: str) -> Network:
    return load_topology(TOPOLOGIES / name)


def _swap(network: Network, name: str, node: Node) -> Network:
    nodes = tuple(node if n.name == name else n for n in network.nodes)
    return replace(network, nodes=nodes)


@pytest.mark.parametrize("file", FILES)
def test_an_unchanged_network_replans_to_nothing(file: str) -> None:
    network = _load(file)
    plan = compile_network(network)
    change = replan(plan, network)
    assert change.empty
    assert change.new == plan


def test_addresses_kept_and_new_speakers_take_the_lowest_free_ones() -> None:
    network = _load("hub-spoke-transit.yaml")
    plan = compile_network(network)
    assert {e.speaker: e.lab_address for e in plan.endpoints.values()} == {
        "HubGW": "127.0.10.1",
        "OnPrem": "127.0.10.2",
    }
    edited = apply_edit(
        network,
        "add_node",
        {"name": "AAA", "role": "onprem", "asn": 65020, "bgpPeeringAddress": "172.16.9.1"},
    )
    change = replan(plan, edited)
    addresses = {e.speaker: e.lab_address for e in change.new.endpoints.values()}
    # Sorted first, AAA would take .1 from scratch: the running speakers keep theirs.
    assert addresses == {"AAA": "127.0.10.3", "HubGW": "127.0.10.1", "OnPrem": "127.0.10.2"}
    assert [s.name for s in change.add_speakers] == ["AAA"]
    assert not change.speakers
    assert not change.remove_speakers
    fresh = compile_network(edited)
    assert {e.lab_address for e in fresh.endpoints.values()} == {
        "127.0.10.1",
        "127.0.10.2",
        "127.0.10.3",
    }
    assert fresh.endpoints["AAA"].lab_address == "127.0.10.1"  # no addresses: as always


def test_a_removed_speaker_address_is_not_reused_in_the_same_change() -> None:
    network = _load("hub-spoke-transit.yaml")
    plan = compile_network(network)
    network2 = apply_edit(network, "remove_connection", {"type": "site_to_site", "site": "OnPrem"})
    network2 = apply_edit(network2, "remove_node", {"name": "OnPrem"})
    network2 = apply_edit(
        network2,
        "add_node",
        {"name": "Other", "role": "onprem", "asn": 65020, "bgpPeeringAddress": "172.16.9.1"},
    )
    change = replan(plan, network2)
    assert change.remove_speakers == ("OnPrem",)
    assert change.new.endpoints["Other"].lab_address == "127.0.10.3"


def test_a_new_connection_adds_neighbors_and_changes_policies() -> None:
    network = _load("vwan-basic.yaml")
    with_node = apply_edit(
        network,
        "add_node",
        {"name": "B3", "role": "onprem", "asn": 65020, "bgpPeeringAddress": "10.50.3.1"},
    )
    plan = compile_network(with_node)
    connected = apply_edit(
        with_node, "add_connection", {"type": "hub_vpn", "hub": "hub1", "site": "B3"}
    )
    change = replan(plan, connected)
    items = {s.speaker: s for s in change.speakers}
    assert [n.name for n, _ in items["B3"].add_neighbors] == ["hub1"]
    assert [n.name for n, _ in items["hub1"].add_neighbors] == ["B3"]
    assert [p.name for p in items["hub1"].policies] == ["Branch1", "Branch2"]  # export tags
    back = replan(change.new, with_node)
    items = {s.speaker: s for s in back.speakers}
    assert items["B3"].remove_neighbors == ("hub1",)
    assert items["hub1"].remove_neighbors == ("B3",)


def test_originated_routes_added_changed_and_withdrawn() -> None:
    network = _load("hub-spoke-transit.yaml")
    plan = compile_network(network)
    onprem = network.node("OnPrem")
    assert isinstance(onprem, OnPrem)
    first = onprem.prefixes[0]
    changed = _swap(
        network,
        "OnPrem",
        replace(
            onprem,
            prefixes=(
                replace(first, med=5),
                replace(first, prefix="10.9.0.0/16"),
            ),
        ),
    )
    (item,) = replan(plan, changed).speakers
    assert item.speaker == "OnPrem"
    assert [(r.prefix, r.med) for r in item.originate] == [
        ("192.168.0.0/16", 5),
        ("10.9.0.0/16", None),
    ]
    assert item.withdraw == ()
    gone = _swap(network, "OnPrem", replace(onprem, prefixes=()))
    (item,) = replan(plan, gone).speakers
    assert [p for _, p in item.withdraw] == ["192.168.0.0/16"]


def test_identity_changes_restart_and_session_changes_reset() -> None:
    network = _load("hub-spoke-transit.yaml")
    plan = compile_network(network)
    onprem = network.node("OnPrem")
    assert isinstance(onprem, OnPrem)
    change = replan(plan, _swap(network, "OnPrem", replace(onprem, asn=65011)))
    assert [s.name for s in change.restart_speakers] == ["OnPrem"]
    (item,) = change.speakers
    assert item.speaker == "HubGW"  # its session now expects AS 65011
    assert [n.name for n, _ in item.reset_neighbors] == ["OnPrem"]
    assert item.reset_neighbors[0][0].session.peer_as == 65011
    change = replan(plan, _swap(network, "OnPrem", replace(onprem, max_paths=1)))
    assert [s.name for s in change.restart_speakers] == ["OnPrem"]  # decision settings
    assert not change.speakers


def test_nva_prepend_is_a_policy_change() -> None:
    network = _load("nva-ha-route-server.yaml")
    plan = compile_network(network)
    nva = network.node("nva1")
    assert isinstance(nva, Nva)
    change = replan(plan, _swap(network, "nva1", replace(nva, prepend=2)))
    assert not change.restart_speakers
    assert not change.add_speakers
    (item,) = change.speakers
    assert item.speaker == "nva1"
    assert item.policies
    assert not item.reset_neighbors
    assert not item.add_neighbors
