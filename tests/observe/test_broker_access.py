"""The embedded broker's credentials and publish rules (broker.access) with real clients.

An anonymous client may read everything but may not publish under a protected filter
(a lab's ``bgpemu/v1/#``): such a PUBLISH never reaches a subscriber, is logged once per
client (client id and address), acknowledged as usual in 3.1.1 and with 0x87 in 5.0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from bgpemu.mqttbroker import Broker
from bgpemu.mqttbroker.access import Access
from bgpemu.mqttbroker.codec import Decoder, encode
from bgpemu.mqttbroker.packets import Connack, Connect, Puback, Publish, Will
from bgpemu.observe.errors import BrokerRefusedError
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.mqtt.connect import check_broker
from bgpemu.observe.url import BrokerAddress

V311, V5 = aiomqtt.ProtocolVersion.V311, aiomqtt.ProtocolVersion.V5
PROTOCOLS = pytest.mark.parametrize("protocol", [V311, V5], ids=["v311", "v5"])
WAIT = 10.0
USERS = {"lab": "s3cret", "operator": "0p"}
CONTROL = "bgpemu/v1/demo/control"


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0, users=USERS, protected=("bgpemu/v1/#",)) as running:
        yield running


def client(
    broker: Broker, protocol: aiomqtt.ProtocolVersion = V311, **options: object
) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, protocol=protocol, **options)  # type: ignore[arg-type]


async def received_before(mqtt: aiomqtt.Client, sentinel: str) -> list[tuple[str, bytes]]:
    """(topic, payload) of the messages received before the first one on ``sentinel``."""
    found: list[tuple[str, bytes]] = []
    async with asyncio.timeout(WAIT):
        async for message in mqtt.messages:
            if message.topic.value == sentinel:
                return found
            assert isinstance(message.payload, bytes)
            found.append((message.topic.value, message.payload))
    raise AssertionError("message iteration ended")


def test_access_rules() -> None:
    access = Access(USERS, ("bgpemu/v1/#",))
    assert access.authenticate(None, None) is None
    assert access.authenticate("lab", b"s3cret") is None
    assert access.authenticate("lab", b"wrong") == "bad user name or password"
    assert access.authenticate("nobody", b"s3cret") == "bad user name or password"
    assert access.authenticate("lab", None) == "bad user name or password"
    assert not access.may_publish(None, CONTROL)
    assert not access.may_publish(None, "bgpemu/v1/demo/nodes/a/rib/loc")
    assert access.may_publish(None, "elsewhere/bgpemu/v1")
    assert access.may_publish("lab", CONTROL)
    assert Access(USERS, (), allow_anonymous=False).authenticate(None, None) == "not authorised"
    assert Access().authenticate("anyone", b"anything") is None
    assert Access().may_publish(None, CONTROL)
    with pytest.raises(ValueError, match="protected"):
        Access(None, ("bgpemu/v1/#",))


@PROTOCOLS
async def test_anonymous_publish_on_protected_topics_never_arrives(
    broker: Broker, protocol: aiomqtt.ProtocolVersion, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bgpemu.mqttbroker")
    async with (
        client(broker, protocol) as reader,  # anonymous reading is allowed
        client(broker, protocol, identifier="intruder") as intruder,
    ):
        await reader.subscribe("#", qos=1)
        for qos in (0, 1, 2):
            await intruder.publish(CONTROL, b'{"op":"crash"}', qos=qos)
        await intruder.publish("bgpemu/v1/demo/state", b'{"forged":1}', qos=1, retain=True)
        await intruder.publish("outside/end", b"", qos=1)
        assert await received_before(reader, "outside/end") == []
    assert broker.retained_count == 0
    refusals = [r for r in caplog.records if "not authorised to publish" in r.getMessage()]
    assert len(refusals) == 1  # once per client
    assert "'intruder'" in refusals[0].getMessage()
    assert "127.0.0.1:" in refusals[0].getMessage()


@PROTOCOLS
async def test_authenticated_user_publishes_control(
    broker: Broker, protocol: aiomqtt.ProtocolVersion
) -> None:
    async with (
        client(broker, protocol) as reader,
        client(broker, protocol, username="operator", password="0p") as operator,
    ):
        await reader.subscribe("bgpemu/#", qos=1)
        await operator.publish(CONTROL, b'{"op":"crash"}', qos=1)
        await operator.publish("bgpemu/v1/demo/end", b"", qos=1)
        assert await received_before(reader, "bgpemu/v1/demo/end") == [(CONTROL, b'{"op":"crash"}')]


async def test_v5_refused_publish_gets_puback_not_authorized(broker: Broker) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    decoder = Decoder(protocol_level=5)
    try:
        writer.write(encode(Connect(protocol_level=5, client_id="raw5"), 5))
        writer.write(encode(Publish(topic=CONTROL, payload=b"{}", qos=1, packet_id=7), 5))
        packets: list[object] = []
        async with asyncio.timeout(WAIT):
            while len(packets) < 2:
                data = await reader.read(65536)
                assert data
                packets.extend(decoder.feed(data))
        connack, puback = packets
        assert isinstance(connack, Connack)
        assert connack.reason_code == 0
        assert isinstance(puback, Puback)
        assert (puback.packet_id, puback.reason_code) == (7, 0x87)
    finally:
        writer.close()


@pytest.mark.parametrize(("username", "password"), [("lab", "wrong"), ("stranger", "s3cret")])
async def test_wrong_password_is_refused_with_a_clear_reason(
    broker: Broker, username: str, password: str
) -> None:
    address = BrokerAddress(
        host="127.0.0.1", port=broker.port, username=username, password=password
    )
    with pytest.raises(BrokerRefusedError) as info:
        await check_broker(address, timeout=WAIT)
    assert str(info.value) == (
        f"MQTT broker mqtt://127.0.0.1:{broker.port}: the broker refused user "
        f"{username!r}: bad user name or password"
    )
    assert password not in str(info.value)


async def test_anonymous_will_on_a_protected_topic_is_refused(broker: Broker) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    try:
        will = Will(topic=CONTROL, payload=b'{"op":"crash"}', qos=1, retain=False)
        writer.write(encode(Connect(protocol_level=4, client_id="w", will=will), 4))
        async with asyncio.timeout(WAIT):
            data = await reader.read(65536)
        (connack,) = Decoder(protocol_level=4).feed(data)
        assert isinstance(connack, Connack)
        assert connack.reason_code == 5
    finally:
        writer.close()


async def test_without_users_everyone_publishes_anywhere() -> None:
    async with (
        Broker(port=0) as open_broker,
        client(open_broker, username="x", password="y") as c,
        client(open_broker) as reader,
    ):
        await reader.subscribe("#", qos=1)
        await c.publish(CONTROL, b"1", qos=1)
        await c.publish("end", b"", qos=1)
        assert await received_before(reader, "end") == [(CONTROL, b"1")]


async def _first_publisher_warning(address: BrokerAddress) -> str:
    """The first WARNING of a Publisher of ``address`` (it keeps retrying meanwhile)."""
    logged = asyncio.Event()
    lines: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())
            logged.set()

    publisher_log = logging.getLogger("bgpemu.observe.mqtt.publisher")
    handler = Catch(logging.WARNING)
    publisher_log.addHandler(handler)
    try:
        async with Publisher(address, lab="demo", node="n1", backoff=(0.05, 0.1)):
            async with asyncio.timeout(WAIT):
                await logged.wait()
    finally:
        publisher_log.removeHandler(handler)
    return lines[0]


async def test_a_refused_publisher_logs_which_user_was_refused(broker: Broker) -> None:
    address = BrokerAddress(host="127.0.0.1", port=broker.port, username="lab", password="nope")
    line = await _first_publisher_warning(address)
    assert "the broker refused user 'lab': bad user name or password" in line
    assert "nope" not in line


async def test_an_unusable_ca_file_is_an_outage_of_the_publisher_not_a_crash(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "gone.pem"
    address = BrokerAddress(host="127.0.0.1", port=8883, tls=True, ca_file=str(missing))
    line = await _first_publisher_warning(address)
    assert f"cannot use the CA file {missing}: No such file or directory" in line
