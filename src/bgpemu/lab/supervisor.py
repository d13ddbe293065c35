"""Run a topology as a TCP lab: speakers in worker processes, convergence decided here.

:class:`TcpLab` compiles the network (:func:`bgpemu.azure.roles.compile_network`) with
lab addresses 127.0.10.N, splits the speakers over worker processes
(:mod:`bgpemu.lab.worker`; each is given its share of the plan, in the messages of
:mod:`bgpemu.lab.protocol`), waits until every speaker listens, and keeps the latest
report of every speaker; :meth:`TcpLab.converged` waits for the exact convergence of
:mod:`bgpemu.lab.convergence` (no fixed sleeps).  A speaker that cannot start (its
address or port in use) stops the whole lab before anything else runs, and the error
names the node and the address.

Injections (issue "failures you can inject"): :meth:`~TcpLab.crash` and
:meth:`~TcpLab.restart` a speaker's process, :meth:`~TcpLab.cut_link` /
:meth:`~TcpLab.restore_link` (clean: Cease on both ends, sessions held down; silent:
the connection is held open but nothing passes, so the hold timers find out),
:meth:`~TcpLab.reset_session`, :meth:`~TcpLab.announce`, :meth:`~TcpLab.withdraw` and
:meth:`~TcpLab.set_neighbor_policy` (soft reconfiguration: the session stays up; the
lab keeps the new settings and gives them again to a restarted speaker).
Sessions that are down on purpose leave the expected set; the lab converges again
once the surviving ends have noticed.

Topology change at runtime (issue 6): :meth:`TcpLab.apply` carries a
:class:`~bgpemu.azure.replan.PlanChange` out on the running speakers in the contract's
order (new speakers start on the least loaded worker; then each speaker's own changes;
restarts; removals), no other session being touched, and then expects the new plan's
sessions.  :meth:`TcpLab.change_topology` plans the change from a new network and
applies it.

Faults (issue 12): a worker process that dies unasked (``kill -9``, an out-of-memory
kill, an error) is reported with its cause (:mod:`bgpemu.lab.faults`: the signal or
exit status, and the error the worker sent before it died) in :attr:`TcpLab.faults`
and the log; its speakers count as crashed (:meth:`TcpLab.restart` starts them again)
and the other sessions run on.  A worker frozen by ``SIGSTOP`` is noticed from its
process state within a second, and reported again when it runs on.  A slow machine
only makes things slower: no deadline here ends a worker, and a command that fails in
a worker is answered with its error (the worker runs on).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, assert_never

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import PlanChange, replan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.errors import BgpEmuError
from bgpemu.lab.bestpaths import BestPaths
from bgpemu.lab.convergence import (
    SpeakerReport,
    Verdict,
    decide,
    expected_sessions,
    external_sessions,
)
from bgpemu.lab.faults import WorkerEvent, WorkerFault, exit_cause, is_stopped
from bgpemu.lab.placement import place
from bgpemu.lab.profile import lab_profile
from bgpemu.lab.protocol import (
    AddSpeaker,
    Announce,
    Answer,
    ApplyChange,
    BestPathsFound,
    Command,
    Done,
    Fatal,
    Flush,
    FromWorker,
    GetBestPaths,
    Ready,
    RemoveSpeaker,
    Reply,
    Reports,
    Request,
    RestartSpeaker,
    SessionAction,
    SetPolicy,
    Snapshots,
    StartError,
    Stop,
    Stopped,
    TakeSnapshots,
    Withdraw,
)
from bgpemu.lab.worker import WorkerConfig, worker_main
from bgpemu.observe.url import BrokerAddress
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.types import Family

__all__ = ["LabError", "TcpLab", "WorkerInfo", "WorkerTimeoutError", "split"]

logger = logging.getLogger(__name__)

_WATCH_INTERVAL = 0.5
"""Seconds between two looks at the workers' process states (a SIGSTOP is seen within)."""
_REPLY_MARGIN = 5.0
"""Seconds the lab waits beyond a deadline it gave a worker, for the worker's own answer."""
_EXIT_STATUS_WAIT = 2.0
"""Seconds to wait for a worker's exit status once its pipe has closed."""


class LabError(BgpEmuError):
    """The lab could not start, or an injection names nothing real; the message says which."""


class WorkerTimeoutError(LabError, TimeoutError):
    """A worker did not answer a command in time (slow, stopped...); the message names it."""


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One worker process of a running lab: its index, process id and speakers."""

    index: int
    pid: int
    speakers: tuple[str, ...]


def split(
    names: list[str], processes: int, neighbors: Mapping[str, Sequence[str]] | None = None
) -> list[list[str]]:
    """Speakers over at most ``processes`` non-empty groups: by session graph when
    ``neighbors`` is given (:func:`~bgpemu.lab.placement.place`), else dealt
    round-robin (sorted).  :meth:`TcpLab.groups` tells where a lab put them."""
    if neighbors is not None:
        return place(names, processes, neighbors)
    count = max(1, min(processes, len(names)))
    groups: list[list[str]] = [[] for _ in range(count)]
    for index, name in enumerate(sorted(names)):
        groups[index % count].append(name)
    return [g for g in groups if g]


@dataclass(eq=False, slots=True)
class _Worker:
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


class TcpLab:
    """A running TCP lab of ``network`` (use ``async with``, or start()/stop())."""

    def __init__(
        self,
        network: Network,
        *,
        processes: int | None = None,
        port: int = 10179,
        lab_base: str = "127.0.10.1",
        keepalive: int = 60,
        hold: int = 180,
        seed: int = 0,
        name: str | None = None,
        mqtt: str | BrokerAddress | None = None,
        only: tuple[str, ...] = (),
        wait_external: bool = True,
        lab_id: str | None = None,
    ) -> None:
        self.network = network
        self.id = lab_id or uuid.uuid4().hex
        """Unique id of this run of the lab (in its state file and its MQTT ``state``)."""
        self.wait_external = wait_external
        """Convergence waits for the sessions to external routers (else: names them)."""
        self.name = name or network.name
        self.mqtt = mqtt
        """The broker the speakers publish their tables to (None: no MQTT)."""
        self.options: dict[str, Any] = {
            "lab_base": lab_base,
            "port": port,
            "keepalive": keepalive,
            "hold": hold,
        }
        self.plan: Plan = lab_profile(compile_network(network, **self.options))
        self.processes = processes or os.cpu_count() or 1
        self.seed = seed
        self.reports: dict[str, SpeakerReport] = {}
        speakers = {spec.name for spec in self.plan.speakers}
        unknown = sorted(set(only) - speakers)
        if unknown:
            raise LabError(f"no speaker {', '.join(unknown)} in topology {network.name!r}")
        self.local = tuple(only) or tuple(sorted(speakers))
        """The speakers this lab runs (all, unless ``only`` picks some: split placement)."""
        self._all_sessions = expected_sessions(
            {
                spec.name: [n.name for n in spec.neighbors]
                for spec in self.plan.speakers
                if spec.name in self.local
            }
        )
        self.sessions: set[tuple[str, str]] = set(self._all_sessions)
        """The sessions expected Established now (all minus those down on purpose)."""
        self.external: set[tuple[str, str]] = self._external_sessions()
        """(speaker, router) sessions to external routers (one end in the lab)."""
        self.version = 0
        """Bumped by every report or injection: equal versions mean nothing changed."""
        self._workers: list[_Worker] = []
        self.faults: list[WorkerFault] = []
        """Every worker exit, stop and resume the lab did not ask for, oldest first."""
        self.fault_listeners: list[Callable[[WorkerFault], None]] = []
        """Called with each new fault (after it is logged and stored)."""
        self._watchdog: asyncio.TimerHandle | None = None
        self._change = asyncio.Event()
        self._ids = itertools.count(1)
        self._errors: list[str] = []
        self._crashed: set[str] = set()
        self._cut: set[tuple[str, str]] = set()
        self._down: set[tuple[str, str]] = set()
        self._policies: dict[tuple[str, str], NeighborPolicy] = {}
        """(speaker, peer) -> settings changed by :meth:`set_neighbor_policy`."""
        self._applying = False
        """A topology change is under way: never converged meanwhile."""

    async def __aenter__(self) -> TcpLab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- lifecycle -------------------------------------------------------------------

    def groups(self) -> list[tuple[str, ...]]:
        """The speakers of each running worker process (they live and die together)."""
        return [worker.names for worker in self._workers if worker.alive]

    def workers(self) -> list[WorkerInfo]:
        """The running worker processes (index, pid, speakers)."""
        return [WorkerInfo(w.index, w.process.pid, w.names) for w in self._workers if w.alive]

    @property
    def worker_count(self) -> int:
        """How many worker processes run the speakers."""
        return sum(1 for w in self._workers if w.alive)

    async def start(self, timeout: float = 60.0) -> None:
        """Start every worker; return once every speaker listens (LabError otherwise)."""
        neighbors = {spec.name: [n.name for n in spec.neighbors] for spec in self.plan.speakers}
        groups = split(list(self.local), self.processes, neighbors)
        # Starting a spawned process blocks until the child has read its configuration
        # (after its interpreter start and imports): the workers start side by side.
        first = len(self._workers)
        launched = await asyncio.gather(
            *(asyncio.to_thread(self._launch, g, first + i) for i, g in enumerate(groups))
        )
        workers = [self._register(g, *pair) for g, pair in zip(groups, launched, strict=True)]
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(_WATCH_INTERVAL, self._watch)
        await self._wait_ready(workers, timeout)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop every speaker (Cease to its peers) and every worker."""
        loop = asyncio.get_running_loop()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for worker in self._workers:
            if worker.alive:
                worker.alive = False  # its exit is asked for: not a fault
                with contextlib.suppress(OSError, BrokenPipeError):
                    worker.conn.send(Stop())
        deadline = time.monotonic() + timeout
        for worker in self._workers:
            remaining = max(0.0, deadline - time.monotonic())
            await asyncio.to_thread(worker.process.join, remaining)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join, 1.0)
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(worker.conn.fileno())
            worker.conn.close()
            worker.alive = False
        self._workers.clear()

    def _spawn(self, group: list[str] | tuple[str, ...]) -> _Worker:
        return self._register(group, *self._launch(group, len(self._workers)))

    def _launch(self, group: list[str] | tuple[str, ...], index: int) -> tuple[Any, Connection]:
        """Start the worker process of ``group`` (blocking; safe in a thread)."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        config = self._worker_config(group)
        process = context.Process(
            target=worker_main, args=(config, child), name=f"bgpemu-lab-{index}", daemon=True
        )
        process.start()
        child.close()
        return process, parent

    def _worker_config(self, group: Sequence[str]) -> WorkerConfig:
        """The share of the current plan the worker of ``group`` runs: its speakers'
        specs and endpoints (not the network to compile again, nor the whole plan)."""
        specs = {spec.name: spec for spec in self.plan.speakers}
        return WorkerConfig(
            specs=tuple(specs[name] for name in group),
            endpoints={name: self.plan.endpoints[name] for name in group},
            seed=self.seed,
            lab=self.name,
            mqtt=self.mqtt,
        )

    def _register(
        self, group: list[str] | tuple[str, ...], process: Any, parent: Connection
    ) -> _Worker:
        worker = _Worker(len(self._workers), process, parent, tuple(group))
        self._workers.append(worker)
        asyncio.get_running_loop().add_reader(parent.fileno(), self._on_message, worker)
        return worker

    async def _wait_ready(
        self, workers: list[_Worker], timeout: float, *, whole_lab: bool = True
    ) -> None:
        """Wait until ``workers`` are ready; LabError if one fails or ``timeout`` passes.

        On failure the whole lab stops (``whole_lab``: starting), or only ``workers`` do
        (a restart: the running speakers are left alone, and the restart may be retried).
        """
        first = len(self._errors)
        try:
            async with asyncio.timeout(timeout):
                while not all(w.ready for w in workers) and len(self._errors) == first:
                    await self.wait_change()
        except TimeoutError:
            late = "; ".join(
                f"{self._named(w)}{' is stopped (SIGSTOP)' if _stopped(w.process.pid) else ''}"
                for w in workers
                if not w.ready
            )
            self._errors.append(f"the lab's workers did not start within {timeout} s: {late}")
        errors = self._errors[first:]
        if not errors:
            return
        if whole_lab:
            await self.stop()
            raise LabError("; ".join(self._errors))
        del self._errors[first:]  # this start failed, not the lab
        for worker in workers:
            if worker.alive:
                worker.alive = False  # an exit asked for: not a fault
                worker.process.kill()
        raise LabError("; ".join(errors))

    # -- state -----------------------------------------------------------------------

    def verdict(self) -> Verdict:
        """Converged or not, from the latest reports."""
        if self._applying:
            waiting = ("a topology change is being applied",)
            return Verdict(converged=False, established=0, expected=0, waiting=waiting)
        return decide(
            self.reports,
            self.sessions,
            down=self._down,
            external=self.external - {(s, r) for s, r in self.external if s in self._crashed},
            wait_external=self.wait_external,
        )

    async def converged(self, timeout: float = 60.0) -> Verdict:
        """Wait until the lab is converged (TimeoutError with the reasons otherwise)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    verdict = self.verdict()
                    if verdict.converged:
                        return verdict
                    if self._errors:
                        raise LabError("; ".join(self._errors))
                    await self.wait_change()
        except TimeoutError:
            waiting = ", ".join(self.verdict().waiting)
            raise TimeoutError(f"not converged after {timeout} s: {waiting}") from None

    async def snapshots(
        self,
        timeout: float = 120.0,
        *,
        speakers: frozenset[str] | None = None,
        without_adj_rib_out: frozenset[str] = frozenset(),
    ) -> dict[str, RouterSnapshot]:
        """Every running speaker's RIBs and sessions (only ``speakers`` when given; the
        Adj-RIBs-Out of ``without_adj_rib_out`` left empty), gathered from the workers."""
        command = TakeSnapshots(speakers, without_adj_rib_out)
        replies = await self._ask_all(command, timeout, speakers=speakers)

        def decode() -> dict[str, RouterSnapshot]:
            result: dict[str, RouterSnapshot] = {}
            for reply in replies:
                assert isinstance(reply, Snapshots), reply
                for name, data in reply.snapshots.items():
                    result[name] = RouterSnapshot.from_json(data)
            return dict(sorted(result.items()))

        # In a thread: large tables take seconds to decode, and this loop may also run
        # the embedded MQTT broker, which must keep serving meanwhile.
        return await asyncio.to_thread(decode)

    async def best_paths(self, timeout: float = 120.0) -> dict[str, BestPaths]:
        """Every running speaker's Loc-RIB digest (:mod:`bgpemu.lab.bestpaths`), gathered
        from the workers: what the ``control`` handler compares around an injection."""
        replies = await self._ask_all(GetBestPaths(), timeout)
        found: dict[str, BestPaths] = {}
        for reply in replies:
            assert isinstance(reply, BestPathsFound), reply
            found.update(reply.best_paths)
        return found

    async def flush(self, timeout: float = 30.0) -> None:
        """Have every speaker publish its current tables and wait until the broker has them.

        The workers wait ``timeout`` seconds for the broker (LabError naming what is
        still to publish otherwise; the workers run on, and keep publishing).
        """
        await self._ask_all(Flush(timeout), timeout + _REPLY_MARGIN)

    def best_routes(self) -> int:
        """Loc-RIB prefixes over the running speakers (from their latest reports)."""
        return sum(report.best_routes for report in self.reports.values())

    def updates_sent(self) -> int:
        """UPDATEs sent so far by the running speakers (from their latest reports)."""
        return sum(report.updates_sent_total for report in self.reports.values())

    async def wait_change(self) -> None:
        """Return at the next report, reply, injection or error."""
        self._change.clear()
        await self._change.wait()

    # -- injections ------------------------------------------------------------------

    def colocated(self, speaker: str) -> tuple[str, ...]:
        """The running speakers that share ``speaker``'s process (itself included)."""
        return self._worker_of(speaker).names

    def crash(self, speaker: str) -> tuple[str, ...]:
        """Kill (SIGKILL) the worker process running ``speaker``: no Cease, no clean close.

        Every speaker of that process dies with it (run the lab with as many processes
        as speakers to crash one alone); returns their names.
        """
        worker = self._worker_of(speaker)
        worker.process.kill()
        worker.alive = False
        self._crashed.update(worker.names)
        for name in worker.names:
            self.reports.pop(name, None)
        self._recompute()
        return worker.names

    async def restart(self, speaker: str, timeout: float = 60.0) -> tuple[str, ...]:
        """Start the crashed speakers of ``speaker``'s process again, fresh (new process)."""
        dead = next(
            (w for w in reversed(self._workers) if speaker in w.names and not w.alive), None
        )
        if dead is None or speaker not in self._crashed:
            raise LabError(f"speaker {speaker!r} of lab {self.name!r} has not crashed")
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(dead.conn.fileno())
        worker = self._spawn(dead.names)
        await self._wait_ready([worker], timeout, whole_lab=False)
        self._crashed.difference_update(dead.names)
        for (name, _peer), policy in sorted(self._policies.items()):
            if name in dead.names:
                await self._ask(worker, SetPolicy(name, policy))
        self._recompute()
        return dead.names

    async def announce(self, speaker: str, route: OriginatedRoute) -> None:
        """``speaker`` starts originating ``route``."""
        await self._ask(self._worker_of(speaker), Announce(speaker, route))

    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None:
        """``speaker`` stops originating ``prefix``."""
        await self._ask(self._worker_of(speaker), Withdraw(speaker, family, prefix))

    def neighbor_policy(self, speaker: str, peer: str) -> NeighborPolicy:
        """The current settings of ``speaker`` for neighbour ``peer``."""
        changed = self._policies.get((speaker, peer))
        if changed is not None:
            return changed
        spec = next((s for s in self.plan.speakers if s.name == speaker), None)
        if spec is None:
            raise LabError(f"no speaker {speaker!r} in lab {self.name!r}")
        return spec.router.neighbor(peer)

    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        """``speaker`` takes new settings for neighbour ``policy.name``; the session stays up
        (soft reconfiguration, RFC 2918; see :mod:`bgpemu.router.reconfigure`)."""
        self._pair(speaker, policy.name)
        await self._ask(self._worker_of(speaker), SetPolicy(speaker, policy))
        self._policies[(speaker, policy.name)] = policy

    async def cut_link(self, a: str, b: str, *, silent: bool = False) -> None:
        """Take the session between speakers ``a`` and ``b`` down until :meth:`restore_link`.

        Clean: both ends stop it with Cease / Administrative Shutdown (RFC 4486 §4).
        Silent: the TCP connection stays open but nothing passes in either direction,
        so only the hold timers (RFC 4271 §6.5) find out.
        """
        pair = self._pair(a, b)
        action = "blackhole" if silent else "stop"
        for local, peer in ((a, b), (b, a)):
            await self._session(local, peer, action)
        self._cut.add(pair)
        self._recompute()

    async def restore_link(self, a: str, b: str) -> None:
        """Bring a cut session back (both ends start it again)."""
        pair = self._pair(a, b)
        if pair not in self._cut:
            raise LabError(f"the link {a}-{b} of lab {self.name!r} is not cut")
        for local, peer in ((a, b), (b, a)):
            await self._session(local, peer, "start")
        self._cut.discard(pair)
        self._recompute()

    async def reset_session(self, a: str, b: str) -> None:
        """``a`` resets its session with ``b`` (Cease / Administrative Reset, RFC 4486 §4)."""
        self._pair(a, b)
        await self._session(a, b, "reset")

    # -- topology change (issue 6) -----------------------------------------------------

    def plan_change(self, network: Network) -> PlanChange:
        """What changes if the lab is to run ``network`` instead (nothing is touched).

        Planned from the running plan with the lab's compile options and its retry
        profile (:func:`bgpemu.azure.replan.replan`, :func:`~bgpemu.lab.profile.lab_profile`).
        """
        return replan(self.plan, network, **self.options, profile=lab_profile)

    async def change_topology(self, network: Network, timeout: float = 60.0) -> PlanChange:
        """Run ``network`` from now on: :meth:`plan_change`, then :meth:`apply`."""
        change = self.plan_change(network)
        await self.apply(change, network=network, timeout=timeout)
        return change

    async def apply(
        self, change: PlanChange, *, network: Network | None = None, timeout: float = 60.0
    ) -> None:
        """Carry ``change`` out on the running speakers, then run its new plan.

        In the order of :mod:`bgpemu.azure.replan`: start the new speakers (each on the
        worker with the fewest speakers), each speaker's own changes (neighbours added,
        policies, resets, routes, neighbours removed with Cease / Peer De-configured),
        restarts, then stop the removed speakers.  No other session is touched.  Then
        :attr:`plan` is ``change.new``, :attr:`network` is ``network`` (when given: the
        Azure views follow it), convergence expects the new plan's sessions, and nothing
        of a removed speaker or session is left in the reports.

        LabError, the lab untouched, when the change was not planned from :attr:`plan`,
        when some speakers run elsewhere (``only``) or a speaker is crashed; LabError if
        a worker refuses a step or ``timeout`` passes (the lab is then part-changed).
        """
        if change.old is not self.plan and change.old != self.plan:
            raise LabError(f"the change was not planned from the running plan of lab {self.name!r}")
        everything = {spec.name for spec in self.plan.speakers}
        if set(self.local) != everything:
            raise LabError(
                f"lab {self.name!r} runs only some of its speakers; its topology cannot change"
            )
        if self._crashed:
            crashed = ", ".join(sorted(self._crashed))
            raise LabError(f"lab {self.name!r}: restart the crashed speakers first ({crashed})")
        self._applying = True
        self.version += 1
        self._change.set()
        try:
            async with asyncio.timeout(timeout):
                await self._carry_out(change)
        except TimeoutError:
            raise LabError(
                f"lab {self.name!r}: the topology change did not complete within {timeout} s"
            ) from None
        finally:
            self._applying = False
        self._adopt(change, network)

    async def _carry_out(self, change: PlanChange) -> None:
        endpoints = change.new.endpoints
        for spec in change.add_speakers:
            worker = min(
                (w for w in self._workers if w.alive), key=lambda w: (len(w.names), w.index)
            )
            await self._ask(worker, AddSpeaker(spec, endpoints[spec.name]))
            worker.names = (*worker.names, spec.name)
            self.local = tuple(sorted((*self.local, spec.name)))
        for item in change.speakers:
            await self._ask(self._worker_of(item.speaker), ApplyChange(item))
        for spec in change.restart_speakers:
            await self._ask(self._worker_of(spec.name), RestartSpeaker(spec, endpoints[spec.name]))
        for name in change.remove_speakers:
            worker = self._worker_of(name)
            await self._ask(worker, RemoveSpeaker(name))
            worker.names = tuple(n for n in worker.names if n != name)
            self.local = tuple(n for n in self.local if n != name)
            self.reports.pop(name, None)

    def _adopt(self, change: PlanChange, network: Network | None) -> None:
        """Expect the new plan's sessions; forget what no longer exists."""
        self.plan = change.new
        if network is not None:
            self.network = network
        self._all_sessions = expected_sessions(
            {spec.name: [n.name for n in spec.neighbors] for spec in self.plan.speakers}
        )
        self.external = self._external_sessions()
        self._cut &= self._all_sessions
        # Settings changed by set_neighbor_policy stay, unless the new plan sets new ones.
        restarted = {spec.name for spec in change.restart_speakers}
        configured = {
            (item.speaker, name)
            for item in change.speakers
            for name in (
                *(p.name for p in item.policies),
                *(n.name for n, _ in item.reset_neighbors),
            )
        }
        self._policies = {
            (speaker, peer): policy
            for (speaker, peer), policy in self._policies.items()
            if tuple(sorted((speaker, peer))) in self._all_sessions
            and speaker not in restarted
            and (speaker, peer) not in configured
        }
        self._recompute()

    # -- plumbing --------------------------------------------------------------------

    def _external_sessions(self) -> set[tuple[str, str]]:
        """(speaker, router) for every session of a local speaker to an external router."""
        routers = [name for name, e in self.plan.endpoints.items() if e.external]
        neighbors = {
            spec.name: [n.name for n in spec.neighbors]
            for spec in self.plan.speakers
            if spec.name in self.local
        }
        return external_sessions(neighbors, routers)

    def _worker_of(self, speaker: str) -> _Worker:
        for worker in reversed(self._workers):
            if speaker in worker.names and worker.alive:
                return worker
        known = ", ".join(sorted(set(self.local) - self._crashed))
        raise LabError(f"no running speaker {speaker!r} in lab {self.name!r} (running: {known})")

    def _pair(self, a: str, b: str) -> tuple[str, str]:
        pair = (a, b) if a < b else (b, a)
        if pair not in self._all_sessions:
            raise LabError(f"no session between {a!r} and {b!r} in lab {self.name!r}")
        return pair

    async def _session(self, speaker: str, peer: str, action: str) -> None:
        await self._ask(self._worker_of(speaker), SessionAction(speaker, peer, action))

    def _recompute(self) -> None:
        """Expected sessions and the ends that must notice, after an injection."""
        self.sessions = set()
        self._down = set()
        for a, b in self._all_sessions:
            if (a, b) in self._cut:
                self._down.update({(a, b), (b, a)})
            elif a in self._crashed and b not in self._crashed:
                self._down.add((b, a))
            elif b in self._crashed and a not in self._crashed:
                self._down.add((a, b))
            elif a not in self._crashed and b not in self._crashed:
                self.sessions.add((a, b))
        self.version += 1
        self._change.set()

    async def _ask(self, worker: _Worker, command: Command, timeout: float | None = None) -> Answer:
        """Send ``command`` to ``worker`` and return its answer.

        A worker answers every command (an error if it failed), however long it takes:
        without ``timeout`` this waits as long as the worker runs, so a busy machine only
        makes a command slower.  LabError if the worker refuses, dies, is stopped
        (SIGSTOP: at once, or when it stops meanwhile), or, with ``timeout``, does not
        answer in time (WorkerTimeoutError).
        """
        kind = command.kind
        if not worker.alive:
            raise LabError(f"{self._named(worker)} is not running ({kind!r} not sent)")
        if worker.stopped_since is not None and _stopped(worker.process.pid):  # still
            raise LabError(self._stopped_error(worker, repr(kind)))
        request = next(self._ids)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        worker.pending[request] = future
        try:
            try:
                worker.conn.send(Request(request, command))
            except OSError as exc:
                raise LabError(f"{self._named(worker)}: {kind!r} not sent: {exc}") from None
            async with asyncio.timeout(timeout):
                reply = await future
        except TimeoutError:
            stopped = ""
            if worker.stopped_since is not None:
                since = time.monotonic() - worker.stopped_since
                stopped = f" (stopped by SIGSTOP {since:.0f} s ago)"
            raise WorkerTimeoutError(
                f"{self._named(worker)} did not answer {kind!r} within {timeout} s{stopped}"
            ) from None
        finally:
            worker.pending.pop(request, None)
        if isinstance(reply, Done) and reply.error:
            raise LabError(reply.error)
        return reply

    async def _ask_all(
        self, command: Command, timeout: float, speakers: frozenset[str] | None = None
    ) -> list[Answer]:
        """Ask every running worker (only those running some of ``speakers``, if given)."""
        workers = [
            w
            for w in self._workers
            if w.alive and (speakers is None or not speakers.isdisjoint(w.names))
        ]
        return list(await asyncio.gather(*(self._ask(w, command, timeout) for w in workers)))

    def _stopped_error(self, worker: _Worker, what: str) -> str:
        since = time.monotonic() - (worker.stopped_since or time.monotonic())
        return (
            f"{self._named(worker)} is stopped (SIGSTOP) since {since:.0f} s: "
            f"{what} not answered; it runs again after SIGCONT"
        )

    def _named(self, worker: _Worker) -> str:
        """``lab worker 2 (pid 4711; speakers SiteB)``, as in :meth:`WorkerFault.describe`."""
        names = ", ".join(worker.names)
        return f"lab worker {worker.index} (pid {worker.process.pid}; speakers {names})"

    def _on_message(self, worker: _Worker) -> None:
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
                self._errors.append(error)
            case Reports(reports):
                self._store(reports)
            case Reply(request, answer):
                waiting = worker.pending.pop(request, None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(answer)
            case Stopped():
                pass
            case _:
                assert_never(message)
        self._change.set()

    def _on_exit(self, worker: _Worker, deadline: float | None = None) -> None:
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

    def _buried(self, worker: _Worker) -> None:
        """A worker exited: unless the lab asked for it, report it as a fault with its
        cause, and count its speakers as crashed (before ``ready``: the start fails)."""
        if worker.buried:
            return
        worker.buried = True
        unasked = worker.alive
        worker.alive = False
        cause = exit_cause(worker.process.exitcode, worker.fatal)
        error = f"{self._named(worker)} {cause}"
        if not unasked:  # lab.stop() or crash(): what was still asked of it is not answered
            error = f"{self._named(worker)} was stopped by the lab (it {cause})"
        if unasked:
            if not worker.ready:
                self._errors.append(error)
            else:
                self._fault(worker, WorkerEvent.EXITED, cause)
                self._crashed.update(worker.names)
                for name in worker.names:
                    self.reports.pop(name, None)
                self._recompute()
        for future in worker.pending.values():
            if not future.done():
                future.set_exception(LabError(error))
        self._change.set()

    def _watch(self) -> None:
        """Every :data:`_WATCH_INTERVAL`: report a worker stopped (SIGSTOP) or running again."""
        now = time.monotonic()
        for worker in self._workers:
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

    def _fault(self, worker: _Worker, event: WorkerEvent, cause: str) -> None:
        fault = WorkerFault(
            event=event,
            worker=worker.index,
            pid=worker.process.pid,
            speakers=worker.names,
            cause=cause,
            at=time.monotonic(),
        )
        self.faults.append(fault)
        logger.warning("lab %s: %s", self.name, fault.describe())
        for listener in self.fault_listeners:
            listener(fault)
        self.version += 1
        self._change.set()

    def _store(self, reports: Mapping[str, SpeakerReport]) -> None:
        """Keep the latest reports; bump :attr:`version` only when one says something new
        about routing (:func:`_material`): a neighbour that stays unreachable flips
        between Connect and Active at every retry, and that changes nothing published."""
        changed = False
        for name, new in reports.items():
            if name in self._crashed:
                continue
            old = self.reports.get(name)
            if old is None or _material(old) != _material(new):
                changed = True
            self.reports[name] = new
        if changed:
            self.version += 1


def _material(report: SpeakerReport) -> tuple[Any, ...]:
    """What of a report matters to the tables and the verdict: every session's Established
    or not, its counters and why it is held down, the timers, the routes (not which of the
    states short of Established a session is in)."""
    peers = tuple(
        (peer, c.state == "Established", c.updates_sent, c.updates_received, c.held)
        for peer, c in sorted(report.peers.items())
    )
    return (peers, report.busy, report.updates_sent_total, report.best_routes)


def _stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped now (Linux /proc; False where unreadable)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return is_stopped(stat.read())
    except OSError:
        return False
