"""SpeakerFeed: two real speakers over loopback publish their tables to a real mosquitto."""

from __future__ import annotations

import asyncio

import pytest

from bgpemu.azure.snapshot import snapshot
from bgpemu.observe.mqtt import Observer, Publisher
from bgpemu.observe.payloads import table_keys, table_payload
from bgpemu.observe.speaker_feed import SpeakerFeed
from bgpemu.router import OriginatedRoute
from bgpemu.types import IPV4_UNICAST
from tests.helpers import ebgp_pair, running
from tests.observe.conftest import Mosquitto

pytestmark = pytest.mark.integration

A, B = "127.0.0.31", "127.0.0.32"


async def test_speaker_tables_reach_the_broker(mosquitto: Mosquitto) -> None:
    a, b = ebgp_pair(A, B)
    async with (
        running(a, b) as speakers,
        Observer(mosquitto.url, lab="lab") as observer,
        asyncio.TaskGroup() as tg,
    ):
        publishers = [Publisher(mosquitto.url, lab="lab", node=s.spec.name) for s in speakers]
        for pub in publishers:
            await pub.__aenter__()
        feeds = [
            SpeakerFeed(s, p, min_interval=0.0) for s, p in zip(speakers, publishers, strict=True)
        ]
        tasks = [tg.create_task(f.run(), name=f"feed-{f.speaker.spec.name}") for f in feeds]
        await speakers[0].wait_established(timeout=5)

        def prefixes(node: str) -> set[str]:
            doc = observer.node(node).get("rib/loc", {"routes": []})
            return {r["prefix"] for r in doc["routes"]}

        want = {"10.1.0.0/24", "10.2.0.0/16"}
        await observer.wait_for(lambda: prefixes("a") == want and prefixes("b") == want, 5)
        speakers[1].originate(OriginatedRoute(prefix="10.3.0.0/24", family=IPV4_UNICAST))
        await observer.wait_for(lambda: "10.3.0.0/24" in prefixes("a"), 5)
        for pub in publishers:
            await pub.flush(5)
        for speaker, feed in zip(speakers, feeds, strict=True):
            snap = snapshot(speaker.spec.name, speaker.router)
            docs = observer.node(speaker.spec.name)
            keys = [k for k in table_keys(snap) if k != "sessions"]
            other = "a" if speaker.spec.name == "b" else "b"
            assert keys == [f"rib/in/{other}", "rib/loc", f"rib/out/{other}"]
            for key in keys:
                expected = table_payload(key, snap, seq=feed.feed.versions[key])
                assert docs[key] == expected
            states = {s["peer"]: s["state"] for s in docs["sessions"]["sessions"]}
            assert set(states.values()) == {"Established"}
        assert observer.gaps == 0
        for task in tasks:
            task.cancel()
        for pub in publishers:
            await pub.__aexit__(None, None, None)
