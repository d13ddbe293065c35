"""What happened to a lab worker process that the lab did not ask for (issue 12).

A worker that exits (``kill -9``, an out-of-memory kill, an uncaught error) or is
frozen (``SIGSTOP``) is reported as a :class:`WorkerFault` naming the worker, its
process, its speakers and the cause: the exit status or the signal, and the error the
worker itself reported before it died (its ``fatal`` message on the pipe).  The
supervisor (:mod:`bgpemu.lab.supervisor`) keeps them in ``TcpLab.faults`` and logs
each one; the functions here only describe.
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass

__all__ = ["WorkerEvent", "WorkerFault", "exit_cause", "is_stopped", "signal_name"]


class WorkerEvent(enum.StrEnum):
    """What a worker did: died, was frozen, or runs again after being frozen."""

    EXITED = "exited"
    STOPPED = "stopped"
    RESUMED = "resumed"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerFault:
    """One unrequested event of one worker process."""

    event: WorkerEvent
    worker: int
    """The worker's index in the lab (``lab worker N``)."""
    pid: int
    speakers: tuple[str, ...]
    """The speakers that run (ran) in that process: they live and die with it."""
    cause: str
    """``killed by signal 9 (SIGKILL)``, ``exited with status 1: TimeoutError: ...``..."""
    at: float
    """The lab's monotonic clock when the supervisor noticed."""

    def describe(self) -> str:
        """One line for logs, errors and events: the worker, its speakers, the cause."""
        return (
            f"lab worker {self.worker} (pid {self.pid}; speakers {', '.join(self.speakers)}) "
            f"{self.cause}"
        )


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; ``signal 64`` when the number has no name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_cause(exitcode: int | None, fatal: str | None = None) -> str:
    """Why a worker process ended, from its exit status (negative: the signal that killed
    it, as :attr:`multiprocessing.Process.exitcode` has it) and the error it reported."""
    if exitcode is None:
        cause = "closed its pipe to the lab"
    elif exitcode < 0:
        cause = f"was killed by signal {-exitcode} ({signal_name(-exitcode)})"
    else:
        cause = f"exited with status {exitcode}"
    return f"{cause}: {fatal}" if fatal else cause


def is_stopped(stat: str) -> bool:
    """Whether ``/proc/<pid>/stat`` text shows a stopped process (state ``T``: SIGSTOP,
    SIGTSTP, SIGTTIN or SIGTTOU; ``t``: stopped by a tracer), proc(5).

    The state is the first field after the command name, which is in parentheses and
    may itself hold spaces and parentheses: read after the last ``)``.
    """
    _, paren, rest = stat.rpartition(")")
    fields = rest.split() if paren else []
    return bool(fields) and fields[0] in ("T", "t")
