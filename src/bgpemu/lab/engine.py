"""The one engine interface: every operation on a running lab, in speaker names.

Two implementations: :class:`FabricEngine` (the in-memory fabric in virtual time,
:mod:`bgpemu.fabric`) and :class:`TcpEngine` (real speakers over TCP in worker
processes, :class:`~bgpemu.lab.supervisor.TcpLab`).  The testing API
(:class:`bgpemu.testing.Lab`, which resolves topology names first) and the lab's MQTT
``control`` topic (:func:`bgpemu.lab.control.apply`, over the running TcpLab) both drive
an :class:`Engine`; ``tests/conformance`` runs the same scenario per operation on both
and asserts the same tables and session states.  One operation, one name:

==========================  ==================  ==============================
engine method               control op          testing API (``Lab``)
==========================  ==================  ==============================
``fail_link(a, b, silent)`` ``fail_link``       ``fail_link``, ``instance_down``,
                                                ``er_private_peering_down``
``restore_link(a, b)``      ``restore_link``    ``restore_link``, ``instance_up``,
                                                ``er_private_peering_up``
``reset_session(a, b)``     ``reset``           ``reset_session``
``crash(speakers)``         ``crash``           ``crash``
``restart(speakers)``       ``restart``         ``restart``
``announce``/``withdraw``   same                same
``prepend(s, peer, n)``     ``prepend``         ``prepend``
``apply(change)``           ``apply``           ``apply_topology``, ``add_*``/``remove_*``
``advance(seconds)``        --                  ``advance``
==========================  ==================  ==============================

Their clocks differ: the fabric's is virtual (a 180 s hold timer costs no wall time),
the TCP lab's is ``time.monotonic()``.

Convergence in the fabric: :meth:`~bgpemu.fabric.Fabric.run_until_idle` stops as soon as
nothing is in flight, which right after a silent failure (a crash, a silent link cut)
is at once: both ends of a dead session still believe it is up.  Like the TCP lab
(:func:`bgpemu.lab.convergence.decide` with its ``down`` sessions), the fabric engine
is converged only once every surviving end of such a session has noticed; until then
it lets virtual time run to the next timer of those sessions (a KEEPALIVE, then the
hold timer, RFC 4271 §6.5) and runs until idle again.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import os
import socket
import time
from collections.abc import Callable, Iterable

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import PlanChange, replan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.fabric import ConvergenceError, Fabric
from bgpemu.lab.convergence import report_from_sessions
from bgpemu.lab.errors import LabInputError, LabStateError
from bgpemu.lab.supervisor import LabError, TcpLab
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.reconfigure import prepend_policy
from bgpemu.session import SessionState
from bgpemu.types import Family

__all__ = [
    "ENGINES",
    "TIMERS",
    "Engine",
    "FabricEngine",
    "TcpEngine",
    "check_options",
    "free_port",
    "make_engine",
]

ENGINES = ("fabric", "tcp")
TIMERS = {"azure": (60, 180), "lab": (3, 9)}
"""Timer profiles: (keepalive, hold) seconds."""


class Engine(abc.ABC):
    """What a running lab offers, whichever engine runs it (speaker names only)."""

    kind: str
    clock_unit: str
    """The unit of :meth:`clock` in reports: ``virtual s`` or ``s`` (wall)."""

    @property
    @abc.abstractmethod
    def plan(self) -> Plan:
        """The running plan (the new one after :meth:`apply`)."""

    @property
    def fabric(self) -> Fabric:
        """The fabric (engine ``fabric`` only): for tests that look at sessions and timers."""
        raise LabStateError(f"this lab runs on the {self.kind} engine: it has no fabric")

    @property
    def tcp_lab(self) -> TcpLab:
        """The TCP lab (engine ``tcp`` only)."""
        raise LabStateError(f"this lab runs on the {self.kind} engine: it has no TCP lab")

    # -- lifecycle and observation --------------------------------------------------------

    @abc.abstractmethod
    async def start(self) -> None:
        """Start every speaker."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop every speaker."""

    @abc.abstractmethod
    def clock(self) -> float:
        """Now, in the engine's seconds (virtual or wall)."""

    @abc.abstractmethod
    async def settle(self, timeout: float) -> float:
        """Wait for exact convergence (TimeoutError with the reasons otherwise); the clock then."""

    @abc.abstractmethod
    async def snapshots(self) -> dict[str, RouterSnapshot]:
        """Every running speaker's tables and sessions."""

    @abc.abstractmethod
    def update_totals(self) -> dict[str, int]:
        """UPDATEs sent so far by each running speaker (session counters)."""

    # -- injections -------------------------------------------------------------------------

    @abc.abstractmethod
    async def fail_link(self, a: str, b: str, *, silent: bool = False) -> None:
        """The session between ``a`` and ``b`` goes down: Cease / Administrative Shutdown
        on both ends (RFC 4486 §4), or ``silent``: nothing passes, the hold timers find
        out (RFC 4271 §6.5)."""

    @abc.abstractmethod
    async def restore_link(self, a: str, b: str) -> None:
        """The session :meth:`fail_link` took down starts again on both ends."""

    @abc.abstractmethod
    async def reset_session(self, a: str, b: str) -> None:
        """``a`` resets its session with ``b`` (Cease NOTIFICATION; it comes back at once)."""

    @abc.abstractmethod
    def check_crash(self, speakers: tuple[str, ...]) -> None:
        """LabInputError if crashing ``speakers`` alone is impossible (nothing is done)."""

    @abc.abstractmethod
    async def crash(self, speakers: tuple[str, ...]) -> None:
        """``speakers`` die silently (no NOTIFICATION); :meth:`check_crash` first."""

    @abc.abstractmethod
    async def restart(self, speakers: tuple[str, ...]) -> None:
        """The crashed ``speakers`` start again, fresh, keeping changed neighbour settings."""

    @abc.abstractmethod
    async def announce(self, speaker: str, route: OriginatedRoute) -> None:
        """``speaker`` starts originating ``route``."""

    @abc.abstractmethod
    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None:
        """``speaker`` stops originating ``prefix``."""

    @abc.abstractmethod
    def neighbor_policy(self, speaker: str, peer: str) -> NeighborPolicy:
        """The current settings of ``speaker`` for neighbour ``peer``."""

    @abc.abstractmethod
    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        """``speaker`` takes new settings for neighbour ``policy.name``; the session stays up
        (soft reconfiguration, RFC 2918; :mod:`bgpemu.router.reconfigure`)."""

    async def prepend(self, speaker: str, peer: str, count: int) -> None:
        """``speaker`` sends everything to ``peer`` with ``count`` extra copies of its ASN
        after the configured export policy (0: that policy alone again); a new count
        replaces the previous one (:func:`~bgpemu.router.reconfigure.prepend_policy`)."""
        spec = next((s for s in self.plan.speakers if s.name == speaker), None)
        if spec is None:
            raise LabInputError(f"no speaker {speaker!r} runs in this lab")
        original = spec.router.neighbor(peer).export_policy
        current = self.neighbor_policy(speaker, peer)
        await self.set_neighbor_policy(speaker, prepend_policy(current, original, count))

    @abc.abstractmethod
    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass (virtual: timers fire at once; wall: a sleep)."""

    @abc.abstractmethod
    def plan_change(self, network: Network) -> PlanChange:
        """What changes if the lab is to run ``network`` instead (nothing is touched)."""

    @abc.abstractmethod
    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None:
        """Carry out ``change`` (from :meth:`plan_change`); no other session drops."""


class FabricEngine(Engine):
    """The in-memory fabric in virtual time (:mod:`bgpemu.fabric`)."""

    kind = "fabric"
    clock_unit = "virtual s"

    def __init__(
        self, network: Network, *, seed: int, keepalive: int, hold: int, latency: float
    ) -> None:
        self._plan = compile_network(network, keepalive=keepalive, hold=hold)
        self._timers = (keepalive, hold)
        self.seed = seed
        self.latency = latency
        self._fabric: Fabric | None = None
        self._crashed: set[str] = set()
        self._silent: set[frozenset[str]] = set()

    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def fabric(self) -> Fabric:
        """The running fabric (after :meth:`start`)."""
        if self._fabric is None:
            raise RuntimeError("the lab has not started")
        return self._fabric

    async def start(self) -> None:
        self._fabric = Fabric(self.plan.speakers, seed=self.seed, latency=self.latency)

    async def stop(self) -> None:
        self._fabric = None

    def clock(self) -> float:
        return self.fabric.now

    def waiting(self) -> list[tuple[str, str]]:
        """(speaker, peer) sessions still Established although the peer is gone silently."""
        fabric = self.fabric
        found = []
        for speaker in fabric.nodes():
            if speaker in self._crashed:
                continue
            for peer, session in fabric.sessions(speaker).items():
                gone = peer in self._crashed or frozenset((speaker, peer)) in self._silent
                if gone and session.state is SessionState.ESTABLISHED:
                    found.append((speaker, peer))
        return found

    async def settle(self, timeout: float) -> float:
        fabric = self.fabric
        limit = fabric.now + timeout
        while True:
            try:
                fabric.run_until_idle(max_time=max(0.0, limit - fabric.now))
            except ConvergenceError:
                raise TimeoutError(
                    f"not converged after {timeout:g} virtual seconds (messages still flowing)"
                ) from None
            waiting = self.waiting()
            if not waiting:
                return fabric.now
            deadlines = [
                d
                for speaker, peer in waiting
                if (d := fabric.sessions(speaker)[peer].next_deadline()) is not None
            ]
            if not deadlines or min(deadlines) > limit:
                names = ", ".join(f"{a} with {b}" for a, b in waiting[:5])
                raise TimeoutError(
                    f"not converged after {timeout:g} virtual seconds: still Established: {names}"
                )
            fabric.advance(max(0.0, min(deadlines) - fabric.now))

    async def snapshots(self) -> dict[str, RouterSnapshot]:
        fabric = self.fabric
        return {
            name: snapshot(name, fabric.router(name), fabric.sessions(name))
            for name in fabric.nodes()
            if name not in self._crashed
        }

    def update_totals(self) -> dict[str, int]:
        fabric = self.fabric
        return {
            name: report_from_sessions(name, fabric.sessions(name), busy=False).updates_sent_total
            for name in fabric.nodes()
            if name not in self._crashed
        }

    async def fail_link(self, a: str, b: str, *, silent: bool = False) -> None:
        self.fabric.cut_link(a, b, silent=silent)
        if silent:
            self._silent.add(frozenset((a, b)))

    async def restore_link(self, a: str, b: str) -> None:
        self.fabric.restore_link(a, b)
        self._silent.discard(frozenset((a, b)))

    async def reset_session(self, a: str, b: str) -> None:
        # The fabric has no reset of its own: a clean cut and an immediate restore stop
        # both ends with a Cease NOTIFICATION and start them again.
        self.fabric.cut_link(a, b, silent=False)
        self.fabric.restore_link(a, b)

    def check_crash(self, speakers: tuple[str, ...]) -> None:
        """Nothing to check: every fabric node crashes alone."""

    async def crash(self, speakers: tuple[str, ...]) -> None:
        for speaker in speakers:
            self.fabric.stop_node(speaker, silent=True)
            self._crashed.add(speaker)

    async def restart(self, speakers: tuple[str, ...]) -> None:
        for speaker in speakers:
            self.fabric.start_node(speaker)
            self._crashed.discard(speaker)

    async def announce(self, speaker: str, route: OriginatedRoute) -> None:
        self.fabric.announce(speaker, route)

    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None:
        self.fabric.withdraw(speaker, family, prefix)

    def neighbor_policy(self, speaker: str, peer: str) -> NeighborPolicy:
        # The router's configuration holds the settings changed since the start; the
        # fabric carries them across a restart (Fabric.set_neighbor_policy).
        return self.fabric.router(speaker).config.neighbor(peer)

    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        self.fabric.set_neighbor_policy(speaker, policy)

    async def advance(self, seconds: float) -> None:
        self.fabric.advance(seconds)

    def plan_change(self, network: Network) -> PlanChange:
        keepalive, hold = self._timers
        return replan(self._plan, network, keepalive=keepalive, hold=hold)

    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None:
        self.fabric.apply(change)
        self._plan = change.new
        live = {spec.name: {n.name for n in spec.neighbors} for spec in self._plan.speakers}
        self._silent = {
            pair
            for pair in self._silent
            if all(set(pair) - {s} <= live.get(s, set()) for s in pair)
        }


_PORTS = range(20000, 32000)
"""Listening ports are chosen below Linux's ephemeral range (32768-60999), where the
source ports of other programs' outgoing connections could take them meanwhile."""
_tries = itertools.count()


def free_port(addresses: Iterable[str]) -> int:
    """A TCP port free on every one of ``addresses`` right now (below the ephemeral range)."""
    wanted = list(addresses)
    start = os.getpid() * 97 + next(_tries) * 389
    for step in range(200):
        port = _PORTS[(start + step * 7919) % len(_PORTS)]
        try:
            for address in wanted:
                with socket.socket() as probe:
                    probe.bind((address, port))
        except OSError:
            continue
        return port
    raise OSError(f"no TCP port is free on all of {', '.join(wanted)}")


class TcpEngine(Engine):
    """Real speakers over TCP in worker processes: wraps a :class:`TcpLab` (the testing
    API's own, from :meth:`create`, or the running lab of ``bgpemu lab up``)."""

    kind = "tcp"
    clock_unit = "s"

    def __init__(self, lab: TcpLab, *, respawn: Callable[[], TcpLab] | None = None) -> None:
        self.lab = lab
        self._respawn = respawn
        """Makes the same lab on another free port (None: the port was chosen by the user)."""
        self._faults_seen = 0

    @classmethod
    def create(
        cls,
        network: Network,
        *,
        seed: int,
        keepalive: int,
        hold: int,
        processes: int | None,
        port: int | None,
        lab_base: str,
    ) -> TcpEngine:
        """A TCP lab of ``network`` (not started): one process per speaker unless
        ``processes`` says otherwise, on a free port unless ``port`` is given."""
        draft = compile_network(network, lab_base=lab_base, keepalive=keepalive, hold=hold)
        addresses = sorted({e.lab_address for e in draft.endpoints.values() if not e.external})

        def make(chosen: int) -> TcpLab:
            return TcpLab(
                network,
                port=chosen,
                processes=processes or len(draft.speakers),
                lab_base=lab_base,
                keepalive=keepalive,
                hold=hold,
                seed=seed,
            )

        if port is not None:
            return cls(make(port))
        return cls(make(free_port(addresses)), respawn=lambda: make(free_port(addresses)))

    @property
    def plan(self) -> Plan:
        return self.lab.plan

    @property
    def tcp_lab(self) -> TcpLab:
        return self.lab

    async def start(self) -> None:
        """Start the lab; a port taken meanwhile by someone else is replaced (3 tries)."""
        for attempt in range(3):
            try:
                await self.lab.start()
                return
            except LabError as exc:
                if self._respawn is None or "could not listen" not in str(exc) or attempt == 2:
                    raise
            self.lab = self._respawn()

    async def stop(self) -> None:
        await self.lab.stop()

    def clock(self) -> float:
        return time.monotonic()

    async def settle(self, timeout: float) -> float:
        """Wait for convergence; LabError naming every worker process that died or froze
        unasked since the last call (its speakers and the signal): a convergence
        measured around such a fault would not be the one the test asked for."""
        try:
            await self.lab.converged(timeout=timeout)
        finally:
            faults, self._faults_seen = self.lab.faults[self._faults_seen :], len(self.lab.faults)
            if faults:
                raise LabError("; ".join(fault.describe() for fault in faults))
        return time.monotonic()

    async def snapshots(self) -> dict[str, RouterSnapshot]:
        return await self.lab.snapshots()

    def update_totals(self) -> dict[str, int]:
        return {name: r.updates_sent_total for name, r in self.lab.reports.items()}

    async def fail_link(self, a: str, b: str, *, silent: bool = False) -> None:
        await self.lab.cut_link(a, b, silent=silent)

    async def restore_link(self, a: str, b: str) -> None:
        await self.lab.restore_link(a, b)

    async def reset_session(self, a: str, b: str) -> None:
        await self.lab.reset_session(a, b)

    def check_crash(self, speakers: tuple[str, ...]) -> None:
        """LabInputError if crashing ``speakers`` would kill others sharing their process."""
        for group in self.lab.groups():
            if set(group) & set(speakers) and not set(group) <= set(speakers):
                others = ", ".join(sorted(set(group) - set(speakers)))
                raise LabInputError(
                    f"crashing {', '.join(speakers)} would also kill {others} (same worker "
                    f"process): run the lab with {len(self.lab.local)} processes (one per "
                    "speaker) to crash a node alone"
                )

    async def crash(self, speakers: tuple[str, ...]) -> None:
        self.check_crash(speakers)
        done: set[str] = set()
        for speaker in speakers:
            if speaker not in done:
                done.update(self.lab.crash(speaker))

    async def restart(self, speakers: tuple[str, ...]) -> None:
        done: set[str] = set()
        for speaker in speakers:
            if speaker not in done:
                done.update(await self.lab.restart(speaker))

    async def announce(self, speaker: str, route: OriginatedRoute) -> None:
        await self.lab.announce(speaker, route)

    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None:
        await self.lab.withdraw(speaker, family, prefix)

    def neighbor_policy(self, speaker: str, peer: str) -> NeighborPolicy:
        return self.lab.neighbor_policy(speaker, peer)

    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        await self.lab.set_neighbor_policy(speaker, policy)

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def plan_change(self, network: Network) -> PlanChange:
        return self.lab.plan_change(network)

    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None:
        await self.lab.apply(change, network=network)


def check_options(engine: str, timers: str) -> tuple[int, int]:
    """(keepalive, hold) of ``timers``; LabInputError for an unknown engine or timers."""
    if engine not in ENGINES:
        raise LabInputError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if timers not in TIMERS:
        raise LabInputError(f"timers must be one of {', '.join(TIMERS)}, not {timers!r}")
    return TIMERS[timers]


def make_engine(
    network: Network,
    engine: str = "fabric",
    *,
    seed: int = 0,
    timers: str = "azure",
    latency: float = 0.001,
    processes: int | None = None,
    port: int | None = None,
    lab_base: str = "127.0.10.1",
) -> Engine:
    """An engine of ``network``, not started (the options of
    :func:`bgpemu.testing.start_lab`); LabInputError for an unknown engine or timers."""
    keepalive, hold = check_options(engine, timers)
    if engine == "fabric":
        return FabricEngine(network, seed=seed, keepalive=keepalive, hold=hold, latency=latency)
    return TcpEngine.create(
        network,
        seed=seed,
        keepalive=keepalive,
        hold=hold,
        processes=processes,
        port=port,
        lab_base=lab_base,
    )
