"""Changing a running lab from the command line, through the MQTT control topic."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.cli import main
from bgpemu.lab.commands import Injection
from bgpemu.lab.control import parse_command
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.targets import Names
from bgpemu.observe.mqtt import Observer
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"
pytestmark = pytest.mark.integration


def test_commands_are_checked_against_the_plan() -> None:
    network = load_topology(TOPOLOGIES / "er-vpn-backup.yaml")
    plan = solve(network).plan
    names = Names(network, plan)
    link = parse_command(names, {"op": "fail_link", "args": {"a": "VpnGW", "b": "Firewall"}})
    assert link == Injection(
        op="fail_link",
        args={"a": "VpnGW", "b": "Firewall"},
        pairs=(("VpnGW.0", "Firewall"), ("VpnGW.1", "Firewall")),
    )
    crash = parse_command(names, {"op": "crash", "args": {"node": "VpnGW.1"}})
    assert crash == Injection(op="crash", args={"node": "VpnGW.1"}, speakers=("VpnGW.1",))
    problems = parse_command(
        names, {"op": "announce", "args": {"node": "Nope", "prefix": "10.0.0.0/33", "x": 1}}
    )
    assert isinstance(problems, list)
    assert len(problems) == 3
    assert any("no node or speaker 'Nope'" in p for p in problems)
    assert parse_command(names, {"op": "fail_link", "args": {"a": "CE", "b": "VpnGW"}}) == [
        "args: no BGP session between 'CE' and 'VpnGW' in topology 'er-vpn-backup' "
        "(CE has sessions with: Circuit.primary, Circuit.secondary, Firewall)"
    ]
    unknown = parse_command(names, {"op": "explode"})
    assert isinstance(unknown, list)
    assert unknown[0].startswith("op: unknown operation")


async def _cli(*argv: str) -> tuple[int, list[str]]:
    import contextlib
    import io

    out = io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out):
            return main(list(argv))

    status = await asyncio.to_thread(run)
    return status, out.getvalue().splitlines()


async def test_fail_restore_announce_withdraw_from_the_cli(mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
    ):
        target = ("--lab", network.name, "--mqtt", mosquitto.url, "--timeout", "60")

        status, out = await _cli("fail", "link", "HubGW", "SiteB", *target)
        assert status == 0, out
        assert out[0] == "injected: fail_link HubGW-SiteB"
        assert out[-1].startswith("converged after ")
        snaps = await lab.snapshots()
        assert "10.2.0.0/16" not in {r.prefix for r in snaps["SiteA"].loc_rib}

        status, out = await _cli("restore", "link", "HubGW", "SiteB", *target, "-o", "json")
        assert status == 0
        converged = json.loads(out[-1])
        assert converged["event"] == "converged"
        assert converged["best_path_changes"] >= 2  # SiteA and HubGW learn 10.2/16 again
        assert converged["updates"] >= 2

        status, out = await _cli("announce", "SiteA", "10.77.0.0/16", "--prepend", "2", *target)
        assert status == 0
        snaps = await lab.snapshots()
        got = {r.prefix: r.as_path for r in snaps["SiteB"].loc_rib if r.best}
        assert got["10.77.0.0/16"] == (65515, 65001, 65001, 65001)
        status, _ = await _cli("withdraw", "SiteA", "10.77.0.0/16", *target)
        assert status == 0

        version = lab.version
        status, out = await _cli("fail", "node", "NoSuchNode", *target)
        assert status == 2
        assert "no node or speaker 'NoSuchNode'" in out[0]
        assert lab.version == version  # untouched


async def test_a_malformed_control_message_is_rejected_with_an_error_event(
    mosquitto: Mosquitto,
) -> None:
    import aiomqtt

    network = load_topology(TOPOLOGIES / "s2s-bgp.yaml")
    async with (
        TcpLab(network, processes=1, port=free_port("127.0.10.1")) as lab,
        publishing(lab, mosquitto.url),
        Observer(mosquitto.url, lab=network.name) as observer,
    ):
        await observer.wait_for(lambda: observer.topics.state in observer.documents, timeout=30)
        version = lab.version
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
            await client.publish(observer.topics.control, b"{not json", qos=1)

        def rejected() -> bool:
            return any(e.get("event") == "rejected" for e in observer.lab_events)

        await observer.wait_for(rejected, timeout=30)
        assert lab.version == version


async def test_a_crash_that_would_kill_another_node_is_refused() -> None:
    from bgpemu.lab.control import apply
    from bgpemu.lab.engine import TcpEngine
    from bgpemu.lab.supervisor import LabError

    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    async with TcpLab(network, processes=1, port=free_port("127.0.10.1")) as lab:
        await lab.converged(timeout=60)
        injection = parse_command(
            Names(lab.network, lab.plan), {"op": "crash", "args": {"node": "SiteB"}}
        )
        assert isinstance(injection, Injection)
        with pytest.raises(LabError, match="would also kill HubGW, SiteA, SiteC"):
            await apply(TcpEngine(lab), injection)
        assert lab.verdict().converged  # untouched
        assert lab.worker_count == 1
