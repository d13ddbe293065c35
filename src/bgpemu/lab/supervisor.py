"""Run a topology as a TCP lab: speakers in worker processes, convergence decided here.

:class:`TcpLab` compiles the network (:func:`bgpemu.azure.roles.compile_network`) with
lab addresses 127.0.10.N, splits the speakers over worker processes
(:mod:`bgpemu.lab.worker`), waits until every speaker listens, and keeps the latest
report of every speaker; :meth:`TcpLab.converged` waits for the exact convergence of
:mod:`bgpemu.lab.convergence` (no fixed sleeps).  A speaker that cannot start (its
address or port in use) stops the whole lab before anything else runs, and the error
names the node and the address.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.errors import BgpEmuError
from bgpemu.lab.convergence import PeerCounters, SpeakerReport, Verdict, decide, expected_sessions
from bgpemu.lab.profile import lab_profile
from bgpemu.lab.worker import WorkerConfig, worker_main

__all__ = ["LabError", "TcpLab", "split"]


class LabError(BgpEmuError):
    """The lab could not start (or a worker died); the message names the cause."""


def split(names: list[str], processes: int) -> list[list[str]]:
    """Speakers dealt round-robin (sorted) over at most ``processes`` non-empty groups."""
    count = max(1, min(processes, len(names)))
    groups: list[list[str]] = [[] for _ in range(count)]
    for index, name in enumerate(sorted(names)):
        groups[index % count].append(name)
    return [g for g in groups if g]


@dataclass(frozen=True, slots=True)
class _Worker:
    process: Any
    conn: Connection
    names: tuple[str, ...]


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
        mqtt: str | None = None,
        only: tuple[str, ...] = (),
    ) -> None:
        self.network = network
        self.name = name or network.name
        self.mqtt = mqtt
        """Broker URL the speakers publish their tables to (None: no MQTT)."""
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
        unknown = sorted(set(only) - {spec.name for spec in self.plan.speakers})
        if unknown:
            raise LabError(f"no speaker {', '.join(unknown)} in topology {network.name!r}")
        self.local = tuple(only) or tuple(spec.name for spec in self.plan.speakers)
        """The speakers this lab runs (all, unless ``only`` picks some: split placement)."""
        self.sessions = expected_sessions(
            {
                spec.name: [n.name for n in spec.neighbors]
                for spec in self.plan.speakers
                if spec.name in self.local
            }
        )
        self.started_at: float | None = None
        self._workers: list[_Worker] = []
        self._change = asyncio.Event()
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._ready: set[int] = set()
        self._errors: list[str] = []
        self.version = 0
        self._crashed: set[str] = set()
        self._down: set[tuple[str, str]] = set()
        """Bumped by every report: equal versions mean no speaker changed in between."""

    async def __aenter__(self) -> TcpLab:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, timeout: float = 60.0) -> None:
        """Start every worker; return once every speaker listens (LabError otherwise)."""
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for index, group in enumerate(split(list(self.local), self.processes)):
            parent, child = context.Pipe()
            config = WorkerConfig(
                network=self.network,
                compile_options=self.options,
                names=tuple(group),
                seed=self.seed,
                lab=self.name,
                mqtt=self.mqtt,
            )
            process = context.Process(
                target=worker_main,
                args=(config, child),
                name=f"bgpemu-lab-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            worker = _Worker(process, parent, tuple(group))
            self._workers.append(worker)
            loop.add_reader(parent.fileno(), self._on_message, index)
        self.started_at = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                while len(self._ready) < len(self._workers) and not self._errors:
                    await self.wait_change()
        except TimeoutError:
            self._errors.append(f"the lab's workers did not start within {timeout} s")
        if self._errors:
            await self.stop()
            raise LabError("; ".join(self._errors))

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop every speaker (Cease to its peers) and every worker."""
        loop = asyncio.get_running_loop()
        for worker in self._workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                worker.conn.send({"type": "stop"})
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
        self._workers.clear()

    def crash(self, speaker: str) -> tuple[str, ...]:
        """Kill (SIGKILL) the worker process running ``speaker``: no Cease, no clean close.

        Every speaker of that process dies with it (run the lab with as many processes
        as speakers to crash one alone); returns their names.  Their sessions leave the
        expected set, so the lab can converge without them.
        """
        for worker in self._workers:
            if speaker in worker.names and worker.process.is_alive():
                self._crashed.update(worker.names)
                worker.process.kill()
                dead = set(worker.names)
                for name in dead:
                    self.reports.pop(name, None)
                for a, b in self.sessions:
                    if a in dead and b not in dead:
                        self._down.add((b, a))
                    elif b in dead and a not in dead:
                        self._down.add((a, b))
                self.sessions = {pair for pair in self.sessions if not set(pair) & dead}
                self.version += 1
                self._change.set()
                return worker.names
        raise LabError(f"no running speaker {speaker!r} in lab {self.name!r}")

    # -- state -----------------------------------------------------------------------

    def verdict(self) -> Verdict:
        """Converged or not, from the latest reports."""
        return decide(self.reports, self.sessions, down=self._down)

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

    async def snapshots(self, timeout: float = 30.0) -> dict[str, RouterSnapshot]:
        """Every speaker's RIBs and sessions, gathered from the workers."""
        replies = await self._ask("snapshot", timeout)
        result: dict[str, RouterSnapshot] = {}
        for reply in replies:
            for name, data in reply["snapshots"].items():
                result[name] = RouterSnapshot.from_json(data)
        return dict(sorted(result.items()))

    async def flush(self, timeout: float = 30.0) -> None:
        """Have every speaker publish its current tables and wait until the broker has them."""
        await self._ask("flush", timeout)

    # -- plumbing --------------------------------------------------------------------

    async def _ask(self, kind: str, timeout: float) -> list[dict[str, Any]]:
        """Send ``kind`` to every worker and gather the answers."""
        loop = asyncio.get_running_loop()
        futures = []
        for worker in self._workers:
            if set(worker.names) <= self._crashed:
                continue
            request = next(self._ids)
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._replies[request] = future
            worker.conn.send({"type": kind, "id": request})
            futures.append(future)
        async with asyncio.timeout(timeout):
            return list(await asyncio.gather(*futures))

    @property
    def worker_count(self) -> int:
        """How many worker processes run the speakers."""
        return len(self._workers)

    async def wait_change(self) -> None:
        """Return at the next report, reply or error from a worker."""
        self._change.clear()
        await self._change.wait()

    def _on_message(self, index: int) -> None:
        worker = self._workers[index]
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
            crashed = set(worker.names) <= self._crashed
            if not crashed and (
                worker.process.exitcode not in (None, 0) or index not in self._ready
            ):
                self._errors.append(f"lab worker {index} ({', '.join(worker.names)}) exited")
            self._change.set()
            return
        kind = message.get("type")
        if kind == "ready":
            self._ready.add(index)
        elif kind == "error":
            self._errors.append(str(message["message"]))
        elif kind == "reports":
            self.version += 1
            self._store(message["reports"])
        elif kind in ("snapshots", "flushed"):
            future = self._replies.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message)
        self._change.set()

    def _store(self, reports: Mapping[str, Any]) -> None:
        for name, report in reports.items():
            self.reports[name] = SpeakerReport(
                name=name,
                peers={peer: PeerCounters(**c) for peer, c in report["peers"].items()},
                busy=bool(report["busy"]),
            )
