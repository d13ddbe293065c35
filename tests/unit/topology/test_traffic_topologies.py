"""The reference topologies of azure-traffic.md §8 (topologies/traffic/): each loads, cites
its scenario, converges, and holds the interfaces, NSGs and firewall its scenario needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bgpemu.azure import model as m
from bgpemu.azure.converge import solve
from bgpemu.azure.security import NetworkInterface
from bgpemu.topology import load_topology, validate_file

TRAFFIC = Path(__file__).parents[3] / "topologies" / "traffic"
FILES = sorted(TRAFFIC.glob("*.yaml"))
SCENARIOS = ("S1", "S2", "S3", "S5", "S6", "S7", "S8", "S9")


def _interfaces(network: m.Network) -> dict[str, str]:
    """Interface name -> address, every subnet of every VNet."""
    return {
        nic.name: nic.private_ip_address
        for vnet in network.of_type(m.VNet)
        for subnet in vnet.subnets
        for nic in subnet.network_interfaces
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_traffic_topology_loads_cites_its_scenario_and_converges(path: Path) -> None:
    assert validate_file(path) == []
    network = load_topology(path)
    assert network.name == path.stem
    header = path.read_text().split("\nname:")[0]
    assert re.search(r"^# S\d", header, re.M), "the header names its scenario"
    sources = header.split("# Sources (public Azure documentation):\n")[-1]
    assert re.match(r"#   https://learn\.microsoft\.com/", sources), "and its public source"
    assert _interfaces(network), "a traffic scenario has virtual machines"
    assert solve(network).converged_after < 60  # virtual seconds; solve raises if it never is


def test_every_scenario_has_a_topology() -> None:
    cited = {re.match(r"s(\d)", p.stem).group(1) for p in FILES}  # type: ignore[union-attr]
    assert {f"S{n}" for n in cited} == set(SCENARIOS)


def test_s1_places_the_nsgs_of_the_documented_figure() -> None:
    network = load_topology(TRAFFIC / "s1-nsg-per-vm.yaml")
    (vnet,) = network.of_type(m.VNet)
    subnets = {s.name: s for s in vnet.subnets}
    assert subnets["Subnet1"].network_security_group == "NSG1"
    assert subnets["Subnet2"].network_security_group is None
    nics = {n.name: n for s in vnet.subnets for n in s.network_interfaces}
    assert {name: nic.network_security_group for name, nic in nics.items()} == {
        "VM1-nic": "NSG2",
        "VM2-nic": None,
        "VM3-nic": "NSG2",
        "VM4-nic": None,
    }


def _nic(network: m.Network, name: str) -> NetworkInterface:
    (nic,) = (
        n
        for v in network.of_type(m.VNet)
        for s in v.subnets
        for n in s.network_interfaces
        if n.name == name
    )
    return nic


def test_s5_variants_differ_from_the_working_one_where_their_row_says() -> None:
    base = load_topology(TRAFFIC / "s5-hub-nva.yaml")
    assert _nic(base, "nva-nic").enable_ip_forwarding
    off = load_topology(TRAFFIC / "s5-ip-forwarding-off.yaml")
    assert not _nic(off, "nva-nic").enable_ip_forwarding
    no_fwd = load_topology(TRAFFIC / "s5-no-forwarded-traffic.yaml")
    spoke2 = no_fwd.node("Spoke2")
    assert isinstance(spoke2, m.VNet)
    assert [p.allow_forwarded_traffic for p in spoke2.peerings] == [False]
    no_udrs = load_topology(TRAFFIC / "s5-no-udrs.yaml")
    assert all(not v.route_tables for v in no_udrs.of_type(m.VNet))
    one_side = load_topology(TRAFFIC / "s5-udr-spoke1-only.yaml")
    assert [v.name for v in one_side.of_type(m.VNet) if v.route_tables] == ["Spoke1"]


def test_s8_has_one_firewall_and_no_speaker_for_it() -> None:
    network = load_topology(TRAFFIC / "s8-firewall-rules.yaml")
    (firewall,) = network.firewalls
    assert firewall.private_ip_address == "10.0.3.4"
    assert [g.priority for g in firewall.rule_collection_groups] == [100, 200, 300]
    assert "HubFirewall" not in {n.name for n in network.nodes}


def test_s9_destination_vm_is_stopped() -> None:
    network = load_topology(TRAFFIC / "s9-vm-stopped.yaml")
    running = {
        n.private_ip_address: n.running
        for v in network.of_type(m.VNet)
        for s in v.subnets
        for n in s.network_interfaces
    }
    assert running == {"10.5.0.4": True, "10.1.0.4": False}
