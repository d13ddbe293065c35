"""The embedded broker against real aiomqtt clients (3.1.1 and 5.0) and raw connections.

Raw connections (our codec on a plain socket) are used only where a real client cannot
misbehave on purpose: silence past the keepalive, garbage, a level we refuse, a window
left unacknowledged.  No sleeps: every wait is an event under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from bgpemu.mqttbroker import Broker
from bgpemu.mqttbroker.codec import Decoder, encode
from bgpemu.mqttbroker.packets import (
    Connack,
    Connect,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Puback,
    Publish,
    ReasonCode,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Will,
)

V311, V5 = aiomqtt.ProtocolVersion.V311, aiomqtt.ProtocolVersion.V5
PROTOCOLS = pytest.mark.parametrize("protocol", [V311, V5], ids=["v311", "v5"])
WAIT = 10.0


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0) as running:
        yield running


def client(broker: Broker, protocol: aiomqtt.ProtocolVersion, **options: object) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, protocol=protocol, **options)  # type: ignore[arg-type]


async def take(mqtt: aiomqtt.Client, count: int, timeout: float = WAIT) -> list[aiomqtt.Message]:
    """The next ``count`` messages, or TimeoutError."""
    found: list[aiomqtt.Message] = []
    async with asyncio.timeout(timeout):
        async for message in mqtt.messages:
            found.append(message)
            if len(found) == count:
                break
    return found


async def until(mqtt: aiomqtt.Client, sentinel: str) -> list[str]:
    """Topics received up to and excluding the first message on ``sentinel``."""
    topics: list[str] = []
    async with asyncio.timeout(WAIT):
        async for message in mqtt.messages:
            if message.topic.value == sentinel:
                return topics
            topics.append(message.topic.value)
    raise AssertionError("message iteration ended")


class RawClient:
    """A hand-driven MQTT connection using the broker's own codec."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, level: int):
        self.reader = reader
        self.writer = writer
        self.level = level
        self.decoder = Decoder(protocol_level=level)
        self.pending: list[Packet] = []

    @classmethod
    async def open(cls, broker: Broker, level: int = 5) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
        return cls(reader, writer, level)

    async def connect(self, client_id: str, **fields: object) -> Connack:
        self.send(Connect(protocol_level=self.level, client_id=client_id, **fields))  # type: ignore[arg-type]
        connack = await self.receive()
        assert isinstance(connack, Connack)
        return connack

    def send(self, packet: Packet) -> None:
        self.writer.write(encode(packet, self.level))

    async def receive(self) -> Packet:
        async with asyncio.timeout(WAIT):
            while not self.pending:
                data = await self.reader.read(65536)
                if not data:
                    raise EOFError
                self.pending.extend(self.decoder.feed(data))
        return self.pending.pop(0)

    async def rest(self) -> list[Packet]:
        """Everything the broker sends until it closes the connection."""
        found: list[Packet] = []
        while True:
            try:
                found.append(await self.receive())
            except EOFError:
                return found

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


# --- retained messages ----------------------------------------------------------------------


@PROTOCOLS
async def test_retained_delivered_to_a_late_subscriber(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    async with client(broker, protocol) as publisher:
        await publisher.publish("lab/n1/rib", b'{"routes": 1}', qos=1, retain=True)
        await publisher.publish("lab/n2/rib", b'{"routes": 2}', qos=1, retain=True)
        await publisher.publish("lab/n2/rib", b'{"routes": 3}', qos=1, retain=True)  # replaces
        await publisher.publish("lab/n1/event", b"not retained", qos=1)
    async with client(broker, protocol) as late:
        await late.subscribe("lab/+/rib", qos=1)
        messages = await take(late, 2)
    assert {(m.topic.value, m.payload, m.retain) for m in messages} == {
        ("lab/n1/rib", b'{"routes": 1}', True),
        ("lab/n2/rib", b'{"routes": 3}', True),
    }


@PROTOCOLS
async def test_empty_retained_payload_clears_the_topic(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    async with client(broker, protocol) as publisher:
        await publisher.publish("lab/a", b"1", qos=1, retain=True)
        await publisher.publish("lab/b", b"2", qos=1, retain=True)
        await publisher.publish("lab/a", b"", qos=1, retain=True)
        assert broker.retained_count == 1
        async with client(broker, protocol) as late:
            await late.subscribe("lab/#")
            await publisher.publish("lab/end", b"sentinel")
            assert await until(late, "lab/end") == ["lab/b"]


@PROTOCOLS
async def test_no_retained_leak_to_unrelated_subscribers(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    """The amqtt 0.12 defect: a newcomer got every retained message matched by anyone."""
    async with client(broker, protocol) as observer, client(broker, protocol) as publisher:
        await observer.subscribe("bgplab/#", qos=1)
        for node in ("n1", "n2", "n3"):
            await publisher.publish(f"bgplab/{node}/rib", b"{}", qos=1, retain=True)
        assert len(await take(observer, 3)) == 3

        async def newcomer(index: int) -> list[str]:
            async with client(broker, protocol) as unrelated:
                await unrelated.subscribe(f"unrelated/{index}", qos=1)
                await publisher.publish(f"unrelated/{index}", b"sentinel", qos=1)
                return [m.topic.value for m in await take(unrelated, 1)]

        firsts = await asyncio.gather(*(newcomer(index) for index in range(20)))
        assert firsts == [[f"unrelated/{index}"] for index in range(20)]


# --- routing and QoS ------------------------------------------------------------------------


@PROTOCOLS
async def test_wildcard_routing(broker: Broker, protocol: aiomqtt.ProtocolVersion) -> None:
    async with (
        client(broker, protocol) as everything,
        client(broker, protocol) as status,
        client(broker, protocol) as publisher,
    ):
        await everything.subscribe("#")
        await status.subscribe("lab/+/status")
        await status.subscribe("$SYS/#")
        topics = ["lab/n1/status", "lab/n1/info", "lab/n1/status/x", "lab/status", "$SYS/load"]
        for topic in topics:
            await publisher.publish(topic, b"x", qos=1)
        await publisher.publish("end", b"")
        await publisher.publish("$SYS/end", b"")
        everything_got = await until(everything, "end")
        status_got = await until(status, "$SYS/end")
    assert everything_got == ["lab/n1/status", "lab/n1/info", "lab/n1/status/x", "lab/status"]
    assert status_got == ["lab/n1/status", "$SYS/load"]


@PROTOCOLS
async def test_qos_levels_are_acknowledged_and_downgraded(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    async with client(broker, protocol) as q1, client(broker, protocol) as q2:
        await q1.subscribe("q/#", qos=1)
        await q2.subscribe("q/#", qos=2)
        for qos in (0, 1, 2):
            await q2.publish(f"q/{qos}", str(qos).encode(), qos=qos)  # awaits PUBACK/PUBCOMP
        got1 = [(m.topic.value, m.qos) for m in await take(q1, 3)]
        got2 = [(m.topic.value, m.qos) for m in await take(q2, 3)]
    assert got1 == [("q/0", 0), ("q/1", 1), ("q/2", 1)]
    assert got2 == [("q/0", 0), ("q/1", 1), ("q/2", 2)]


async def test_v5_properties_are_forwarded(broker: Broker) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties: Any = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.ContentType = "application/json"
    properties.UserProperty = [("schema", "rib/v1")]
    properties.MessageExpiryInterval = 3600
    async with client(broker, V5) as subscriber, client(broker, V5) as publisher:
        await subscriber.subscribe("p/t", qos=1)
        await publisher.publish("p/t", b"{}", qos=1, properties=properties)
        [message] = await take(subscriber, 1)
    received: Any = message.properties
    assert received.ContentType == "application/json"
    assert received.UserProperty == [("schema", "rib/v1")]
    assert 3590 <= received.MessageExpiryInterval <= 3600


async def test_qos1_window_waits_for_puback() -> None:
    async with Broker(port=0, max_inflight=1) as broker:
        raw = await RawClient.open(broker, level=5)
        await raw.connect("slow-reader")
        raw.send(
            Subscribe(packet_id=1, subscriptions=(SubscriptionRequest(topic_filter="w", qos=1),))
        )
        assert await raw.receive() == Suback(packet_id=1, reason_codes=(1,))
        async with client(broker, V5) as publisher:
            await publisher.publish("w", b"first", qos=1)
            await publisher.publish("w", b"second", qos=1)
        first = await raw.receive()
        assert isinstance(first, Publish)
        assert first.payload == b"first"
        raw.send(Pingreq())
        assert await raw.receive() == Pingresp()  # the window (1) holds "second" back
        assert first.packet_id is not None
        raw.send(Puback(packet_id=first.packet_id))
        second = await raw.receive()
        assert isinstance(second, Publish)
        assert second.payload == b"second"
        await raw.close()


# --- wills, keepalive, takeover, bad clients --------------------------------------------------

CHILD = """
import asyncio, sys
import aiomqtt

async def main() -> None:
    will = aiomqtt.Will("lab/n1/status", b"offline", qos=1, retain=True)
    protocol = aiomqtt.ProtocolVersion(int(sys.argv[2]))
    async with aiomqtt.Client("127.0.0.1", int(sys.argv[1]), identifier="n1", will=will,
                              protocol=protocol) as mqtt:
        await mqtt.publish("lab/n1/status", b"online", qos=1, retain=True)
        print("ready", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@PROTOCOLS
async def test_will_published_when_a_client_process_dies(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    async with client(broker, protocol) as watcher:
        await watcher.subscribe("lab/+/status", qos=1)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, str(broker.port), str(protocol.value),
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )  # fmt: skip
        try:
            assert child.stdout is not None
            async with asyncio.timeout(WAIT):
                assert await child.stdout.readline() == b"ready\n"
            [online] = await take(watcher, 1)
            child.send_signal(signal.SIGKILL)
            [offline] = await take(watcher, 1)
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
    assert (online.payload, offline.payload) == (b"online", b"offline")
    async with client(broker, protocol) as late:
        await late.subscribe("lab/n1/status")
        [retained] = await take(late, 1)
    assert (retained.payload, retained.retain) == (b"offline", True)


async def test_normal_disconnect_discards_the_will(broker: Broker) -> None:
    will = aiomqtt.Will("lab/n2/status", b"offline", retain=True)
    async with client(broker, V311, identifier="n2", will=will):
        pass
    async with client(broker, V311) as late:
        await late.subscribe("lab/#")
        await late.publish("lab/end", b"")
        assert await until(late, "lab/end") == []


@pytest.mark.parametrize("level", [4, 5])
async def test_keepalive_enforced_at_one_and_a_half_times(broker: Broker, level: int) -> None:
    async with client(broker, V311) as watcher:
        await watcher.subscribe("gone/#")
        raw = await RawClient.open(broker, level)
        started = time.monotonic()
        await raw.connect("silent", keep_alive=1, will=Will(topic="gone/silent", payload=b"x"))
        rest = await raw.rest()
        elapsed = time.monotonic() - started
        [will] = await take(watcher, 1)
        await raw.close()
    expected = [Disconnect(reason_code=ReasonCode.KEEP_ALIVE_TIMEOUT)] if level == 5 else []
    assert rest == expected
    assert 1.4 <= elapsed < 2.2  # 1.5 x 1 s (3.1.1 §3.1.2.10), not 2 x
    assert will.topic.value == "gone/silent"


@pytest.mark.parametrize("level", [4, 5])
async def test_session_takeover_by_identical_client_id(broker: Broker, level: int) -> None:
    first = await RawClient.open(broker, level)
    await first.connect("same")
    protocol = V5 if level == 5 else V311
    async with client(broker, protocol, identifier="same") as second:
        expected = [Disconnect(reason_code=ReasonCode.SESSION_TAKEN_OVER)] if level == 5 else []
        assert await first.rest() == expected
        await second.subscribe("t")
        await second.publish("t", b"still here", qos=1)
        [message] = await take(second, 1)
        assert message.payload == b"still here"
    await first.close()


@pytest.mark.parametrize("level", [4, 5])
async def test_malformed_packet_disconnects_only_that_client(broker: Broker, level: int) -> None:
    protocol = V5 if level == 5 else V311
    async with client(broker, protocol) as good:
        await good.subscribe("bad/#")
        raw = await RawClient.open(broker, level)
        await raw.connect("garbage", will=Will(topic="bad/will", payload=b"died"))
        raw.writer.write(bytes.fromhex("3605000174" + "0001"))  # PUBLISH with QoS 3
        rest = await raw.rest()
        await raw.close()
        [will] = await take(good, 1)
        await good.publish("bad/after", b"ok", qos=1)
        [after] = await take(good, 1)
    assert rest == ([Disconnect(reason_code=ReasonCode.MALFORMED_PACKET)] if level == 5 else [])
    assert (will.payload, after.payload) == (b"died", b"ok")


@pytest.mark.parametrize(
    ("connect", "answer"),
    [
        ("100f00064d514973647003020000000161", "20020001"),  # MQTT 3.1: return code 0x01
        ("100d00044d5154540602003c000161", "2003008400"),  # level 6: reason code 0x84
        ("100c000448545450040200000000", ""),  # not MQTT: closed without an answer
    ],
)
async def test_unsupported_protocol_levels_refused(
    broker: Broker, connect: str, answer: str
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(bytes.fromhex(connect))
    async with asyncio.timeout(WAIT):
        received = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert received.hex() == answer


async def test_v311_empty_client_id_needs_clean_session(broker: Broker) -> None:
    raw = await RawClient.open(broker, level=4)
    connack = await raw.connect("", clean_start=False)
    assert connack.reason_code == 0x02  # 3.1.1 §3.1.3.1: identifier rejected
    await raw.close()
    raw = await RawClient.open(broker, level=5)
    connack = await raw.connect("", clean_start=False)
    assert connack.reason_code == 0
    assert dict(connack.properties).keys() >= {0x12}  # Assigned Client Identifier
    raw.send(Disconnect())
    await raw.close()


async def test_stop_disconnects_every_client() -> None:
    broker = Broker(port=0)
    await broker.start()
    v5 = await RawClient.open(broker, level=5)
    await v5.connect("a")
    v311 = await RawClient.open(broker, level=4)
    await v311.connect("b")
    await broker.stop()
    assert await v5.rest() == [Disconnect(reason_code=ReasonCode.SERVER_SHUTTING_DOWN)]
    assert await v311.rest() == []
    await v5.close()
    await v311.close()
    with pytest.raises(OSError, match=r"cannot listen on 127\.0\.0\.1"):
        async with Broker(port=broker.port), Broker(port=broker.port):
            pass


# --- queues and persistent sessions -----------------------------------------------------------


async def test_full_queue_drops_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bgpemu.mqttbroker")
    async with Broker(port=0, max_queued_messages=10) as broker:
        async with client(broker, V311, identifier="slow", clean_session=False) as slow:
            await slow.subscribe("q/#", qos=1)
        async with client(broker, V311) as publisher:
            for index in range(25):
                await publisher.publish(f"q/{index}", b"x", qos=1)
        assert "'slow': outgoing queue full (10 messages)" in caplog.text
        async with client(broker, V311, identifier="slow", clean_session=False) as slow:
            queued = [m.topic.value for m in await take(slow, 10)]
            async with client(broker, V311) as publisher:
                await publisher.publish("q/last", b"x", qos=1)
            assert [m.topic.value for m in await take(slow, 1)] == ["q/last"]
    assert queued == [f"q/{index}" for index in range(10)]
    assert "'slow': 15 messages dropped while its outgoing queue was full" in caplog.text


async def test_clean_session_forgets_subscriptions(broker: Broker) -> None:
    async with client(broker, V311, identifier="c", clean_session=False) as first:
        await first.subscribe("s/#", qos=1)
    async with client(broker, V311, identifier="c", clean_session=True) as second:
        await second.subscribe("other")
        await second.publish("s/1", b"x", qos=1)
        await second.publish("other", b"sentinel", qos=1)
        assert await until(second, "other") == []


# --- volume -----------------------------------------------------------------------------------


@PROTOCOLS
async def test_ten_thousand_retained_topics_to_a_late_subscriber(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    count = 10_000
    async with client(broker, protocol) as publisher:
        for index in range(count):
            await publisher.publish(f"big/{index // 100}/{index % 100}", b"r" * 50, retain=True)
        await publisher.publish("big/sync", b"", qos=1)  # every QoS 0 publish before it is in
    assert broker.retained_count == count
    async with client(broker, protocol) as late:
        started = time.monotonic()
        await late.subscribe("big/#", qos=1)
        messages = await take(late, count, timeout=60)
        elapsed = time.monotonic() - started
    assert len({m.topic.value for m in messages}) == count
    assert all(m.retain for m in messages)
    print(f"10k retained to a late {protocol.name} subscriber: {elapsed:.2f}s")
