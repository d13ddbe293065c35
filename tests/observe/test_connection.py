"""``connection``: a client entered through it leaves no socket open however it ends.

aiomqtt leaves the socket (and its housekeeping task) open when entering is
interrupted; collected later on a closed loop, the client raises "Event loop is closed"
from ``__del__``.  A broker that accepts TCP and never answers the CONNECT holds the
client where it is interrupted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import pytest

from bgpemu.observe.mqtt.connect import connection, mqtt_client
from bgpemu.observe.url import parse_mqtt_url
from tests.observe.conftest import Mosquitto

pytestmark = pytest.mark.integration


class SilentBroker:
    """Accepts connections, reads what comes and never answers; records each
    connection's end (the client closed its socket)."""

    def __init__(self) -> None:
        self.accepted = asyncio.Event()
        self.closed = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted.set()
        while await reader.read(4096):
            pass
        self.closed.set()
        writer.close()


@pytest.fixture
async def silent() -> AsyncIterator[tuple[SilentBroker, str]]:
    broker = SilentBroker()
    server = await asyncio.start_server(broker.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield broker, f"mqtt://127.0.0.1:{port}"


async def test_cancelled_while_waiting_for_the_connack(silent: tuple[SilentBroker, str]) -> None:
    broker, url = silent
    client = mqtt_client(parse_mqtt_url(url), timeout=30)

    async def enter() -> None:
        async with connection(client):
            raise AssertionError("the silent broker sent no CONNACK")

    task = asyncio.create_task(enter())
    await asyncio.wait_for(broker.accepted.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(broker.closed.wait(), 5)
    assert client._client.socket() is None


async def test_a_timeout_while_waiting_for_the_connack(silent: tuple[SilentBroker, str]) -> None:
    broker, url = silent
    client = mqtt_client(parse_mqtt_url(url), timeout=30)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5), connection(client):
            raise AssertionError("the silent broker sent no CONNACK")
    await asyncio.wait_for(broker.closed.wait(), 5)
    assert client._client.socket() is None


async def test_cancelled_while_connected(mosquitto: Mosquitto) -> None:
    client = mqtt_client(parse_mqtt_url(mosquitto.url))
    connected = asyncio.Event()

    async def follow() -> None:
        async with connection(client):
            connected.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(follow())
    await asyncio.wait_for(connected.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client._client.socket() is None


async def test_cancelled_while_connecting_in_the_executor(
    silent: tuple[SilentBroker, str],
) -> None:
    """aiomqtt connects in an executor thread, which a cancel does not stop: the socket
    it opens afterwards is closed at once, off the loop (no reader, no housekeeping
    task)."""
    broker, url = silent
    client = mqtt_client(parse_mqtt_url(url), timeout=30)
    connect = client._client_connect
    started = threading.Event()

    def slow_connect() -> None:
        started.set()
        time.sleep(0.3)
        connect()

    client._client_connect = slow_connect  # type: ignore[method-assign]

    async def enter() -> None:
        async with connection(client):
            raise AssertionError("cancelled before the connection was made")

    task = asyncio.create_task(enter())
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(broker.closed.wait(), 5)
    await asyncio.sleep(0.1)  # what the thread may have scheduled on the loop has run
    assert client._client.socket() is None
    assert client._misc_task is None
