"""``bgpemu`` commands that a test runs as processes of their own: their environment, one
command run to its end, the end of a long-running one, and ``lab up`` with its embedded
broker until converged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ROOT",
    "EmbeddedLab",
    "alive",
    "bgpemu_env",
    "embedded_lab",
    "run_bgpemu",
    "stop_process",
]

ROOT = Path(__file__).resolve().parents[1]
"""The checkout whose sources the commands run."""


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def group_members(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` still running (zombies are not)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and alive(int(entry.name)):
            members.append(int(entry.name))
    return members


def bgpemu_env(state_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bgpemu`` child: this checkout's sources, its own lab
    state directory ``state_dir`` (for commands that keep lab state), none of the caller's
    ``BGPEMU_MQTT*`` credentials and broker nor ``BGPEMU_LAB`` (so that none leaks into a
    test), then ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("BGPEMU_MQTT") and k != "BGPEMU_LAB"
    }
    env.update(PYTHONPATH=str(ROOT / "src"))
    if state_dir is not None:
        env.update(BGPEMU_STATE_DIR=str(state_dir))
    env.update(extra)
    return env


async def run_bgpemu(
    *args: str, env: Mapping[str, str], timeout: float = 60.0
) -> tuple[int, str, str]:
    """Run ``python -m bgpemu ARGS`` to its end: (exit status, stdout, stderr).  A command
    still running after ``timeout`` seconds is killed and fails the test."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", *args, env=dict(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def stop_process(process: asyncio.subprocess.Process, grace: float = 30.0) -> None:
    """End ``process`` if it still runs: SIGTERM (a lab publishes its stopped state), then
    SIGKILL after ``grace`` seconds; its pipes are drained meanwhile."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(grace):
            await process.communicate()
    except TimeoutError:
        process.kill()
        await process.communicate()


@dataclass
class EmbeddedLab:
    """A ``bgpemu lab up`` process with its embedded broker (:func:`embedded_lab`)."""

    process: asyncio.subprocess.Process
    env: dict[str, str]
    state_dir: Path
    wait: float
    port: int = 0
    """The embedded broker's port."""
    broker_pid: int = 0
    stderr: list[str] = field(default_factory=list)
    """The lab's stderr lines read so far."""

    async def stderr_until(self, pattern: str) -> re.Match[str]:
        """Read the lab's stderr until a line matches ``pattern``."""
        assert self.process.stderr is not None
        async with asyncio.timeout(self.wait):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, "lab stderr ended:\n" + "".join(self.stderr)
                self.stderr.append(line)
                found = re.search(pattern, line)
                if found is not None:
                    return found


@contextlib.asynccontextmanager
async def embedded_lab(
    topology: Path, name: str, state_dir: Path, *, wait: float = 60.0, extra: Sequence[str] = ()
) -> AsyncIterator[EmbeddedLab]:
    """``bgpemu lab up TOPOLOGY --name NAME`` (one worker, lab timers, and the ``extra``
    options) with its embedded broker, entered once it has printed its converged summary;
    stopped after the block (:func:`stop_process`)."""
    from tests.helpers import free_port

    env = bgpemu_env(state_dir)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "lab", "up", str(topology), "--name", name,
        "--processes", "1", "--port", str(free_port("127.0.10.1")), "--timers", "lab", *extra,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    lab = EmbeddedLab(process, env, state_dir, wait)
    try:
        found = await lab.stderr_until(r"embedded MQTT broker: mqtt://127\.0\.0\.1:(\d+)")
        lab.port = int(found[1])
        pid = re.search(r"\(pid (\d+);", found.string)
        assert pid is not None, f"no broker process named: {found.string!r}"
        lab.broker_pid = int(pid[1])
        async with asyncio.timeout(wait):
            summary = json.loads(await process.stdout.readline())
        assert summary["converged"] is True
        yield lab
    finally:
        await stop_process(process)
