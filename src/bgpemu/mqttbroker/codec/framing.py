"""Framing: the fixed header's Remaining Length, a Variable Byte Integer (5.0 §1.5.5, §2.1)."""

from __future__ import annotations

from bgpemu.errors import EncodeError
from bgpemu.mqttbroker.codec.errors import MalformedPacketError
from bgpemu.mqttbroker.packets import MAX_REMAINING_LENGTH

__all__ = ["MAX_PACKET_SIZE", "decode_varint", "encode_varint"]

MAX_PACKET_SIZE = 1 + 4 + MAX_REMAINING_LENGTH
"""The largest packet the protocol can frame: type byte, 4-byte length, body."""


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
