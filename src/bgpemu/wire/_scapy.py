"""bgpemu's own scapy layers for BGP-4: the only module that imports scapy.

Why not ``scapy.contrib.bgp`` (``shared/deps.md`` §4): it keeps a process-global
2-/4-octet ASN switch, guesses ADD-PATH from the bytes, builds one Packet per prefix
and per attribute (~35 µs per prefix), shows one capability per optional parameter
and one value per COMMUNITIES.  The layers here are deliberately flat:

* one Packet class per message type, header included (marker, length, type);
* prefix lists are ONE field (:class:`PrefixListField`) holding a tuple of canonical
  strings (plus path ids when the class is the ADD-PATH variant, chosen by the codec
  from the negotiated :class:`~bgpemu.wire.context.CodecContext`, never guessed);
* the path attribute block and the OPEN optional parameters are raw byte fields; the
  codec interprets them (``_attributes``, ``_open``) once per distinct byte string.

ASN width is never read from scapy's configuration: AS_PATH bytes are interpreted by
``_attributes`` with the width the caller's context says.

Building: pass every variable field as ``bytes`` already encoded (the prefix fields
also accept a sequence of strings) and leave ``length`` as None; ``post_build`` fills
it in (RFC 4271 §4.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

from bgpemu.wire._nlri import decode_prefixes, encode_prefixes
from bgpemu.wire.constants import MARKER, MessageType

_runtime_log = logging.getLogger("scapy.runtime")
_saved_level = _runtime_log.level
_runtime_log.setLevel(logging.ERROR)
try:
    from scapy.fields import (
        ByteField,
        Field,
        FieldLenField,
        IPField,
        ShortField,
        StrField,
        StrFixedLenField,
        StrLenField,
    )
    from scapy.packet import Packet
finally:
    _runtime_log.setLevel(_saved_level)

__all__ = [
    "KeepalivePacket",
    "NotificationPacket",
    "OpenPacket",
    "PrefixListField",
    "RouteRefreshPacket",
    "UpdateAddPathPacket",
    "UpdatePacket",
    "stock_bgp_module",
]

NlriValue = tuple[tuple[str, ...], tuple[int, ...] | None]


class PrefixListField(Field):  # type: ignore[misc]
    """A whole packed prefix list (RFC 4271 §4.3) as one field value.

    The internal value is ``(prefixes, path_ids)``; ``path_ids`` is None unless the
    field was declared ``add_path=True`` (RFC 7911 §3).  ``length_from`` gives the
    field size; without it the field takes the rest of the message.  ``i2m`` accepts
    the value, a plain sequence of prefix strings, or already-packed ``bytes``.
    """

    __slots__ = ["add_path", "ipv6", "length_from"]

    def __init__(
        self,
        name: str,
        *,
        ipv6: bool = False,
        add_path: bool = False,
        length_from: Callable[[Any], int] | None = None,
    ) -> None:
        super().__init__(name, b"")
        self.ipv6 = ipv6
        self.add_path = add_path
        self.length_from = length_from

    def getfield(self, pkt: Any, s: bytes) -> tuple[bytes, NlriValue]:
        if self.length_from is None:
            return b"", decode_prefixes(s, self.ipv6, self.add_path)
        size = self.length_from(pkt)
        return s[size:], decode_prefixes(s[:size], self.ipv6, self.add_path)

    def m2i(self, pkt: Any, x: bytes) -> NlriValue:
        return decode_prefixes(x, self.ipv6, self.add_path)

    def i2m(self, pkt: Any, x: Any) -> bytes:
        if x is None:
            return b""
        if isinstance(x, bytes):
            return x
        if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], tuple):
            return encode_prefixes(x[0], x[1] if self.add_path else None)
        return encode_prefixes(list(x))

    def addfield(self, pkt: Any, s: bytes, val: Any) -> bytes:
        return s + self.i2m(pkt, val)

    def i2len(self, pkt: Any, x: Any) -> int:
        return len(self.i2m(pkt, x))

    def i2repr(self, pkt: Any, x: Any) -> str:
        if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], tuple):
            return repr(list(x[0]))
        return repr(x)


def _header(msg_type: MessageType) -> list[Any]:
    """The 19-octet header (RFC 4271 §4.1) as the first three fields of a layer."""
    return [
        StrFixedLenField("marker", MARKER, 16),
        ShortField("length", None),
        ByteField("type", int(msg_type)),
    ]


class _BgpLayer(Packet):  # type: ignore[misc]
    """Common behaviour: fill in the header length (RFC 4271 §4.1) after building."""

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.length is None:
            total = len(pkt) + len(pay)
            pkt = pkt[:16] + total.to_bytes(2, "big") + pkt[18:]
        return pkt + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes | None]:
        return b"", s


class OpenPacket(_BgpLayer):
    """OPEN (RFC 4271 §4.2); the optional parameters stay raw for ``_open``."""

    name = "bgpemu OPEN"
    fields_desc = [
        *_header(MessageType.OPEN),
        ByteField("version", 4),
        ShortField("my_as", 0),
        ShortField("hold_time", 0),
        IPField("bgp_identifier", "0.0.0.0"),
        FieldLenField("opt_param_len", None, length_of="opt_params", fmt="B"),
        StrField("opt_params", b""),
    ]


def _withdrawn_len(pkt: Any) -> int:
    return int(pkt.withdrawn_len)


def _attr_len(pkt: Any) -> int:
    return int(pkt.attr_len)


def _update_fields(add_path: bool) -> list[Any]:
    return [
        *_header(MessageType.UPDATE),
        FieldLenField("withdrawn_len", None, length_of="withdrawn", fmt="!H"),
        PrefixListField("withdrawn", add_path=add_path, length_from=_withdrawn_len),
        FieldLenField("attr_len", None, length_of="path_attributes", fmt="!H"),
        StrLenField("path_attributes", b"", length_from=_attr_len),
        PrefixListField("nlri", add_path=add_path),
    ]


class UpdatePacket(_BgpLayer):
    """UPDATE (RFC 4271 §4.3) with classic IPv4 prefix fields, no path ids."""

    name = "bgpemu UPDATE"
    fields_desc = _update_fields(add_path=False)


class UpdateAddPathPacket(_BgpLayer):
    """UPDATE whose classic IPv4 prefix fields carry RFC 7911 path identifiers."""

    name = "bgpemu UPDATE (ADD-PATH)"
    fields_desc = _update_fields(add_path=True)


class NotificationPacket(_BgpLayer):
    """NOTIFICATION (RFC 4271 §4.5)."""

    name = "bgpemu NOTIFICATION"
    fields_desc = [
        *_header(MessageType.NOTIFICATION),
        ByteField("code", 0),
        ByteField("subcode", 0),
        StrField("data", b""),
    ]


class KeepalivePacket(_BgpLayer):
    """KEEPALIVE (RFC 4271 §4.4): the header only."""

    name = "bgpemu KEEPALIVE"
    fields_desc = _header(MessageType.KEEPALIVE)


class RouteRefreshPacket(_BgpLayer):
    """ROUTE-REFRESH (RFC 2918 §3; the reserved octet is the subtype, RFC 7313 §3)."""

    name = "bgpemu ROUTE-REFRESH"
    fields_desc = [
        *_header(MessageType.ROUTE_REFRESH),
        ShortField("afi", 1),
        ByteField("subtype", 0),
        ByteField("safi", 1),
    ]


def stock_bgp_module() -> ModuleType:
    """``scapy.contrib.bgp``, imported quietly, for tests and benchmarks only.

    bgpemu never uses it to encode or decode; tests use it to show that flipping its
    global ``use_2_bytes_asn`` switch does not change our results.
    """
    saved = _runtime_log.level
    _runtime_log.setLevel(logging.ERROR)
    try:
        import scapy.contrib.bgp as stock
    finally:
        _runtime_log.setLevel(saved)
    return stock  # type: ignore[no-any-return]
