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
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.journal import ChangeJournal
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.tables import read_tables
from bgpemu.runtime import Speaker

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

    async def publish(self) -> None:
        """Read the speaker's tables and publish what changed, without holding the loop.

        The tables are copied on the loop (they must not move meanwhile; the copies
        are shallow and cheap, see :mod:`bgpemu.observe.tables`); the documents and the
        delta are written in a thread, so the loop keeps routing (and the MQTT clients
        keep their connections alive) while a large table is serialised.
        """
        async with self._lock:
            speaker = self.speaker
            now = asyncio.get_running_loop().time()
            if self.feed.epoch is None:  # once: a session's established_since stays put
                self.feed.epoch = time.time() - now
            sessions = {name: driver.session for name, driver in speaker.peers.items()}
            tables = read_tables(speaker.spec.name, speaker.router, sessions)
            changes = self.journal.take()  # with the read: no await in between
            self.snapshots += 1
            full = self.publisher.take_overflow()
            publication = await asyncio.to_thread(
                self.feed.advance, tables, now, full=full, changes=changes
            )
            publisher = self.publisher
            topics = publisher.topics
            for key in publication.cleared:
                publisher.clear(topics.table(key))
            self._update(publication.documents)
            if publication.event is not None and not publisher.event(publication.event):
                publisher.take_overflow()
                self._update(await asyncio.to_thread(self.feed.documents, now))

    def _update(self, documents: dict[str, bytes]) -> None:
        topics = self.publisher.topics
        for key, data in documents.items():
            self.publisher.update(topics.table(key), data)

    def table_topics(self) -> list[str]:
        """The topics of every table document published so far (to clear them)."""
        topics = self.publisher.topics
        return [topics.table(key) for key in self.feed.table_keys()]

    async def run(self) -> None:
        """Publish on every change of the speaker until cancelled."""
        async with asyncio.TaskGroup() as tg:
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
