"""Byte-level builders for wire tests (independent of the codec under test)."""

from __future__ import annotations

import struct

from bgpemu.wire import AsPathSegment, Origin, PathAttributes, SegmentType

MARKER = b"\xff" * 16

BASE_ATTRS = PathAttributes(
    origin=Origin.IGP,
    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65002)),),
    next_hop="192.0.2.1",
)


def header(body_len: int, msg_type: int) -> bytes:
    """A 19-octet header for a body of ``body_len`` octets (RFC 4271 §4.1)."""
    return MARKER + struct.pack("!HB", 19 + body_len, msg_type)


def message(msg_type: int, body: bytes) -> bytes:
    return header(len(body), msg_type) + body


def attr(flags: int, code: int, value: bytes) -> bytes:
    """One path attribute TLV exactly as given (no flag fixing)."""
    if flags & 0x10:
        return bytes((flags, code)) + struct.pack("!H", len(value)) + value
    return bytes((flags, code, len(value))) + value


def update(withdrawn: bytes = b"", attrs: bytes = b"", nlri: bytes = b"") -> bytes:
    """A whole UPDATE frame from raw fields (RFC 4271 §4.3)."""
    body = struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs))
    return message(2, body + attrs + nlri)


ORIGIN_IGP = attr(0x40, 1, b"\x00")
AS_PATH_2 = attr(0x40, 2, b"\x02\x02" + struct.pack("!II", 65001, 65002))
NEXT_HOP = attr(0x40, 3, bytes((192, 0, 2, 1)))
MANDATORY = ORIGIN_IGP + AS_PATH_2 + NEXT_HOP
NLRI_10_24 = b"\x18\x0a\x00\x00"
