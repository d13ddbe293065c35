"""``bgpemu`` commands that a test runs as processes of their own: their environment, one
command run to its end, and the end of a long-running one (``lab up``)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ROOT", "bgpemu_env", "run_bgpemu", "stop_process"]

ROOT = Path(__file__).resolve().parents[1]
"""The checkout whose sources the commands run."""


def bgpemu_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bgpemu`` child: this checkout's sources, its own lab
    state directory ``state_dir``, none of the caller's ``BGPEMU_MQTT_*`` credentials (so
    that none leaks into a test), then ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BGPEMU_MQTT_")}
    env.update(PYTHONPATH=str(ROOT / "src"), BGPEMU_STATE_DIR=str(state_dir))
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
