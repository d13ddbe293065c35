"""Process handling shared by the BIRD and GoBGP fixtures (see daemons.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self, TypeVar

import pytest

POLL_INTERVAL = 0.1
GOBGP_POLL_INTERVAL = 0.25
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 10.0
LOG_TAIL_LINES = 40

DEBIAN_PACKAGES: Mapping[str, str] = {
    "bird": "bird2",
    "birdc": "bird2",
    "gobgpd": "gobgpd",
    "gobgp": "gobgpd",
    "mosquitto": "mosquitto",
    "mosquitto_sub": "mosquitto-clients",
    "mosquitto_pub": "mosquitto-clients",
    "mosquitto_passwd": "mosquitto",
    "openssl": "openssl",
    "docker-compose": "docker-compose",
    "docker": "docker.io",
    "dockerd": "docker.io",
    "debootstrap": "debootstrap",
    "dot": "graphviz",
}

_T = TypeVar("_T")


def require_binary(name: str) -> str:
    """Return the absolute path of ``name``; fail in CI, skip elsewhere when it is missing."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if path is not None:
        return path
    package = DEBIAN_PACKAGES.get(name, name)
    message = f"{name!r} not found on PATH; install the Debian package {package!r}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (integration tests never skip in CI)", pytrace=False)
    pytest.skip(message)


def _poll(
    probe: Callable[[], _T | None],
    *,
    timeout: float,
    interval: float,
    on_timeout: Callable[[], NoReturn],
) -> _T:
    """Call ``probe`` until it returns non-None; call ``on_timeout`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            on_timeout()
        time.sleep(interval)


class _Daemon:
    """Shared subprocess handling: start, graceful stop, SIGKILL, context manager."""

    name: str
    workdir: Path

    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.name = name
        self._proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def output_path(self) -> Path:
        """stdout+stderr of the daemon process."""
        return self.workdir / f"{self.name}.out"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _spawn(self, argv: Sequence[str]) -> None:
        if self.running():
            raise RuntimeError(f"{self.name} is already running")
        with self.output_path.open("ab") as out:
            self._proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self.fail(f"{self.name} exited with code {self._proc.returncode}")

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> bool:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return True
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM: the daemon closes its sessions with a NOTIFICATION)."""
        if not self._signal_and_wait(signal.SIGTERM, STOP_TIMEOUT):
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the TCP sessions are reset without any NOTIFICATION."""
        self._signal_and_wait(signal.SIGKILL, STOP_TIMEOUT)

    def start(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        """Stop (gracefully, if still running) and start again with the same config."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        raise NotImplementedError

    def state_text(self) -> str:
        raise NotImplementedError

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        """Poll ``condition`` until true; fail with ``what``, state and log tail on timeout."""

        def probe() -> bool | None:
            self._check_alive()
            return True if condition() else None

        _poll(
            probe,
            timeout=timeout,
            interval=POLL_INTERVAL,
            on_timeout=lambda: self.fail(f"timed out after {timeout} s waiting for {what}"),
        )

    def fail(self, reason: str) -> NoReturn:
        """Fail the test with ``reason``, the daemon's state output and its log tail."""
        try:
            state = self.state_text() if self.running() else "<not running>"
        except (RuntimeError, subprocess.SubprocessError) as exc:
            state = f"<state query failed: {exc}>"
        log_tail = "\n".join(self.log_text().splitlines()[-LOG_TAIL_LINES:])
        pytest.fail(
            f"{reason}\n--- {self.name} state ---\n{state}\n"
            f"--- {self.name} log tail ---\n{log_tail}",
            pytrace=False,
        )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _run_cli(argv: Sequence[str], what: str) -> str:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{what}: timed out after {CLI_TIMEOUT} s") from exc
    if done.returncode != 0:
        raise RuntimeError(f"{what}: exit {done.returncode}: {done.stderr.strip()} {done.stdout}")
    return done.stdout
