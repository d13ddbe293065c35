"""The broker's sans-IO MQTT codec: golden bytes, round trips, malformed input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.errors import EncodeError
from bgpemu.mqttbroker.codec import (
    CodecError,
    Decoder,
    MalformedPacketError,
    PacketTooLargeError,
    ProtocolError,
    UnsupportedProtocolError,
    decode_varint,
    encode,
    encode_varint,
)
from bgpemu.mqttbroker.packets import (
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Properties,
    PropertyId,
    PropertyValue,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    ReasonCode,
    RetainHandling,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Unsuback,
    Unsubscribe,
    Will,
)

V3, V5 = 4, 5


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


# --- golden bytes (hand-assembled from the packet layouts of the OASIS specs) -------------

VARINTS = [  # 5.0 §1.5.5, table 1-1
    (0, "00"),
    (127, "7f"),
    (128, "8001"),
    (16_383, "ff7f"),
    (16_384, "808001"),
    (2_097_151, "ffff7f"),
    (2_097_152, "80808001"),
    (268_435_455, "ffffff7f"),
]


@pytest.mark.parametrize(("value", "wire"), VARINTS)
def test_varint_golden(value: int, wire: str) -> None:
    assert encode_varint(value) == _hex(wire)
    assert decode_varint(_hex(wire), 0) == (value, len(wire) // 2)


def test_varint_limits() -> None:
    with pytest.raises(EncodeError):
        encode_varint(268_435_456)
    assert decode_varint(_hex("ff"), 0) is None  # cut short: wait for more
    with pytest.raises(MalformedPacketError):
        decode_varint(_hex("ffffffff01"), 0)


GOLDEN: list[tuple[int, Packet, str]] = [
    (V3, Connect(protocol_level=4, client_id="a", keep_alive=60), "100d00044d5154540402003c000161"),
    (
        V5,
        Connect(protocol_level=5, client_id="c", keep_alive=60),
        "100e00044d5154540502003c000001" + "63",
    ),
    (
        V3,
        Connect(
            protocol_level=4,
            client_id="n",
            clean_start=False,
            keep_alive=10,
            will=Will(topic="s", payload=b"off", qos=1, retain=True),
            username="u",
            password=b"p",
        ),
        # flags: user 0x80 | password 0x40 | will retain 0x20 | will QoS 1 0x08 | will 0x04
        "101b00044d51545404ec000a00016e00017300036f666600017500017" + "0",
    ),
    (V3, Connack(), "20020000"),
    (V3, Connack(session_present=True, reason_code=0x01), "20020101"),
    (
        V5,
        Connack(properties=((PropertyId.SHARED_SUBSCRIPTION_AVAILABLE, 0),)),
        "200500" + "00022a00",
    ),
    (V5, Connack(reason_code=ReasonCode.UNSUPPORTED_PROTOCOL_VERSION), "2003008400"),
    (V3, Publish(topic="a/b", payload=b"hi", qos=1, packet_id=10), "320900036" + "12f62000a6869"),
    (
        V5,
        Publish(
            topic="t", payload=b"x", retain=True, properties=((PropertyId.CONTENT_TYPE, "json"),)
        ),
        "310c000174070300046a736f6e78",
    ),
    (V5, Publish(topic="t", qos=2, dup=True, packet_id=1), "3c0600017400010" + "0"),
    (V3, Puback(packet_id=10), "4002000a"),
    (V5, Puback(packet_id=10), "4002000a"),
    (V5, Puback(packet_id=10, reason_code=ReasonCode.NO_MATCHING_SUBSCRIBERS), "4003000a10"),
    (V3, Pubrec(packet_id=1), "50020001"),
    (V3, Pubrel(packet_id=1), "62020001"),
    (V5, Pubrel(packet_id=1, reason_code=0x92), "6203000192"),
    (V3, Pubcomp(packet_id=1), "70020001"),
    (
        V3,
        Subscribe(
            packet_id=1,
            subscriptions=(
                SubscriptionRequest(topic_filter="a/+", qos=1),
                SubscriptionRequest(topic_filter="#"),
            ),
        ),
        "820c0001" + "0003612f2b01" + "00012300",
    ),
    (
        V5,
        Subscribe(
            packet_id=1,
            subscriptions=(
                SubscriptionRequest(
                    topic_filter="a/#",
                    qos=1,
                    no_local=True,
                    retain_as_published=True,
                    retain_handling=RetainHandling.DO_NOT_SEND,
                ),
            ),
            properties=((PropertyId.SUBSCRIPTION_IDENTIFIER, 200),),
        ),
        # options: QoS 1 | No Local 0x04 | Retain As Published 0x08 | Retain Handling 2 << 4
        "820c0001" + "030bc801" + "0003612f23" + "2d",
    ),
    (V3, Suback(packet_id=1, reason_codes=(1, 0x80)), "9004000101" + "80"),
    (V5, Suback(packet_id=1, reason_codes=(0x9E,)), "900400010" + "09e"),
    (V3, Unsubscribe(packet_id=2, topic_filters=("a/b",)), "a207000200036" + "12f62"),
    (V3, Unsuback(packet_id=2), "b0020002"),
    (V5, Unsuback(packet_id=2, reason_codes=(0x00, 0x11)), "b00500020" + "00011"),
    (V3, Pingreq(), "c000"),
    (V3, Pingresp(), "d000"),
    (V3, Disconnect(), "e000"),
    (V5, Disconnect(), "e000"),
    (V5, Disconnect(reason_code=ReasonCode.SESSION_TAKEN_OVER), "e0018e"),
    (
        V5,
        Disconnect(
            reason_code=ReasonCode.DISCONNECT_WITH_WILL_MESSAGE,
            properties=((PropertyId.SESSION_EXPIRY_INTERVAL, 0),),
        ),
        "e00704" + "051100000000",
    ),
    (V5, Auth(reason_code=0x18), "f00118"),
]


@pytest.mark.parametrize(("level", "packet", "wire"), GOLDEN)
def test_golden_encode(level: int, packet: Packet, wire: str) -> None:
    assert encode(packet, level).hex() == wire


@pytest.mark.parametrize(("level", "packet", "wire"), GOLDEN)
def test_golden_decode(level: int, packet: Packet, wire: str) -> None:
    decoder = Decoder(protocol_level=None if isinstance(packet, Connect) else level)
    assert decoder.feed(_hex(wire)) == [packet]


def test_server_decoder_learns_the_level_from_connect() -> None:
    decoder = Decoder()
    connect = encode(Connect(protocol_level=5, client_id="x"), 5)
    puback_v5 = encode(Puback(packet_id=3, reason_code=0x10), 5)
    assert decoder.feed(connect + puback_v5) == [
        Connect(protocol_level=5, client_id="x"),
        Puback(packet_id=3, reason_code=0x10),
    ]
    assert decoder.protocol_level == 5


def test_partial_input_waits_for_the_rest() -> None:
    wire = encode(Publish(topic="a", payload=b"z" * 300, qos=1, packet_id=9), V3)
    decoder = Decoder(protocol_level=V3)
    for index in range(len(wire) - 1):
        assert decoder.feed(wire[index : index + 1]) == []
    assert decoder.feed(wire[-1:]) == [Publish(topic="a", payload=b"z" * 300, qos=1, packet_id=9)]


# --- round trips ----------------------------------------------------------------------------

_text = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
_packet_ids = st.integers(1, 65_535)
_reason = st.integers(0, 255)

_PROPERTY_STRATEGIES: dict[PropertyId, st.SearchStrategy[PropertyValue]] = {
    PropertyId.PAYLOAD_FORMAT_INDICATOR: st.integers(0, 1),
    PropertyId.MESSAGE_EXPIRY_INTERVAL: st.integers(0, 0xFFFF_FFFF),
    PropertyId.CONTENT_TYPE: _text,
    PropertyId.RESPONSE_TOPIC: _text,
    PropertyId.CORRELATION_DATA: st.binary(max_size=8),
    PropertyId.SUBSCRIPTION_IDENTIFIER: st.integers(1, 268_435_455),
    PropertyId.SESSION_EXPIRY_INTERVAL: st.integers(0, 0xFFFF_FFFF),
    PropertyId.ASSIGNED_CLIENT_IDENTIFIER: _text,
    PropertyId.SERVER_KEEP_ALIVE: st.integers(0, 0xFFFF),
    PropertyId.AUTHENTICATION_METHOD: _text,
    PropertyId.AUTHENTICATION_DATA: st.binary(max_size=8),
    PropertyId.REQUEST_PROBLEM_INFORMATION: st.integers(0, 1),
    PropertyId.WILL_DELAY_INTERVAL: st.integers(0, 0xFFFF_FFFF),
    PropertyId.REQUEST_RESPONSE_INFORMATION: st.integers(0, 1),
    PropertyId.RESPONSE_INFORMATION: _text,
    PropertyId.SERVER_REFERENCE: _text,
    PropertyId.REASON_STRING: _text,
    PropertyId.RECEIVE_MAXIMUM: st.integers(1, 0xFFFF),
    PropertyId.TOPIC_ALIAS_MAXIMUM: st.integers(0, 0xFFFF),
    PropertyId.TOPIC_ALIAS: st.integers(1, 0xFFFF),
    PropertyId.MAXIMUM_QOS: st.integers(0, 1),
    PropertyId.RETAIN_AVAILABLE: st.integers(0, 1),
    PropertyId.USER_PROPERTY: st.tuples(_text, _text),
    PropertyId.MAXIMUM_PACKET_SIZE: st.integers(1, 0xFFFF_FFFF),
    PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE: st.integers(0, 1),
    PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE: st.integers(0, 1),
    PropertyId.SHARED_SUBSCRIPTION_AVAILABLE: st.integers(0, 1),
}


def _properties(*allowed: PropertyId) -> st.SearchStrategy[Properties]:
    """Properties drawn from ``allowed`` (each at most once), plus any User Properties."""

    @st.composite
    def build(draw: st.DrawFn) -> Properties:
        chosen = (
            draw(st.lists(st.sampled_from(allowed), unique=True, max_size=3)) if allowed else []
        )
        found: list[tuple[PropertyId, PropertyValue]] = [
            (identifier, draw(_PROPERTY_STRATEGIES[identifier])) for identifier in chosen
        ]
        pairs = draw(st.lists(_PROPERTY_STRATEGIES[PropertyId.USER_PROPERTY], max_size=2))
        found.extend((PropertyId.USER_PROPERTY, pair) for pair in pairs)
        return tuple(found)

    return build()


_P = PropertyId
_ACK = (_P.REASON_STRING,)


def _packets(level: int) -> st.SearchStrategy[Packet]:
    v5 = level == V5

    def props(*allowed: PropertyId) -> st.SearchStrategy[Properties]:
        return _properties(*allowed) if v5 else st.just(())

    reason = _reason if v5 else st.just(0)

    @st.composite
    def publish(draw: st.DrawFn) -> Publish:
        qos = draw(st.integers(0, 2))
        return Publish(
            topic=draw(_text),
            payload=draw(st.binary(max_size=40)),
            qos=qos,
            retain=draw(st.booleans()),
            dup=draw(st.booleans()) if qos else False,
            packet_id=draw(_packet_ids) if qos else None,
            properties=draw(
                props(_P.PAYLOAD_FORMAT_INDICATOR, _P.MESSAGE_EXPIRY_INTERVAL, _P.CONTENT_TYPE)
            ),
        )

    requests = st.builds(
        SubscriptionRequest,
        topic_filter=_text,
        qos=st.integers(0, 2),
        no_local=st.booleans() if v5 else st.just(False),
        retain_as_published=st.booleans() if v5 else st.just(False),
        retain_handling=st.sampled_from(RetainHandling)
        if v5
        else st.just(RetainHandling.SEND_AT_SUBSCRIBE),
    )
    strategies: list[st.SearchStrategy[Packet]] = [
        publish(),
        st.builds(
            Connack,
            session_present=st.booleans(),
            reason_code=_reason,
            properties=props(_P.ASSIGNED_CLIENT_IDENTIFIER, _P.MAXIMUM_QOS, _P.RECEIVE_MAXIMUM),
        ),
        st.builds(Puback, packet_id=_packet_ids, reason_code=reason, properties=props(*_ACK)),
        st.builds(Pubrec, packet_id=_packet_ids, reason_code=reason, properties=props(*_ACK)),
        st.builds(Pubrel, packet_id=_packet_ids, reason_code=reason, properties=props(*_ACK)),
        st.builds(Pubcomp, packet_id=_packet_ids, reason_code=reason, properties=props(*_ACK)),
        st.builds(
            Subscribe,
            packet_id=_packet_ids,
            subscriptions=st.lists(requests, min_size=1, max_size=3).map(tuple),
            properties=props(_P.SUBSCRIPTION_IDENTIFIER),
        ),
        st.builds(
            Suback,
            packet_id=_packet_ids,
            reason_codes=st.lists(_reason, min_size=1, max_size=3).map(tuple),
            properties=props(*_ACK),
        ),
        st.builds(
            Unsubscribe,
            packet_id=_packet_ids,
            topic_filters=st.lists(_text, min_size=1, max_size=3).map(tuple),
            properties=props(),
        ),
        st.builds(
            Unsuback,
            packet_id=_packet_ids,
            reason_codes=st.lists(_reason, max_size=3).map(tuple) if v5 else st.just(()),
            properties=props(*_ACK),
        ),
        st.just(Pingreq()),
        st.just(Pingresp()),
        st.builds(
            Disconnect,
            reason_code=reason,
            properties=props(_P.SESSION_EXPIRY_INTERVAL, _P.REASON_STRING),
        ),
    ]
    if v5:
        strategies.append(
            st.builds(Auth, reason_code=_reason, properties=props(_P.AUTHENTICATION_METHOD))
        )
    return st.one_of(strategies)


@st.composite
def _connects(draw: st.DrawFn) -> Connect:
    level = draw(st.sampled_from([V3, V5]))
    v5 = level == V5
    will = draw(
        st.none()
        | st.builds(
            Will,
            topic=_text,
            payload=st.binary(max_size=10),
            qos=st.integers(0, 2),
            retain=st.booleans(),
            properties=_properties(_P.WILL_DELAY_INTERVAL, _P.CONTENT_TYPE) if v5 else st.just(()),
        )
    )
    username = draw(st.none() | _text)
    password = draw(st.none() | st.binary(max_size=6)) if v5 or username is not None else None
    return Connect(
        protocol_level=level,
        client_id=draw(_text),
        clean_start=draw(st.booleans()),
        keep_alive=draw(st.integers(0, 0xFFFF)),
        will=will,
        username=username,
        password=password,
        properties=draw(_properties(_P.SESSION_EXPIRY_INTERVAL, _P.RECEIVE_MAXIMUM)) if v5 else (),
    )


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=300)
@given(
    level=st.sampled_from([V3, V5]),
    data=st.data(),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
)
def test_round_trip_any_chunking(level: int, data: st.DataObject, cuts: list[int]) -> None:
    packets = data.draw(st.lists(_packets(level), min_size=1, max_size=5))
    wire = b"".join(encode(packet, level) for packet in packets)
    decoder = Decoder(protocol_level=level)
    decoded: list[Packet] = []
    for chunk in _chunks(wire, cuts):
        decoded.extend(decoder.feed(chunk))
    assert decoded == packets


@settings(max_examples=200)
@given(connect=_connects())
def test_connect_round_trip(connect: Connect) -> None:
    decoder = Decoder()
    assert decoder.feed(encode(connect, connect.protocol_level)) == [connect]
    assert decoder.protocol_level == connect.protocol_level


@settings(max_examples=500)
@given(level=st.sampled_from([None, V3, V5]), data=st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_codec_error(level: int | None, data: bytes) -> None:
    decoder = Decoder(protocol_level=level, max_packet_size=1024)
    with contextlib.suppress(CodecError):
        decoder.feed(data)


# --- malformed input ------------------------------------------------------------------------

CONNECT_V5 = "100e00044d5154540502003c000001" + "63"

MALFORMED: list[tuple[int | None, str, type[CodecError]]] = [
    (V3, "00" + "00", MalformedPacketError),  # reserved type 0
    (V3, "f000", MalformedPacketError),  # AUTH does not exist in 3.1.1
    (V3, "c100", MalformedPacketError),  # PINGREQ with a reserved flag
    (V3, "8006000100012300", MalformedPacketError),  # SUBSCRIBE with flags 0
    (V3, "360500017400" + "01", MalformedPacketError),  # PUBLISH QoS 3
    (V3, "38030001" + "74", MalformedPacketError),  # DUP on QoS 0
    (V3, "3205000174" + "0000", MalformedPacketError),  # packet identifier 0
    (V3, "300400 02 ff fe".replace(" ", ""), MalformedPacketError),  # ill-formed UTF-8
    (V3, "3004000200" + "61", MalformedPacketError),  # U+0000 in a topic
    (V3, "300400 05 61 62".replace(" ", ""), MalformedPacketError),  # string past the end
    (V3, "30ffffffff01", MalformedPacketError),  # five-byte remaining length
    (V3, "4003000a00", MalformedPacketError),  # 3.1.1 PUBACK with a trailing byte
    (V3, "c00100", MalformedPacketError),  # PINGREQ with a body
    (V3, "8206000100012303", MalformedPacketError),  # SUBSCRIBE QoS 3
    (V3, "8206000100012304", MalformedPacketError),  # 3.1.1 reserved option bit
    (V3, "82020001", ProtocolError),  # SUBSCRIBE without a filter
    (V3, "a2020001", ProtocolError),  # UNSUBSCRIBE without a filter
    (V5, "8207000100000123c1", MalformedPacketError),  # 5.0 reserved option bits
    (V5, "8207000100000123" + "30", MalformedPacketError),  # retain handling 3
    (V5, "3006000174" + "02" + "0102", ProtocolError),  # payload format indicator 2
    (V5, "3006000174" + "02" + "1100", ProtocolError),  # session expiry in PUBLISH
    (V5, "30060001740290" + "00", MalformedPacketError),  # unknown property 0x90
    (V5, "3006000174" + "02" + "0b00", ProtocolError),  # subscription identifier 0
    (V5, "3004000174" + "09", MalformedPacketError),  # property length past the end
    (V5, "e003000511", MalformedPacketError),  # DISCONNECT property block cut short
    (None, "c000", ProtocolError),  # PINGREQ before CONNECT
    (None, "100d00044d5154540403003c000161", MalformedPacketError),  # reserved CONNECT flag
    (None, "100d00044d5154540418003c000161", MalformedPacketError),  # will QoS 3 bits, no will
    (None, "100d00044d5154540442003c000161", MalformedPacketError),  # 3.1.1 password only
    (None, "100f00044d5154540502003c0000016300", MalformedPacketError),  # trailing byte in CONNECT
]


@pytest.mark.parametrize(("level", "wire", "error"), MALFORMED)
def test_malformed(level: int | None, wire: str, error: type[CodecError]) -> None:
    with pytest.raises(error):
        Decoder(protocol_level=level).feed(_hex(wire))


def test_error_reason_codes() -> None:
    assert MalformedPacketError("x").reason_code == ReasonCode.MALFORMED_PACKET
    assert ProtocolError("x").reason_code == ReasonCode.PROTOCOL_ERROR
    assert ProtocolError("x", ReasonCode.TOPIC_ALIAS_INVALID).reason_code == 0x94


def test_packet_too_large_is_refused_before_its_body_arrives() -> None:
    decoder = Decoder(protocol_level=V3, max_packet_size=100)
    with pytest.raises(PacketTooLargeError) as caught:
        decoder.feed(_hex("30ff01"))  # announces 255 bytes, sends none of them
    assert caught.value.reason_code == ReasonCode.PACKET_TOO_LARGE


@pytest.mark.parametrize(
    ("wire", "name", "level", "is_mqtt"),
    [
        ("100f00064d514973647003020000000161", "MQIsdp", 3, True),  # MQTT 3.1
        ("100d00044d5154540602003c000161", "MQTT", 6, True),
        ("100c000448545450040200000000", "HTTP", 4, False),
    ],
)
def test_unsupported_protocol(wire: str, name: str, level: int, is_mqtt: bool) -> None:
    with pytest.raises(UnsupportedProtocolError) as caught:
        Decoder().feed(_hex(wire))
    assert (caught.value.name, caught.value.level, caught.value.is_mqtt) == (name, level, is_mqtt)


def test_encode_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(EncodeError):
        encode(Publish(topic="t", qos=1), V3)  # no packet identifier
    with pytest.raises(EncodeError):
        encode(Publish(topic="t", dup=True), V3)
    with pytest.raises(EncodeError):
        encode(Auth(), V3)
    with pytest.raises(EncodeError):
        encode(Subscribe(packet_id=1, subscriptions=()), V3)
    with pytest.raises(EncodeError):
        encode(Publish(topic="t", properties=((PropertyId.CONTENT_TYPE, 3),)), V5)
