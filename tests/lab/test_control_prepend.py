"""``bgpemu prepend NODE PEER COUNT``: a policy change in a running TCP lab, through MQTT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.lab.commands import Injection
from bgpemu.lab.control import parse_command
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.targets import Names
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.test_control import _cli

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"
TOPOLOGY = TOPOLOGIES / "nva-ha-route-server.yaml"
PREFIX = "10.200.0.0/16"
pytestmark = pytest.mark.integration


def test_a_prepend_command_is_checked_against_the_plan() -> None:
    network = load_topology(TOPOLOGY)
    plan = solve(network).plan
    names = Names(network, plan)
    command = {"op": "prepend", "args": {"node": "nva1", "peer": "ars", "count": 3}}
    injection = parse_command(names, command)
    assert injection == Injection(
        op="prepend",
        args={"node": "nva1", "peer": "ars", "count": 3},
        pairs=(("nva1", "ars.0"), ("nva1", "ars.1")),
        count=3,
    )
    assert isinstance(injection, Injection)
    assert injection.describe() == "prepend nva1-ars.0, nva1-ars.1 x3"
    problems = parse_command(
        names, {"op": "prepend", "args": {"node": "nva1", "peer": "Nope", "count": "x"}}
    )
    assert isinstance(problems, list)
    assert len(problems) == 2
    assert any("no node or speaker 'Nope'" in p for p in problems)
    assert "args.count: must be an integer 0..255, not 'x'" in problems
    assert parse_command(
        names, {"op": "prepend", "args": {"node": "nva1", "peer": "nva2", "count": 1}}
    ) == [
        "args: no BGP session between 'nva1' and 'nva2' in topology 'nva-ha-route-server' "
        "(nva1 has sessions with: ars.0, ars.1)"
    ]


def _best_next_hop(snaps: dict[str, RouterSnapshot], speaker: str) -> str | None:
    routes = snaps[speaker].loc_rib
    return next((r.next_hop for r in routes if r.prefix == PREFIX and r.best), None)


async def test_prepend_from_the_cli_swaps_the_active_nva_without_a_session_reset(
    mosquitto: Mosquitto,
) -> None:
    network = load_topology(TOPOLOGY)
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
    ):
        target = ("--lab", network.name, "--mqtt", mosquitto.url, "--timeout", "60")
        snaps = await lab.snapshots()
        assert _best_next_hop(snaps, "ars.0") == "10.0.1.4"
        since = {(n, p.peer): p.established_at for n, s in snaps.items() for p in s.peers}

        status, out = await _cli("prepend", "nva1", "ars", "3", *target)
        assert status == 0, out
        assert out[0] == "injected: prepend nva1-ars.0, nva1-ars.1 x3"
        assert out[-1].startswith("converged after ")
        snaps = await lab.snapshots()
        assert _best_next_hop(snaps, "ars.0") == "10.0.1.5"
        assert {p.state for s in snaps.values() for p in s.peers} == {"Established"}
        assert {(n, p.peer): p.established_at for n, s in snaps.items() for p in s.peers} == (since)
        assert lab.neighbor_policy("nva1", "ars.0").export_policy is not None

        status, out = await _cli("prepend", "nva1", "ars", "0", *target, "-o", "json")
        assert status == 0
        assert json.loads(out[-1])["event"] == "converged"
        snaps = await lab.snapshots()
        assert _best_next_hop(snaps, "ars.0") == "10.0.1.4"
        (spec,) = (s for s in lab.plan.speakers if s.name == "nva1")
        assert lab.neighbor_policy("nva1", "ars.0") == spec.router.neighbor("ars.0")

        version = lab.version
        status, out = await _cli("prepend", "nva1", "nva2", "1", *target)
        assert status == 2
        assert "no BGP session between 'nva1' and 'nva2'" in out[0]
        assert lab.version == version  # untouched
