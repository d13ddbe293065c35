"""`docker compose up lab` run for real (issue 15): the compose file's ``lab`` service and
its ``split`` profile, on a real Docker engine, observed from the host over MQTT.

No image registry is needed: scripts/docker-base builds the equivalent of python:3.11-slim
(Debian bookworm by debootstrap, cached under a tag that hashes its inputs), the bgpemu
image is built on it (``BGPEMU_BASE_IMAGE``) and the broker service runs from it too
(``BGPEMU_BROKER_IMAGE``), each project with a unique name and free host ports.  A
daemon that is not running is started (as root); one that cannot start fails the test in
CI with its log, and skips it elsewhere.  Measured on a 2-core machine: 81 s on a cold
cache (debootstrap 46 s of it), 230 s under a load average of 4-6; warm 30-45 s, the
image rebuilt after a change to the sources (docs/lab.md, "Docker").
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Origin

from bgpemu.observe.mqtt import Observer
from tests.cli_process import bgpemu_env, run_bgpemu, stop_process
from tests.docker.compose import Project, offline_base, project
from tests.docker.engine import docker_engine, unavailable
from tests.integration._daemon_base import require_binary

pytestmark = [pytest.mark.integration, pytest.mark.docker]

LAB = "hub-spoke-transit"  # the compose file's default topology
WAIT = 120.0  # generous: a loaded machine shared by many test runs


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(docker-compose, docker, base tag) once the engine runs and the images are built."""
    compose = require_binary("docker-compose")
    require_binary("debootstrap")
    with docker_engine(tmp_path_factory.mktemp("dockerd")) as docker:
        if os.geteuid() != 0:
            unavailable("scripts/docker-base needs root (debootstrap, chroot)")
        base = offline_base()
        with project(compose, docker, base) as builder:
            builder.build()
        yield compose, docker, base


async def _wait(observer: Observer, ready: Callable[[], bool], p: Project, what: str) -> None:
    try:
        await observer.wait_for(ready, timeout=WAIT)
    except TimeoutError:
        pytest.fail(f"no {what} after {WAIT:.0f} s; containers:\n{p.logs()}", pytrace=False)


async def _bgpemu_json(tmp_path: Path, p: Project, *args: str) -> Any:
    """Run ``bgpemu ARGS -o json`` on the host against the project's broker."""
    code, out, err = await run_bgpemu(
        *args, "--mqtt", p.url, "--lab", LAB, "-o", "json", env=bgpemu_env(tmp_path / "state")
    )
    assert code == 0, f"bgpemu {' '.join(args)}: exit {code}\n{err}"
    return json.loads(out)


async def _web_snapshot(tmp_path: Path, p: Project) -> dict[str, Any]:
    """The first message of ``bgpemu web`` run on the host against the project's broker
    (issue 16: the web view serves a lab started by ``docker compose up lab``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "web", "--mqtt", p.url, "--lab", LAB,
        "--listen", "127.0.0.1:0", env=bgpemu_env(tmp_path / "web-state"),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        async with asyncio.timeout(WAIT):
            while True:
                line = await process.stderr.readline()
                assert line, "bgpemu web ended before printing its URL"
                found = re.search(rb"web view of lab \S+: (http://\S+)", line)
                if found is not None:
                    break
        url = found[1].decode()
        host = url.split("/")[2]
        ws_url = url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
        async with connect(ws_url, origin=Origin(f"http://{host}"), max_size=None) as ws:
            async with asyncio.timeout(WAIT):
                snapshot: dict[str, Any] = json.loads(await ws.recv())
        return snapshot
    finally:
        await stop_process(process)


async def test_compose_up_lab_converges_and_the_host_reads_it(
    images: tuple[str, str, str], tmp_path: Path
) -> None:
    with project(*images) as p:
        p.run("up", "-d", "lab")
        async with Observer(p.url, lab=LAB) as observer:

            def converged() -> bool:
                state = observer.documents.get(observer.topics.state)
                return bool(state and state["status"] == "running" and state["converged"])

            await _wait(observer, converged, p, "retained state saying converged")
            state = observer.documents[observer.topics.state]
        assert state["nodes"] == ["HubGW", "OnPrem"]
        assert state["sessions_established"] == state["sessions_expected"] == 1
        assert p.services() == ["broker", "lab"]

        routes = await _bgpemu_json(tmp_path, p, "routes", "OnPrem")
        learned = {r["prefix"]: r for r in routes["OnPrem"]}
        for prefix in ("10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"):  # hub and both spokes
            assert learned[prefix]["as_path"] == [65515], learned
            assert learned[prefix]["peer"] == "HubGW"
        effective = await _bgpemu_json(tmp_path, p, "effective-routes", "Spoke1/App")
        assert {
            "source": "VirtualNetworkGateway",
            "state": "Active",
            "addressPrefix": ["192.168.0.0/16"],
            "nextHopType": "VirtualNetworkGateway",
            "nextHopIpAddress": ["10.0.255.4"],
        }.items() <= next(
            r
            for r in effective["value"]
            if r["addressPrefix"] == ["192.168.0.0/16"] and r["state"] == "Active"
        ).items()

        snapshot = await _web_snapshot(tmp_path, p)
        assert snapshot["type"] == "snapshot"
        assert snapshot["lab"] == LAB
        drawn = {e["data"]["id"]: e["data"] for e in snapshot["elements"]}
        assert {"HubGW", "OnPrem"} <= drawn.keys()
        assert drawn["session:HubGW|OnPrem"]["state"] == "Established"


async def test_the_split_profile_runs_one_container_per_speaker(
    images: tuple[str, str, str], tmp_path: Path
) -> None:
    with project(*images) as p:
        p.run("--profile", "split", "up", "-d", "HubGW", "OnPrem")
        async with Observer(p.url, lab=LAB) as observer:

            def established() -> bool:
                return all(
                    any(
                        s["peer"] == peer and s["state"] == "Established"
                        for s in observer.node(node).get("sessions", {}).get("sessions", [])
                    )
                    for node, peer in (("HubGW", "OnPrem"), ("OnPrem", "HubGW"))
                )

            await _wait(observer, established, p, "Established session between the containers")
        assert p.services() == ["HubGW", "OnPrem", "broker"]  # one per speaker, no `lab`
        speakers = await _bgpemu_json(tmp_path, p, "inspect")
        assert {s["speaker"]: s["address"] for s in speakers} == {
            "HubGW": f"{p.bridge}.11",  # each speaker on its own container's bridge address
            "OnPrem": f"{p.bridge}.12",
        }
