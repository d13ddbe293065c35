"""``lab up``'s embedded broker runs in a process of its own (issue 13, item 6): never in
the routing loop.  Its death is reported, the lab routes on, a new broker takes its port
and the lab publishes everything again; stopping the lab stops the broker, and a lab
killed with SIGKILL leaves no broker behind."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import pytest

from tests.cli_process import ROOT, bgpemu_env, stop_process
from tests.helpers import free_port

TOPOLOGY = ROOT / "topologies" / "s2s-bgp.yaml"
LAB = "brokerproc"
WAIT = 60.0
QUIET = 0.5
"""Seconds without a new retained message after which one read of the retained set ends."""


@dataclass
class RunningLab:
    process: asyncio.subprocess.Process
    env: dict[str, str]
    port: int
    broker_pid: int
    stderr: list[str] = field(default_factory=list)

    async def stderr_until(self, pattern: str) -> re.Match[str]:
        """Read the lab's stderr until a line matches ``pattern``."""
        assert self.process.stderr is not None
        async with asyncio.timeout(WAIT):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, "lab stderr ended:\n" + "".join(self.stderr)
                self.stderr.append(line)
                found = re.search(pattern, line)
                if found is not None:
                    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
    assert found is not None
    return int(found[1])


def _cmdline(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def _password(lab: RunningLab) -> str:
    account = Path(lab.env["BGPEMU_STATE_DIR"]) / f"{LAB}.mqtt-credentials"
    password: str = json.loads(account.read_text())["password"]
    return password


async def _gone(pid: int) -> bool:
    async with asyncio.timeout(WAIT):
        while _alive(pid):  # noqa: ASYNC110 (another process: nothing to wait on but /proc)
            await asyncio.sleep(0.05)
    return True


async def _retained_topics(port: int) -> set[str]:
    """The topics under the lab's root that hold a retained message right now."""
    topics: set[str] = set()
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"bgpemu/v1/{LAB}/#")
        while True:
            try:
                async with asyncio.timeout(QUIET):
                    message = await anext(client.messages)
            except TimeoutError:
                return topics
            if message.retain and message.payload:
                topics.add(str(message.topic))


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[RunningLab]:
    """``lab up`` with its embedded broker, until converged."""
    env = bgpemu_env(tmp_path / "state")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "lab", "up", str(TOPOLOGY), "--name", LAB,
        "--processes", "1", "--port", str(free_port("127.0.10.1")), "--timers", "lab",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    running = RunningLab(process, env, 0, 0)
    try:
        found = await running.stderr_until(r"embedded MQTT broker: mqtt://127\.0\.0\.1:(\d+)")
        running.port = int(found[1])
        pid = re.search(r"\(pid (\d+);", found.string)
        assert pid is not None, f"no broker process named: {found.string!r}"
        running.broker_pid = int(pid[1])
        async with asyncio.timeout(WAIT):
            summary = json.loads(await process.stdout.readline())
        assert summary["converged"] is True
        yield running
    finally:
        await stop_process(process)


async def test_the_broker_is_a_child_process_restarted_after_its_death(lab: RunningLab) -> None:
    assert lab.broker_pid != lab.process.pid
    assert _parent(lab.broker_pid) == lab.process.pid
    cmdline = _cmdline(lab.broker_pid)
    assert b"bgpemu.mqttbroker" in cmdline
    password = _password(lab).encode()
    assert not any(password in arg for arg in cmdline)  # never on its command line
    # the summary comes before the lab has published everything: wait until the retained
    # set holds the lab's state and no longer grows
    async with asyncio.timeout(WAIT):
        before, previous = await _retained_topics(lab.port), set[str]()
        while f"bgpemu/v1/{LAB}/state" not in before or before != previous:
            before, previous = await _retained_topics(lab.port), before
    assert any(topic.endswith("/rib/loc") for topic in before)

    os.kill(lab.broker_pid, signal.SIGKILL)
    await lab.stderr_until(
        rf"warning: the embedded MQTT broker \(pid {lab.broker_pid}\) was killed by SIGKILL; "
        r"the lab routes on"
    )
    back = await lab.stderr_until(
        rf"embedded MQTT broker is back on mqtt://127\.0\.0\.1:{lab.port} \(pid (\d+)\)"
    )
    new_pid = int(back[1])
    assert new_pid != lab.broker_pid
    assert lab.process.returncode is None  # the lab routes on
    # the lab's publishers reconnect and publish everything again
    async with asyncio.timeout(WAIT):
        after = await _retained_topics(lab.port)
        while not before <= after:
            after = await _retained_topics(lab.port)

    lab.process.terminate()
    async with asyncio.timeout(WAIT):
        await lab.process.communicate()
    assert lab.process.returncode == 0
    assert not _alive(new_pid)  # stopping the lab stopped its broker


async def test_a_lab_killed_leaves_no_broker_behind(lab: RunningLab) -> None:
    assert _alive(lab.broker_pid)
    lab.process.kill()
    await lab.process.wait()
    assert await _gone(lab.broker_pid)  # stdin's end of file stopped it
