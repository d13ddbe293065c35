"""The speakers a lab worker hosts: started, watched, reported on, added and removed.

:class:`SpeakerHost` runs each speaker of a worker (:mod:`bgpemu.lab.worker`) as a
task of the worker's TaskGroup, waits until every one listens (all at once), watches
each for changes and, after every burst of them (gathered for :data:`_COALESCE`
seconds), reports every speaker's sessions and counters (:func:`report_of`, the input of
:func:`bgpemu.lab.convergence.decide`).  A topology change (issue 6) adds a speaker
(:meth:`~SpeakerHost.add`: it returns once the speaker listens) or removes one (a clean
stop: Cease to its peers).  A speaker that cannot listen is a :class:`ListenError`
naming it and its address.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from dataclasses import replace

from bgpemu.errors import BgpEmuError
from bgpemu.lab.convergence import SpeakerReport, report_from_sessions
from bgpemu.lab.faults import leaves
from bgpemu.lab.injections import Blackholes
from bgpemu.lab.protocol import Reports
from bgpemu.router.spec import SpeakerSpec
from bgpemu.runtime import Speaker
from bgpemu.wire.constants import MessageType

__all__ = ["ListenError", "SpeakerHost", "UpdateTally", "report_of"]

_COALESCE = 0.02
"""Seconds a burst of changes is gathered before one report leaves (keeps the pipe quiet)."""
_FOREVER = 1e9


class ListenError(BgpEmuError):
    """A speaker could not open its listening socket (address or port in use...)."""


class UpdateTally:
    """Every UPDATE a speaker sent, across its sessions' lives.

    A session object is replaced when a connection collision promotes the other
    connection (RFC 4271 §6.8), and its counters start again from zero; the tally
    keeps what the replaced one had sent, so the total only grows.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, int]] = {}
        """peer -> (id of its session object, UPDATEs it had sent at the last look)."""
        self._retired = 0

    def total(self, speaker: Speaker) -> int:
        """UPDATEs sent so far by ``speaker`` on every session, past and present."""
        current = 0
        for gone in self._last.keys() - speaker.peers.keys():  # a neighbour de-configured
            self._retired += self._last.pop(gone)[1]
        for peer, driver in speaker.peers.items():
            session = driver.session
            count = session.counters.messages_sent[MessageType.UPDATE]
            known = self._last.get(peer)
            if known is not None and known[0] != id(session):
                self._retired += known[1]
            self._last[peer] = (id(session), count)
            current += count
        return self._retired + current


def report_of(speaker: Speaker, tally: UpdateTally | None = None) -> SpeakerReport:
    """A speaker's sessions and counters (the input of :func:`bgpemu.lab.convergence.decide`)."""
    report = report_from_sessions(
        speaker.spec.name,
        {name: driver.session for name, driver in speaker.peers.items()},
        busy=speaker.router.next_deadline() is not None,
    )
    return replace(
        report,
        updates_sent_total=(tally or UpdateTally()).total(speaker),
        best_routes=speaker.router.loc_rib.count(),
    )


class SpeakerHost:
    """The speakers of one worker process, run in the worker's TaskGroup."""

    def __init__(self, specs: Iterable[SpeakerSpec], seed: int) -> None:
        self.seed = seed
        self.speakers = {spec.name: self._speaker(spec) for spec in specs}
        self.tallies = {name: UpdateTally() for name in self.speakers}
        self.blackholes = Blackholes()
        """Sessions cut silently (:meth:`bgpemu.lab.injections.session_action`)."""
        self.changed = asyncio.Event()
        self.tg: asyncio.TaskGroup | None = None
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self.reporter: asyncio.Task[None] | None = None
        self.start_errors: dict[str, str] = {}

    def _speaker(self, spec: SpeakerSpec) -> Speaker:
        """Each speaker's random choices are seeded by the lab's seed and its name."""
        return Speaker(spec, rng=random.Random(f"{self.seed}:{spec.name}"))

    def start(self, tg: asyncio.TaskGroup) -> None:
        """Start every speaker as a task of ``tg`` (then :meth:`wait_ready`)."""
        self.tg = tg
        self.tasks = {
            name: tg.create_task(self._run(name, s), name=f"speaker {name}")
            for name, s in self.speakers.items()
        }

    async def wait_ready(self) -> str | None:
        """Wait until every speaker listens; the error if one failed to start.

        All of them at once: sessions start as soon as each speaker listens and their
        routing shares this loop, so waiting for one speaker after the other (a loop
        turn each) would send ``ready`` only after much of that work.
        """
        tasks = self.tasks
        readies = {n: asyncio.ensure_future(s.wait_ready()) for n, s in self.speakers.items()}
        waiting = set(readies.values())
        while waiting:
            running = {task for task in tasks.values() if not task.done()}
            done, _ = await asyncio.wait(waiting | running, return_when=asyncio.FIRST_COMPLETED)
            waiting -= done
            failed = [n for n, task in tasks.items() if task.done() and not readies[n].done()]
            if failed:
                for ready in readies.values():
                    ready.cancel()
                name = failed[0]
                error = tasks[name].exception() if not tasks[name].cancelled() else None
                spec = self.speakers[name].spec
                return (
                    f"speaker {name} could not listen on {spec.local_address}:{spec.port}: {error}"
                )
        return None

    def watch(self, send: Callable[[Reports], None]) -> None:
        """Watch every speaker, and ``send`` their reports after each burst of changes."""
        assert self.tg is not None
        for name, speaker in self.speakers.items():
            self.watchers[name] = self.tg.create_task(self._watch(speaker), name=f"watch {name}")
        self.reporter = self.tg.create_task(self._report(send), name="reporter")

    def request_stop(self) -> None:
        """Ask every speaker to stop (Cease to its peers)."""
        for speaker in self.speakers.values():
            speaker.request_stop()

    async def stop(self) -> None:
        """Stop every speaker, wait until they have, then stop watching them."""
        self.request_stop()
        await asyncio.gather(*self.tasks.values())
        for watcher in self.watchers.values():
            watcher.cancel()
        if self.reporter is not None:
            self.reporter.cancel()

    def reports(self) -> Reports:
        """Every speaker's sessions and counters, now."""
        return Reports(
            {name: report_of(s, self.tallies[name]) for name, s in self.speakers.items()}
        )

    # -- topology changes (issue 6) ------------------------------------------------------

    async def add(self, spec: SpeakerSpec) -> Speaker:
        """Start ``spec`` here; return it once it listens (ValueError if it cannot)."""
        name = spec.name
        if name in self.speakers:
            raise ValueError(f"speaker {name} already runs")
        assert self.tg is not None
        speaker = self._speaker(spec)
        task = self.tg.create_task(self._run_added(name, speaker), name=f"speaker {name}")
        ready = asyncio.ensure_future(speaker.wait_ready())
        await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise ValueError(self.start_errors.pop(name, f"speaker {name} stopped at once"))
        self.speakers[name] = speaker
        self.tasks[name] = task
        self.tallies[name] = UpdateTally()
        self.watchers[name] = self.tg.create_task(self._watch(speaker), name=f"watch {name}")
        return speaker

    async def remove(self, name: str) -> Speaker:
        """Stop speaker ``name`` cleanly (Cease to its peers) and forget it."""
        speaker = self.speakers.pop(name)
        speaker.request_stop()
        await asyncio.wait({self.tasks.pop(name)})
        watcher = self.watchers.pop(name, None)
        if watcher is not None:
            watcher.cancel()
        self.tallies.pop(name, None)
        self.blackholes.forget(name)
        return speaker

    # -- tasks ---------------------------------------------------------------------------

    async def _run(self, name: str, speaker: Speaker) -> None:
        try:
            await speaker.run()
        except (OSError, ExceptionGroup) as exc:
            errors = [e for e in leaves(exc) if isinstance(e, OSError)]
            if speaker.bound_port is not None or not errors:
                raise
            spec = speaker.spec
            reason = errors[0].strerror or str(errors[0])
            raise ListenError(
                f"speaker {name} could not listen on {spec.local_address}:{spec.port}: {reason}"
            ) from exc

    async def _run_added(self, name: str, speaker: Speaker) -> None:
        """Run a speaker started by a topology change; a failure to listen is reported."""
        try:
            await self._run(name, speaker)
        except ListenError as exc:
            self.start_errors[name] = str(exc)

    async def _watch(self, speaker: Speaker) -> None:
        while True:
            await speaker.next_change(_FOREVER)
            if self.blackholes:
                now = asyncio.get_running_loop().time()
                self.blackholes.hold_down(speaker, now)
            self.changed.set()

    async def _report(self, send: Callable[[Reports], None]) -> None:
        send(self.reports())
        while True:
            await self.changed.wait()
            await asyncio.sleep(_COALESCE)
            self.changed.clear()
            send(self.reports())
