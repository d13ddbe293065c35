"""Reading the fields of one packet body (3.1.1 §1.5, 5.0 §1.5) and its property block
(5.0 §2.2.2); running past the end of the body is a Malformed Packet."""

from __future__ import annotations

import struct

from bgpemu.mqttbroker.codec.errors import MalformedPacketError, ProtocolError
from bgpemu.mqttbroker.codec.properties import (
    BINARY,
    BOOLEAN_PROPERTIES,
    BYTE,
    NON_ZERO_PROPERTIES,
    PROPERTY_TYPES,
    STRING,
    U16,
    U32,
    VARINT,
)
from bgpemu.mqttbroker.packets import Properties, PropertyId, PropertyValue

__all__ = ["Cursor"]


class Cursor:
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
                repeatable = identifier is PropertyId.USER_PROPERTY or (
                    identifier is PropertyId.SUBSCRIPTION_IDENTIFIER and kind == "PUBLISH"
                )
                if identifier in seen and not repeatable:
                    raise ProtocolError(f"property {identifier.name} given twice in {kind}")
                seen.add(identifier)
                found.append((identifier, self._property_value(identifier)))
        finally:
            self.end = outer_end
        return tuple(found)

    def _property_value(self, identifier: PropertyId) -> PropertyValue:
        kind = PROPERTY_TYPES[identifier]
        value: PropertyValue
        if kind == BYTE:
            value = self.u8()
            if identifier in BOOLEAN_PROPERTIES and value > 1:
                raise ProtocolError(f"property {identifier.name} must be 0 or 1")
        elif kind == U16:
            value = self.u16()
        elif kind == U32:
            value = self.u32()
        elif kind == VARINT:
            value = self.varint()
        elif kind == STRING:
            value = self.string()
        elif kind == BINARY:
            value = self.binary()
        else:
            value = (self.string(), self.string())
        if identifier in NON_ZERO_PROPERTIES and value == 0:
            raise ProtocolError(f"property {identifier.name} must not be 0")
        return value

    def expect_end(self, kind: str) -> None:
        if self.pos != self.end:
            raise MalformedPacketError(f"{self.end - self.pos} unexpected trailing bytes in {kind}")
