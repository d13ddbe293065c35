"""Subprocesses that report one-line records on stdout, with timeouts on every wait."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path


class BenchError(RuntimeError):
    """A run failed (timeout, process died); the orchestrator records it and goes on."""


class LineProc:
    """A child process whose stdout records are collected by a reader thread."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin: bool = True,
    ) -> None:
        self.argv = list(argv)
        self.log = log
        self._err = log.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=env,
            cwd=cwd,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def expect(self, word: str, timeout: float, arg: str | None = None) -> list[str]:
        """The next record starting with ``word`` (and ``arg``); raise on timeout or exit."""
        for line in self.seen:
            parts = line.split()
            if parts and parts[0] == word and (arg is None or parts[1:2] == [arg]):
                self.seen.remove(line)
                return parts
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{self.argv[0]}: no {word} {arg or ''} within {timeout:.0f} s")
            try:
                got = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if got is None:
                self.lines.put(None)
                raise BenchError(
                    f"{Path(self.argv[1] if len(self.argv) > 1 else self.argv[0]).name} exited "
                    f"(code {self.proc.poll()}) before {word}; see {self.log}"
                )
            parts = got.split()
            if parts and parts[0] == "ERROR":
                raise BenchError(f"{self.argv[1]}: {got}")
            if parts and parts[0] == word and (arg is None or parts[1:2] == [arg]):
                return parts
            self.seen.append(got)

    def send(self, line: str) -> None:
        if self.proc.stdin is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()

    def stop(self, timeout: float = 5.0) -> None:
        """EOF on stdin and SIGTERM, then SIGKILL of the whole process group."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        terminate(self.proc, timeout)
        self._err.close()


def terminate(proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the child's process group, SIGKILL it after ``timeout``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)


def run_cli(argv: Sequence[str], timeout: float = 10.0) -> str:
    """Run a CLI and return stdout; raise BenchError on failure or timeout."""
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{argv[0]}: timed out after {timeout} s") from exc
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout
