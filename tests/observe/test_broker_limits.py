"""The embedded broker's limits, with raw sockets: a malformed packet closes that client
only (logged with its name), a packet that announces 256 MB and never comes is closed
after a bounded wait without 256 MB ever being allocated, and the retained store is
bounded in topics and bytes with a clear log line."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from bgpemu.mqttbroker import (
    DEFAULT_MAX_RETAINED_BYTES,
    DEFAULT_MAX_RETAINED_TOPICS,
    Broker,
)
from bgpemu.mqttbroker.codec import Decoder, encode
from bgpemu.mqttbroker.packets import Connack, Connect, Publish

WAIT = 10.0
BIG = bytes.fromhex("30ffffff7f")  # PUBLISH, QoS 0, Remaining Length 268,435,455 (256 MB)


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0, packet_timeout=0.5, connect_timeout=0.5) as running:
        yield running


async def _raw(
    broker: Broker, client_id: str | None, keep_alive: int = 0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    if client_id is not None:
        writer.write(
            encode(Connect(protocol_level=4, client_id=client_id, keep_alive=keep_alive), 4)
        )
        async with asyncio.timeout(WAIT):
            (connack,) = Decoder(protocol_level=4).feed(await reader.read(4))
        assert isinstance(connack, Connack)
    return reader, writer


async def _closed_by_broker(reader: asyncio.StreamReader) -> float:
    """Seconds until the broker closes the connection (EOF), at most WAIT."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(WAIT):
        while await reader.read(65536):
            pass
    return loop.time() - start


async def _still_serves(broker: Broker) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as good:
        await good.subscribe("t")
        await good.publish("t", b"ok", qos=1)
        async with asyncio.timeout(WAIT):
            message = await anext(aiter(good.messages))
    assert message.payload == b"ok"


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def test_a_malformed_packet_closes_that_client_only_and_names_it(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bgpemu.mqttbroker")
    reader, writer = await _raw(broker, "mangler")
    async with aiomqtt.Client("127.0.0.1", broker.port) as bystander:
        writer.write(bytes.fromhex("3605000174" + "0001"))  # PUBLISH with QoS 3
        await _closed_by_broker(reader)
        await bystander.publish("t", b"still connected", qos=1)
    writer.close()
    await _still_serves(broker)
    [line] = _lines(caplog, "'mangler'")
    assert "127.0.0.1:" in line
    assert "QoS" in line


async def test_a_packet_announcing_256_mb_that_never_comes_is_closed_in_bounded_time(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bgpemu.mqttbroker")
    tracemalloc.start()
    try:
        reader, writer = await _raw(broker, "slowloris", keep_alive=0)  # no keepalive bound
        writer.write(BIG + b"\x00\x01t" + b"x" * 1000)
        took = await _closed_by_broker(reader)
        writer.close()
        # before CONNECT too: a CONNECT that announces 256 MB
        reader, writer = await _raw(broker, None)
        writer.write(bytes.fromhex("10ffffff7f") + b"\x00\x04MQTT")
        took_connect = await _closed_by_broker(reader)
        writer.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < 5.0  # packet_timeout 0.5 s, generously bounded
    assert took_connect < 5.0
    assert peak < 32 * 1024 * 1024  # never the announced 256 MB
    [line] = _lines(caplog, "'slowloris'")
    assert "268435460" in line
    assert "disconnecting" in line
    await _still_serves(broker)


async def test_a_slow_but_steady_large_packet_is_not_cut(broker: Broker) -> None:
    """The bound is on silence inside a packet, not on its size: a 1 MB publication that
    arrives in pieces, each within the timeout, goes through."""
    payload = b"y" * (1024 * 1024)
    async with aiomqtt.Client("127.0.0.1", broker.port) as reader_client:
        await reader_client.subscribe("big")
        _, writer = await _raw(broker, "steady")
        data = encode(Publish(topic="big", payload=payload, qos=0), 4)
        for start in range(0, len(data), 256 * 1024):
            writer.write(data[start : start + 256 * 1024])
            await writer.drain()
            await asyncio.sleep(0.2)  # under packet_timeout (0.5 s) each time
        async with asyncio.timeout(WAIT):
            message = await anext(aiter(reader_client.messages))
        writer.close()
    assert message.payload == payload


async def test_retained_store_limits_in_topics_and_bytes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bgpemu.mqttbroker")
    async with (
        Broker(port=0, max_retained_topics=3, max_retained_bytes=1000) as broker,
        aiomqtt.Client("127.0.0.1", broker.port, identifier="filler") as client,
        aiomqtt.Client("127.0.0.1", broker.port) as live,
    ):
        await live.subscribe("r/#")
        for index in range(5):
            await client.publish(f"r/{index}", b"x" * 10, qos=1, retain=True)
        assert broker.retained_count == 3
        # live subscribers still get every message
        async with asyncio.timeout(WAIT):
            got = [m.topic.value async for m in _take(live, 5)]
        assert got == [f"r/{index}" for index in range(5)]
        [line] = _lines(caplog, "retained")  # once, not once per refusal
        assert "'filler'" in line
        assert "3 topics" in line
        assert "r/3" in line
        # clearing a topic makes room again
        await client.publish("r/0", b"", qos=1, retain=True)
        await client.publish("r/3", b"x" * 10, qos=1, retain=True)
        assert broker.retained_count == 3
        # bytes: a replacement that does not fit removes the old document (never stale)
        await client.publish("r/1", b"z" * 2000, qos=1, retain=True)
        assert broker.retained_count == 2
        assert broker.retained_bytes <= 1000
        async with aiomqtt.Client("127.0.0.1", broker.port) as late:
            await late.subscribe("r/#")
            await client.publish("r/end", b"")
            async with asyncio.timeout(WAIT):
                topics = [m.topic.value async for m in _take(late, 3)]
        assert sorted(topics) == ["r/2", "r/3", "r/end"]
        assert len(_lines(caplog, "retained")) == 2  # logged again: the store had had room


def test_default_limits_fit_the_biggest_benchmark_lab() -> None:
    # vwan-2x50x200 retains about 1.5 GB of JSON over 10^4 to 10^5 topics (bench/README.md)
    assert DEFAULT_MAX_RETAINED_BYTES >= 2 * 1_500_000_000
    assert DEFAULT_MAX_RETAINED_TOPICS >= 2 * 100_000


async def _take(client: aiomqtt.Client, count: int) -> AsyncIterator[aiomqtt.Message]:
    seen = 0
    async for message in client.messages:
        yield message
        seen += 1
        if seen == count:
            return
