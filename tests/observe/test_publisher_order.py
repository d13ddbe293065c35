"""A publisher sends a node's small documents (status, info, sessions) before the route
tables waiting: a vWAN hub has megabytes of tables, and an observer (the web view) that
waits for the sessions document behind them showed the hub's sessions down for a minute
after the lab had converged (bench/README.md, bench_web.py)."""

from __future__ import annotations

import asyncio

import pytest

from bgpemu.observe.mqtt import Follower, Publisher
from bgpemu.observe.topics import NodeTopics
from tests.observe.conftest import Mosquitto

pytestmark = pytest.mark.integration

LAB = "order"
WAIT = 10.0


async def test_small_documents_go_before_the_tables_waiting(mosquitto: Mosquitto) -> None:
    topics = NodeTopics(lab=LAB, node="hub")
    seen: list[str] = []
    arrived = asyncio.Event()

    def on_message(topic: str, _payload: bytes) -> None:
        seen.append(topic.removeprefix(topics.base + "/"))
        arrived.set()

    publisher = Publisher(mosquitto.url, lab=LAB, node="hub")
    table = b"{" + b" " * 200_000 + b"}"
    for peer in ("a", "b", "c"):
        publisher.update(topics.rib_in_of(peer), table)
    publisher.update(topics.rib_loc, table)
    publisher.update(topics.sessions, b'{"sessions": []}')
    publisher.update(topics.info, b'{"role": "vwan_hub"}')
    async with Follower(mosquitto.url, [topics.all], on_message) as follower:
        await follower.wait_connected(WAIT)
        async with publisher:
            async with asyncio.timeout(WAIT):
                while len([t for t in seen if t.startswith("rib/")]) < 4:
                    arrived.clear()
                    await arrived.wait()
    tables = [topic for topic in seen if topic.startswith("rib/")]
    assert tables == ["rib/in/a", "rib/in/b", "rib/in/c", "rib/loc"], seen
    assert {"status", "sessions", "info"} <= set(seen[: seen.index(tables[0])]), seen
