"""Topology changes on a running Fabric (issue 6): after every change converges, each router's
Loc-RIB, Adj-RIBs-In and Adj-RIBs-Out equal those of a fresh fabric started on the new topology;
sessions the change does not name never leave Established."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import replan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import snapshot
from bgpemu.errors import ConfigError
from bgpemu.fabric import Fabric
from bgpemu.topology import load_topology
from bgpemu.topology.edit import apply_edit
from bgpemu.topology.source import source_of
from bgpemu.wire.constants import CeaseSubcode
from tests.testing.helpers import TOPOLOGIES

FILES = (
    "hub-spoke-transit.yaml",
    "s2s-bgp.yaml",
    "vwan-basic.yaml",
    "vwan-standard-any-to-any.yaml",
    "er-vpn-backup.yaml",
    "nva-ha-route-server.yaml",
)

Ribs = dict[str, Any]


def _ribs(fabric: Fabric) -> Ribs:
    found: Ribs = {}
    for name in fabric.nodes():
        snap = snapshot(name, fabric.router(name), fabric.sessions(name))
        found[name] = (snap.loc_rib, dict(snap.adj_rib_in), dict(snap.adj_rib_out))
    return found


def _fresh(plan: Plan) -> Ribs:
    fabric = Fabric(plan.speakers)
    fabric.run_until_idle()
    return _ribs(fabric)


def _options(network: Network, removed: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Edits the network's document allows now: remove a peering or connection, or add
    one back."""
    document = source_of(network, "test").document
    found: list[Any] = []
    # The document's connections compile in order; the Network has their names.
    for item, connection in zip(document.get("connections", []), network.connections, strict=True):
        found.append(("remove_connection", {"type": item["type"], "name": connection.name}, item))
    for name, node in document["nodes"].items():
        for peering in node.get("peerings", []) if node["role"] == "vnet" else []:
            args = {"vnet": name, "remoteVirtualNetwork": peering["remoteVirtualNetwork"]}
            found.append(("remove_peering", args, {"vnet": name, **peering}))
    found.extend(("add_back", op, item) for op, item in removed)
    return found


def _established(fabric: Fabric) -> dict[tuple[str, str], int]:
    return {
        (name, peer): session.counters.established_transitions
        for name in fabric.nodes()
        for peer, session in fabric.sessions(name).items()
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    file=st.sampled_from(FILES),
    choices=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=4),
)
def test_a_changed_fabric_equals_a_fresh_one(file: str, choices: list[int]) -> None:
    network = load_topology(TOPOLOGIES / file)
    plan = compile_network(network)
    fabric = Fabric(plan.speakers)
    fabric.run_until_idle()
    removed: list[tuple[str, dict[str, Any]]] = []
    for choice in choices:
        options = _options(network, removed)
        if not options:
            break
        kind, first, second = options[choice % len(options)]
        if kind == "add_back":
            op = "add_connection" if first == "remove_connection" else "add_peering"
            args = second
        else:
            op, args = kind, first
        try:
            new_network = apply_edit(network, op, args)
        except ConfigError:
            continue  # not allowed here (e.g. a hub side of a useRemoteGateways peering)
        if kind == "add_back":
            removed.remove((first, second))
        else:
            removed.append((kind, second))
        change = replan(plan, new_network)
        before = _established(fabric)
        named = {s.speaker for s in change.speakers}
        touched = {
            (item.speaker, n)
            for item in change.speakers
            for n in (*item.remove_neighbors, *(spec.name for spec, _ in item.reset_neighbors))
        }
        fabric.apply(change)
        fabric.run_until_idle()
        assert _ribs(fabric) == _fresh(change.new), (file, op, args)
        after = _established(fabric)
        for (speaker, peer), count in before.items():
            if (speaker, peer) in touched or (peer, speaker) in touched:
                continue
            if speaker in change.remove_speakers or peer in change.remove_speakers:
                continue
            assert after.get((speaker, peer)) == count, (speaker, peer, named)
        network, plan = new_network, change.new


def test_a_removed_neighbor_is_told_peer_deconfigured() -> None:
    network = load_topology(TOPOLOGIES / "hub-spoke-transit.yaml")
    plan = compile_network(network)
    fabric = Fabric(plan.speakers)
    fabric.run_until_idle()
    edited = apply_edit(network, "remove_connection", {"type": "site_to_site", "site": "OnPrem"})
    change = replan(plan, edited)
    fabric.apply(change)
    fabric.run_until_idle()
    assert fabric.sessions("HubGW") == {}
    assert fabric.router("HubGW").config.neighbors == ()
    texts = [text for _, node, text in fabric.events if node == "HubGW"]
    cease = f"sent Cease (6) / Peer Deconfigured ({CeaseSubcode.PEER_DECONFIGURED.value})"
    assert any(t.startswith("OnPrem: session down") and cease in t for t in texts), texts
    assert fabric.router("OnPrem").peers() == []


def test_new_nodes_and_neighbors_wire_to_each_other_in_any_order() -> None:
    network = load_topology(TOPOLOGIES / "s2s-bgp.yaml")
    full = compile_network(network)
    by_name = {spec.name: spec for spec in full.speakers}
    first, *rest = sorted(by_name)
    fabric = Fabric([by_name[first]])
    for name in rest:
        fabric.add_node(by_name[name])
    fabric.run_until_idle()
    assert fabric.unmatched == []
    for name in fabric.nodes():
        assert {s.state.value for s in fabric.sessions(name).values()} == {"Established"}
    assert _ribs(fabric) == _fresh(full)
    assert fabric.now < 1.0  # no ConnectRetry wait: lost connection requests were re-sent
