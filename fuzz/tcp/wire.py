"""A minimal BGP-4 encoder and decoder written with :mod:`struct`, independent of bgpemu.

The fuzz harness must not judge bgpemu with bgpemu's own codec, so it builds and reads
messages here from the RFC formats alone: the header (RFC 4271 §4.1), OPEN and its
Capabilities parameter (RFC 4271 §4.2, RFC 5492 §4), UPDATE (RFC 4271 §4.3) with
MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3-§4) and ADD-PATH path identifiers
(RFC 7911 §3), NOTIFICATION (§4.5), KEEPALIVE (§4.4) and ROUTE-REFRESH (RFC 2918 §3,
RFC 7313 §3).  Nothing here validates: the decoder is only used on what the speaker
under test sends, and :mod:`fuzz.tcp.oracle` has its own validating parser.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MARKER = b"\xff" * 16
HEADER = 19
MAX_LEN = 4096
MAX_EXT_LEN = 65535

OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5

AFI_IPV4, AFI_IPV6, SAFI_UNICAST = 1, 2, 1

# Attribute flags (RFC 4271 §4.3).
OPTIONAL, TRANSITIVE, PARTIAL, EXTENDED = 0x80, 0x40, 0x20, 0x10

# Attribute type codes.
ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR = 1, 2, 3, 4, 5, 6, 7
COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, MP_REACH, MP_UNREACH = 8, 9, 10, 14, 15
EXT_COMMUNITIES, AS4_PATH, AS4_AGGREGATOR, LARGE_COMMUNITIES = 16, 17, 18, 32

AS_SET, AS_SEQUENCE, AS_CONFED_SEQUENCE, AS_CONFED_SET = 1, 2, 3, 4
AS_TRANS = 23456

# Capability codes (IANA registry).
CAP_MP, CAP_RR, CAP_EXT_MSG, CAP_AS4, CAP_ADD_PATH, CAP_ERR = 1, 2, 6, 65, 69, 70

Prefix = tuple[int, int, bytes]
"""(afi, length, the significant octets): one NLRI prefix, as on the wire."""


def frame(kind: int, body: bytes, *, length: int | None = None, marker: bytes = MARKER) -> bytes:
    """A message: marker, length (the real one unless overridden), type, body."""
    total = HEADER + len(body) if length is None else length
    return marker + struct.pack("!HB", total, kind) + body


def keepalive() -> bytes:
    return frame(KEEPALIVE, b"")


def notification(code: int, subcode: int, data: bytes = b"") -> bytes:
    return frame(NOTIFICATION, bytes((code, subcode)) + data)


def route_refresh(afi: int, safi: int, subtype: int = 0) -> bytes:
    return frame(ROUTE_REFRESH, struct.pack("!HBB", afi, subtype, safi))


def capability(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


def cap_mp(afi: int, safi: int) -> bytes:
    return capability(CAP_MP, struct.pack("!HBB", afi, 0, safi))


def cap_as4(asn: int) -> bytes:
    return capability(CAP_AS4, struct.pack("!I", asn))


def cap_add_path(entries: Iterable[tuple[int, int, int]]) -> bytes:
    return capability(CAP_ADD_PATH, b"".join(struct.pack("!HBB", *e) for e in entries))


def open_body(my_as: int, hold: int, bgp_id: bytes, params: bytes, *, version: int = 4) -> bytes:
    """The OPEN body; ``params`` are the encoded Optional Parameters (RFC 4271 §4.2)."""
    return struct.pack("!BHH4sB", version, my_as, hold, bgp_id, len(params)) + params


def cap_param(caps: Iterable[bytes]) -> bytes:
    """One Capabilities optional parameter (type 2) holding ``caps`` (RFC 5492 §4)."""
    value = b"".join(caps)
    return bytes((2, len(value))) + value


def attribute(flags: int, code: int, value: bytes) -> bytes:
    """One path attribute; the Extended Length bit picks the 1- or 2-octet length."""
    if len(value) > 255:
        flags |= EXTENDED
    if flags & EXTENDED:
        return struct.pack("!BBH", flags, code, len(value)) + value
    return struct.pack("!BBB", flags, code, len(value)) + value


def prefix_bytes(prefix: Prefix, path_id: int | None = None) -> bytes:
    _, length, octets = prefix
    head = b"" if path_id is None else struct.pack("!I", path_id)
    return head + bytes((length,)) + octets


def make_prefix(text: str) -> Prefix:
    net = ipaddress.ip_network(text)
    afi = AFI_IPV4 if net.version == 4 else AFI_IPV6
    return (afi, net.prefixlen, net.network_address.packed[: (net.prefixlen + 7) // 8])


def masked(octets: bytes, length: int) -> bytes:
    """The prefix octets with the trailing bits cleared (RFC 4271 §4.3: they are
    irrelevant, so two encodings that differ only there are one prefix)."""
    if length % 8 == 0 or not octets:
        return bytes(octets)
    return bytes(octets[:-1]) + bytes((octets[-1] & (0xFF << (8 - length % 8)) & 0xFF,))


def prefix_text(prefix: Prefix) -> str:
    afi, length, octets = prefix
    size = 4 if afi == AFI_IPV4 else 16
    address = ipaddress.ip_address(octets.ljust(size, b"\0"))
    return f"{address}/{length}"


def update_body(withdrawn: bytes, attrs: bytes, nlri: bytes) -> bytes:
    return (
        struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri
    )


def mp_reach(afi: int, safi: int, next_hop: bytes, nlri: bytes) -> bytes:
    return struct.pack("!HBB", afi, safi, len(next_hop)) + next_hop + b"\0" + nlri


def mp_unreach(afi: int, safi: int, nlri: bytes) -> bytes:
    return struct.pack("!HB", afi, safi) + nlri


@dataclass
class Received:
    """One UPDATE as sent by the speaker under test, reduced to what the oracle checks."""

    announced: dict[Prefix, dict[int, tuple[int, bytes]]] = field(default_factory=dict)
    withdrawn: list[Prefix] = field(default_factory=list)


class Framer:
    """Cut a TCP byte stream into whole messages (RFC 4271 §4.1 length field)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """Yield (type, body) for every complete message; raise ValueError on a bad header."""
        self._buffer += data
        while len(self._buffer) >= HEADER:
            if self._buffer[:16] != MARKER:
                raise ValueError("bad marker from the speaker under test")
            (length,) = struct.unpack_from("!H", self._buffer, 16)
            if length < HEADER:
                raise ValueError(f"bad length {length} from the speaker under test")
            if len(self._buffer) < length:
                return
            kind = self._buffer[18]
            body = bytes(self._buffer[HEADER:length])
            del self._buffer[:length]
            yield kind, body


def _prefixes(afi: int, data: bytes, add_path: bool) -> list[Prefix]:
    out: list[Prefix] = []
    i = 0
    while i < len(data):
        if add_path:
            i += 4
        length = data[i]
        size = (length + 7) // 8
        out.append((afi, length, masked(data[i + 1 : i + 1 + size], length)))
        i += 1 + size
    return out


def decode_update(body: bytes, add_path: bool = False) -> Received:
    """Read an UPDATE from the speaker under test (trusted to be well formed)."""
    received = Received()
    (wlen,) = struct.unpack_from("!H", body, 0)
    received.withdrawn.extend(_prefixes(AFI_IPV4, body[2 : 2 + wlen], add_path))
    (alen,) = struct.unpack_from("!H", body, 2 + wlen)
    attrs_data = body[4 + wlen : 4 + wlen + alen]
    nlri = _prefixes(AFI_IPV4, body[4 + wlen + alen :], add_path)
    attrs: dict[int, tuple[int, bytes]] = {}
    i = 0
    while i < len(attrs_data):
        flags, code = attrs_data[i], attrs_data[i + 1]
        if flags & EXTENDED:
            (length,) = struct.unpack_from("!H", attrs_data, i + 2)
            i += 4
        else:
            length = attrs_data[i + 2]
            i += 3
        value = bytes(attrs_data[i : i + length])
        i += length
        if code == MP_REACH:
            afi, _safi, nh_len = struct.unpack_from("!HBB", value, 0)
            nlri.extend(_prefixes(afi, value[5 + nh_len :], add_path))
        elif code == MP_UNREACH:
            (afi,) = struct.unpack_from("!H", value, 0)
            received.withdrawn.extend(_prefixes(afi, value[3:], add_path))
        else:
            attrs[code] = (flags, value)
    for prefix in nlri:
        received.announced[prefix] = attrs
    return received


def decode_notification(body: bytes) -> tuple[int, int]:
    return (body[0], body[1]) if len(body) >= 2 else (-1, -1)
