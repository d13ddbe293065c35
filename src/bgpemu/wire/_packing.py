"""Packing many prefixes that share one attribute set into as few UPDATEs as fit.

RFC 4271 §4.3 lets one UPDATE carry any number of prefixes with the same path
attributes, up to the maximum message size (4096 octets, or 65535 with RFC 8654
Extended Message).  Prefixes are encoded once, then cut greedily into chunks whose
encoded size fits the room left after the header, the length fields and the
attributes.  IPv6 (and any MP family) goes into MP_REACH_NLRI / MP_UNREACH_NLRI,
whose header and attribute header count against the room (RFC 4760 §3, §4).
"""

from __future__ import annotations

from collections.abc import Sequence

from bgpemu.errors import EncodeError, MessageTooLongError
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire._attr_encode import attribute
from bgpemu.wire._mp import mp_reach_header
from bgpemu.wire._nlri import encode_prefix
from bgpemu.wire._update import build_update
from bgpemu.wire.constants import AttrFlag, AttrType

__all__ = ["chunk", "pack_announce", "pack_withdraw", "prefix_blobs"]

_FIXED = 19 + 2 + 2  # header + Withdrawn Routes Length + Total Path Attribute Length
_MP_FLAGS = int(AttrFlag.OPTIONAL)


def prefix_blobs(
    prefixes: Sequence[str], path_ids: Sequence[int] | None, add_path: bool
) -> list[bytes]:
    """Each prefix in wire form (with its path id when ADD-PATH applies, RFC 7911 §3)."""
    try:
        if not add_path:
            return [encode_prefix(p) for p in prefixes]
        if path_ids is None:
            raise EncodeError("ADD-PATH is negotiated for this family: path_ids are required")
        if len(path_ids) != len(prefixes):
            raise EncodeError("path_ids and prefixes differ in length")
        return [encode_prefix(p, i) for p, i in zip(prefixes, path_ids, strict=True)]
    except (ValueError, OSError, OverflowError) as exc:
        raise EncodeError(f"cannot encode prefix: {exc}") from exc


def chunk(blobs: list[bytes], room: int) -> list[bytes]:
    """Concatenate ``blobs`` greedily into pieces of at most ``room`` octets.

    MessageTooLongError when the attributes leave no room for a prefix (RFC 8654 §4).
    """
    if room <= 0:
        raise MessageTooLongError("the attributes leave no room for prefixes")
    out: list[bytes] = []
    current: list[bytes] = []
    used = 0
    for blob in blobs:
        size = len(blob)
        if used + size > room:
            if not current:
                raise MessageTooLongError("a prefix does not fit in one message")
            out.append(b"".join(current))
            current = []
            used = 0
        current.append(blob)
        used += size
    if current:
        out.append(b"".join(current))
    return out


def pack_announce(
    family: Family,
    attributes: bytes,
    next_hop: str,
    link_local: str | None,
    blobs: list[bytes],
    max_size: int,
) -> list[bytes]:
    """UPDATEs announcing ``blobs`` with the encoded ``attributes`` (next hop per family)."""
    if not blobs:
        return []
    if family == IPV4_UNICAST and link_local is None:
        room = max_size - _FIXED - len(attributes)
        return [build_update(b"", attributes, nlri) for nlri in chunk(blobs, room)]
    try:
        header = mp_reach_header(family, next_hop, link_local)
    except (ValueError, OSError) as exc:
        raise EncodeError(f"bad next hop for {family}: {exc}") from exc
    room = max_size - _FIXED - len(attributes) - len(header) - 4
    out = []
    for nlri in chunk(blobs, room):
        value = header + nlri
        mp = attribute(_MP_FLAGS, AttrType.MP_REACH_NLRI, value)
        out.append(build_update(b"", mp + attributes, b""))
    return out


def pack_withdraw(family: Family, blobs: list[bytes], max_size: int) -> list[bytes]:
    """UPDATEs withdrawing ``blobs`` (Withdrawn Routes for IPv4, else MP_UNREACH_NLRI)."""
    if not blobs:
        return []
    if family == IPV4_UNICAST:
        return [build_update(w, b"", b"") for w in chunk(blobs, max_size - _FIXED)]
    header = int(family.afi).to_bytes(2, "big") + bytes((int(family.safi),))
    out = []
    for withdrawn in chunk(blobs, max_size - _FIXED - 4 - len(header)):
        mp = attribute(_MP_FLAGS, AttrType.MP_UNREACH_NLRI, header + withdrawn)
        out.append(build_update(b"", mp, b""))
    return out
