"""A lab's worker processes: spawned, watched, asked, and buried when they die.

:class:`WorkerPool` starts one process per group of speakers (:mod:`bgpemu.lab.worker`,
spawned; each is given its share of the plan by the lab's ``config``), reads the typed
messages of :mod:`bgpemu.lab.protocol` from each one's pipe (every one sets
:attr:`~WorkerPool.changed`), and sends requests and
waits for their replies (:meth:`~WorkerPool.ask`).  It says what it sees through the
lab's callbacks: the speakers' reports, each fault (:mod:`bgpemu.lab.faults`), and the
speakers lost with a worker that died after its start.

Faults (issue 12): a worker process that dies unasked (``kill -9``, an out-of-memory
kill, an error) is reported with its cause (the signal or exit status, and the error the
worker sent before it died); what was still asked of it fails with that cause.  A
worker frozen by ``SIGSTOP`` is noticed from its process state within
:data:`_WATCH_INTERVAL`, and reported again when it runs on.  No deadline here ends a
worker: a slow machine only makes things slower.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, assert_never

from bgpemu.lab.convergence import SpeakerReport
from bgpemu.lab.errors import LabError, WorkerTimeoutError
from bgpemu.lab.faults import WorkerEvent, WorkerFault, exit_cause, is_stopped
from bgpemu.lab.protocol import (
    Answer,
    Command,
    Done,
    Fatal,
    FromWorker,
    Ready,
    Reply,
    Reports,
    Request,
    StartError,
    Stop,
    Stopped,
)
from bgpemu.lab.worker import WorkerConfig, worker_main

__all__ = ["WorkerInfo", "WorkerPool", "WorkerProcess"]

_WATCH_INTERVAL = 0.5
"""Seconds between two looks at the workers' process states (a SIGSTOP is seen within)."""
_EXIT_STATUS_WAIT = 2.0
"""Seconds to wait for a worker's exit status once its pipe has closed."""


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One worker process of a running lab: its index, process id and speakers."""

    index: int
    pid: int
    speakers: tuple[str, ...]


@dataclass(eq=False, slots=True)
class WorkerProcess:
    """One worker process as the lab sees it: its pipe, its speakers, its state."""

    index: int
    process: Any
    conn: Connection
    names: tuple[str, ...]
    ready: bool = False
    alive: bool = True
    """False once it exited or the lab stopped or crashed it."""
    pending: dict[int, asyncio.Future[Answer]] = field(default_factory=dict)
    fatal: str | None = None
    """The error the worker sent before dying (:class:`~bgpemu.lab.protocol.Fatal`), if any."""
    stopped_since: float | None = None
    """When it was seen stopped (SIGSTOP), until it runs again."""
    buried: bool = False
    """Its exit has been handled."""


class WorkerPool:
    """The worker processes of one lab, oldest first (a restarted group is a new one)."""

    def __init__(
        self,
        *,
        config: Callable[[Sequence[str]], WorkerConfig],
        on_reports: Callable[[Mapping[str, SpeakerReport]], None],
        on_fault: Callable[[WorkerFault], None],
        on_lost: Callable[[tuple[str, ...]], None],
    ) -> None:
        self._config = config
        """The share of the plan the worker of a group of speakers is started with."""
        self._on_reports = on_reports
        self._on_fault = on_fault
        self._on_lost = on_lost
        """Called with the speakers of a worker that died unasked after its start."""
        self.changed = asyncio.Event()
        """Set at every message, exit and fault (and by the lab at each of its changes)."""
        self.workers: list[WorkerProcess] = []
        self.errors: list[str] = []
        """Start errors and exits before ``ready``: each fails the start under way."""
        self._ids = itertools.count(1)
        self._watchdog: asyncio.TimerHandle | None = None

    # -- processes -------------------------------------------------------------------

    def running(self) -> list[WorkerProcess]:
        """The workers that run (not exited, not stopped or crashed by the lab)."""
        return [w for w in self.workers if w.alive]

    def infos(self) -> list[WorkerInfo]:
        """The running worker processes (index, pid, speakers)."""
        return [WorkerInfo(w.index, w.process.pid, w.names) for w in self.running()]

    def of(self, speaker: str, *, alive: bool = True) -> WorkerProcess | None:
        """The newest worker (running, or dead when not ``alive``) of ``speaker``."""
        return next(
            (w for w in reversed(self.workers) if speaker in w.names and w.alive is alive), None
        )

    def least_loaded(self) -> WorkerProcess:
        """The running worker with the fewest speakers (the lower index on a tie)."""
        return min(self.running(), key=lambda w: (len(w.names), w.index))

    async def start(self, groups: Sequence[Sequence[str]], timeout: float) -> None:
        """A worker for each group; return once every speaker listens (LabError otherwise:
        the whole pool is then stopped)."""
        # Starting a spawned process blocks until the child has read its configuration
        # (after its interpreter start and imports): the workers start side by side.
        first = len(self.workers)
        launched = await asyncio.gather(
            *(asyncio.to_thread(self._launch, g, first + i) for i, g in enumerate(groups))
        )
        workers = [self._register(g, *pair) for g, pair in zip(groups, launched, strict=True)]
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(_WATCH_INTERVAL, self._watch)
        await self._wait_ready(workers, timeout)

    async def restart(self, dead: WorkerProcess, timeout: float) -> WorkerProcess:
        """A new worker for the speakers of ``dead``; once they listen (LabError otherwise:
        the running speakers are left alone, and the restart may be retried)."""
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(dead.conn.fileno())
        worker = self._register(dead.names, *self._launch(dead.names, len(self.workers)))
        await self._wait_ready([worker], timeout, whole_lab=False)
        return worker

    def kill(self, worker: WorkerProcess) -> None:
        """SIGKILL ``worker`` (an exit the lab asked for: not a fault)."""
        worker.process.kill()
        worker.alive = False

    async def stop(self, timeout: float) -> None:
        """Stop every worker (their speakers send Cease), killing those still running after
        ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for worker in self.workers:
            if worker.alive:
                worker.alive = False  # its exit is asked for: not a fault
                with contextlib.suppress(OSError, BrokenPipeError):
                    worker.conn.send(Stop())
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            remaining = max(0.0, deadline - time.monotonic())
            await asyncio.to_thread(worker.process.join, remaining)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join, 1.0)
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
            worker.alive = False
        self.workers.clear()

    def _launch(self, group: Sequence[str], index: int) -> tuple[Any, Connection]:
        """Start the worker process of ``group`` (blocking; safe in a thread)."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        config = self._config(group)
        process = context.Process(
            target=worker_main, args=(config, child), name=f"bgpemu-lab-{index}", daemon=True
        )
        process.start()
        child.close()
        return process, parent

    def _register(self, group: Sequence[str], process: Any, parent: Connection) -> WorkerProcess:
        worker = WorkerProcess(len(self.workers), process, parent, tuple(group))
        self.workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._on_message, worker)
        return worker

    async def _wait_ready(
        self, workers: list[WorkerProcess], timeout: float, *, whole_lab: bool = True
    ) -> None:
        """Wait until ``workers`` are ready; LabError if one fails or ``timeout`` passes.

        On failure every worker stops (``whole_lab``: starting), or only ``workers`` do
        (a restart: the running speakers are left alone, and the restart may be retried).
        """
        first = len(self.errors)
        try:
            async with asyncio.timeout(timeout):
                while not all(w.ready for w in workers) and len(self.errors) == first:
                    await self.wait_change()
        except TimeoutError:
            late = "; ".join(
                f"{self.named(w)}{' is stopped (SIGSTOP)' if _stopped(w.process.pid) else ''}"
                for w in workers
                if not w.ready
            )
            self.errors.append(f"the lab's workers did not start within {timeout} s: {late}")
        errors = self.errors[first:]
        if not errors:
            return
        if whole_lab:
            await self.stop(10.0)
            raise LabError("; ".join(self.errors))
        del self.errors[first:]  # this start failed, not the lab
        for worker in workers:
            if worker.alive:
                worker.alive = False  # an exit asked for: not a fault
                worker.process.kill()
        raise LabError("; ".join(errors))

    async def wait_change(self) -> None:
        """Return at the next message, exit or fault (or change the lab signals)."""
        self.changed.clear()
        await self.changed.wait()

    # -- requests --------------------------------------------------------------------

    async def ask(
        self, worker: WorkerProcess, command: Command, timeout: float | None = None
    ) -> Answer:
        """Send ``command`` to ``worker`` and return its answer.

        A worker answers every command (an error if it failed), however long it takes:
        without ``timeout`` this waits as long as the worker runs, so a busy machine only
        makes a command slower.  LabError if the worker refuses, dies, is stopped
        (SIGSTOP: at once, or when it stops meanwhile), or, with ``timeout``, does not
        answer in time (WorkerTimeoutError).
        """
        kind = command.kind
        if not worker.alive:
            raise LabError(f"{self.named(worker)} is not running ({kind!r} not sent)")
        if worker.stopped_since is not None and _stopped(worker.process.pid):  # still
            raise LabError(self._stopped_error(worker, repr(kind)))
        try:
            request, future = self._request(worker, command)
        except OSError as exc:
            raise LabError(f"{self.named(worker)}: {kind!r} not sent: {exc}") from None
        try:
            async with asyncio.timeout(timeout):
                reply = await future
        except TimeoutError:
            stopped = ""
            if worker.stopped_since is not None:
                since = time.monotonic() - worker.stopped_since
                stopped = f" (stopped by SIGSTOP {since:.0f} s ago)"
            raise WorkerTimeoutError(
                f"{self.named(worker)} did not answer {kind!r} within {timeout} s{stopped}"
            ) from None
        finally:
            worker.pending.pop(request, None)
        if isinstance(reply, Done) and reply.error:
            raise LabError(reply.error)
        return reply

    async def ask_all(
        self, command: Command, timeout: float, speakers: frozenset[str] | None = None
    ) -> list[Answer]:
        """Ask every running worker (only those running some of ``speakers``, if given)."""
        workers = [
            w
            for w in self.workers
            if w.alive and (speakers is None or not speakers.isdisjoint(w.names))
        ]
        return list(await asyncio.gather(*(self.ask(w, command, timeout) for w in workers)))

    def post(self, worker: WorkerProcess, command: Command, then: Callable[[], None]) -> None:
        """Send ``command`` to ``worker`` without waiting; ``then()`` once it is answered,
        or can never be (the worker died, or is not running)."""
        loop = asyncio.get_running_loop()
        if not worker.alive:
            loop.call_soon(then)
            return
        try:
            request, future = self._request(worker, command)
        except OSError:
            loop.call_soon(then)
            return

        def answered(future: asyncio.Future[Answer]) -> None:
            worker.pending.pop(request, None)
            if not future.cancelled():
                future.exception()  # a dead worker's LabError: nothing to add
            then()

        future.add_done_callback(answered)

    def _request(
        self, worker: WorkerProcess, command: Command
    ) -> tuple[int, asyncio.Future[Answer]]:
        """Send ``command`` to ``worker`` as a new request, its answer to come in the
        future (registered in ``worker.pending``); OSError, unregistered, if the pipe is
        gone."""
        request = next(self._ids)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        worker.pending[request] = future
        try:
            worker.conn.send(Request(request, command))
        except OSError:
            del worker.pending[request]
            raise
        return request, future

    def named(self, worker: WorkerProcess) -> str:
        """``lab worker 2 (pid 4711; speakers SiteB)``, as in :meth:`WorkerFault.describe`."""
        names = ", ".join(worker.names)
        return f"lab worker {worker.index} (pid {worker.process.pid}; speakers {names})"

    def _stopped_error(self, worker: WorkerProcess, what: str) -> str:
        since = time.monotonic() - (worker.stopped_since or time.monotonic())
        return (
            f"{self.named(worker)} is stopped (SIGSTOP) since {since:.0f} s: "
            f"{what} not answered; it runs again after SIGCONT"
        )

    # -- what the workers say and do -------------------------------------------------

    def _on_message(self, worker: WorkerProcess) -> None:
        try:
            message: FromWorker = worker.conn.recv()
        except (EOFError, OSError):
            self._on_exit(worker)
            return
        match message:
            case Ready():
                worker.ready = True
            case Fatal(error):
                worker.fatal = error
            case StartError(error):
                self.errors.append(error)
            case Reports(reports):
                self._on_reports(reports)
            case Reply(request, answer):
                waiting = worker.pending.pop(request, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(answer)
            case Stopped():
                pass
            case _:
                assert_never(message)
        self.changed.set()

    def _on_exit(self, worker: WorkerProcess, deadline: float | None = None) -> None:
        """The worker's pipe closed: handle its exit once its exit status is known.

        The kernel closes a dying process's files a moment before its exit status can
        be read: look again every 10 ms, for at most :data:`_EXIT_STATUS_WAIT`.
        """
        loop = asyncio.get_running_loop()
        if deadline is None:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(worker.conn.fileno())
            deadline = time.monotonic() + _EXIT_STATUS_WAIT
        if worker.process.exitcode is None and time.monotonic() < deadline:
            loop.call_later(0.01, self._on_exit, worker, deadline)
        else:
            self._buried(worker)

    def _buried(self, worker: WorkerProcess) -> None:
        """A worker exited: unless the lab asked for it, report it as a fault with its
        cause, and its speakers as lost (before ``ready``: the start fails)."""
        if worker.buried:
            return
        worker.buried = True
        unasked = worker.alive
        worker.alive = False
        cause = exit_cause(worker.process.exitcode, worker.fatal)
        error = f"{self.named(worker)} {cause}"
        if not unasked:  # lab.stop() or crash(): what was still asked of it is not answered
            error = f"{self.named(worker)} was stopped by the lab (it {cause})"
        if unasked:
            if not worker.ready:
                self.errors.append(error)
            else:
                self._fault(worker, WorkerEvent.EXITED, cause)
                self._on_lost(worker.names)
        for future in worker.pending.values():
            if not future.done():
                future.set_exception(LabError(error))
        self.changed.set()

    def _watch(self) -> None:
        """Every :data:`_WATCH_INTERVAL`: report a worker stopped (SIGSTOP) or running again."""
        now = time.monotonic()
        for worker in self.workers:
            if not worker.alive or not worker.ready:
                continue
            stopped = _stopped(worker.process.pid)
            if stopped and worker.stopped_since is None:
                worker.stopped_since = now
                for future in worker.pending.values():  # answered only after SIGCONT
                    if not future.done():
                        error = self._stopped_error(worker, "a request sent before")
                        future.set_exception(LabError(error))
                cause = (
                    "is stopped (SIGSTOP or SIGTSTP): its speakers neither send nor answer "
                    "until it gets SIGCONT; their peers' hold timers end their sessions"
                )
                self._fault(worker, WorkerEvent.STOPPED, cause)
            elif not stopped and worker.stopped_since is not None:
                cause = f"runs again (SIGCONT) after {now - worker.stopped_since:.1f} s stopped"
                worker.stopped_since = None
                self._fault(worker, WorkerEvent.RESUMED, cause)
        self._watchdog = asyncio.get_running_loop().call_later(_WATCH_INTERVAL, self._watch)

    def _fault(self, worker: WorkerProcess, event: WorkerEvent, cause: str) -> None:
        fault = WorkerFault(
            event=event,
            worker=worker.index,
            pid=worker.process.pid,
            speakers=worker.names,
            cause=cause,
            at=time.monotonic(),
        )
        self._on_fault(fault)


def _stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped now (Linux /proc; False where unreadable)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return is_stopped(stat.read())
    except OSError:
        return False
