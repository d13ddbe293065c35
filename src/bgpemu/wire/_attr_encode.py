"""Path attribute encoding (RFC 4271 §4.3, §5; RFC 6793 §4.2.2 for 2-octet peers).

Attributes go out in ascending type-code order with the flags RFC 4271 §5 assigns;
the Extended Length bit is set exactly when a value exceeds 255 octets (RFC 4271
§4.3).  Unknown optional transitive attributes are passed on with the Partial bit set
(RFC 4271 §5, §9).  To a peer without the 4-octet AS capability, AS_PATH and
AGGREGATOR carry AS_TRANS for every ASN above 65535 and AS4_PATH / AS4_AGGREGATOR
carry the real values (RFC 6793 §4.2.2).  MP_REACH_NLRI / MP_UNREACH_NLRI are built
by the UPDATE encoder and placed first (RFC 7606 §5.1).
"""

from __future__ import annotations

import socket
import struct

from bgpemu.errors import EncodeError
from bgpemu.types import AS_TRANS
from bgpemu.wire.constants import AttrFlag, AttrType
from bgpemu.wire.messages import AsPathSegment, PathAttributes, SegmentType

__all__ = ["attribute", "encode_as_path", "encode_attributes"]

_WK = int(AttrFlag.TRANSITIVE)
_OT = int(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)
_ON = int(AttrFlag.OPTIONAL)
_EXT = int(AttrFlag.EXTENDED_LENGTH)
_PARTIAL = int(AttrFlag.PARTIAL)
_CONFED = (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET)
_aton = socket.inet_aton


def attribute(flags: int, code: int, value: bytes) -> bytes:
    """One attribute TLV; Extended Length iff the value exceeds 255 octets (RFC 4271 §4.3)."""
    size = len(value)
    if size > 255:
        if size > 0xFFFF:
            raise EncodeError(f"attribute {code} value of {size} octets is too long")
        return bytes((flags | _EXT, code)) + size.to_bytes(2, "big") + value
    return bytes((flags & ~_EXT, code, size)) + value


def _ipv4(text: str) -> bytes:
    if text.count(".") != 3:
        raise EncodeError(f"not an IPv4 address: {text!r}")
    return _aton(text)


def encode_as_path(segments: tuple[AsPathSegment, ...], width: int) -> bytes:
    """AS_PATH / AS4_PATH value; a sequence longer than 255 ASNs is split (RFC 4271 §9.2.2.1).

    With ``width`` 2, ASNs above 65535 become AS_TRANS (RFC 6793 §4.2.2).
    """
    out = bytearray()
    for seg in segments:
        asns = seg.asns
        if not asns:
            raise EncodeError("empty AS path segment")
        if width == 2:
            asns = tuple(asn if asn <= 0xFFFF else AS_TRANS for asn in asns)
        if len(asns) > 255 and seg.type not in (
            SegmentType.AS_SEQUENCE,
            SegmentType.AS_CONFED_SEQUENCE,
        ):
            raise EncodeError("an AS_SET cannot hold more than 255 ASNs")
        fmt = "!%dI" if width == 4 else "!%dH"
        for i in range(0, len(asns), 255):
            chunk = asns[i : i + 255]
            out += bytes((int(seg.type), len(chunk)))
            out += struct.pack(fmt % len(chunk), *chunk)
    return bytes(out)


def encode_attributes(
    attrs: PathAttributes, four_octet_as: bool, with_next_hop: bool = True
) -> bytes:
    """Every attribute of ``attrs`` except MP_REACH/MP_UNREACH, ascending type order.

    ``with_next_hop`` False leaves NEXT_HOP out (IPv6 routes carry their next hop in
    MP_REACH_NLRI, RFC 4760 §3).  Raises EncodeError for values that do not fit.
    """
    try:
        return _encode(attrs, four_octet_as, with_next_hop)
    except (struct.error, OSError, ValueError, OverflowError, TypeError) as exc:
        raise EncodeError(f"cannot encode path attributes: {exc}") from exc


def _encode(attrs: PathAttributes, four_octet_as: bool, with_next_hop: bool) -> bytes:
    parts: list[tuple[int, bytes]] = []
    add = parts.append
    if attrs.origin is not None:
        add((1, attribute(_WK, AttrType.ORIGIN, bytes((int(attrs.origin),)))))
    width = 4 if four_octet_as else 2
    if attrs.as_path or attrs.origin is not None:  # AS_PATH may be empty (iBGP), not absent
        add((2, attribute(_WK, AttrType.AS_PATH, encode_as_path(attrs.as_path, width))))
    if with_next_hop and attrs.next_hop is not None:
        add((3, attribute(_WK, AttrType.NEXT_HOP, _ipv4(attrs.next_hop))))
    if attrs.med is not None:
        add((4, attribute(_ON, AttrType.MULTI_EXIT_DISC, struct.pack("!I", attrs.med))))
    if attrs.local_pref is not None:
        add((5, attribute(_WK, AttrType.LOCAL_PREF, struct.pack("!I", attrs.local_pref))))
    if attrs.atomic_aggregate:
        add((6, attribute(_WK, AttrType.ATOMIC_AGGREGATE, b"")))
    agg = attrs.aggregator
    if agg is not None:
        address = _ipv4(agg.address)
        if four_octet_as:
            add((7, attribute(_OT, AttrType.AGGREGATOR, struct.pack("!I", agg.asn) + address)))
        else:
            small = agg.asn if agg.asn <= 0xFFFF else AS_TRANS
            add((7, attribute(_OT, AttrType.AGGREGATOR, struct.pack("!H", small) + address)))
            if agg.asn > 0xFFFF:
                value = struct.pack("!I", agg.asn) + address
                add((18, attribute(_OT, AttrType.AS4_AGGREGATOR, value)))
    if attrs.communities:
        value = struct.pack(f"!{len(attrs.communities)}I", *attrs.communities)
        add((8, attribute(_OT, AttrType.COMMUNITIES, value)))
    if attrs.originator_id is not None:
        add((9, attribute(_ON, AttrType.ORIGINATOR_ID, _ipv4(attrs.originator_id))))
    if attrs.cluster_list:
        value = b"".join(_ipv4(c) for c in attrs.cluster_list)
        add((10, attribute(_ON, AttrType.CLUSTER_LIST, value)))
    if attrs.extended_communities:
        if any(len(e) != 8 for e in attrs.extended_communities):
            raise EncodeError("extended communities are 8 octets each (RFC 4360 §2)")
        value = b"".join(attrs.extended_communities)
        add((16, attribute(_OT, AttrType.EXTENDED_COMMUNITIES, value)))
    if not four_octet_as and any(asn > 0xFFFF for asn in attrs.as_path_asns()):
        as4 = tuple(seg for seg in attrs.as_path if seg.type not in _CONFED)
        add((17, attribute(_OT, AttrType.AS4_PATH, encode_as_path(as4, 4))))
    if attrs.large_communities:
        value = b"".join(struct.pack("!III", *lc) for lc in attrs.large_communities)
        add((32, attribute(_OT, AttrType.LARGE_COMMUNITY, value)))
    known = {code for code, _ in parts}
    for unk in attrs.unknown:
        if unk.type_code in known or unk.type_code in (14, 15) or not unk.flags & _ON:
            raise EncodeError(f"unknown attribute {unk.type_code} clashes or is not optional")
        known.add(unk.type_code)
        flags = unk.flags | _PARTIAL if unk.flags & _WK else unk.flags
        add((unk.type_code, attribute(flags, unk.type_code, unk.value)))
    parts.sort(key=lambda item: item[0])
    return b"".join(blob for _, blob in parts)
