"""Encoding: :func:`encode` gives the wire form of a packet for a protocol level.

Fields that exist only in 5.0 (properties, reason codes of acknowledgements) are left out
when encoding for 3.1.1; acknowledgements take their shortest form (5.0 §3.4.2.1).
"""

from __future__ import annotations

import struct

from bgpemu.errors import EncodeError
from bgpemu.mqttbroker.codec.framing import encode_varint
from bgpemu.mqttbroker.codec.properties import (
    BINARY,
    BYTE,
    PAIR,
    PROPERTY_TYPES,
    STRING,
    U16,
    U32,
)
from bgpemu.mqttbroker.packets import (
    MAX_PACKET_ID,
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
    Suback,
    Subscribe,
    Unsuback,
    Unsubscribe,
)

__all__ = ["encode"]

_V5 = ProtocolLevel.MQTT_5


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
    kind = PROPERTY_TYPES[identifier]
    head = encode_varint(identifier)
    if kind == PAIR:
        if not isinstance(value, tuple):
            raise EncodeError(f"{identifier.name} needs a (name, value) pair")
        return head + _string(value[0]) + _string(value[1])
    if kind in (STRING, BINARY):
        if kind == STRING and isinstance(value, str):
            return head + _string(value)
        if kind == BINARY and isinstance(value, bytes):
            return head + _binary(value)
        raise EncodeError(f"{identifier.name} needs {'a string' if kind == STRING else 'bytes'}")
    if not isinstance(value, int):
        raise EncodeError(f"{identifier.name} needs an integer")
    if kind == BYTE:
        if not 0 <= value <= 0xFF:
            raise EncodeError(f"{identifier.name} out of range: {value}")
        return head + bytes((value,))
    if kind == U16:
        return head + _u16(value)
    if kind == U32:
        if not 0 <= value <= 0xFFFF_FFFF:
            raise EncodeError(f"{identifier.name} out of range: {value}")
        return head + struct.pack("!I", value)
    return head + encode_varint(value)


def _properties(properties: Properties) -> bytes:
    body = b"".join(_property(identifier, value) for identifier, value in properties)
    return encode_varint(len(body)) + body


def _id_and_properties(packet_id: int, properties: Properties, v5: bool) -> bytes:
    """The variable header of SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK: the packet
    identifier, then in 5.0 the properties (5.0 §3.8.2, §3.9.2, §3.10.2, §3.11.2)."""
    return _packet_id(packet_id) + _properties(properties) if v5 else _packet_id(packet_id)


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


_ACKNOWLEDGEMENTS: dict[type[Packet], tuple[PacketType, int]] = {
    Puback: (PacketType.PUBACK, 0),
    Pubrec: (PacketType.PUBREC, 0),
    Pubrel: (PacketType.PUBREL, 2),
    Pubcomp: (PacketType.PUBCOMP, 0),
}
"""Type and fixed-header flags of each acknowledgement (PUBREL's are 0010, 5.0 §3.6.1)."""


def encode(packet: Packet, protocol_level: int) -> bytes:
    """The wire form of ``packet`` for ``protocol_level`` (4 = 3.1.1, 5 = 5.0)."""
    v5 = protocol_level == _V5
    match packet:
        case Publish():
            return _encode_publish(packet, v5)
        case Puback() | Pubrec() | Pubrel() | Pubcomp():
            kind, flags = _ACKNOWLEDGEMENTS[type(packet)]
            code, props = packet.reason_code, packet.properties
            return _ack(kind, flags, packet.packet_id, code, props, v5)
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
            body = _id_and_properties(packet.packet_id, packet.properties, v5)
            return _frame(PacketType.SUBACK, 0, body + bytes(packet.reason_codes))
        case Unsubscribe():
            if not packet.topic_filters:
                raise EncodeError("UNSUBSCRIBE without a topic filter")
            body = _id_and_properties(packet.packet_id, packet.properties, v5)
            body += b"".join(_string(topic_filter) for topic_filter in packet.topic_filters)
            return _frame(PacketType.UNSUBSCRIBE, 2, body)
        case Unsuback():
            body = _id_and_properties(packet.packet_id, packet.properties, v5)
            if v5:
                body += bytes(packet.reason_codes)  # 3.1.1 §3.11: no payload
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
    body = _id_and_properties(packet.packet_id, packet.properties, v5)
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
