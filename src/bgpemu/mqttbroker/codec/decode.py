"""Decoding: :class:`Decoder` cuts a byte stream into packets and decodes each by type.

The body layout of every type but CONNECT depends on the protocol level, learnt from the
CONNECT (5.0 §3.1.2.2); until then only CONNECT can be decoded (3.1.1 §3.1, 5.0 §3.1).
"""

from __future__ import annotations

from collections.abc import Callable

from bgpemu.mqttbroker.codec.errors import (
    MalformedPacketError,
    PacketTooLargeError,
    ProtocolError,
    UnsupportedProtocolError,
)
from bgpemu.mqttbroker.codec.framing import MAX_PACKET_SIZE, decode_varint
from bgpemu.mqttbroker.codec.properties import (
    ACK_PROPERTIES,
    AUTH_PROPERTIES,
    CONNACK_PROPERTIES,
    CONNECT_PROPERTIES,
    DISCONNECT_PROPERTIES,
    PUBLISH_PROPERTIES,
    SUBSCRIBE_PROPERTIES,
    UNSUBSCRIBE_PROPERTIES,
    WILL_PROPERTIES,
)
from bgpemu.mqttbroker.codec.reader import Cursor
from bgpemu.mqttbroker.packets import (
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
    ProtocolLevel,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    RetainHandling,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Unsuback,
    Unsubscribe,
    Will,
)

__all__ = ["Decoder"]

_V5 = ProtocolLevel.MQTT_5


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

    @property
    def partial(self) -> tuple[int, int | None] | None:
        """``(received, announced)`` bytes of a packet begun but not complete (announced
        None while its Remaining Length is incomplete); None between packets.  Bytes are
        kept as they arrive: an announced size is never allocated up front."""
        if not self._buffer:
            return None
        header = decode_varint(self._buffer, 1) if len(self._buffer) >= 2 else None
        announced = None if header is None else header[1] + header[0]
        return len(self._buffer), announced

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
        cursor = Cursor(body)
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


def _decode_connect(cursor: Cursor) -> Connect:
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
    properties = cursor.properties(CONNECT_PROPERTIES, "CONNECT") if v5 else ()
    client_id = cursor.string()
    will = None
    if has_will:
        will_properties = cursor.properties(WILL_PROPERTIES, "will") if v5 else ()
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


def _decode_connack(cursor: Cursor, flags: int, v5: bool) -> Connack:
    """CONNACK, 3.1.1 §3.2 / 5.0 §3.2."""
    acknowledge = cursor.u8()
    if acknowledge & 0xFE:
        raise MalformedPacketError("CONNACK reserved flags set")
    code = cursor.u8()
    properties = cursor.properties(CONNACK_PROPERTIES, "CONNACK") if v5 else ()
    return Connack(session_present=bool(acknowledge & 1), reason_code=code, properties=properties)


def _decode_publish(cursor: Cursor, flags: int, v5: bool) -> Publish:
    """PUBLISH, 3.1.1 §3.3 / 5.0 §3.3: QoS 3 and DUP on QoS 0 are malformed."""
    qos = (flags >> 1) & 0x03
    dup = bool(flags & 0x08)
    if qos == 3:
        raise MalformedPacketError("PUBLISH QoS 3")  # 3.1.1 §3.3.1.2
    if dup and qos == 0:
        raise MalformedPacketError("PUBLISH DUP set on QoS 0")  # 5.0 §3.3.1.1
    topic = cursor.string()
    packet_id = cursor.packet_id() if qos else None
    properties = cursor.properties(PUBLISH_PROPERTIES, "PUBLISH") if v5 else ()
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


def _ack_fields(cursor: Cursor, v5: bool, kind: str) -> tuple[int, int, Properties]:
    """Packet id, reason code and properties of PUBACK/PUBREC/PUBREL/PUBCOMP (5.0 §3.4.2).

    5.0 §3.4.2.1: a Remaining Length of 2 means reason Success and no properties.
    """
    packet_id = cursor.packet_id()
    if not v5 or not cursor.remaining():
        return packet_id, 0, ()
    code = cursor.u8()
    properties = cursor.properties(ACK_PROPERTIES, kind) if cursor.remaining() else ()
    return packet_id, code, properties


def _acknowledgement(
    kind: type[Puback | Pubrec | Pubrel | Pubcomp],
) -> Callable[[Cursor, int, bool], Packet]:
    """The decoder of PUBACK, PUBREC, PUBREL or PUBCOMP (5.0 §3.4-§3.7)."""
    name = kind.__name__.upper()

    def decode(cursor: Cursor, flags: int, v5: bool) -> Packet:
        packet_id, code, properties = _ack_fields(cursor, v5, name)
        return kind(packet_id=packet_id, reason_code=code, properties=properties)

    return decode


def _decode_subscribe(cursor: Cursor, flags: int, v5: bool) -> Subscribe:
    """SUBSCRIBE, 3.1.1 §3.8 / 5.0 §3.8: at least one filter; reserved option bits zero."""
    packet_id = cursor.packet_id()
    properties = cursor.properties(SUBSCRIBE_PROPERTIES, "SUBSCRIBE") if v5 else ()
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


def _decode_suback(cursor: Cursor, flags: int, v5: bool) -> Suback:
    packet_id = cursor.packet_id()
    properties = cursor.properties(ACK_PROPERTIES, "SUBACK") if v5 else ()
    codes = tuple(cursor.take(cursor.remaining()))
    if not codes:
        raise MalformedPacketError("SUBACK without a return code")
    return Suback(packet_id=packet_id, reason_codes=codes, properties=properties)


def _decode_unsubscribe(cursor: Cursor, flags: int, v5: bool) -> Unsubscribe:
    """UNSUBSCRIBE, 3.1.1 §3.10 / 5.0 §3.10: at least one filter."""
    packet_id = cursor.packet_id()
    properties = cursor.properties(UNSUBSCRIBE_PROPERTIES, "UNSUBSCRIBE") if v5 else ()
    filters: list[str] = []
    while cursor.remaining():
        filters.append(cursor.string())
    if not filters:
        raise ProtocolError("UNSUBSCRIBE without a topic filter")  # 3.1.1 §3.10.3
    return Unsubscribe(packet_id=packet_id, topic_filters=tuple(filters), properties=properties)


def _decode_unsuback(cursor: Cursor, flags: int, v5: bool) -> Unsuback:
    packet_id = cursor.packet_id()
    if not v5:
        return Unsuback(packet_id=packet_id)
    properties = cursor.properties(ACK_PROPERTIES, "UNSUBACK")
    codes = tuple(cursor.take(cursor.remaining()))
    return Unsuback(packet_id=packet_id, reason_codes=codes, properties=properties)


def _decode_pingreq(cursor: Cursor, flags: int, v5: bool) -> Pingreq:
    return Pingreq()


def _decode_pingresp(cursor: Cursor, flags: int, v5: bool) -> Pingresp:
    return Pingresp()


def _reason_and_properties(
    cursor: Cursor, v5: bool, allowed: frozenset[PropertyId], kind: str
) -> tuple[int, Properties]:
    """Reason code and properties of DISCONNECT and AUTH (5.0 §3.14.2.1, §3.15.2.1).

    A Remaining Length of 0 means reason 0x00 and no properties.
    """
    if not v5 or not cursor.remaining():
        return 0, ()
    code = cursor.u8()
    properties = cursor.properties(allowed, kind) if cursor.remaining() else ()
    return code, properties


def _decode_disconnect(cursor: Cursor, flags: int, v5: bool) -> Disconnect:
    code, properties = _reason_and_properties(cursor, v5, DISCONNECT_PROPERTIES, "DISCONNECT")
    return Disconnect(reason_code=code, properties=properties)


def _decode_auth(cursor: Cursor, flags: int, v5: bool) -> Auth:
    code, properties = _reason_and_properties(cursor, v5, AUTH_PROPERTIES, "AUTH")
    return Auth(reason_code=code, properties=properties)


_DECODERS: dict[PacketType, Callable[[Cursor, int, bool], Packet]] = {
    PacketType.CONNACK: _decode_connack,
    PacketType.PUBLISH: _decode_publish,
    PacketType.PUBACK: _acknowledgement(Puback),
    PacketType.PUBREC: _acknowledgement(Pubrec),
    PacketType.PUBREL: _acknowledgement(Pubrel),
    PacketType.PUBCOMP: _acknowledgement(Pubcomp),
    PacketType.SUBSCRIBE: _decode_subscribe,
    PacketType.SUBACK: _decode_suback,
    PacketType.UNSUBSCRIBE: _decode_unsubscribe,
    PacketType.UNSUBACK: _decode_unsuback,
    PacketType.PINGREQ: _decode_pingreq,
    PacketType.PINGRESP: _decode_pingresp,
    PacketType.DISCONNECT: _decode_disconnect,
    PacketType.AUTH: _decode_auth,
}
