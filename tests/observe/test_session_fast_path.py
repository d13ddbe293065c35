"""A session's state change is published at once, ahead of the route tables.

On vWAN 2 x 50 x 200 a hub's ``sessions`` document said ``Connect`` on the broker for
about 40 s after the lab had converged: the feed published a node's sessions only with
its tables, and a hub's publication waited (the feed's coalescing and the Pacer grow
with the cost of the tables) and then serialised megabytes of routes in a thread
first (bench/README.md, "late sessions documents").  The sessions document is cheap:
:meth:`NodeFeed.advance_sessions` versions it alone, and
:class:`~bgpemu.observe.speaker_feed.SpeakerFeed` publishes it as soon as a session's
state changes, while the tables are still coalesced and paced.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from bgpemu.azure.snapshot import PeerStatus
from bgpemu.observe.feed import NodeFeed, Publication
from bgpemu.observe.journal import RouterChanges
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.mqtt.connect import Payload
from bgpemu.observe.payloads import apply_delta
from bgpemu.observe.speaker_feed import Pacer, SpeakerFeed
from bgpemu.observe.tables import NodeTables, read_tables
from tests.helpers import ebgp_pair, running
from tests.unit.router.test_core import announce, make_router

NOW = 5.0


def _docs(documents: dict[str, bytes]) -> dict[str, Any]:
    return {key: json.loads(data) for key, data in documents.items()}


def _follow(docs: dict[str, Any], publication: Publication) -> None:
    """What an observer does with a publication (docs/mqtt.md, "Sequence numbers")."""
    if publication.event is not None:
        event = json.loads(publication.event)
        for key in event["base"]:
            docs[key] = apply_delta(docs[key], event)
    for key, data in publication.documents.items():
        doc = json.loads(data)
        assert doc["seq"] >= docs.get(key, {"seq": -1})["seq"], key
        docs[key] = doc


def test_a_sessions_only_advance_keeps_the_sequence_rules() -> None:
    router = make_router()
    feed = NodeFeed()
    down = (PeerStatus(peer="e1", state="Connect"),)
    up = (PeerStatus(peer="e1", state="Established", established_at=1.0),)
    first = feed.advance(read_tables("r1", router), NOW)
    docs = _docs(first.documents)
    assert docs["sessions"]["seq"] == 0
    # The sessions alone: seq 1, an event whose base names only the sessions document.
    publication = feed.advance_sessions("r1", up, NOW)
    assert list(publication.documents) == ["sessions"]
    assert publication.event is not None
    event = json.loads(publication.event)
    assert (event["seq"], event["base"]) == (1, {"sessions": 0})
    assert [s["state"] for s in event["sessions"]] == ["Established"]
    _follow(docs, publication)
    assert docs["sessions"]["sessions"][0]["state"] == "Established"
    assert feed.advance_sessions("r1", up, NOW) == Publication()  # nothing changed
    # The route tables follow: their own versions, the sessions not changed again.
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 2.0)
    tables = read_tables("r1", router)
    tables = NodeTables(name=tables.name, tables=tables.tables, sessions=up, sources={})
    publication = feed.advance(tables, NOW)
    assert publication.event is not None
    event = json.loads(publication.event)
    assert event["seq"] == 2
    assert "sessions" not in event["base"]
    assert "sessions" not in publication.documents
    assert {"rib/loc", "rib/in/e1"} <= set(event["base"])
    _follow(docs, publication)
    # The sessions change back with the tables: the same rules either way.
    publication = feed.advance_sessions("r1", down, NOW)
    assert json.loads(publication.event or b"{}")["base"] == {"sessions": 1}
    _follow(docs, publication)
    assert docs == _docs(feed.documents(NOW))


def test_the_sessions_alone_can_be_the_first_read() -> None:
    """A feed publishes its sessions before its first turn to publish the tables."""
    router = make_router()
    feed = NodeFeed()
    up = (PeerStatus(peer="e1", state="Established", established_at=1.0),)
    first = feed.advance_sessions("r1", up, NOW)
    assert (list(first.documents), first.event) == (["sessions"], None)
    docs = _docs(first.documents)
    assert docs["sessions"]["seq"] == 0
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 2.0)
    tables = read_tables("r1", router)
    tables = NodeTables(name=tables.name, tables=tables.tables, sessions=up, sources={})
    publication = feed.advance(tables, NOW)
    # The tables appear, as a new neighbour's do: at the next seq, in no event's base.
    assert publication.event is None
    assert "sessions" not in publication.documents
    assert {json.loads(d)["seq"] for d in publication.documents.values()} == {1}
    _follow(docs, publication)
    assert docs == _docs(feed.documents(NOW))


# --- a real speaker whose tables are expensive to serialise ------------------------

A, B = "127.0.0.41", "127.0.0.42"
SLOW = 1.0
"""Seconds each table serialisation takes (a vWAN hub's takes seconds)."""


class SlowTables(NodeFeed):
    """A :class:`NodeFeed` whose route tables cost ``SLOW`` seconds to serialise."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, float]] = []
        """(start, end) of every serialisation, on the loop's clock (monotonic)."""

    def advance(
        self,
        tables: NodeTables,
        now: float | None = None,
        *,
        full: bool = False,
        changes: RouterChanges | None = None,
    ) -> Publication:
        start = time.monotonic()
        time.sleep(SLOW)  # runs in the feed's thread: the loop keeps routing
        publication = super().advance(tables, now, full=full, changes=changes)
        self.calls.append((start, time.monotonic()))
        return publication


class Recording(Publisher):
    """A publisher that is never connected: it notes when each document was handed over."""

    def __init__(self, node: str) -> None:
        self.log: list[tuple[float, str, Payload]] = []
        self.handed = asyncio.Event()
        super().__init__("mqtt://127.0.0.1:1", lab="lab", node=node)

    def update(self, topic: str, payload: Payload, retain: bool = True) -> None:
        self.log.append((time.monotonic(), topic.removeprefix(self.topics.base + "/"), payload))
        super().update(topic, payload, retain)
        self.handed.set()

    async def until(self, since: float, state: str | None = None) -> float:
        """When a sessions document with b in ``state`` (default: not Established) was
        handed over, at ``since`` or later; waits for it."""
        while True:
            for at, topic, payload in self.log:
                if at < since or topic != "sessions":
                    continue
                now = _states(payload).get("b")
                if now == state if state is not None else now != "Established":
                    return at
            self.handed.clear()
            await self.handed.wait()


def _states(payload: Payload) -> dict[str, str]:
    assert isinstance(payload, bytes)
    return {s["peer"]: s["state"] for s in json.loads(payload)["sessions"]}


@pytest.mark.integration
async def test_a_session_change_is_published_before_the_expensive_tables() -> None:
    async with running(*ebgp_pair(A, B)) as speakers:
        await speakers[0].wait_established(timeout=8 * SLOW)
        publisher = Recording("a")
        feed = SpeakerFeed(speakers[0], publisher, min_interval=0.0)
        slow = feed.feed = SlowTables()
        task = asyncio.create_task(feed.run(), name="feed-a")
        try:
            async with asyncio.timeout(8 * SLOW):
                up = await publisher.until(0.0, "Established")
                # Right after a serialisation: the feed now coalesces what follows.
                while not any(end >= up for _start, end in slow.calls):  # noqa: ASYNC110 (a thread)
                    await asyncio.sleep(0.01)
            changed = time.monotonic()
            speakers[1].request_stop()  # a's session to b goes down
            async with asyncio.timeout(8 * SLOW):
                seen = await publisher.until(changed)
        finally:
            task.cancel()
    # Before the tables that changed with it, and without the feed's coalescing wait.
    later = [end for start, end in slow.calls if start >= changed]
    assert all(end > seen for end in later), (seen - changed, slow.calls)
    assert seen - changed < SLOW / 2, seen - changed


@pytest.mark.integration
async def test_the_sessions_do_not_wait_for_the_first_turn_to_publish_tables() -> None:
    """The feeds of a lab process take their first turns one after the other (the
    Pacer): on vWAN 2 x 50 x 200 the last branches' sessions reached the broker ~40 s
    after they came up, in their first publication (bench_sessions_broker.py)."""
    pacer = Pacer()
    hold = asyncio.Event()
    held = asyncio.Event()

    async def another_feed() -> None:
        held.set()
        await hold.wait()

    async with running(*ebgp_pair(A, B)) as speakers:
        await speakers[0].wait_established(timeout=8 * SLOW)
        other = asyncio.create_task(pacer.run(another_feed), name="another-feed")
        await held.wait()
        publisher = Recording("a")
        feed = SpeakerFeed(speakers[0], publisher, min_interval=0.0, pacer=pacer)
        task = asyncio.create_task(feed.run(), name="feed-a")
        try:
            started = time.monotonic()
            async with asyncio.timeout(8 * SLOW):
                seen = await publisher.until(0.0, "Established")
            assert seen - started < SLOW / 2, seen - started
            assert not other.done()
            assert feed.snapshots == 0  # the tables still wait for their turn
        finally:
            hold.set()
            task.cancel()
            await other
