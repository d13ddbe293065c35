"""The two engines behind :class:`bgpemu.testing.Lab`: the virtual-time fabric and the TCP lab.

Both take speaker names only (the lab resolves topology names first) and offer the
same operations.  Their clocks differ: the fabric's is virtual (a 180 s hold timer
costs no wall time), the TCP lab's is ``time.monotonic()``.

Convergence in the fabric: :meth:`~bgpemu.fabric.Fabric.run_until_idle` stops as soon as
nothing is in flight, which right after a silent failure (a crash, a silent link cut)
is at once: both ends of a dead session still believe it is up.  Like the TCP lab
(:func:`bgpemu.lab.convergence.decide` with its ``down`` sessions), the fabric engine
is converged only once every surviving end of such a session has noticed; until then
it lets virtual time run to the next timer of those sessions (a KEEPALIVE, then the
hold timer, RFC 4271 §6.5) and runs until idle again.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
from collections.abc import Iterable
from typing import Any, Protocol

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.replan import PlanChange, replan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.fabric import ConvergenceError, Fabric
from bgpemu.lab.convergence import report_from_sessions
from bgpemu.lab.supervisor import LabError, TcpLab
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.session import SessionState
from bgpemu.testing.errors import LabInputError
from bgpemu.types import Family

__all__ = ["Engine", "FabricEngine", "TcpEngine", "free_port"]


class Engine(Protocol):
    """What :class:`~bgpemu.testing.Lab` needs from an engine (speaker names only)."""

    kind: str
    plan: Plan

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def clock(self) -> float: ...
    async def settle(self, timeout: float) -> float: ...
    async def snapshots(self) -> dict[str, RouterSnapshot]: ...
    def update_totals(self) -> dict[str, int]: ...
    async def cut(self, a: str, b: str, *, silent: bool) -> None: ...
    async def restore(self, a: str, b: str) -> None: ...
    async def reset(self, a: str, b: str) -> None: ...
    async def crash(self, speakers: tuple[str, ...]) -> None: ...
    async def restart(self, speakers: tuple[str, ...]) -> None: ...
    async def announce(self, speaker: str, route: OriginatedRoute) -> None: ...
    async def withdraw(self, speaker: str, family: Family, prefix: str) -> None: ...
    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None: ...
    async def advance(self, seconds: float) -> None: ...
    def plan_change(self, network: Network) -> PlanChange: ...
    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None: ...


class FabricEngine:
    """The in-memory fabric in virtual time (:mod:`bgpemu.fabric`)."""

    kind = "fabric"

    def __init__(
        self, network: Network, *, seed: int, keepalive: int, hold: int, latency: float
    ) -> None:
        self.plan = compile_network(network, keepalive=keepalive, hold=hold)
        self._timers = (keepalive, hold)
        self.seed = seed
        self.latency = latency
        self._fabric: Fabric | None = None
        self._crashed: set[str] = set()
        self._silent: set[frozenset[str]] = set()

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

    async def cut(self, a: str, b: str, *, silent: bool) -> None:
        self.fabric.cut_link(a, b, silent=silent)
        if silent:
            self._silent.add(frozenset((a, b)))

    async def restore(self, a: str, b: str) -> None:
        self.fabric.restore_link(a, b)
        self._silent.discard(frozenset((a, b)))

    async def reset(self, a: str, b: str) -> None:
        # The fabric has no reset of its own: a clean cut and an immediate restore stop
        # both ends with a Cease NOTIFICATION and start them again.
        self.fabric.cut_link(a, b, silent=False)
        self.fabric.restore_link(a, b)

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

    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        self.fabric.set_neighbor_policy(speaker, policy)

    async def advance(self, seconds: float) -> None:
        self.fabric.advance(seconds)

    def plan_change(self, network: Network) -> PlanChange:
        keepalive, hold = self._timers
        return replan(self.plan, network, keepalive=keepalive, hold=hold)

    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None:
        self.fabric.apply(change)
        self.plan = change.new
        live = {spec.name: {n.name for n in spec.neighbors} for spec in self.plan.speakers}
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


class TcpEngine:
    """Real speakers over TCP in worker processes (:class:`bgpemu.lab.supervisor.TcpLab`)."""

    kind = "tcp"

    def __init__(
        self,
        network: Network,
        *,
        seed: int,
        keepalive: int,
        hold: int,
        processes: int | None,
        port: int | None,
        lab_base: str,
    ) -> None:
        draft = compile_network(network, lab_base=lab_base, keepalive=keepalive, hold=hold)
        self._addresses = sorted(
            {e.lab_address for e in draft.endpoints.values() if not e.external}
        )
        self._fixed_port = port is not None
        self._options: dict[str, Any] = {
            "processes": processes or len(draft.speakers),
            "lab_base": lab_base,
            "keepalive": keepalive,
            "hold": hold,
            "seed": seed,
        }
        self.network = network
        self.lab = TcpLab(network, port=port or free_port(self._addresses), **self._options)
        self.plan = self.lab.plan
        self._faults_seen = 0

    async def start(self) -> None:
        """Start the lab; a port taken meanwhile by someone else is replaced (3 tries)."""
        for attempt in range(3):
            try:
                await self.lab.start()
                return
            except LabError as exc:
                if self._fixed_port or "could not listen" not in str(exc) or attempt == 2:
                    raise
            port = free_port(self._addresses)
            self.lab = TcpLab(self.network, port=port, **self._options)
            self.plan = self.lab.plan

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

    async def cut(self, a: str, b: str, *, silent: bool) -> None:
        await self.lab.cut_link(a, b, silent=silent)

    async def restore(self, a: str, b: str) -> None:
        await self.lab.restore_link(a, b)

    async def reset(self, a: str, b: str) -> None:
        await self.lab.reset_session(a, b)

    def check_crash(self, speakers: tuple[str, ...]) -> None:
        """LabInputError if crashing ``speakers`` would kill others sharing their process."""
        for group in self.lab.groups():
            if set(group) & set(speakers) and not set(group) <= set(speakers):
                others = ", ".join(sorted(set(group) - set(speakers)))
                raise LabInputError(
                    f"crashing {', '.join(speakers)} would also kill {others} (same worker "
                    "process): start the lab without processes= (one process per speaker)"
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

    async def set_neighbor_policy(self, speaker: str, policy: NeighborPolicy) -> None:
        await self.lab.set_neighbor_policy(speaker, policy)

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def plan_change(self, network: Network) -> PlanChange:
        return self.lab.plan_change(network)

    async def apply(self, change: PlanChange, *, network: Network | None = None) -> None:
        await self.lab.apply(change, network=network)
        self.plan = self.lab.plan
        self.network = network or self.network
