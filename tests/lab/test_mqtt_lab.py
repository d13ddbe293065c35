"""The TCP lab on MQTT, against a real mosquitto: retained documents equal the fabric's
tables, the compose ``lab`` service's exact command works, and bad input is refused."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bgpemu.azure.converge import solve
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer
from bgpemu.topology import load_topology
from tests.cli_process import bgpemu_env
from tests.helpers import free_port
from tests.integration._daemon_base import require_binary
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.retained import wait_retained_equal

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["er-vpn-backup", "vwan-standard-any-to-any"])
async def test_retained_documents_equal_the_fabric_tables(name: str, mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGIES / f"{name}.yaml")
    fabric = solve(network)
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
        Observer(mosquitto.url, lab=network.name) as observer,
    ):
        await wait_retained_equal(observer, fabric, timeout=30)
        await observer.wait_for(lambda: observer.topics.state in observer.documents, 30)
        state = observer.documents[observer.topics.state]
        assert state["converged"] is True


def _compose_lab_command(broker_url: str) -> list[str]:
    """The `lab` service's command from docker-compose.yml, for this machine."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = [str(part) for part in compose["services"]["lab"]["command"]]
    topology = str(TOPOLOGIES / "hub-spoke-transit.yaml")
    return [
        topology
        if "${BGPEMU_TOPOLOGY" in part
        else broker_url
        if part.startswith("mqtt://broker")
        else part
        for part in command
    ]


def test_docker_compose_file_is_valid() -> None:
    binary = require_binary("docker-compose")
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert {"broker", "lab"} <= set(services)


async def _until(ready: Awaitable[None], process: asyncio.subprocess.Process) -> None:
    """Wait for ``ready``; a lab that exits first (another lab on the same addresses, a
    refused option) fails the test at once with what it printed."""
    waiting = asyncio.ensure_future(ready)
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        err = await process.stderr.read() if process.stderr is not None else b""
        pytest.fail(f"the lab exited ({process.returncode}) before it converged:\n{err.decode()}")
    exited.cancel()
    waiting.result()


async def test_the_compose_lab_command_runs_against_a_real_broker(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    command = _compose_lab_command(mosquitto.url)
    assert command[:2] == ["lab", "up"]
    env = bgpemu_env(state_dir)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bgpemu",
        *command,
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        async with Observer(mosquitto.url, lab="hub-spoke-transit") as observer:

            def ready() -> bool:
                state = observer.documents.get(observer.topics.state)
                view = observer.node("Spoke1").get("azure/effective-routes.App")
                status = observer.node("HubGW").get("status")  # each worker's own document
                return bool(state and state["converged"] and view and status)

            await _until(observer.wait_for(ready, timeout=60), process)
            routes = observer.node("Spoke1")["azure/effective-routes.App"]["data"]["value"]
            assert any(
                r["addressPrefix"] == ["192.168.0.0/16"]
                and r["state"] == "Active"
                and r["nextHopType"] == "VirtualNetworkGateway"
                for r in routes
            )
            assert observer.node("HubGW")["status"]["status"] == "online"
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                assert await process.wait() == 0

            def offline() -> bool:
                return all(
                    observer.node(n).get("status", {}).get("status") == "offline"
                    for n in ("HubGW", "OnPrem")
                )

            await observer.wait_for(offline, timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_an_unreachable_broker_is_named_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from bgpemu.cli import main

    url = f"mqtt://127.0.0.1:{free_port('127.0.0.1')}"
    path = str(TOPOLOGIES / "s2s-bgp.yaml")
    assert main(["lab", "up", path, "--mqtt", url, "--exit-after-converged"]) == 2
    err = capsys.readouterr().err
    assert url in err
    assert "nothing was started" in err


async def test_a_port_in_use_names_the_speaker_and_starts_nothing() -> None:
    from bgpemu.lab.supervisor import LabError

    port = free_port("127.0.10.1")
    blocker = await asyncio.start_server(lambda _r, w: w.close(), "127.0.10.1", port)
    try:
        network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
        lab = TcpLab(network, processes=2, port=port)
        first = lab.plan.speakers[0]
        assert first.local_address == "127.0.10.1"
        with pytest.raises(LabError, match=f"{first.name} could not listen on 127.0.10.1:{port}"):
            await lab.start()
        assert lab.worker_count == 0
    finally:
        blocker.close()
        await blocker.wait_closed()


def _prefixes(doc: dict[str, Any]) -> set[str]:
    return {route["prefix"] for route in doc.get("routes", [])}


async def test_a_killed_speaker_goes_offline_and_its_neighbors_reconverge(
    mosquitto: Mosquitto,
) -> None:
    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    speakers = len(solve(network).plan.speakers)
    async with TcpLab(
        network, processes=speakers, port=free_port("127.0.10.1"), mqtt=mosquitto.url
    ) as lab:
        await lab.converged(timeout=60)
        await lab.flush()
        async with Observer(mosquitto.url, lab=network.name) as observer:
            await observer.wait_for(
                lambda: "10.2.0.0/16" in _prefixes(observer.node("SiteA").get("rib/loc", {})),
                timeout=30,
            )
            assert lab.crash("SiteB") == ("SiteB",)

            def site_b_gone() -> bool:
                status = observer.node("SiteB").get("status", {}).get("status")
                return status == "offline" and "10.2.0.0/16" not in _prefixes(
                    observer.node("SiteA").get("rib/loc", {})
                )

            await observer.wait_for(site_b_gone, timeout=30)  # the will, then the withdrawal
            verdict = await lab.converged(timeout=30)  # without SiteB's session
            assert verdict.converged
            sessions = observer.node("HubGW")["sessions"]["sessions"]
            assert {s["peer"]: s["state"] for s in sessions}["SiteB"] != "Established"


async def test_broker_outage_routing_carries_on_and_retained_state_comes_back(
    mosquitto: Mosquitto,
) -> None:
    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    speakers = len(solve(network).plan.speakers)
    async with TcpLab(
        network, processes=speakers, port=free_port("127.0.10.1"), mqtt=mosquitto.url
    ) as lab:
        await lab.converged(timeout=60)
        await lab.flush()
        mosquitto.kill()
        lab.crash("SiteB")  # routing changes while the broker is away
        await lab.converged(timeout=30)
        snapshots = await lab.snapshots()
        assert "10.2.0.0/16" not in {r.prefix for r in snapshots["SiteA"].loc_rib}
        mosquitto.start()  # empty: persistence is off
        async with Observer(mosquitto.url, lab=network.name) as observer:
            # Per-neighbour tables exist for established sessions only: SiteB crashed,
            # SiteC has no BGP.
            wanted = {
                "HubGW": {"rib/in/SiteA", "rib/out/SiteA"},
                "SiteA": {"rib/in/HubGW", "rib/out/HubGW"},
                "SiteC": set(),
            }

            def complete() -> bool:
                return all(
                    {"status", "info", "sessions", "rib/loc", *tables} <= set(observer.node(name))
                    for name, tables in wanted.items()
                )

            await observer.wait_for(complete, timeout=30)
            assert not any("SiteB" in key for key in observer.node("HubGW"))
            assert "10.2.0.0/16" not in _prefixes(observer.node("SiteA")["rib/loc"])
            assert "10.1.0.0/16" in _prefixes(observer.node("SiteA")["rib/loc"])
