"""Run one command as a subprocess and measure it: wall times, CPU, peak memory of its tree.

Memory, two ways (both over the process tree: the command, its worker processes and
anything they start):

- ``peak_rss_sum``: a sampler thread reads ``VmRSS`` of every process of the tree from
  ``/proc/<pid>/status`` every ``interval`` (50 ms) and keeps the largest sum.  A peak
  shorter than the interval can be missed, so this is a lower bound of the true peak.
- ``hwm_sum``: the same samples also read ``VmHWM`` (each process's own peak RSS, kept
  by the kernel); the sum of the last value seen per process is an upper bound (each
  process's peak, even if they did not all peak at the same time).
- ``maxrss_max``: ``ru_maxrss`` from ``wait4`` — the largest peak RSS of any *single*
  process of the tree (the kernel keeps the maximum, not the sum; the workers count
  because the lab waits for them).  ``cpu_s``: user+system CPU of the whole tree, from
  the same ``wait4`` rusage (exact, every process reaped).

Wall times: ``t0`` just before ``Popen``; every stdout and stderr line is time-stamped
when read, so the caller can find the summary line and the progress lines.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Measured", "loadavg", "measure", "tree"]

_PAGE_KB = 1024


def _ppid(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2 :].split()[1])


def tree(root: int) -> list[int]:
    """``root`` and every live descendant (from the parent ids in /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _ppid(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of ``pid`` in kB, or None if it has gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = hwm = 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def loadavg() -> str:
    """The first three fields of /proc/loadavg."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass(slots=True)
class Measured:
    """What :func:`measure` saw."""

    argv: list[str]
    returncode: int | None = None
    timed_out: bool = False
    wall_s: float = 0.0
    """Popen to exit."""
    cpu_s: float = 0.0
    maxrss_max_bytes: int = 0
    peak_rss_sum_bytes: int = 0
    hwm_sum_bytes: int = 0
    max_processes: int = 0
    samples: int = 0
    stdout: list[tuple[float, str]] = field(default_factory=list)
    """(seconds since Popen, line) for every stdout line."""
    stderr: list[tuple[float, str]] = field(default_factory=list)


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float, result: Measured) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.result = result
        self.stop = threading.Event()
        self.hwm: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            pids = tree(self.pid)
            for pid in pids:
                got = _status_kb(pid)
                if got is not None:
                    total += got[0]
                    self.hwm[pid] = max(self.hwm.get(pid, 0), got[1])
            result = self.result
            result.samples += 1
            result.max_processes = max(result.max_processes, len(pids))
            result.peak_rss_sum_bytes = max(result.peak_rss_sum_bytes, total * _PAGE_KB)
            result.hwm_sum_bytes = sum(self.hwm.values()) * _PAGE_KB
            self.stop.wait(self.interval)


def _pump(stream: object, sink: list[tuple[float, str]], t0: float) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append((time.perf_counter() - t0, line.rstrip("\n")))


def measure(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    interval: float = 0.05,
    stdout_devnull: bool = False,
) -> Measured:
    """Run ``argv`` to its end (killed, with its process group, after ``timeout``)."""
    result = Measured(argv=list(argv))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if stdout_devnull else subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    sampler = _Sampler(proc.pid, interval, result)
    sampler.start()
    pumps = [threading.Thread(target=_pump, args=(proc.stderr, result.stderr, t0), daemon=True)]
    if proc.stdout is not None:
        pumps.append(
            threading.Thread(target=_pump, args=(proc.stdout, result.stdout, t0), daemon=True)
        )
    for pump in pumps:
        pump.start()
    deadline = t0 + timeout
    status = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() > deadline:
                result.timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
    finally:
        result.wall_s = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        # nothing of the group may outlive the run (workers are daemonic, but be sure)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, 9)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result.returncode = proc.returncode
    result.cpu_s = usage.ru_utime + usage.ru_stime
    result.maxrss_max_bytes = usage.ru_maxrss * 1024
    for pump in pumps:
        pump.join(5.0)
    return result
