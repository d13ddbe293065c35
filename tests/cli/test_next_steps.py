"""The commands ``lab up`` suggests next (cli._next_steps, issue 15) are read off each
topology: every name they carry is one of its nodes, subnets or interfaces."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from bgpemu.azure.model import VNet
from bgpemu.cli._next_steps import next_steps
from bgpemu.topology import load_topology
from bgpemu.topology.checks.security import RESERVED_SUBNETS
from bgpemu.topology.shipped import shipped_topologies

NAMES = [t.name for t in shipped_topologies()]


@pytest.mark.parametrize("name", NAMES)
def test_every_suggested_name_is_in_the_topology(name: str) -> None:
    network = load_topology(name)
    nodes = {node.name for node in network.nodes}
    vnets = network.of_type(VNet)
    subnets = {f"{v.name}/{s.name}" for v in vnets for s in v.subnets}
    nics = {n.name for v in vnets for s in v.subnets for n in s.network_interfaces}
    steps = next_steps(network)
    assert 1 <= len(steps) <= 3
    for step in steps:
        match step.argv:
            case ("effective-routes", where):
                assert where in subnets
                assert where.split("/")[1] not in RESERVED_SUBNETS
            case ("fail", "link", a, b):
                assert {a, b} <= nodes
                assert a != b
            case ("hub-routes" | "learned-routes", node):
                assert node in nodes
            case ("route-server-routes", where):
                assert set(where.split("/")) <= nodes
            case ("trace", source, target):
                assert {source, target} <= nics
                assert source != target
            case other:
                pytest.fail(f"unexpected suggestion {other}")


def test_the_default_lab_shows_the_failover() -> None:
    steps = next_steps(load_topology("er-vpn-backup"))
    assert [s.argv for s in steps] == [
        ("effective-routes", "Spoke/App"),  # the spoke using the hub's gateways
        ("fail", "link", "Circuit", "CE"),  # the circuit first: the VPN backup takes over
        ("learned-routes", "VpnGW"),
    ]


def test_a_trace_between_vms_of_two_vnets_when_interfaces_are_declared() -> None:
    steps = next_steps(load_topology("s5-hub-nva"))
    assert steps[-1].argv == ("trace", "VM1-nic", "VM2-nic")  # not the NVA's interface


def test_nothing_to_fail_nor_trace_in_a_lone_vnet() -> None:
    steps = next_steps(load_topology("s2-one-vm"))
    assert [s.argv[0] for s in steps] == ["effective-routes"]


def test_the_block_names_the_lab_when_several_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --lab, a command on a machine running several labs cannot tell which one is
    meant (nor its broker): the block adds --lab NAME then, and only then."""
    from bgpemu.cli.lab import _print_next
    from bgpemu.lab.state_files import write_state

    monkeypatch.setenv("BGPEMU_STATE_DIR", str(tmp_path))
    network = load_topology("er-vpn-backup")
    write_state("mine", {"name": "mine", "pid": os.getpid()})
    _print_next(network, "mine")
    alone = capsys.readouterr().err.splitlines()[1:]
    assert len(alone) == 3
    assert not any("--lab" in line for line in alone)
    write_state("other", {"name": "other", "pid": os.getpid()})
    _print_next(network, "mine")
    several = capsys.readouterr().err.splitlines()[1:]
    assert all(shlex.split(line, comments=True)[-2:] == ["--lab", "mine"] for line in several)
