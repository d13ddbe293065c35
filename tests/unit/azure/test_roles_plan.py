"""compile_network: naming, lab addresses, ports, timers, externals, symmetric sessions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure.model import Network, Nva, OnPrem
from bgpemu.azure.roles import CompileError, compile_network
from bgpemu.errors import BgpEmuError
from bgpemu.topology import load_topology
from tests.unit.azure.scenarios import scenario1, scenario2, scenario5, scenario7, scenario9

NETWORKS = [scenario1(), scenario2(), scenario5(), scenario9(True), scenario7()]


def test_lab_addresses_consecutive_in_name_order() -> None:
    plan = compile_network(scenario5(), lab_base="127.0.20.1")
    names = sorted(s.name for s in plan.speakers)
    assert [s.name for s in plan.speakers] == names
    assert [plan.endpoints[n].lab_address for n in names] == [
        f"127.0.20.{i}" for i in range(1, len(names) + 1)
    ]
    assert [s.local_address for s in plan.speakers] == [
        plan.endpoints[n].lab_address for n in names
    ]


def test_same_network_same_plan() -> None:
    assert compile_network(scenario7()) == compile_network(scenario7())


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.name)
def test_every_session_is_declared_on_both_sides(network: Network) -> None:
    plan = compile_network(network)
    by_lab = {e.lab_address: name for name, e in plan.endpoints.items()}
    pairs = set()
    for s in plan.speakers:
        for n in s.neighbors:
            assert by_lab[n.address] == n.name
            pairs.add((s.name, n.name))
    for a, b in pairs:
        assert (b, a) in pairs


@pytest.mark.parametrize("network", NETWORKS, ids=lambda n: n.name)
def test_port_timers_and_identity(network: Network) -> None:
    plan = compile_network(network, port=1179, keepalive=30, hold=90)
    for s in plan.speakers:
        endpoint = plan.endpoints[s.name]
        assert s.port == 1179
        assert s.router.next_hop_v4 == endpoint.azure_address
        assert s.router.asn == endpoint.asn
        for n in s.neighbors:
            assert n.port == 1179
            assert n.session.hold_time == 90
            assert n.session.local_as == endpoint.asn
            assert n.session.peer_as == plan.endpoints[n.name].asn


def test_keepalive_must_be_a_third_of_hold() -> None:
    with pytest.raises(ValueError, match="keepalive"):
        compile_network(scenario1(), keepalive=60, hold=90)


def test_a_network_that_does_not_compile_raises_compile_error() -> None:
    """Callers catch CompileError (or any BgpEmuError), not every ValueError; it stays a
    ValueError for those that caught that before."""
    with pytest.raises(CompileError, match="keepalive") as raised:
        compile_network(scenario1(), keepalive=60, hold=90)
    assert isinstance(raised.value, BgpEmuError)
    assert isinstance(raised.value, ValueError)


def test_external_on_prem_is_an_endpoint_without_speaker() -> None:
    network = scenario1("10.51.0.0/16")
    nodes = tuple(
        OnPrem(
            name="Site5",
            asn=65050,
            bgp_peering_address="10.51.255.254",
            router_id="10.51.255.254",
            external=True,
            external_port=1790,
        )
        if n.name == "Site5"
        else n
        for n in network.nodes
    )
    plan = compile_network(Network(name="ext", nodes=nodes, connections=network.connections))
    assert [s.name for s in plan.speakers] == ["VNet1GW"]
    ext = plan.endpoints["Site5"]
    assert ext.external
    assert ext.lab_address == "10.51.255.254"
    (neighbor,) = plan.speakers[0].neighbors
    assert (neighbor.address, neighbor.port) == ("10.51.255.254", 1790)
    assert plan.endpoints["VNet1GW"].lab_address == "127.0.10.1"


_TOPOLOGIES = sorted((Path(__file__).parents[3] / "topologies").glob("*.yaml"))
_AZURE_ROLES = {"vpn_gateway", "expressroute", "expressroute_gateway", "route_server", "vwan_hub"}


def test_an_azure_speaker_s_router_id_and_next_hop_are_its_azure_address() -> None:
    """docs/azure-behaviours.md: "Router id = Azure address, except on-prem routers and
    NVAs" (their own ``router_id``); every example topology, every Azure role."""
    roles: set[str] = set()
    for path in _TOPOLOGIES:
        network = load_topology(path)
        customers = {n.name: n for n in network.nodes if isinstance(n, OnPrem | Nva)}
        plan = compile_network(network)
        for speaker in plan.speakers:
            endpoint = plan.endpoints[speaker.name]
            roles.add(endpoint.role)
            if endpoint.node in customers:
                assert speaker.router.router_id == customers[endpoint.node].router_id
                continue
            assert speaker.router.router_id == endpoint.azure_address, (path.name, speaker.name)
            assert speaker.router.next_hop_v4 == endpoint.azure_address, (path.name, speaker.name)
    assert roles >= _AZURE_ROLES | {"onprem", "nva"}
