"""Publisher and Observer against a real mosquitto (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.snapshot import PeerStatus
from bgpemu.observe import BrokerUnreachableError, NodeTopics
from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.mqtt import Observer, Publisher, check_broker
from bgpemu.observe.payloads import azure_view_payload, info_payload, lab_state_payload
from bgpemu.observe.tables import NodeTables, read_tables
from tests.helpers import free_port
from tests.observe.conftest import Mosquitto
from tests.unit.router.test_core import announce, make_router

pytestmark = pytest.mark.integration

LAB = "t"
NOW = 50.0
TIMEOUT = 2.0
ROOT = Path(__file__).resolve().parents[2]


def _snap(name: str, prefixes: list[str], state: str = "Established") -> NodeTables:
    """A node with one neighbour ``e1`` that announced ``prefixes`` (a fresh router each
    time: equal reads compare equal, so an unchanged table publishes nothing)."""
    router = make_router(up=("e1",))
    if prefixes:
        router.update_received("e1", announce(65001, prefixes=tuple(prefixes)), 1.0)
    status = PeerStatus(peer="e1", state=state, established_at=1.0, routes_received=len(prefixes))
    return NodeTables(name=name, tables=read_tables(name, router).tables, sessions=(status,))


def _publish(pub: Publisher, feed: NodeFeed, snap: NodeTables) -> None:
    publication = feed.advance(snap, NOW)
    for key in publication.cleared:
        pub.clear(pub.topics.table(key))
    for key, data in publication.documents.items():
        pub.update(pub.topics.table(key), data)
    if publication.event is not None:
        assert pub.event(publication.event)


def _expected(pub: Publisher, feed: NodeFeed) -> dict[str, dict[str, Any]]:
    return {key: json.loads(data) for key, data in feed.documents(NOW).items()}


def _tables(observer: Observer, node: str) -> dict[str, dict[str, Any]]:
    docs = observer.node(node)
    return {k: v for k, v in docs.items() if k in ("rib/loc", "sessions") or k.startswith("rib/")}


async def test_late_observer_gets_everything_from_retained_messages(mosquitto: Mosquitto) -> None:
    feeds = {n: NodeFeed() for n in ("r1", "r2")}
    async with (
        Publisher(mosquitto.url, lab=LAB, node="r1") as p1,
        Publisher(mosquitto.url, lab=LAB, node="r2") as p2,
    ):
        for pub in (p1, p2):
            node = pub.topics.node
            pub.update(
                pub.topics.info, info_payload(node, role="onprem", asn=65001, router_id="10.0.0.1")
            )
            pub.update(
                pub.topics.azure("learned-routes"), azure_view_payload(node, "learned-routes", [])
            )
            for step in range(5):  # coalesced: only the newest documents matter
                _publish(pub, feeds[node], _snap(node, [f"10.{i}.0.0/16" for i in range(step + 1)]))
        p1.update(
            f"bgpemu/v1/{LAB}/state", lab_state_payload(LAB, converged=True, nodes=["r1", "r2"])
        )
        for pub in (p1, p2):
            await pub.flush(TIMEOUT)
        async with Observer(mosquitto.url, lab=LAB) as observer:
            await observer.wait_for(lambda: len(observer.documents) == 15, TIMEOUT)
            for pub in (p1, p2):
                node = pub.topics.node
                assert _tables(observer, node) == _expected(pub, feeds[node])
                assert observer.node(node)["status"]["status"] == "online"
                assert observer.node(node)["azure/learned-routes"]["data"] == []
            assert observer.documents[f"bgpemu/v1/{LAB}/state"]["converged"] is True
        assert p1.dropped_events == 0
    # A clean stop publishes offline explicitly (the will is only for crashes).
    async with Observer(mosquitto.url, lab=LAB) as observer:
        await observer.wait_for(lambda: len(observer.documents) == 15, TIMEOUT)
        assert {observer.node(n)["status"]["status"] for n in ("r1", "r2")} == {"offline"}


@pytest.mark.parametrize("max_delta", [10_000, 0], ids=["deltas", "resync"])
async def test_live_observer_applying_deltas_ends_with_the_same_state(
    mosquitto: Mosquitto, max_delta: int
) -> None:
    """With ``max_delta=0`` every route change is a ``resync`` event: the observer, which
    otherwise follows deltas only, takes the retained documents that event names."""
    feed = NodeFeed(max_delta=max_delta)
    async with (
        Observer(mosquitto.url, lab=LAB, follow_documents=False) as observer,
        Publisher(mosquitto.url, lab=LAB, node="r1") as pub,
    ):
        _publish(pub, feed, _snap("r1", ["10.0.0.0/16"], state="OpenSent"))
        await pub.flush(TIMEOUT)
        await observer.wait_for(lambda: len(_tables(observer, "r1")) == 4, TIMEOUT)
        history = [
            ["10.0.0.0/16", "10.1.0.0/16"],
            ["10.1.0.0/16"],
            ["10.2.0.0/24", "10.1.0.0/16"],
            [],
        ]
        for prefixes in history:
            _publish(pub, feed, _snap("r1", prefixes))
            await pub.flush(TIMEOUT)
        await observer.wait_for(lambda: len(observer.events) == len(history), TIMEOUT)
        # A resync event may come before the retained documents it names (MQTT orders
        # no two topics): the table is stale until they are in.
        expected = _expected(pub, feed)
        await observer.wait_for(
            lambda: not observer.stale and _tables(observer, "r1") == expected, TIMEOUT
        )
        assert observer.gaps == 0
        assert [e["seq"] for e in observer.events] == [1, 2, 3, 4]


async def test_publisher_republishes_everything_after_a_broker_restart(
    mosquitto: Mosquitto,
) -> None:
    feed = NodeFeed()
    async with Publisher(mosquitto.url, lab=LAB, node="r1", backoff=(0.01, 0.05)) as pub:
        _publish(pub, feed, _snap("r1", ["10.0.0.0/16"]))
        await pub.flush(TIMEOUT)
        mosquitto.kill()
        await pub.wait_disconnected(TIMEOUT)
        assert not pub.connected
        # Routing carries on meanwhile: updates return at once and are coalesced.
        for step in range(3):
            _publish(pub, feed, _snap("r1", [f"10.{i}.0.0/16" for i in range(step + 2)]))
        assert pub.pending() > 0
        mosquitto.start()
        await pub.flush(TIMEOUT)
        assert pub.connections == 2
        async with Observer(mosquitto.url, lab=LAB) as observer:
            await observer.wait_for(lambda: len(observer.node("r1")) == 5, TIMEOUT)
            assert _tables(observer, "r1") == _expected(pub, feed)
            assert observer.node("r1")["status"]["status"] == "online"


CRASHING_CHILD = """
import asyncio, os, sys
from bgpemu.observe.mqtt import Publisher

async def main() -> None:
    async with Publisher(sys.argv[1], lab=sys.argv[2], node="doomed") as pub:
        await pub.flush(5)
        os._exit(3)

asyncio.run(main())
"""


async def test_a_killed_client_turns_offline_through_its_will(mosquitto: Mosquitto) -> None:
    status = NodeTopics(lab=LAB, node="doomed").status
    async with Observer(mosquitto.url, lab=LAB) as observer:
        env = dict(
            os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CRASHING_CHILD,
            mosquitto.url,
            LAB,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        async with asyncio.timeout(5 * TIMEOUT):
            assert await child.wait() == 3
        await observer.wait_for(
            lambda: observer.documents.get(status, {}).get("status") == "offline", TIMEOUT
        )
        statuses = [e for e in observer.events if e.get("node") == "doomed"]
        assert statuses == []  # status is a document, not an event


async def test_check_broker(mosquitto: Mosquitto) -> None:
    address = await check_broker(mosquitto.url, timeout=TIMEOUT)
    assert address.port == mosquitto.port
    url = f"mqtt://127.0.0.1:{free_port()}"
    with pytest.raises(BrokerUnreachableError, match=f"cannot reach the MQTT broker at {url}"):
        await check_broker(url, timeout=TIMEOUT)


async def test_event_queue_overflow_drops_and_flags() -> None:
    pub = Publisher(f"mqtt://127.0.0.1:{free_port()}", lab=LAB, node="r1", max_events=2)
    assert [pub.event({"seq": i}) for i in range(4)] == [True, True, False, False]
    assert pub.overflowed
    assert pub.dropped_events == 2
    assert pub.take_overflow() is True
    assert pub.take_overflow() is False
