"""Publish a running :class:`~bgpemu.runtime.Speaker`'s tables through a :class:`Publisher`.

Theory of operation.  :meth:`SpeakerFeed.run` loops: arm a waiter on the speaker's
change notification (:meth:`Speaker.wait_for` re-checks its predicate on every
state or route change), read its tables (:func:`~bgpemu.observe.tables.read_tables`),
hand the documents and delta of :class:`~bgpemu.observe.feed.NodeFeed` to the
publisher, then wait for the change.  The delta comes from the router's own changes
since the last read: every router output the speaker carries out is recorded in a
:class:`~bgpemu.observe.journal.ChangeJournal` (:attr:`Speaker.output_listeners`),
taken with the read.  The waiter is armed *before* the read, so a
change made while the tables are read is never missed.  Nothing here awaits the broker:
the publisher's calls return at once.

The publication never slows BGP down (issue 5): documents cost time in proportion to
the tables (about a microsecond per route, in a thread that still shares the
interpreter with the speaker).  So bursts are coalesced: after a change the feed waits until
the speaker has been *quiet* for a while (each change restarts the wait) or until a
longest delay has passed, both at least ``min_interval`` and growing with what the
last publication cost; and the feeds of one process take turns through a shared
:class:`Pacer`, which spaces publications so that they take at most a fixed share of
the loop's time while any of its speakers is still changing.  Once routing is
quiet the documents follow at full speed.

A session's state change is not coalesced (issue 16: on vWAN 2 x 50 x 200 a hub's
``sessions`` document said ``Connect`` on the broker for 40 s after the lab had
converged, waiting for its tables): the sessions document is small (a few kB for 51
neighbours), so a second task (:meth:`SpeakerFeed.run`) publishes it alone, on the loop,
as soon as a session's state differs from the last one published
(:meth:`~bgpemu.observe.feed.NodeFeed.advance_sessions`: its own ``seq`` and delta), and
every publication of the tables hands its sessions over before serialising the tables in
the thread.  That task starts with the feed, so a node's first sessions document does
not wait for the feed's first turn through the :class:`Pacer` either (the feeds of a
process take their turns one after the other).  Only a serialisation already under way
delays it (the feed's lock).  Other session changes (message counters, route counts)
still travel with the tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from bgpemu.observe.feed import NodeFeed, Publication
from bgpemu.observe.journal import ChangeJournal
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.tables import read_sessions, read_tables
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState

__all__ = ["Pacer", "SpeakerFeed"]


class Pacer:
    """Takes turns among the feeds of one event loop (see the module docstring).

    :meth:`run` runs one publication at a time.  While a speaker of the loop changed
    within the last ``quiet`` seconds (:meth:`activity`), the next publication starts
    only after a pause that keeps publishing to ``share`` of the loop's time (a
    publication of *d* seconds is followed by *d* x (1 - share) / share of routing).
    """

    def __init__(self, *, share: float = 0.25, quiet: float = 0.2) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share
        self.quiet = quiet
        self._lock = asyncio.Lock()
        self._busy_until = 0.0
        """Loop time until which the next publication must wait while routing is busy."""
        self._changed_at = -1e9
        """Loop time of the last change of any speaker (see :meth:`activity`)."""

    def activity(self, now: float) -> None:
        """A speaker of this loop changed at ``now``."""
        self._changed_at = now

    def routing_busy(self, now: float) -> bool:
        """Whether a speaker of this loop changed within the last ``quiet`` seconds."""
        return now - self._changed_at < self.quiet

    async def run(self, publish: Callable[[], Awaitable[None]]) -> float:
        """Await ``publish()`` at the next turn; return how long it took."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            pause = self._busy_until - loop.time()
            if pause > 0 and self.routing_busy(loop.time()):
                await asyncio.sleep(pause)
            started = loop.time()
            await publish()
            cost = loop.time() - started
            self._busy_until = loop.time() + cost * (1 - self.share) / self.share
            return cost


class SpeakerFeed:
    """Keeps ``publisher``'s table documents equal to ``speaker``'s tables."""

    def __init__(
        self,
        speaker: Speaker,
        publisher: Publisher,
        *,
        min_interval: float = 0.01,
        refresh: float = 30.0,
        pacer: Pacer | None = None,
        quiet_factor: float = 2.0,
        delay_factor: float = 20.0,
    ) -> None:
        self.speaker = speaker
        self.publisher = publisher
        self.feed = NodeFeed()
        self.journal = ChangeJournal()
        """The router's changes since the last read: the deltas come from them."""
        speaker.output_listeners.append(self.journal.record)
        self.min_interval = min_interval
        """Shortest wait between two publications (and shortest quiet time)."""
        self.pacer = pacer or Pacer()
        """Shared by the feeds of one event loop (one per feed when not given)."""
        self.quiet_factor = quiet_factor
        """Quiet time before publishing: this many times the last publication's cost."""
        self.delay_factor = delay_factor
        """Longest wait under churn: this many times the last publication's cost."""
        self.refresh = refresh
        """Seconds without change after which the sessions' uptimes are refreshed."""
        self.snapshots = 0
        self._lock = asyncio.Lock()
        self._published_at = -1e9
        """Loop time the feed's last publication ended."""
        self._states: list[tuple[str, SessionState]] | None = None
        """Every neighbour's session state at the last read that was published."""

    async def publish(self) -> None:
        """Read the speaker's tables and publish what changed, without holding the loop.

        The tables are copied on the loop (they must not move meanwhile; the copies
        are shallow and cheap, see :mod:`bgpemu.observe.tables`); the documents and the
        delta are written in a thread, so the loop keeps routing (and the MQTT clients
        keep their connections alive) while a large table is serialised.
        """
        async with self._lock:
            speaker = self.speaker
            now = self._now()
            sessions = {name: driver.session for name, driver in speaker.peers.items()}
            tables = read_tables(speaker.spec.name, speaker.router, sessions)
            changes = self.journal.take()  # with the read: no await in between
            self._states = self._session_states()
            self.snapshots += 1
            # The sessions first: cheap, on the loop.
            self._hand_over(self.feed.advance_sessions(tables.name, tables.sessions, now))
            full = self.publisher.take_overflow()
            publication = await asyncio.to_thread(
                self.feed.advance, tables, now, full=full, changes=changes
            )
            if not self._hand_over(publication):
                self.publisher.take_overflow()
                self._update(await asyncio.to_thread(self.feed.documents, now))

    async def publish_sessions(self) -> None:
        """Publish the sessions alone if a session's state changed since the last read.

        On the loop: a sessions document is a few kB even for a hub's 51 neighbours.
        """
        async with self._lock:
            if not self._sessions_moved():
                return
            speaker = self.speaker
            now = self._now()
            self._states = self._session_states()
            sessions = {name: driver.session for name, driver in speaker.peers.items()}
            status = read_sessions(speaker.router, sessions)
            # A dropped delta leaves the publisher's overflow set: the next publication
            # of the tables then republishes every document (docs/mqtt.md).
            self._hand_over(self.feed.advance_sessions(speaker.spec.name, status, now))

    def _now(self) -> float:
        """The loop's clock; the first call sets the feed's epoch (a session's
        ``established_since`` then stays put)."""
        now = asyncio.get_running_loop().time()
        if self.feed.epoch is None:
            self.feed.epoch = time.time() - now
        return now

    def _session_states(self) -> list[tuple[str, SessionState]]:
        return [(name, driver.state) for name, driver in self.speaker.peers.items()]

    def _hand_over(self, publication: Publication) -> bool:
        """Give ``publication`` to the publisher; False if its delta was dropped."""
        publisher = self.publisher
        for key in publication.cleared:
            publisher.clear(publisher.topics.table(key))
        self._update(publication.documents)
        return publication.event is None or publisher.event(publication.event)

    def _update(self, documents: dict[str, bytes]) -> None:
        topics = self.publisher.topics
        for key, data in documents.items():
            self.publisher.update(topics.table(key), data)

    def table_topics(self) -> list[str]:
        """The topics of every table document published so far (to clear them)."""
        topics = self.publisher.topics
        return [topics.table(key) for key in self.feed.table_keys()]

    async def run(self) -> None:
        """Publish on every change of the speaker until cancelled; a session's state
        change at once, from a second task (see the module docstring)."""
        async with asyncio.TaskGroup() as tg:
            # Not behind the Pacer: the feeds of a process take their first turns one
            # after the other, and a hub's first publication can already cost seconds.
            tg.create_task(
                self._follow_sessions(), name=f"mqtt-feed-sessions-{self.speaker.spec.name}"
            )
            while True:
                waiter = tg.create_task(
                    self.speaker.next_change(self.refresh),
                    name=f"mqtt-feed-wait-{self.speaker.spec.name}",
                )
                await asyncio.sleep(0)  # let the waiter arm itself before the read
                cost = await self.pacer.run(self.publish)
                self._published_at = asyncio.get_running_loop().time()
                if not await waiter:
                    continue
                await self._coalesce(cost)

    async def _follow_sessions(self) -> None:
        """Publish the sessions alone whenever a session's state changes; at most one
        publication per ``min_interval`` (the changes of 51 sessions coming up together
        are coalesced that long, a lone change is published at once)."""
        while True:
            # One wait for many route changes: the predicate is re-checked on each.
            with contextlib.suppress(TimeoutError):
                await self.speaker.wait_for(self._sessions_moved, self.refresh)
            if self._sessions_moved():
                await self.publish_sessions()
                await asyncio.sleep(self.min_interval)

    def _sessions_moved(self) -> bool:
        return self._session_states() != self._states

    async def _coalesce(self, cost: float) -> None:
        """After a change: wait until the speaker is quiet, or the longest delay passed.

        The first change after a quiet spell is published at once (observers see a
        lone change without delay); the changes that follow it are coalesced.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.pacer.activity(now)
        quiet = max(self.min_interval, cost * self.quiet_factor)
        if now - self._published_at >= quiet:
            return
        deadline = now + max(self.min_interval, cost * self.delay_factor)
        while (remaining := min(quiet, deadline - loop.time())) > 0:
            if not await self.speaker.next_change(remaining):
                return  # quiet
            self.pacer.activity(loop.time())
