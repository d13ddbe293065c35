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
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from tests.cli_process import ROOT, EmbeddedLab, alive, embedded_lab

TOPOLOGY = ROOT / "topologies" / "s2s-bgp.yaml"
LAB = "brokerproc"
WAIT = 60.0
QUIET = 0.5
"""Seconds without a new retained message after which one read of the retained set ends."""


def _parent(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
    assert found is not None
    return int(found[1])


def _cmdline(pid: int) -> list[bytes]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")


def _password(lab: EmbeddedLab) -> str:
    account = lab.state_dir / f"{LAB}.mqtt-credentials"
    password: str = json.loads(account.read_text())["password"]
    return password


async def _gone(pid: int) -> bool:
    async with asyncio.timeout(WAIT):
        while alive(pid):  # noqa: ASYNC110 (another process: nothing to wait on but /proc)
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
async def lab(tmp_path: Path) -> AsyncIterator[EmbeddedLab]:
    """``lab up`` with its embedded broker, until converged."""
    async with embedded_lab(TOPOLOGY, LAB, tmp_path / "state", wait=WAIT) as running:
        yield running


async def test_the_broker_is_a_child_process_restarted_after_its_death(lab: EmbeddedLab) -> None:
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
    assert not alive(new_pid)  # stopping the lab stopped its broker


async def test_a_lab_killed_leaves_no_broker_behind(lab: EmbeddedLab) -> None:
    assert alive(lab.broker_pid)
    lab.process.kill()
    await lab.process.wait()
    assert await _gone(lab.broker_pid)  # stdin's end of file stopped it
