"""The embedded broker against the mosquitto command-line clients (3.1.1 and 5.0).

The clients come from the Debian package ``mosquitto-clients``; without them these tests
are skipped, except in CI where they fail (``require_binary``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from bgpemu.mqttbroker import Broker
from tests.integration._daemon_base import require_binary

pytestmark = pytest.mark.integration
VERSIONS = pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
WAIT = 20.0


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0) as running:
        yield running


async def run(broker: Broker, name: str, *args: str, stdin: bytes | None = None) -> tuple[int, str]:
    """Run a mosquitto client to completion: (exit status, stdout + stderr)."""
    process = await asyncio.create_subprocess_exec(
        require_binary(name), "-h", "127.0.0.1", "-p", str(broker.port), *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with asyncio.timeout(WAIT):
            output, _ = await process.communicate(stdin)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, output.decode()


@VERSIONS
async def test_retained_to_a_late_mosquitto_sub(broker: Broker, version: str) -> None:
    status, _ = await run(
        broker, "mosquitto_pub", "-V", version, "-t", "lab/n1/rib", "-m", "{}", "-r", "-q", "1"
    )
    assert status == 0
    status, _ = await run(
        broker, "mosquitto_pub", "-V", version, "-t", "lab/n2/rib", "-m", "[]", "-r", "-q", "2"
    )
    assert status == 0
    status, output = await run(
        broker, "mosquitto_sub", "-V", version, "-t", "lab/+/rib", "-v", "-C", "2"
    )
    assert status == 0
    assert sorted(output.splitlines()) == ["lab/n1/rib {}", "lab/n2/rib []"]


async def start_sub(broker: Broker, *args: str) -> asyncio.subprocess.Process:
    """A mosquitto_sub that is known to be subscribed when this returns.

    It also subscribes to ``ready/<id>``, which holds a retained message: its first output
    line is that message, printed only once the broker has accepted the subscription.
    """
    ready = f"ready/{id(args)}"
    status, _ = await run(broker, "mosquitto_pub", "-t", ready, "-m", "r", "-r")
    assert status == 0
    process = await asyncio.create_subprocess_exec(
        require_binary("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(broker.port), "-v",
        "-t", ready, *args,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(WAIT):
        assert await process.stdout.readline() == f"{ready} r\n".encode()
    return process


async def finish(process: asyncio.subprocess.Process) -> str:
    """The rest of a mosquitto_sub's output once it exits by itself."""
    try:
        async with asyncio.timeout(WAIT):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return output.decode()


@VERSIONS
async def test_live_wildcard_subscriber(broker: Broker, version: str) -> None:
    sub = await start_sub(
        broker, "-V", version, "-t", "lab/#", "-t", "$SYS/#", "-C", "4", "-q", "1"
    )
    for topic in ("other/x", "lab/a", "$SYS/b", "lab/a/b"):
        status, _ = await run(broker, "mosquitto_pub", "-V", version, "-t", topic, "-m", "m")
        assert status == 0
    assert (await finish(sub)).splitlines() == ["lab/a m", "$SYS/b m", "lab/a/b m"]


async def test_mqtt31_client_refused(broker: Broker) -> None:
    status, output = await run(broker, "mosquitto_pub", "-V", "mqttv31", "-t", "t", "-m", "m")
    assert status != 0
    assert "unacceptable protocol version" in output.lower()


@VERSIONS
async def test_will_of_a_killed_mosquitto_sub(broker: Broker, version: str) -> None:
    sub = await start_sub(
        broker, "-V", version, "-i", "observer-1",
        "--will-topic", "lab/observer-1/status", "--will-payload", "offline", "--will-retain",
    )  # fmt: skip
    sub.send_signal(signal.SIGKILL)
    await sub.wait()
    status, output = await run(
        broker, "mosquitto_sub", "-V", version, "-t", "lab/+/status", "-v", "-C", "1"
    )
    assert (status, output) == (0, "lab/observer-1/status offline\n")


@VERSIONS
async def test_ten_thousand_retained_to_mosquitto_sub(broker: Broker, version: str) -> None:
    count = 10_000
    async with aiomqtt.Client("127.0.0.1", broker.port) as publisher:
        for index in range(count):
            await publisher.publish(f"big/{index}", b"x", retain=True)
        await publisher.publish("big/sync", b"", qos=1)
    assert broker.retained_count == count
    started = time.monotonic()
    status, output = await run(
        broker, "mosquitto_sub", "-V", version, "-t", "big/#", "-q", "1", "-C", str(count), "-v"
    )
    elapsed = time.monotonic() - started
    assert status == 0
    assert len(set(output.splitlines())) == count
    print(f"10k retained to a late mosquitto_sub ({version}): {elapsed:.2f}s")
