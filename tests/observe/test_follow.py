"""The MQTT adapter's Follower (the web view's): filters added and removed while
connected, and a callback that raises costs one message, not the follower."""

from __future__ import annotations

import asyncio

import pytest

from bgpemu.observe.mqtt import Follower
from bgpemu.observe.mqtt.connect import mqtt_client
from bgpemu.observe.url import parse_mqtt_url
from tests.observe.conftest import Mosquitto

pytestmark = pytest.mark.integration

WAIT = 10.0


async def test_filters_change_while_connected_and_a_bad_callback_is_survived(
    mosquitto: Mosquitto,
) -> None:
    seen: list[tuple[str, bytes]] = []
    arrived = asyncio.Event()

    def on_message(topic: str, payload: bytes) -> None:
        seen.append((topic, payload))
        arrived.set()
        if payload == b"boom":
            raise RuntimeError("a bug in the caller")

    states: list[bool] = []
    async with (
        mqtt_client(parse_mqtt_url(mosquitto.url)) as client,
        Follower(mosquitto.url, ["t/a"], on_message, states.append) as follower,
    ):
        await follower.wait_connected(WAIT)
        await client.publish("t/b", b"retained", qos=1, retain=True)
        await client.publish("t/a", b"boom", qos=1)
        await client.publish("t/a", b"after", qos=1)
        async with asyncio.timeout(WAIT):
            while ("t/a", b"after") not in seen:
                arrived.clear()
                await arrived.wait()
        assert ("t/b", b"retained") not in seen
        await follower.subscribe("t/b")  # the retained document follows the SUBACK
        async with asyncio.timeout(WAIT):
            while ("t/b", b"retained") not in seen:
                arrived.clear()
                await arrived.wait()
        await follower.unsubscribe("t/a")
        await client.publish("t/a", b"ignored", qos=1)
        await client.publish("t/b", b"last", qos=1)
        async with asyncio.timeout(WAIT):
            while ("t/b", b"last") not in seen:
                arrived.clear()
                await arrived.wait()
        assert ("t/a", b"ignored") not in seen
        assert follower.connected
    assert states[0] is True
