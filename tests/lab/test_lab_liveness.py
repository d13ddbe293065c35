"""Lab state that never lies (issue 12, item 6), with a real mosquitto and real
``bgpemu lab up`` processes: a killed lab is marked ``offline`` by its MQTT will and
ignored by observers, a clean stop says ``stopped``, a lab name is taken by one running
lab at a time; and (item 5) a lab whose external router stays down publishes nothing
new about it but its speaker's session state, at the pace of the retry backoff."""

from __future__ import annotations

import asyncio
import collections
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer
from bgpemu.observe.topics import LabTopics
from bgpemu.topology import load_topology
from tests.cli_process import ROOT, bgpemu_env, run_bgpemu
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.test_settled_sessions import EXTERNAL, _topology

HUB_SPOKE = ROOT / "topologies" / "hub-spoke-transit.yaml"
LAB = "hub-spoke-transit"
pytestmark = pytest.mark.integration


async def _bgpemu(*args: str, state_dir: Path, timeout: float = 60) -> tuple[int, str]:
    """Run one ``bgpemu`` command to its end: (exit status, stderr)."""
    status, _, err = await run_bgpemu(*args, env=bgpemu_env(state_dir), timeout=timeout)
    return status, err


@asynccontextmanager
async def _lab_up(
    mosquitto: Mosquitto, state_dir: Path, base: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``bgpemu lab up`` of hub-spoke-transit on ``mosquitto``, killed after the block."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bgpemu",
        *("lab", "up", str(HUB_SPOKE), "--mqtt", mosquitto.url),
        *("--address-base", base, "--port", str(free_port(base)), "--processes", "1"),
        env=bgpemu_env(state_dir),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _state_is(observer: Observer, **fields: Any) -> Callable[[], bool]:
    def check() -> bool:
        state = observer.documents.get(observer.topics.state)
        return state is not None and all(state.get(k) == v for k, v in fields.items())

    return check


async def test_a_killed_lab_is_marked_offline_and_observers_ignore_it(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """kill -9 of lab up: its retained state said converged and running forever; now the
    broker publishes its will (offline), observers refuse to take it for a running lab,
    and the name can be used again at once."""
    state_dir = tmp_path / "state"
    filters = [LabTopics(lab=LAB).state, f"{LabTopics(lab=LAB).base}/nodes/+/sessions"]
    async with Observer(mosquitto.url, lab=LAB, filters=filters) as observer:
        async with _lab_up(mosquitto, state_dir, "127.0.83.1") as lab:

            def up() -> bool:
                return _state_is(observer, status="running", converged=True)() and all(
                    [s["state"] for s in observer.node(n).get("sessions", {}).get("sessions", [])]
                    == ["Established"]
                    for n in ("HubGW", "OnPrem")
                )

            await observer.wait_for(up, 60)
            first = observer.documents[observer.topics.state]
            assert first["pid"] == lab.pid
            lab.send_signal(signal.SIGKILL)
            await lab.wait()
            await observer.wait_for(_state_is(observer, status="offline", id=first["id"]), 10)
            assert observer.documents[observer.topics.state]["converged"] is False
        status, err = await _bgpemu("sessions", "--mqtt", mosquitto.url, state_dir=state_dir)
        assert status == 2
        assert f"no running lab on the MQTT broker at {mosquitto.url}" in err
        assert f"{LAB} (offline)" in err
        status, err = await _bgpemu(
            "sessions", "--mqtt", mosquitto.url, "--lab", LAB, state_dir=state_dir
        )
        assert status == 0, err
        assert f"warning: lab {LAB} is not running" in err
        # The dead lab's state file does not hold the name: the next lab up takes it.
        async with _lab_up(mosquitto, state_dir, "127.0.84.1") as again:
            await observer.wait_for(_state_is(observer, status="running", converged=True), 60)
            second = observer.documents[observer.topics.state]
            assert (second["id"], second["pid"]) != (first["id"], first["pid"])
            status, err = await _bgpemu("lab", "down", "--name", LAB, state_dir=state_dir)
            assert (status, err) == (0, "")
            async with asyncio.timeout(30):
                assert await again.wait() == 0
            await observer.wait_for(_state_is(observer, status="stopped", id=second["id"]), 10)


async def test_a_second_lab_of_the_same_name_is_refused(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Two labs of one name overwrote each other's state files (lab down --name then
    answered "no running lab") and retained documents; the second is now refused."""
    state_dir = tmp_path / "state"
    filters = [LabTopics(lab=LAB).state]
    async with (
        Observer(mosquitto.url, lab=LAB, filters=filters) as observer,
        _lab_up(mosquitto, state_dir, "127.0.85.1") as lab,
    ):
        await observer.wait_for(_state_is(observer, status="running", converged=True), 60)
        running = dict(observer.documents[observer.topics.state])
        here = ("lab", "up", str(HUB_SPOKE), "--mqtt", mosquitto.url)
        status, err = await _bgpemu(*here, "--address-base", "127.0.86.1", state_dir=state_dir)
        assert status == 2
        assert f"a lab named '{LAB}' is already running (pid {lab.pid}" in err
        assert mosquitto.url in err
        # From elsewhere (another state directory), the broker's retained state refuses it.
        status, err = await _bgpemu(
            *here, "--address-base", "127.0.86.1", state_dir=tmp_path / "elsewhere"
        )
        assert status == 2
        assert f"already running on the MQTT broker {mosquitto.url} (pid {lab.pid}" in err
        assert observer.documents[observer.topics.state] == running  # untouched
        status, err = await _bgpemu("lab", "down", "--name", LAB, state_dir=state_dir)
        assert status == 0, err
        await observer.wait_for(_state_is(observer, status="stopped", id=running["id"]), 10)


async def test_an_external_router_that_stays_down_publishes_no_lab_state(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """While an external router stays down, the gateway redialled every 0.2 s and every
    attempt republished the lab state and the Azure views.  Now the redials back off
    (1, 2, 4... s) and only the gateway's session state follows them."""
    port = free_port(EXTERNAL)
    network = load_topology(_topology(tmp_path, prefixes=["10.51.0.0/16"], external=port))
    counts: collections.Counter[str] = collections.Counter()

    class Counting(Observer):
        def receive(self, topic: str, payload: bytes) -> None:
            super().receive(topic, payload)
            counts[topic.removeprefix(f"bgpemu/v1/{network.name}/")] += 1

    async with (
        TcpLab(
            network,
            processes=1,
            port=free_port("127.0.10.1"),
            mqtt=mosquitto.url,
            wait_external=False,
        ) as lab,
        publishing(lab, mosquitto.url, converge=30),
        Counting(mosquitto.url, lab=network.name) as observer,
    ):
        await observer.wait_for(lambda: "state" in counts, timeout=10)
        seen = -1
        for _ in range(10):  # until the retained documents are all in (bounded)
            if seen == counts.total():
                break
            seen = counts.total()
            await asyncio.sleep(0.5)
        counts.clear()  # counted from now on
        await asyncio.sleep(6.0)
    assert counts["state"] == 0, counts
    assert sum(n for t, n in counts.items() if "/azure/" in t) == 0, counts
    # 0.2 s redials made about 60 session changes in 6 s; 1, 2, 4 s at most 8.
    assert counts["nodes/GW/sessions"] <= 8, counts


async def test_the_parts_of_a_split_lab_share_its_name(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """``--only`` parts of one lab (the compose 'split' profile, one host each) publish
    under one lab name: the second part is not refused as a second lab."""
    base = "127.0.87.1"
    port = str(free_port(base, "127.0.87.2"))
    parts = []
    try:
        for index, speaker in enumerate(("HubGW", "OnPrem")):
            parts.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bgpemu",
                    *("lab", "up", str(HUB_SPOKE), "--mqtt", mosquitto.url, "--only", speaker),
                    *("--address-base", base, "--port", port, "--processes", "1"),
                    env=bgpemu_env(tmp_path / f"host{index}"),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
            filters = [LabTopics(lab=LAB).state]
            async with Observer(mosquitto.url, lab=LAB, filters=filters) as observer:
                await observer.wait_for(_state_is(observer, pid=parts[-1].pid), 60)
        for part in parts:
            assert part.returncode is None
            part.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                assert await part.wait() == 0
    finally:
        for part in parts:
            if part.returncode is None:
                part.kill()
                await part.wait()
