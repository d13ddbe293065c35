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

The parts: :mod:`bgpemu.lab.pool` runs the worker processes (spawn, liveness,
requests and replies), :mod:`bgpemu.lab.expected` keeps which sessions the lab expects
(pure), and this module is the lab itself: its plan, its reports, its injections and
its topology changes.

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
import functools
import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import PlanChange, replan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.lab.bestpaths import BestPaths
from bgpemu.lab.convergence import SpeakerReport, Verdict
from bgpemu.lab.errors import LabError, WorkerTimeoutError
from bgpemu.lab.expected import ExpectedSessions
from bgpemu.lab.faults import WorkerFault
from bgpemu.lab.placement import split
from bgpemu.lab.pool import WorkerInfo, WorkerPool, WorkerProcess
from bgpemu.lab.profile import lab_profile
from bgpemu.lab.protocol import (
    AddSpeaker,
    Announce,
    ApplyChange,
    BestPathsFound,
    Flush,
    GetBestPaths,
    RemoveSpeaker,
    RestartSpeaker,
    SendReports,
    SessionAction,
    SetPolicy,
    Snapshots,
    TakeSnapshots,
    Withdraw,
)
from bgpemu.lab.worker import WorkerConfig
from bgpemu.observe.url import BrokerAddress
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.types import Family

__all__ = ["LabError", "TcpLab", "WorkerTimeoutError"]

logger = logging.getLogger(__name__)

_REPLY_MARGIN = 5.0
"""Seconds the lab waits beyond a deadline it gave a worker, for the worker's own answer."""


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
        self._expected = ExpectedSessions(self.plan, self.local)
        self.version = 0
        """Bumped by every report or injection: equal versions mean nothing changed."""
        self.faults: list[WorkerFault] = []
        """Every worker exit, stop and resume the lab did not ask for, oldest first."""
        self.fault_listeners: list[Callable[[WorkerFault], None]] = []
        """Called with each new fault (after it is logged and stored)."""
        self._pool = WorkerPool(
            config=self._worker_config,
            on_reports=self._store,
            on_fault=self._fault,
            on_lost=self._lost,
        )
        self._applying = False
        """A topology change is under way: never converged meanwhile."""

    async def __aenter__(self) -> TcpLab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def sessions(self) -> set[tuple[str, str]]:
        """The sessions expected Established now (all minus those down on purpose)."""
        return self._expected.sessions

    @property
    def external(self) -> set[tuple[str, str]]:
        """(speaker, router) sessions to external routers (one end in the lab)."""
        return self._expected.external

    # -- lifecycle -------------------------------------------------------------------

    def groups(self) -> list[tuple[str, ...]]:
        """The speakers of each running worker process (they live and die together)."""
        return [worker.names for worker in self._pool.running()]

    def workers(self) -> list[WorkerInfo]:
        """The running worker processes (index, pid, speakers)."""
        return self._pool.infos()

    @property
    def worker_count(self) -> int:
        """How many worker processes run the speakers."""
        return len(self._pool.running())

    @property
    def _workers(self) -> list[WorkerProcess]:
        """Every worker process, oldest first (tests look at their pending requests)."""
        return self._pool.workers

    async def start(self, timeout: float = 60.0) -> None:
        """Start every worker; return once every speaker listens (LabError otherwise)."""
        neighbors = {spec.name: [n.name for n in spec.neighbors] for spec in self.plan.speakers}
        await self._pool.start(split(list(self.local), self.processes, neighbors), timeout)

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop every speaker (Cease to its peers) and every worker."""
        await self._pool.stop(timeout)

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

    # -- state -----------------------------------------------------------------------

    def verdict(self) -> Verdict:
        """Converged or not, from the latest reports."""
        if self._applying:
            waiting = ("a topology change is being applied",)
            return Verdict(converged=False, established=0, expected=0, waiting=waiting)
        return self._expected.decide(self.reports, wait_external=self.wait_external)

    async def converged(self, timeout: float = 60.0) -> Verdict:
        """Wait until the lab is converged (TimeoutError with the reasons otherwise)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    verdict = self.verdict()
                    if verdict.converged:
                        return verdict
                    if self._pool.errors:
                        raise LabError("; ".join(self._pool.errors))
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
        replies = await self._pool.ask_all(command, timeout, speakers=speakers)

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
        replies = await self._pool.ask_all(GetBestPaths(), timeout)
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
        await self._pool.ask_all(Flush(timeout), timeout + _REPLY_MARGIN)

    def best_routes(self) -> int:
        """Loc-RIB prefixes over the running speakers (from their latest reports)."""
        return sum(report.best_routes for report in self.reports.values())

    def updates_sent(self) -> int:
        """UPDATEs sent so far by the running speakers (from their latest reports)."""
        return sum(report.updates_sent_total for report in self.reports.values())

    async def wait_change(self) -> None:
        """Return at the next report, reply, injection or error."""
        await self._pool.wait_change()

    # -- injections ------------------------------------------------------------------

    def crash(self, speaker: str) -> tuple[str, ...]:
        """Kill (SIGKILL) the worker process running ``speaker``: no Cease, no clean close.

        Every speaker of that process dies with it (run the lab with as many processes
        as speakers to crash one alone); returns their names.
        """
        worker = self._worker_of(speaker)
        self._pool.kill(worker)
        self._lost(worker.names)
        return worker.names

    async def restart(self, speaker: str, timeout: float = 60.0) -> tuple[str, ...]:
        """Start the crashed speakers of ``speaker``'s process again, fresh (new process)."""
        dead = self._pool.of(speaker, alive=False)
        if dead is None or speaker not in self._expected.crashed:
            raise LabError(f"speaker {speaker!r} of lab {self.name!r} has not crashed")
        worker = await self._pool.restart(dead, timeout)
        self._expected.crashed.difference_update(dead.names)
        for (name, _peer), policy in sorted(self._expected.policies.items()):
            if name in dead.names:
                await self._pool.ask(worker, SetPolicy(name, policy))
        self._recompute()
        return dead.names

    async def announce(self, speaker: str, route: OriginatedRoute) -> None:
        """``speaker`` starts originating ``route``."""
        await self._pool.ask(self._worker_of(speaker), Announce(speaker, route))

    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None:
        """``speaker`` stops originating ``prefix``."""
        await self._pool.ask(self._worker_of(speaker), Withdraw(speaker, family, prefix))

    def neighbor_policy(self, speaker: str, peer: str) -> NeighborPolicy:
        """The current settings of ``speaker`` for neighbour ``peer``."""
        changed = self._expected.policies.get((speaker, peer))
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
        await self._pool.ask(self._worker_of(speaker), SetPolicy(speaker, policy))
        self._expected.policies[(speaker, policy.name)] = policy

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
        self._expected.cut.add(pair)
        self._recompute()

    async def restore_link(self, a: str, b: str) -> None:
        """Bring a cut session back (both ends start it again)."""
        pair = self._pair(a, b)
        if pair not in self._expected.cut:
            raise LabError(f"the link {a}-{b} of lab {self.name!r} is not cut")
        for local, peer in ((a, b), (b, a)):
            await self._session(local, peer, "start")
        self._expected.cut.discard(pair)
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
        if self._expected.crashed:
            crashed = ", ".join(sorted(self._expected.crashed))
            raise LabError(f"lab {self.name!r}: restart the crashed speakers first ({crashed})")
        self._applying = True
        self._bump()
        try:
            async with asyncio.timeout(timeout):
                await self._carry_out(change)
        except TimeoutError:
            raise LabError(
                f"lab {self.name!r}: the topology change did not complete within {timeout} s"
            ) from None
        finally:
            self._applying = False
        self.plan = change.new
        if network is not None:
            self.network = network
        self._expected.adopt(change, self.local)
        self._bump()

    async def _carry_out(self, change: PlanChange) -> None:
        endpoints = change.new.endpoints
        ask = self._pool.ask
        for spec in change.add_speakers:
            worker = self._pool.least_loaded()
            await ask(worker, AddSpeaker(spec, endpoints[spec.name]))
            worker.names = (*worker.names, spec.name)
            self.local = tuple(sorted((*self.local, spec.name)))
        for item in change.speakers:
            await ask(self._worker_of(item.speaker), ApplyChange(item))
        for spec in change.restart_speakers:
            await ask(self._worker_of(spec.name), RestartSpeaker(spec, endpoints[spec.name]))
        for name in change.remove_speakers:
            worker = self._worker_of(name)
            await ask(worker, RemoveSpeaker(name))
            worker.names = tuple(n for n in worker.names if n != name)
            self.local = tuple(n for n in self.local if n != name)
            self.reports.pop(name, None)

    # -- plumbing --------------------------------------------------------------------

    def _worker_of(self, speaker: str) -> WorkerProcess:
        worker = self._pool.of(speaker)
        if worker is not None:
            return worker
        known = ", ".join(sorted(set(self.local) - self._expected.crashed))
        raise LabError(f"no running speaker {speaker!r} in lab {self.name!r} (running: {known})")

    def _pair(self, a: str, b: str) -> tuple[str, str]:
        pair = self._expected.pair(a, b)
        if pair is None:
            raise LabError(f"no session between {a!r} and {b!r} in lab {self.name!r}")
        return pair

    async def _session(self, speaker: str, peer: str, action: str) -> None:
        await self._pool.ask(self._worker_of(speaker), SessionAction(speaker, peer, action))

    def _recompute(self) -> None:
        """Expected sessions and the ends that must notice, after an injection."""
        self._expected.recompute()
        self._bump()

    def _bump(self) -> None:
        """Something changed: a new :attr:`version`, and :meth:`wait_change` returns."""
        self.version += 1
        self._pool.changed.set()

    def _lost(self, speakers: tuple[str, ...]) -> None:
        """``speakers`` died with their process (crashed by the lab, or lost).

        The surviving ends' reports held now may predate the crash: each is asked for a
        new one, and their sessions with ``speakers`` are not settled until it is in
        (:meth:`ExpectedSessions.lose <bgpemu.lab.expected.ExpectedSessions.lose>`).
        """
        ends = self._expected.lose(speakers)
        for name in speakers:
            self.reports.pop(name, None)
        self._bump()
        for name in ends:
            worker = self._pool.of(name)
            if worker is None:
                self._expected.confirmed(name)
                continue
            self._pool.post(worker, SendReports(), functools.partial(self._confirmed, name))

    def _confirmed(self, speaker: str) -> None:
        """A report asked of ``speaker`` after a crash is in (:meth:`_lost`)."""
        self._expected.confirmed(speaker)
        self._bump()

    def _fault(self, fault: WorkerFault) -> None:
        """Keep, log and pass on a fault of the pool's (:mod:`bgpemu.lab.faults`)."""
        self.faults.append(fault)
        logger.warning("lab %s: %s", self.name, fault.describe())
        for listener in self.fault_listeners:
            listener(fault)
        self._bump()

    def _store(self, reports: Mapping[str, SpeakerReport]) -> None:
        """Keep the latest reports; bump :attr:`version` only when one says something new
        about routing (:func:`_material`): a neighbour that stays unreachable flips
        between Connect and Active at every retry, and that changes nothing published."""
        changed = False
        for name, new in reports.items():
            if name in self._expected.crashed:
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
