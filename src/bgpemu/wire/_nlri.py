"""Packed prefix lists: the NLRI and Withdrawn Routes encoding (RFC 4271 §4.3, RFC 4760 §5).

Each prefix is ``<length octet><ceil(length / 8) octets of address>``, optionally
preceded by a 4-octet Path Identifier when ADD-PATH is negotiated for that family and
direction (RFC 7911 §3).  These helpers work on a whole field at once and never build
a scapy Packet per prefix (``shared/perf.md`` §3.3).  Decoding masks host bits so
that every prefix comes out canonical; syntax errors raise :class:`NlriError`, which
the caller maps to the RFC outcome of the field it was decoding.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Sequence

from bgpemu.errors import BgpEmuError
from bgpemu.types import Family

__all__ = [
    "NlriError",
    "decode_prefixes",
    "encode_prefix",
    "encode_prefixes",
    "encode_sent_prefixes",
    "v6_text",
]

_INET6 = socket.AF_INET6
_ntop = socket.inet_ntop
_ntoa = socket.inet_ntoa
_aton = socket.inet_aton
_pton = socket.inet_pton
_PATH_ID = struct.Struct("!I")
_MASK = (0x00, 0x80, 0xC0, 0xE0, 0xF0, 0xF8, 0xFC, 0xFE)
_ZEROS = bytes(16)
_V4_WHOLE = {str(n): (bytes((n,)), n >> 3) for n in (0, 8, 16, 24, 32)}
"""IPv4 prefix lengths that end on an octet boundary: length octet, address octets."""
_LEN24 = b"\x18"
_DOT = tuple(f"{i}." for i in range(256))
"""``"<octet>."`` for every octet value: a /24's text is three lookups, no int formatting."""


class NlriError(BgpEmuError, ValueError):
    """A prefix list that does not parse (bad length octet or truncated prefix)."""


def v6_text(packed: bytes) -> str:
    """Canonical (RFC 5952 / ``ipaddress`` compressed) text of a 16-octet address."""
    text = _ntop(_INET6, packed)
    if "." in text:  # inet_ntop writes embedded IPv4 in dotted form; canonical is hex
        return ipaddress.IPv6Address(packed).compressed
    return text


def decode_prefixes(
    data: bytes, ipv6: bool, add_path: bool
) -> tuple[tuple[str, ...], tuple[int, ...] | None]:
    """Decode a whole prefix field into canonical strings (and path ids if ``add_path``).

    Path ids are None when ``add_path`` is off or the field is empty.

    Raises :class:`NlriError` when a length octet exceeds 32 / 128 or a prefix runs
    past the end of ``data`` (RFC 4271 §6.3 "syntactically incorrect", RFC 7606 §5.3).
    """
    out: list[str] = []
    ids: list[int] | None = [] if add_path else None
    append = out.append
    end = len(data)
    pos = 0
    if not ipv6 and not add_path:
        # IPv4 without path ids, the bulk of a table: /24s take the short way.  A
        # field of nothing but /24s (every 4th octet is 24) is converted in one go;
        # otherwise the first other prefix hands over to the general loop below.
        dot = _DOT
        if end & 3 == 0 and data[::4] == _LEN24 * (end >> 2):
            octets = zip(data[1::4], data[2::4], data[3::4], strict=True)
            return tuple([f"{dot[a]}{dot[b]}{dot[c]}0/24" for a, b, c in octets]), None
        while pos < end and data[pos] == 24:
            if pos + 4 > end:
                raise NlriError("truncated prefix")
            append(f"{dot[data[pos + 1]]}{dot[data[pos + 2]]}{dot[data[pos + 3]]}0/24")
            pos += 4
    max_len = 128 if ipv6 else 32
    width = 16 if ipv6 else 4
    while pos < end:
        if ids is not None:
            if pos + 4 > end:
                raise NlriError("truncated path identifier")
            ids.append(_PATH_ID.unpack_from(data, pos)[0])
            pos += 4
            if pos >= end:
                raise NlriError("path identifier without prefix")
        plen = data[pos]
        if plen > max_len:
            raise NlriError(f"prefix length {plen} > {max_len}")
        nbytes = (plen + 7) >> 3
        start = pos + 1
        pos = start + nbytes
        if pos > end:
            raise NlriError("truncated prefix")
        if not ipv6 and plen == 24:
            append(f"{_DOT[data[start]]}{_DOT[data[start + 1]]}{_DOT[data[start + 2]]}0/24")
            continue
        raw = data[start:pos]
        rem = plen & 7
        if rem and raw[-1] & ~_MASK[rem] & 0xFF:
            raw = raw[:-1] + bytes((raw[-1] & _MASK[rem],))
        raw += _ZEROS[: width - nbytes]
        append(f"{v6_text(raw) if ipv6 else _ntoa(raw)}/{plen}")
    return tuple(out), (tuple(ids) if ids else None)


def encode_prefix(prefix: str, path_id: int | None = None) -> bytes:
    """One prefix (and optional RFC 7911 path id) in wire form; host bits are cleared.

    Raises ValueError for a string that is not an IPv4 or IPv6 prefix.
    """
    addr, sep, length = prefix.partition("/")
    if not sep:
        raise ValueError(f"not a prefix: {prefix!r}")
    octets = _V4_WHOLE.get(length)
    if octets is not None and path_id is None and addr.count(".") == 3 and ":" not in addr:
        # An IPv4 prefix whose length is a whole number of octets: no host bits to
        # mask within the last octet (the common case, e.g. a /24).
        length_octet, nbytes = octets
        return length_octet + _aton(addr)[:nbytes]
    plen = int(length)
    if ":" in addr:
        packed = _pton(_INET6, addr)
        if not 0 <= plen <= 128:
            raise ValueError(f"bad IPv6 prefix length in {prefix!r}")
    else:
        if addr.count(".") != 3:
            raise ValueError(f"not an IPv4 prefix: {prefix!r}")
        packed = _aton(addr)
        if not 0 <= plen <= 32:
            raise ValueError(f"bad IPv4 prefix length in {prefix!r}")
    nbytes = (plen + 7) >> 3
    body = packed[:nbytes]
    rem = plen & 7
    if rem:
        body = body[:-1] + bytes((body[-1] & _MASK[rem],))
    wire = bytes((plen,)) + body
    if path_id is not None:
        return _PATH_ID.pack(path_id) + wire
    return wire


def encode_prefixes(prefixes: Sequence[str], path_ids: Sequence[int] | None = None) -> bytes:
    """A whole prefix field; ``path_ids`` (one per prefix) when ADD-PATH applies."""
    if path_ids is None:
        return b"".join([encode_prefix(p) for p in prefixes])
    if len(path_ids) != len(prefixes):
        raise ValueError("path_ids and prefixes differ in length")
    return b"".join([encode_prefix(p, i) for p, i in zip(prefixes, path_ids, strict=True)])


def encode_sent_prefixes(
    prefixes: Sequence[str], path_ids: Sequence[int] | None, add_path: bool, family: Family
) -> bytes:
    """A prefix field of a sent UPDATE: with ``path_ids`` when ADD-PATH is negotiated to
    send ``family`` (``add_path``, RFC 7911 §3), without them otherwise; ValueError when
    they are needed and missing."""
    if not add_path or not prefixes:
        return encode_prefixes(prefixes)
    if path_ids is None:
        raise ValueError(f"ADD-PATH is negotiated for {family}: path ids are required")
    return encode_prefixes(prefixes, path_ids)
