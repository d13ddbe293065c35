"""What happened to a lab worker process that the lab did not ask for (issue 12).

A worker that exits (``kill -9``, an out-of-memory kill, an uncaught error) or is
frozen (``SIGSTOP``) is reported as a :class:`WorkerFault` naming the worker, its
process, its speakers and the cause: the exit status or the signal, and the error the
worker itself reported before it died (its ``fatal`` message on the pipe).  The
supervisor (:mod:`bgpemu.lab.supervisor`) keeps them in ``TcpLab.faults`` and logs
each one; the functions here only describe.  The worker's own words come from
:func:`fatal_text` (the exception that ends it, and where it was raised) and
:class:`LogTail` (its last log lines).
"""

from __future__ import annotations

import collections
import enum
import logging
import signal
import traceback
from dataclasses import dataclass

__all__ = [
    "LogTail",
    "WorkerEvent",
    "WorkerFault",
    "exit_cause",
    "fatal_text",
    "is_stopped",
    "leaves",
    "signal_name",
]


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


def fatal_text(exc: BaseException) -> str:
    """``TimeoutError: ... (at worker.py:298 in _command)`` for each leaf exception of
    ``exc``: what the parent's report says about a worker that died of it."""
    parts = []
    for leaf in leaves(exc):
        text = "".join(traceback.format_exception_only(leaf)).strip() or type(leaf).__name__
        frames = traceback.extract_tb(leaf.__traceback__)
        if frames:
            last = frames[-1]
            where = f"{last.filename.rpartition('/')[2]}:{last.lineno} in {last.name}"
            text = f"{text} (at {where})"
        parts.append(text)
    return "; ".join(parts)


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (possibly nested) exception groups."""
    if not isinstance(exc, BaseExceptionGroup):
        return [exc]
    found: list[BaseException] = []
    for inner in exc.exceptions:
        found.extend(leaves(inner))
    return found


class LogTail(logging.Handler):
    """Keeps the last few log lines of the process (at the root logger's level), for
    the ``Fatal`` message: what the parent shows of a dying worker's stderr."""

    def __init__(self, keep: int = 5) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().partition("\n")[0]
        self.lines.append(f"{record.levelname} {record.name}: {first}")
