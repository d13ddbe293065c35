"""A lab worker process: runs some of the lab's speakers over real TCP and reports.

The parent (:mod:`bgpemu.lab.supervisor`) starts one worker per process with the
whole :class:`~bgpemu.azure.model.Network`; the worker compiles the same plan
(compilation is deterministic) and runs the speakers named for it.  Speakers share
nothing: they talk to each other only over TCP, whichever process they are in.

The pipe to the parent carries small dicts.  Worker -> parent: ``ready`` (every
speaker listening), ``error`` (a speaker could not start: nothing is left running),
``reports`` (per speaker: session states, current-connection UPDATE counters, busy
flag; sent after every burst of changes), ``snapshots`` (answer to ``snapshot``) and
``stopped``.  Parent -> worker: ``snapshot`` and ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import snapshot
from bgpemu.lab.convergence import report_from_sessions
from bgpemu.lab.profile import lab_profile
from bgpemu.runtime import Speaker

__all__ = ["report_of", "worker_main"]

logger = logging.getLogger(__name__)

_COALESCE = 0.02
_FOREVER = 1e9
"""Seconds a burst of changes is gathered before one report leaves (keeps the pipe quiet)."""


def report_of(speaker: Speaker) -> dict[str, Any]:
    """A speaker's sessions and counters (the input of :func:`bgpemu.lab.convergence.decide`)."""
    report = report_from_sessions(
        speaker.spec.name,
        {name: driver.session for name, driver in speaker.peers.items()},
        busy=speaker.router.next_deadline() is not None,
    )
    return {"peers": {p: asdict(c) for p, c in report.peers.items()}, "busy": report.busy}


def worker_main(
    network: Network, options: dict[str, Any], names: list[str], conn: Connection, seed: int
) -> None:
    """Process entry point: run the speakers called ``names`` until told to stop."""
    logging.basicConfig(level=logging.ERROR)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_Worker(network, options, names, conn, seed).run())


class _Worker:
    def __init__(
        self,
        network: Network,
        options: dict[str, Any],
        names: list[str],
        conn: Connection,
        seed: int,
    ) -> None:
        plan = lab_profile(compile_network(network, **options))
        specs = {spec.name: spec for spec in plan.speakers}
        self.speakers = {
            name: Speaker(specs[name], rng=random.Random(f"{seed}:{name}")) for name in names
        }
        self.conn = conn
        self.changed = asyncio.Event()
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = {
                    name: tg.create_task(s.run(), name=f"speaker {name}")
                    for name, s in self.speakers.items()
                }
                if not await self._all_ready(tasks):
                    return
                self.send({"type": "ready", "speakers": sorted(self.speakers)})
                helpers = [
                    tg.create_task(self._watch(s), name=f"watch {name}")
                    for name, s in self.speakers.items()
                ]
                helpers.append(tg.create_task(self._report(), name="reporter"))
                await self._serve()
                for speaker in self.speakers.values():
                    speaker.request_stop()
                await asyncio.gather(*tasks.values())
                for helper in helpers:
                    helper.cancel()
        except* OSError as group:
            failed = "; ".join(str(e) for e in group.exceptions)
            self.send({"type": "error", "message": failed})
        else:
            self.send({"type": "stopped"})
        finally:
            loop.remove_reader(self.conn.fileno())

    async def _all_ready(self, tasks: dict[str, asyncio.Task[None]]) -> bool:
        """Wait until every speaker listens; False (error sent) if one failed to start."""
        for name, speaker in self.speakers.items():
            ready = asyncio.ensure_future(speaker.wait_ready())
            await asyncio.wait({ready, tasks[name]}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                error = tasks[name].exception() if not tasks[name].cancelled() else None
                spec = speaker.spec
                self.send(
                    {
                        "type": "error",
                        "message": (
                            f"speaker {name} could not listen on "
                            f"{spec.local_address}:{spec.port}: {error}"
                        ),
                    }
                )
                for other in self.speakers.values():
                    other.request_stop()
                return False
        return True

    def _on_command(self) -> None:
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            message = {"type": "stop"}
        self.commands.put_nowait(message)

    async def _serve(self) -> None:
        while True:
            command = await self.commands.get()
            kind = command.get("type")
            if kind == "stop":
                return
            if kind == "snapshot":
                self.send(
                    {
                        "type": "snapshots",
                        "id": command.get("id"),
                        "snapshots": {
                            name: snapshot(
                                name,
                                s.router,
                                {peer: d.session for peer, d in s.peers.items()},
                            ).to_json()
                            for name, s in self.speakers.items()
                        },
                    }
                )

    async def _watch(self, speaker: Speaker) -> None:
        while True:
            await speaker.wait_for(_next_change(), timeout=_FOREVER)
            self.changed.set()

    async def _report(self) -> None:
        self.send(self._reports())
        while True:
            await self.changed.wait()
            await asyncio.sleep(_COALESCE)
            self.changed.clear()
            self.send(self._reports())

    def _reports(self) -> dict[str, Any]:
        return {
            "type": "reports",
            "reports": {name: report_of(s) for name, s in self.speakers.items()},
        }


def _next_change() -> Callable[[], bool]:
    """A predicate false on its first call and true afterwards: 'the next change'."""
    calls = [0]

    def predicate() -> bool:
        calls[0] += 1
        return calls[0] > 1

    return predicate
