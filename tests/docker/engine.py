"""The Docker engine for tests/docker: use the running one, or start ``dockerd`` (as root)
for the test session and stop it afterwards.  A daemon that cannot start fails the test
with the reason read from its log when ``CI=true``, and skips it elsewhere (the pattern of
``tests.integration._daemon_base.require_binary``)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from tests.integration._daemon_base import require_binary

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
LOG_TAIL_LINES = 30


def unavailable(reason: str) -> NoReturn:
    """Fail with ``reason`` in CI (these tests never skip there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (Docker tests never skip in CI)", pytrace=False)
    pytest.skip(reason)


def answers(docker: str) -> bool:
    """Whether a Docker daemon answers ``docker info`` on the default socket."""
    try:
        done = subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "<no log>"
    return "\n".join(lines[-LOG_TAIL_LINES:])


@contextmanager
def docker_engine(workdir: Path) -> Iterator[str]:
    """Yield the ``docker`` client's path once a daemon answers; a daemon started here
    (its output in ``workdir/dockerd.log``) is stopped on exit."""
    docker = require_binary("docker")
    if answers(docker):
        yield docker
        return
    dockerd = require_binary("dockerd")
    if os.geteuid() != 0:
        unavailable("no Docker daemon answers and starting dockerd needs root")
    log = workdir / "dockerd.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [dockerd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(docker):
            if process.poll() is not None:
                unavailable(
                    f"dockerd exited with status {process.returncode}; its log ({log}):\n"
                    + _tail(log)
                )
            if time.monotonic() > deadline:
                unavailable(
                    f"dockerd did not answer within {START_TIMEOUT:.0f} s; its log:\n" + _tail(log)
                )
            time.sleep(0.5)
        yield docker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
