"""Sans-IO MQTT 3.1.1 / 5.0 codec: bytes in, packets out, and packets to bytes.

Theory of operation
-------------------
:class:`Decoder` is fed whatever the socket returned and gives back every complete
packet.  A packet is framed by its fixed header (5.0 §2.1): one byte of type and flags,
then the Remaining Length as a Variable Byte Integer (5.0 §1.5.5).  Frames are cut
first, checked against the size limit before their body is buffered, and then decoded
by type.  How the body is laid out depends on the protocol level, which a server learns
from the first packet, CONNECT (5.0 §3.1.2.2): until then only CONNECT can be decoded.

Any violation of a "MUST" that the receiver can see on the wire raises a
:class:`CodecError` carrying the 5.0 reason code to put in the DISCONNECT (5.0 §4.13):
:class:`MalformedPacketError` (0x81), :class:`ProtocolError` (0x82),
:class:`PacketTooLargeError` (0x95), or :class:`UnsupportedProtocolError` for a CONNECT of a
level this codec does not speak (answered by a CONNACK, 3.1.1 §3.1.2.2 / 5.0 §3.1.2.2).
After an error the connection is closed and the decoder is discarded.

:func:`encode` is the inverse.  Fields that exist only in 5.0 (properties, reason codes
of acknowledgements) are left out when encoding for 3.1.1.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from bgpemu.errors import BgpEmuError, EncodeError
from bgpemu.observe.broker.packets import (
    MAX_PACKET_ID,
    MAX_REMAINING_LENGTH,
    PROTOCOL_NAME,
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    PacketType,
    Pingreq,
    Pingresp,
    Properties,
    PropertyId,
    PropertyValue,
    ProtocolLevel,
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

__all__ = [
    "MAX_PACKET_SIZE",
    "CodecError",
    "Decoder",
    "MalformedPacketError",
    "PacketTooLargeError",
    "ProtocolError",
    "UnsupportedProtocolError",
    "decode_varint",
    "encode",
    "encode_varint",
]

MAX_PACKET_SIZE = 1 + 4 + MAX_REMAINING_LENGTH
"""The largest packet the protocol can frame: type byte, 4-byte length, body."""

_V5 = ProtocolLevel.MQTT_5
_LEGACY_PROTOCOL_NAME = "MQIsdp"  # MQTT 3.1, protocol level 3


class CodecError(BgpEmuError):
    """A packet the receiver must refuse; ``reason_code`` goes in the 5.0 DISCONNECT."""

    reason_code: ReasonCode = ReasonCode.UNSPECIFIED_ERROR

    def __init__(self, message: str, reason_code: ReasonCode | None = None) -> None:
        super().__init__(message)
        if reason_code is not None:
            self.reason_code = reason_code


class MalformedPacketError(CodecError):
    """The bytes do not follow the packet layout (5.0 §4.13: Malformed Packet)."""

    reason_code = ReasonCode.MALFORMED_PACKET


class ProtocolError(CodecError):
    """A well-formed packet that breaks a protocol rule (5.0 §4.13: Protocol Error)."""

    reason_code = ReasonCode.PROTOCOL_ERROR


class PacketTooLargeError(CodecError):
    """A packet over the receiver's Maximum Packet Size (5.0 §3.1.2.11.4)."""

    reason_code = ReasonCode.PACKET_TOO_LARGE


class UnsupportedProtocolError(CodecError):
    """A CONNECT for a protocol name or level this codec does not speak.

    3.1.1 §3.1.2.2 answers an unsupported level with return code 0x01; 5.0 §3.1.2.2 with
    reason code 0x84.  ``name`` tells the server whether the peer speaks MQTT at all.
    """

    reason_code = ReasonCode.UNSUPPORTED_PROTOCOL_VERSION

    def __init__(self, name: str, level: int) -> None:
        self.name = name
        self.level = level
        super().__init__(f"unsupported protocol {name!r} level {level}")

    @property
    def is_mqtt(self) -> bool:
        """True when the protocol name is one of MQTT's own ("MQTT" or 3.1's "MQIsdp")."""
        return self.name in (PROTOCOL_NAME, _LEGACY_PROTOCOL_NAME)


# --- Variable Byte Integer (5.0 §1.5.5) -------------------------------------------------


def encode_varint(value: int) -> bytes:
    """The Variable Byte Integer for ``value`` (0 ≤ value ≤ 268,435,455), 5.0 §1.5.5."""
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise EncodeError(f"variable byte integer out of range: {value}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """Decode a Variable Byte Integer at ``pos``: (value, next position), None if cut short.

    5.0 §1.5.5: at most four bytes; a fifth continuation byte is a Malformed Packet.
    """
    value = 0
    for shift in range(0, 28, 7):
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    raise MalformedPacketError("variable byte integer longer than four bytes")


# --- properties (5.0 §2.2.2) -------------------------------------------------------------

_BYTE, _U16, _U32, _VARINT, _STRING, _BINARY, _PAIR = range(7)

_P = PropertyId
_PROPERTY_TYPES: dict[PropertyId, int] = {
    _P.PAYLOAD_FORMAT_INDICATOR: _BYTE,
    _P.MESSAGE_EXPIRY_INTERVAL: _U32,
    _P.CONTENT_TYPE: _STRING,
    _P.RESPONSE_TOPIC: _STRING,
    _P.CORRELATION_DATA: _BINARY,
    _P.SUBSCRIPTION_IDENTIFIER: _VARINT,
    _P.SESSION_EXPIRY_INTERVAL: _U32,
    _P.ASSIGNED_CLIENT_IDENTIFIER: _STRING,
    _P.SERVER_KEEP_ALIVE: _U16,
    _P.AUTHENTICATION_METHOD: _STRING,
    _P.AUTHENTICATION_DATA: _BINARY,
    _P.REQUEST_PROBLEM_INFORMATION: _BYTE,
    _P.WILL_DELAY_INTERVAL: _U32,
    _P.REQUEST_RESPONSE_INFORMATION: _BYTE,
    _P.RESPONSE_INFORMATION: _STRING,
    _P.SERVER_REFERENCE: _STRING,
    _P.REASON_STRING: _STRING,
    _P.RECEIVE_MAXIMUM: _U16,
    _P.TOPIC_ALIAS_MAXIMUM: _U16,
    _P.TOPIC_ALIAS: _U16,
    _P.MAXIMUM_QOS: _BYTE,
    _P.RETAIN_AVAILABLE: _BYTE,
    _P.USER_PROPERTY: _PAIR,
    _P.MAXIMUM_PACKET_SIZE: _U32,
    _P.WILDCARD_SUBSCRIPTION_AVAILABLE: _BYTE,
    _P.SUBSCRIPTION_IDENTIFIER_AVAILABLE: _BYTE,
    _P.SHARED_SUBSCRIPTION_AVAILABLE: _BYTE,
}

_BOOLEAN_PROPERTIES = frozenset(
    {
        _P.PAYLOAD_FORMAT_INDICATOR,
        _P.REQUEST_PROBLEM_INFORMATION,
        _P.REQUEST_RESPONSE_INFORMATION,
        _P.MAXIMUM_QOS,
        _P.RETAIN_AVAILABLE,
        _P.WILDCARD_SUBSCRIPTION_AVAILABLE,
        _P.SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        _P.SHARED_SUBSCRIPTION_AVAILABLE,
    }
)
"""Byte properties whose only legal values are 0 and 1 (5.0 §3.1.2.11, §3.2.2.3, §3.3.2.3)."""

_NON_ZERO_PROPERTIES = frozenset(
    {_P.SUBSCRIPTION_IDENTIFIER, _P.RECEIVE_MAXIMUM, _P.MAXIMUM_PACKET_SIZE, _P.TOPIC_ALIAS}
)
"""Properties for which 0 is a Protocol Error (5.0 §3.3.4, §3.1.2.11.3, §3.1.2.11.4)."""

_ACK_PROPERTIES = frozenset({_P.REASON_STRING, _P.USER_PROPERTY})
_PUBLISH_PROPERTIES = frozenset(
    {
        _P.PAYLOAD_FORMAT_INDICATOR,
        _P.MESSAGE_EXPIRY_INTERVAL,
        _P.TOPIC_ALIAS,
        _P.RESPONSE_TOPIC,
        _P.CORRELATION_DATA,
        _P.USER_PROPERTY,
        _P.SUBSCRIPTION_IDENTIFIER,
        _P.CONTENT_TYPE,
    }
)
_WILL_PROPERTIES = frozenset(
    {
        _P.WILL_DELAY_INTERVAL,
        _P.PAYLOAD_FORMAT_INDICATOR,
        _P.MESSAGE_EXPIRY_INTERVAL,
        _P.CONTENT_TYPE,
        _P.RESPONSE_TOPIC,
        _P.CORRELATION_DATA,
        _P.USER_PROPERTY,
    }
)
_CONNECT_PROPERTIES = frozenset(
    {
        _P.SESSION_EXPIRY_INTERVAL,
        _P.RECEIVE_MAXIMUM,
        _P.MAXIMUM_PACKET_SIZE,
        _P.TOPIC_ALIAS_MAXIMUM,
        _P.REQUEST_RESPONSE_INFORMATION,
        _P.REQUEST_PROBLEM_INFORMATION,
        _P.USER_PROPERTY,
        _P.AUTHENTICATION_METHOD,
        _P.AUTHENTICATION_DATA,
    }
)
_CONNACK_PROPERTIES = frozenset(
    {
        _P.SESSION_EXPIRY_INTERVAL,
        _P.RECEIVE_MAXIMUM,
        _P.MAXIMUM_QOS,
        _P.RETAIN_AVAILABLE,
        _P.MAXIMUM_PACKET_SIZE,
        _P.ASSIGNED_CLIENT_IDENTIFIER,
        _P.TOPIC_ALIAS_MAXIMUM,
        _P.REASON_STRING,
        _P.USER_PROPERTY,
        _P.WILDCARD_SUBSCRIPTION_AVAILABLE,
        _P.SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        _P.SHARED_SUBSCRIPTION_AVAILABLE,
        _P.SERVER_KEEP_ALIVE,
        _P.RESPONSE_INFORMATION,
        _P.SERVER_REFERENCE,
        _P.AUTHENTICATION_METHOD,
        _P.AUTHENTICATION_DATA,
    }
)
_SUBSCRIBE_PROPERTIES = frozenset({_P.SUBSCRIPTION_IDENTIFIER, _P.USER_PROPERTY})
_UNSUBSCRIBE_PROPERTIES = frozenset({_P.USER_PROPERTY})
_DISCONNECT_PROPERTIES = frozenset(
    {_P.SESSION_EXPIRY_INTERVAL, _P.REASON_STRING, _P.USER_PROPERTY, _P.SERVER_REFERENCE}
)
_AUTH_PROPERTIES = frozenset(
    {_P.AUTHENTICATION_METHOD, _P.AUTHENTICATION_DATA, _P.REASON_STRING, _P.USER_PROPERTY}
)


# --- decoding ----------------------------------------------------------------------------


class _Cursor:
    """Reads the fields of one packet body; running past its end is a Malformed Packet."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)

    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, count: int) -> bytes:
        if count > self.end - self.pos:
            raise MalformedPacketError("field runs past the end of the packet")
        start = self.pos
        self.pos += count
        return self.data[start : self.pos]

    def u8(self) -> int:
        if self.pos >= self.end:
            raise MalformedPacketError("field runs past the end of the packet")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def u16(self) -> int:
        value: int = struct.unpack_from("!H", self.take(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack_from("!I", self.take(4))[0]
        return value

    def varint(self) -> int:
        """A Variable Byte Integer of at most four bytes (5.0 §1.5.5)."""
        value = 0
        for shift in range(0, 28, 7):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise MalformedPacketError("variable byte integer longer than four bytes")

    def binary(self) -> bytes:
        """Binary Data: a 2-byte length then that many bytes (5.0 §1.5.6)."""
        return self.take(self.u16())

    def string(self) -> str:
        """UTF-8 Encoded String (3.1.1 §1.5.3, 5.0 §1.5.4): well-formed, no U+0000."""
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedPacketError(f"ill-formed UTF-8 string: {exc.reason}") from None
        if "\x00" in text:
            raise MalformedPacketError("UTF-8 string contains U+0000")
        return text

    def packet_id(self) -> int:
        """A Packet Identifier, which must be non-zero (3.1.1 §2.3.1, 5.0 §2.2.1)."""
        value = self.u16()
        if value == 0:
            raise MalformedPacketError("packet identifier 0")
        return value

    def properties(self, allowed: frozenset[PropertyId], kind: str) -> Properties:
        """A property block (5.0 §2.2.2): length, then identifier/value pairs.

        A property not allowed in ``kind``, or given twice when it may not repeat, is a
        Protocol Error (5.0 §2.2.2.2).
        """
        length = self.varint()
        if length > self.end - self.pos:
            raise MalformedPacketError("property length runs past the end of the packet")
        stop = self.pos + length
        outer_end, self.end = self.end, stop
        found: list[tuple[PropertyId, PropertyValue]] = []
        seen: set[PropertyId] = set()
        try:
            while self.pos < stop:
                code = self.varint()
                try:
                    identifier = PropertyId(code)
                except ValueError:
                    raise MalformedPacketError(
                        f"unknown property identifier 0x{code:02x}"
                    ) from None
                if identifier not in allowed:
                    raise ProtocolError(f"property {identifier.name} not allowed in {kind}")
                repeatable = identifier is _P.USER_PROPERTY or (
                    identifier is _P.SUBSCRIPTION_IDENTIFIER and kind == "PUBLISH"
                )
                if identifier in seen and not repeatable:
                    raise ProtocolError(f"property {identifier.name} given twice in {kind}")
                seen.add(identifier)
                found.append((identifier, self._property_value(identifier)))
        finally:
            self.end = outer_end
        return tuple(found)

    def _property_value(self, identifier: PropertyId) -> PropertyValue:
        kind = _PROPERTY_TYPES[identifier]
        value: PropertyValue
        if kind == _BYTE:
            value = self.u8()
            if identifier in _BOOLEAN_PROPERTIES and value > 1:
                raise ProtocolError(f"property {identifier.name} must be 0 or 1")
        elif kind == _U16:
            value = self.u16()
        elif kind == _U32:
            value = self.u32()
        elif kind == _VARINT:
            value = self.varint()
        elif kind == _STRING:
            value = self.string()
        elif kind == _BINARY:
            value = self.binary()
        else:
            value = (self.string(), self.string())
        if identifier in _NON_ZERO_PROPERTIES and value == 0:
            raise ProtocolError(f"property {identifier.name} must not be 0")
        return value

    def expect_end(self, kind: str) -> None:
        if self.pos != self.end:
            raise MalformedPacketError(f"{self.end - self.pos} unexpected trailing bytes in {kind}")


_REQUIRED_FLAGS = {
    PacketType.PUBREL: 0x2,
    PacketType.SUBSCRIBE: 0x2,
    PacketType.UNSUBSCRIBE: 0x2,
}
"""Fixed-header flags of every type but PUBLISH are fixed (3.1.1 §2.2.2, 5.0 §2.1.3)."""


class Decoder:
    """Cuts a byte stream into MQTT packets.

    ``protocol_level`` is the level both sides speak; a server leaves it None and the
    decoder takes it from the CONNECT, the only packet allowed before it is known
    (3.1.1 §3.1, 5.0 §3.1).  ``max_packet_size`` bounds the whole packet, fixed header
    included, like 5.0's Maximum Packet Size (5.0 §3.1.2.11.4).
    """

    def __init__(
        self, *, protocol_level: int | None = None, max_packet_size: int = MAX_PACKET_SIZE
    ) -> None:
        self.protocol_level = protocol_level
        self.max_packet_size = max_packet_size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Packet]:
        """Append ``data`` and return the packets it completes, in order.

        Raises :class:`CodecError` on the first packet that must be refused.
        """
        buffer = self._buffer
        buffer += data
        packets: list[Packet] = []
        pos = 0
        try:
            while len(buffer) - pos >= 2:
                header = decode_varint(buffer, pos + 1)
                if header is None:
                    break
                length, body_start = header
                total = body_start - pos + length
                if total > self.max_packet_size:
                    raise PacketTooLargeError(
                        f"packet of {total} bytes over the limit of {self.max_packet_size}"
                    )
                if len(buffer) < body_start + length:
                    break
                first = buffer[pos]
                body = bytes(buffer[body_start : body_start + length])
                pos = body_start + length
                packets.append(self._decode(first >> 4, first & 0x0F, body))
        finally:
            del buffer[:pos]
        return packets

    def _decode(self, type_code: int, flags: int, body: bytes) -> Packet:
        if type_code == 0 or (type_code == PacketType.AUTH and self.protocol_level != _V5):
            raise MalformedPacketError(f"reserved packet type {type_code}")
        kind = PacketType(type_code)
        if kind is not PacketType.PUBLISH and flags != _REQUIRED_FLAGS.get(kind, 0):
            raise MalformedPacketError(f"{kind.name} with reserved flags 0x{flags:x}")
        cursor = _Cursor(body)
        if kind is PacketType.CONNECT:
            connect = _decode_connect(cursor)
            if self.protocol_level is None:
                self.protocol_level = connect.protocol_level
            return connect
        if self.protocol_level is None:
            raise ProtocolError(f"{kind.name} before CONNECT")
        packet = _DECODERS[kind](cursor, flags, self.protocol_level == _V5)
        cursor.expect_end(kind.name)
        return packet


def _decode_connect(cursor: _Cursor) -> Connect:
    """CONNECT, 3.1.1 §3.1 / 5.0 §3.1."""
    name = cursor.string()
    level = cursor.u8()
    if name != PROTOCOL_NAME or level not in (ProtocolLevel.MQTT_3_1_1, ProtocolLevel.MQTT_5):
        raise UnsupportedProtocolError(name, level)
    v5 = level == _V5
    flags = cursor.u8()
    if flags & 0x01:
        raise MalformedPacketError("CONNECT reserved flag set")  # 3.1.1 §3.1.2.3
    has_will = bool(flags & 0x04)
    will_qos = (flags >> 3) & 0x03
    will_retain = bool(flags & 0x20)
    has_password = bool(flags & 0x40)
    has_username = bool(flags & 0x80)
    if will_qos == 3:
        raise MalformedPacketError("CONNECT will QoS 3")  # 3.1.1 §3.1.2.6
    if not has_will and (will_qos or will_retain):
        raise MalformedPacketError("CONNECT will QoS/retain without a will")  # 5.0 §3.1.2.6-7
    if has_password and not has_username and not v5:
        raise MalformedPacketError("CONNECT password without user name")  # 3.1.1 §3.1.2.9
    keep_alive = cursor.u16()
    properties = cursor.properties(_CONNECT_PROPERTIES, "CONNECT") if v5 else ()
    client_id = cursor.string()
    will = None
    if has_will:
        will_properties = cursor.properties(_WILL_PROPERTIES, "will") if v5 else ()
        will = Will(
            topic=cursor.string(),
            payload=cursor.binary(),
            qos=will_qos,
            retain=will_retain,
            properties=will_properties,
        )
    username = cursor.string() if has_username else None
    password = cursor.binary() if has_password else None
    cursor.expect_end("CONNECT")
    return Connect(
        protocol_level=level,
        client_id=client_id,
        clean_start=bool(flags & 0x02),
        keep_alive=keep_alive,
        will=will,
        username=username,
        password=password,
        properties=properties,
    )


def _decode_connack(cursor: _Cursor, flags: int, v5: bool) -> Connack:
    """CONNACK, 3.1.1 §3.2 / 5.0 §3.2."""
    acknowledge = cursor.u8()
    if acknowledge & 0xFE:
        raise MalformedPacketError("CONNACK reserved flags set")
    code = cursor.u8()
    properties = cursor.properties(_CONNACK_PROPERTIES, "CONNACK") if v5 else ()
    return Connack(session_present=bool(acknowledge & 1), reason_code=code, properties=properties)


def _decode_publish(cursor: _Cursor, flags: int, v5: bool) -> Publish:
    """PUBLISH, 3.1.1 §3.3 / 5.0 §3.3: QoS 3 and DUP on QoS 0 are malformed."""
    qos = (flags >> 1) & 0x03
    dup = bool(flags & 0x08)
    if qos == 3:
        raise MalformedPacketError("PUBLISH QoS 3")  # 3.1.1 §3.3.1.2
    if dup and qos == 0:
        raise MalformedPacketError("PUBLISH DUP set on QoS 0")  # 5.0 §3.3.1.1
    topic = cursor.string()
    packet_id = cursor.packet_id() if qos else None
    properties = cursor.properties(_PUBLISH_PROPERTIES, "PUBLISH") if v5 else ()
    payload = cursor.take(cursor.remaining())
    return Publish(
        topic=topic,
        payload=payload,
        qos=qos,
        retain=bool(flags & 0x01),
        dup=dup,
        packet_id=packet_id,
        properties=properties,
    )


def _ack_fields(cursor: _Cursor, v5: bool, kind: str) -> tuple[int, int, Properties]:
    """Packet id, reason code and properties of PUBACK/PUBREC/PUBREL/PUBCOMP (5.0 §3.4.2).

    5.0 §3.4.2.1: a Remaining Length of 2 means reason Success and no properties.
    """
    packet_id = cursor.packet_id()
    if not v5 or not cursor.remaining():
        return packet_id, 0, ()
    code = cursor.u8()
    properties = cursor.properties(_ACK_PROPERTIES, kind) if cursor.remaining() else ()
    return packet_id, code, properties


def _decode_puback(cursor: _Cursor, flags: int, v5: bool) -> Puback:
    packet_id, code, properties = _ack_fields(cursor, v5, "PUBACK")
    return Puback(packet_id=packet_id, reason_code=code, properties=properties)


def _decode_pubrec(cursor: _Cursor, flags: int, v5: bool) -> Pubrec:
    packet_id, code, properties = _ack_fields(cursor, v5, "PUBREC")
    return Pubrec(packet_id=packet_id, reason_code=code, properties=properties)


def _decode_pubrel(cursor: _Cursor, flags: int, v5: bool) -> Pubrel:
    packet_id, code, properties = _ack_fields(cursor, v5, "PUBREL")
    return Pubrel(packet_id=packet_id, reason_code=code, properties=properties)


def _decode_pubcomp(cursor: _Cursor, flags: int, v5: bool) -> Pubcomp:
    packet_id, code, properties = _ack_fields(cursor, v5, "PUBCOMP")
    return Pubcomp(packet_id=packet_id, reason_code=code, properties=properties)


def _decode_subscribe(cursor: _Cursor, flags: int, v5: bool) -> Subscribe:
    """SUBSCRIBE, 3.1.1 §3.8 / 5.0 §3.8: at least one filter; reserved option bits zero."""
    packet_id = cursor.packet_id()
    properties = cursor.properties(_SUBSCRIBE_PROPERTIES, "SUBSCRIBE") if v5 else ()
    requests: list[SubscriptionRequest] = []
    while cursor.remaining():
        topic_filter = cursor.string()
        options = cursor.u8()
        qos = options & 0x03
        if qos == 3 or options & (0xC0 if v5 else 0xFC):
            raise MalformedPacketError(f"SUBSCRIBE options 0x{options:02x}")
        retain_handling = (options >> 4) & 0x03
        if retain_handling == 3:
            raise MalformedPacketError("SUBSCRIBE retain handling 3")  # 5.0 §3.8.3.1
        requests.append(
            SubscriptionRequest(
                topic_filter=topic_filter,
                qos=qos,
                no_local=bool(options & 0x04),
                retain_as_published=bool(options & 0x08),
                retain_handling=RetainHandling(retain_handling),
            )
        )
    if not requests:
        raise ProtocolError("SUBSCRIBE without a topic filter")  # 3.1.1 §3.8.3
    return Subscribe(packet_id=packet_id, subscriptions=tuple(requests), properties=properties)


def _decode_suback(cursor: _Cursor, flags: int, v5: bool) -> Suback:
    packet_id = cursor.packet_id()
    properties = cursor.properties(_ACK_PROPERTIES, "SUBACK") if v5 else ()
    codes = tuple(cursor.take(cursor.remaining()))
    if not codes:
        raise MalformedPacketError("SUBACK without a return code")
    return Suback(packet_id=packet_id, reason_codes=codes, properties=properties)


def _decode_unsubscribe(cursor: _Cursor, flags: int, v5: bool) -> Unsubscribe:
    """UNSUBSCRIBE, 3.1.1 §3.10 / 5.0 §3.10: at least one filter."""
    packet_id = cursor.packet_id()
    properties = cursor.properties(_UNSUBSCRIBE_PROPERTIES, "UNSUBSCRIBE") if v5 else ()
    filters: list[str] = []
    while cursor.remaining():
        filters.append(cursor.string())
    if not filters:
        raise ProtocolError("UNSUBSCRIBE without a topic filter")  # 3.1.1 §3.10.3
    return Unsubscribe(packet_id=packet_id, topic_filters=tuple(filters), properties=properties)


def _decode_unsuback(cursor: _Cursor, flags: int, v5: bool) -> Unsuback:
    packet_id = cursor.packet_id()
    if not v5:
        return Unsuback(packet_id=packet_id)
    properties = cursor.properties(_ACK_PROPERTIES, "UNSUBACK")
    codes = tuple(cursor.take(cursor.remaining()))
    return Unsuback(packet_id=packet_id, reason_codes=codes, properties=properties)


def _decode_pingreq(cursor: _Cursor, flags: int, v5: bool) -> Pingreq:
    return Pingreq()


def _decode_pingresp(cursor: _Cursor, flags: int, v5: bool) -> Pingresp:
    return Pingresp()


def _reason_and_properties(
    cursor: _Cursor, v5: bool, allowed: frozenset[PropertyId], kind: str
) -> tuple[int, Properties]:
    """Reason code and properties of DISCONNECT and AUTH (5.0 §3.14.2.1, §3.15.2.1).

    A Remaining Length of 0 means reason 0x00 and no properties.
    """
    if not v5 or not cursor.remaining():
        return 0, ()
    code = cursor.u8()
    properties = cursor.properties(allowed, kind) if cursor.remaining() else ()
    return code, properties


def _decode_disconnect(cursor: _Cursor, flags: int, v5: bool) -> Disconnect:
    code, properties = _reason_and_properties(cursor, v5, _DISCONNECT_PROPERTIES, "DISCONNECT")
    return Disconnect(reason_code=code, properties=properties)


def _decode_auth(cursor: _Cursor, flags: int, v5: bool) -> Auth:
    code, properties = _reason_and_properties(cursor, v5, _AUTH_PROPERTIES, "AUTH")
    return Auth(reason_code=code, properties=properties)


_DECODERS: dict[PacketType, Callable[[_Cursor, int, bool], Packet]] = {
    PacketType.CONNACK: _decode_connack,
    PacketType.PUBLISH: _decode_publish,
    PacketType.PUBACK: _decode_puback,
    PacketType.PUBREC: _decode_pubrec,
    PacketType.PUBREL: _decode_pubrel,
    PacketType.PUBCOMP: _decode_pubcomp,
    PacketType.SUBSCRIBE: _decode_subscribe,
    PacketType.SUBACK: _decode_suback,
    PacketType.UNSUBSCRIBE: _decode_unsubscribe,
    PacketType.UNSUBACK: _decode_unsuback,
    PacketType.PINGREQ: _decode_pingreq,
    PacketType.PINGRESP: _decode_pingresp,
    PacketType.DISCONNECT: _decode_disconnect,
    PacketType.AUTH: _decode_auth,
}


# --- encoding ----------------------------------------------------------------------------


def _u16(value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise EncodeError(f"two-byte integer out of range: {value}")
    return struct.pack("!H", value)


def _binary(data: bytes) -> bytes:
    return _u16(len(data)) + data


def _string(text: str) -> bytes:
    if "\x00" in text:
        raise EncodeError("UTF-8 string contains U+0000")
    return _binary(text.encode("utf-8"))


def _packet_id(value: int | None) -> bytes:
    if value is None or not 1 <= value <= MAX_PACKET_ID:
        raise EncodeError(f"packet identifier out of range: {value}")
    return _u16(value)


def _property(identifier: PropertyId, value: PropertyValue) -> bytes:
    kind = _PROPERTY_TYPES[identifier]
    head = encode_varint(identifier)
    if kind == _PAIR:
        if not isinstance(value, tuple):
            raise EncodeError(f"{identifier.name} needs a (name, value) pair")
        return head + _string(value[0]) + _string(value[1])
    if kind in (_STRING, _BINARY):
        if kind == _STRING and isinstance(value, str):
            return head + _string(value)
        if kind == _BINARY and isinstance(value, bytes):
            return head + _binary(value)
        raise EncodeError(f"{identifier.name} needs {'a string' if kind == _STRING else 'bytes'}")
    if not isinstance(value, int):
        raise EncodeError(f"{identifier.name} needs an integer")
    if kind == _BYTE:
        if not 0 <= value <= 0xFF:
            raise EncodeError(f"{identifier.name} out of range: {value}")
        return head + bytes((value,))
    if kind == _U16:
        return head + _u16(value)
    if kind == _U32:
        if not 0 <= value <= 0xFFFF_FFFF:
            raise EncodeError(f"{identifier.name} out of range: {value}")
        return head + struct.pack("!I", value)
    return head + encode_varint(value)


def _properties(properties: Properties) -> bytes:
    body = b"".join(_property(identifier, value) for identifier, value in properties)
    return encode_varint(len(body)) + body


def _frame(kind: PacketType, flags: int, body: bytes) -> bytes:
    return bytes(((kind << 4) | flags,)) + encode_varint(len(body)) + body


def _ack(
    kind: PacketType, flags: int, packet_id: int, code: int, props: Properties, v5: bool
) -> bytes:
    """PUBACK/PUBREC/PUBREL/PUBCOMP in their shortest form (5.0 §3.4.2.1)."""
    body = _packet_id(packet_id)
    if v5 and (code or props):
        body += bytes((code,))
        if props:
            body += _properties(props)
    return _frame(kind, flags, body)


def encode(packet: Packet, protocol_level: int) -> bytes:
    """The wire form of ``packet`` for ``protocol_level`` (4 = 3.1.1, 5 = 5.0)."""
    v5 = protocol_level == _V5
    match packet:
        case Publish():
            return _encode_publish(packet, v5)
        case Puback():
            code, props = packet.reason_code, packet.properties
            return _ack(PacketType.PUBACK, 0, packet.packet_id, code, props, v5)
        case Pubrec():
            code, props = packet.reason_code, packet.properties
            return _ack(PacketType.PUBREC, 0, packet.packet_id, code, props, v5)
        case Pubrel():
            code, props = packet.reason_code, packet.properties
            return _ack(PacketType.PUBREL, 2, packet.packet_id, code, props, v5)
        case Pubcomp():
            code, props = packet.reason_code, packet.properties
            return _ack(PacketType.PUBCOMP, 0, packet.packet_id, code, props, v5)
        case Connect():
            return _encode_connect(packet)
        case Connack():
            body = bytes((int(packet.session_present), packet.reason_code))
            if v5:
                body += _properties(packet.properties)
            return _frame(PacketType.CONNACK, 0, body)
        case Subscribe():
            return _encode_subscribe(packet, v5)
        case Suback():
            if not packet.reason_codes:
                raise EncodeError("SUBACK without a return code")
            body = _packet_id(packet.packet_id)
            if v5:
                body += _properties(packet.properties)
            return _frame(PacketType.SUBACK, 0, body + bytes(packet.reason_codes))
        case Unsubscribe():
            if not packet.topic_filters:
                raise EncodeError("UNSUBSCRIBE without a topic filter")
            body = _packet_id(packet.packet_id)
            if v5:
                body += _properties(packet.properties)
            body += b"".join(_string(topic_filter) for topic_filter in packet.topic_filters)
            return _frame(PacketType.UNSUBSCRIBE, 2, body)
        case Unsuback():
            body = _packet_id(packet.packet_id)
            if v5:
                body += _properties(packet.properties) + bytes(packet.reason_codes)
            return _frame(PacketType.UNSUBACK, 0, body)
        case Pingreq():
            return _frame(PacketType.PINGREQ, 0, b"")
        case Pingresp():
            return _frame(PacketType.PINGRESP, 0, b"")
        case Disconnect():
            return _frame(
                PacketType.DISCONNECT, 0, _reason_body(packet.reason_code, packet.properties, v5)
            )
        case Auth():
            if not v5:
                raise EncodeError("AUTH exists only in MQTT 5.0")
            return _frame(
                PacketType.AUTH, 0, _reason_body(packet.reason_code, packet.properties, v5)
            )
    raise EncodeError(f"not an MQTT packet: {packet!r}")  # pragma: no cover - exhaustive


def _reason_body(code: int, properties: Properties, v5: bool) -> bytes:
    """DISCONNECT/AUTH body: empty when the reason is 0x00 with no properties (5.0 §3.14.2.1)."""
    if not v5 or (code == 0 and not properties):
        return b""
    return bytes((code,)) + (_properties(properties) if properties else b"")


def _encode_publish(packet: Publish, v5: bool) -> bytes:
    if not 0 <= packet.qos <= 2:
        raise EncodeError(f"PUBLISH QoS out of range: {packet.qos}")
    if packet.dup and packet.qos == 0:
        raise EncodeError("PUBLISH DUP on QoS 0")
    flags = (packet.dup << 3) | (packet.qos << 1) | int(packet.retain)
    body = _string(packet.topic)
    if packet.qos:
        body += _packet_id(packet.packet_id)
    elif packet.packet_id is not None:
        raise EncodeError("PUBLISH QoS 0 with a packet identifier")
    if v5:
        body += _properties(packet.properties)
    return _frame(PacketType.PUBLISH, flags, body + packet.payload)


def _encode_connect(packet: Connect) -> bytes:
    v5 = packet.protocol_level == _V5
    will = packet.will
    flags = (
        (packet.username is not None) << 7
        | (packet.password is not None) << 6
        | (bool(will and will.retain)) << 5
        | ((will.qos if will else 0) << 3)
        | (will is not None) << 2
        | packet.clean_start << 1
    )
    body = _string(packet.protocol_name) + bytes((packet.protocol_level, flags))
    body += _u16(packet.keep_alive)
    if v5:
        body += _properties(packet.properties)
    body += _string(packet.client_id)
    if will is not None:
        if v5:
            body += _properties(will.properties)
        body += _string(will.topic) + _binary(will.payload)
    if packet.username is not None:
        body += _string(packet.username)
    if packet.password is not None:
        body += _binary(packet.password)
    return _frame(PacketType.CONNECT, 0, body)


def _encode_subscribe(packet: Subscribe, v5: bool) -> bytes:
    if not packet.subscriptions:
        raise EncodeError("SUBSCRIBE without a topic filter")
    body = _packet_id(packet.packet_id)
    if v5:
        body += _properties(packet.properties)
    for request in packet.subscriptions:
        options = request.qos
        if v5:
            options |= (
                request.no_local << 2
                | request.retain_as_published << 3
                | request.retain_handling << 4
            )
        body += _string(request.topic_filter) + bytes((options,))
    return _frame(PacketType.SUBSCRIBE, 2, body)
