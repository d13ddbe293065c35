"""Publish a running :class:`~bgpemu.runtime.Speaker`'s tables through a :class:`Publisher`.

Theory of operation.  :meth:`SpeakerFeed.run` loops: arm a waiter on the speaker's
change notification (:meth:`Speaker.wait_for` re-checks its predicate on every
state or route change), take a :func:`~bgpemu.azure.snapshot.snapshot`, hand the
documents and delta of :class:`~bgpemu.observe.feed.NodeFeed` to the publisher,
then wait for the change.  The waiter is armed *before* the snapshot, so a change
made while the snapshot is taken is never missed.  Bursts are coalesced: at most
one snapshot per ``min_interval`` seconds.  Nothing here awaits the broker: the
publisher's calls return at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bgpemu.azure.snapshot import snapshot
from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.mqtt import Publisher
from bgpemu.runtime import Speaker

__all__ = ["SpeakerFeed"]


def _one_shot() -> Callable[[], bool]:
    """A predicate that is False once, then True: waits for exactly one change."""
    calls = 0

    def predicate() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1

    return predicate


async def _changed(speaker: Speaker, timeout: float) -> bool:
    """Wait for one change of ``speaker``; False after ``timeout`` seconds without one."""
    try:
        await speaker.wait_for(_one_shot(), timeout)
    except TimeoutError:
        return False
    return True


class SpeakerFeed:
    """Keeps ``publisher``'s table documents equal to ``speaker``'s tables."""

    def __init__(
        self,
        speaker: Speaker,
        publisher: Publisher,
        *,
        min_interval: float = 0.05,
        refresh: float = 30.0,
    ) -> None:
        self.speaker = speaker
        self.publisher = publisher
        self.feed = NodeFeed()
        self.min_interval = min_interval
        self.refresh = refresh
        """Seconds without change after which the sessions' uptimes are refreshed."""
        self.snapshots = 0

    def publish_now(self, now: float) -> None:
        """Snapshot the speaker and hand the result to the publisher (never blocks)."""
        speaker = self.speaker
        sessions = {name: driver.session for name, driver in speaker.peers.items()}
        snap = snapshot(speaker.spec.name, speaker.router, sessions)
        self.snapshots += 1
        full = self.publisher.take_overflow()
        publication = self.feed.advance(snap, now, full=full)
        topics = self.publisher.topics
        for table, doc in publication.documents.items():
            self.publisher.update(topics.topic(table), doc)
        if publication.event is not None and not self.publisher.event(publication.event):
            self.publisher.take_overflow()
            for table, doc in self.feed.documents(now).items():
                self.publisher.update(topics.topic(table), doc)

    async def run(self) -> None:
        """Publish on every change of the speaker until cancelled."""
        loop = asyncio.get_running_loop()
        async with asyncio.TaskGroup() as tg:
            while True:
                waiter = tg.create_task(
                    _changed(self.speaker, self.refresh),
                    name=f"mqtt-feed-wait-{self.speaker.spec.name}",
                )
                await asyncio.sleep(0)  # let the waiter arm itself before the snapshot
                started = loop.time()
                self.publish_now(started)
                if not await waiter:
                    continue
                remaining = started + self.min_interval - loop.time()
                if remaining > 0:
                    await asyncio.sleep(remaining)
