"""The codec of one session: whole frames in, :mod:`messages` out, and back.

Theory of operation: :class:`Codec` owns the session's :class:`CodecContext` (set by
the session at Established) and two bounded LRU caches keyed by bytes / by attribute
set, so a table of routes sharing a few attribute sets decodes and encodes each set
once.  ``decode`` raises only :class:`MessageError`: specific RFC outcomes come from
the framing check (RFC 4271 §6.1), ``_open`` (§6.2), ``_attributes`` / ``_mp`` /
``_update`` (§6.3 as revised by RFC 7606) and RFC 7313 §5; anything else that escapes
(a bug) is still turned into a MessageError of the message's class rather than
crashing the session.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

from bgpemu.errors import EncodeError, MessageError, MessageTooLongError
from bgpemu.types import IPV4_UNICAST, Afi, Family, Safi
from bgpemu.wire import _packing
from bgpemu.wire._attr_encode import encode_attributes
from bgpemu.wire._attributes import DecodedAttributes, decode_attribute_set
from bgpemu.wire._open import decode_capabilities, encode_capabilities
from bgpemu.wire._scapy import KeepalivePacket, NotificationPacket, OpenPacket, RouteRefreshPacket
from bgpemu.wire._update import decode_update, encode_update
from bgpemu.wire.constants import ErrorCode, MessageType
from bgpemu.wire.context import CodecContext
from bgpemu.wire.framing import check_header, check_route_refresh_length
from bgpemu.wire.messages import (
    Keepalive,
    Message,
    Notification,
    Open,
    PathAttributes,
    RouteRefresh,
    RouteRefreshSubtype,
    Update,
)

__all__ = ["Codec", "UpdateMemo", "encode_message"]

_CACHE_SIZE = 4096
_CACHE_BYTES = 1 << 20
"""Attribute bytes the decode cache may hold: a peer with Extended Message (RFC 8654)
sends blocks of up to 64 KB, and 4,096 of them would be over 250 MB per session."""
_FALLBACK = {
    MessageType.OPEN: (ErrorCode.OPEN_MESSAGE_ERROR, 0),
    MessageType.UPDATE: (ErrorCode.UPDATE_MESSAGE_ERROR, 1),
    MessageType.ROUTE_REFRESH: (ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR, 1),
}


_MEMO_ENTRIES = 4096
_MEMO_BYTES = 16 << 20
"""Frame bytes an :class:`UpdateMemo` may hold: its frames are those in flight in one
fabric, a few hundred at a time; 4,096 extended messages would be 256 MB."""


class UpdateMemo:
    """UPDATE frames decoded once for all the sessions that share this memo.

    Decoding an UPDATE is a function of its frame and the session's
    :class:`CodecContext` alone (the context says how AS numbers and path
    identifiers are read and which attributes an external peer's message loses,
    RFC 7606 §7), and its result is frozen; so sessions that receive the very same
    bytes under the same context can share one decoded :class:`Update`.  The
    in-memory fabric gives one memo to all its sessions: a hub sends the same
    frames to each of its peers (a vWAN hub relays a branch's UPDATE to 50 other
    branches), which then decode each frame once instead of once per peer.  Only
    decodes that succeed are kept (a malformed frame raises for every session), and
    the memo is bounded in entries and in frame bytes, the oldest going first.
    """

    __slots__ = ("_decoded", "_max_bytes", "_max_entries", "size")

    def __init__(self, max_entries: int = _MEMO_ENTRIES, max_bytes: int = _MEMO_BYTES) -> None:
        self._decoded: dict[tuple[CodecContext, bytes], Update] = {}
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self.size = 0
        """Frame bytes held."""

    def __len__(self) -> int:
        return len(self._decoded)

    def get(self, context: CodecContext, frame: bytes) -> Update | None:
        """The Update decoded from ``frame`` under ``context``, if kept."""
        return self._decoded.get((context, frame))

    def put(self, context: CodecContext, frame: bytes, update: Update) -> None:
        """Keep ``update``, decoded from ``frame`` under ``context``."""
        decoded = self._decoded
        self.size += len(frame)
        decoded[(context, frame)] = update
        while len(decoded) > self._max_entries or (self.size > self._max_bytes and decoded):
            oldest = next(iter(decoded))
            self.size -= len(oldest[1])
            del decoded[oldest]


class Codec:
    """Decodes and encodes the messages of one session. Holds its CodecContext and an
    attribute cache."""

    def __init__(self, context: CodecContext | None = None, cache_size: int = _CACHE_SIZE) -> None:
        self._context = context if context is not None else CodecContext()
        self._cache_size = cache_size
        self._decoded: dict[bytes, DecodedAttributes] = {}
        self._decoded_bytes = 0
        self._encoded: dict[tuple[PathAttributes, bool], bytes] = {}
        self.memo: UpdateMemo | None = None
        """UPDATEs decoded by every session that shares it (the fabric's), or None."""

    @property
    def context(self) -> CodecContext:
        """The negotiated state; setting it empties the caches (ASN width may change)."""
        return self._context

    @context.setter
    def context(self, value: CodecContext) -> None:
        self._context = value
        self._decoded.clear()
        self._decoded_bytes = 0
        self._encoded.clear()

    # ------------------------------------------------------------------ decode

    def decode(self, frame: bytes) -> Message:
        """Decode exactly one whole message (header included); raises only MessageError."""
        frame = bytes(frame)
        if len(frame) < 19:
            raise MessageError(1, 2, frame[16:18], "message shorter than a header")
        length, msg_type = check_header(frame[:19], self._context.max_message_size)
        if length != len(frame):
            raise MessageError(1, 2, frame[16:18], "length field does not match the frame")
        try:
            if msg_type == MessageType.UPDATE:
                memo = self.memo
                if memo is None:
                    return decode_update(frame, self._context, self._attributes)
                update = memo.get(self._context, frame)
                if update is None:
                    update = decode_update(frame, self._context, self._attributes)
                    memo.put(self._context, frame, update)
                return update
            if msg_type == MessageType.KEEPALIVE:
                KeepalivePacket(frame)
                return Keepalive()
            if msg_type == MessageType.OPEN:
                return _decode_open(frame)
            if msg_type == MessageType.NOTIFICATION:
                p = NotificationPacket(frame)
                return Notification(code=p.code, subcode=p.subcode, data=bytes(p.data))
            check_route_refresh_length(frame)
            return _decode_route_refresh(frame)
        except MessageError:
            raise
        except Exception as exc:  # a bug: still answer with the message's error class
            code, subcode = _FALLBACK.get(MessageType(msg_type), (1, 2))
            raise MessageError(code, subcode, reason=f"undecodable: {exc!r}") from exc

    def _attributes(self, key: bytes) -> DecodedAttributes:
        """The decoded attribute set ``key``, through an LRU cache bounded in entries and
        in bytes (the least recently used go first)."""
        cache = self._decoded
        hit = cache.pop(key, None)
        if hit is None:
            ctx = self._context
            hit = decode_attribute_set(key, ctx.four_octet_as, ctx.external)
            self._decoded_bytes += len(key)
            while cache and (len(cache) >= self._cache_size or self._decoded_bytes > _CACHE_BYTES):
                oldest = next(iter(cache))
                self._decoded_bytes -= len(oldest)
                del cache[oldest]
        cache[key] = hit
        return hit

    # ------------------------------------------------------------------ encode

    def _encoded_attributes(self, attrs: PathAttributes, with_next_hop: bool) -> bytes:
        key = (attrs, with_next_hop)
        cache = self._encoded
        hit = cache.pop(key, None)
        if hit is None:
            hit = encode_attributes(attrs, self._context.four_octet_as, with_next_hop)
            if len(cache) >= self._cache_size:
                del cache[next(iter(cache))]
        cache[key] = hit
        return hit

    def encode(self, message: Message) -> bytes:
        """Encode one message; raises EncodeError when it cannot go on the wire as given."""
        try:
            data = self._encode(message)
        except EncodeError:
            raise
        except (ValueError, OSError, OverflowError, struct.error, TypeError) as exc:
            raise EncodeError(f"cannot encode {type(message).__name__}: {exc}") from exc
        if len(data) > self._context.max_message_size:
            raise MessageTooLongError(
                f"{type(message).__name__} of {len(data)} octets exceeds "
                f"{self._context.max_message_size}"
            )
        return data

    def _encode(self, message: Message) -> bytes:
        if isinstance(message, Update):
            return encode_update(message, self._context, self._encoded_attributes)
        if isinstance(message, Keepalive):
            packet = KeepalivePacket()
        elif isinstance(message, Notification):
            packet = NotificationPacket(
                code=message.code, subcode=message.subcode, data=message.data
            )
        elif isinstance(message, RouteRefresh):
            packet = RouteRefreshPacket(
                afi=int(message.family.afi),
                safi=int(message.family.safi),
                subtype=int(message.subtype),
            )
        else:
            params = encode_capabilities(message.capabilities)
            packet = OpenPacket(
                version=message.version,
                my_as=message.my_as,
                hold_time=message.hold_time,
                bgp_identifier=_ipv4(message.bgp_identifier),
                opt_param_len=len(params),
                opt_params=params,
            )
        packet.explicit = 1
        return bytes(packet.build())

    def pack_announce(
        self,
        family: Family,
        attributes: PathAttributes,
        prefixes: Sequence[str],
        path_ids: Sequence[int] | None = None,
        link_local_next_hop: str | None = None,
    ) -> list[bytes]:
        """UPDATEs announcing ``prefixes`` with ``attributes``, as many per message as fit.

        IPv4 unicast uses the classic NLRI field and NEXT_HOP; other families use
        MP_REACH_NLRI with ``attributes.next_hop`` (plus an optional link-local next
        hop, RFC 2545 §3) and no NEXT_HOP attribute (RFC 4760 §3).  ``path_ids`` are
        used iff ADD-PATH send is negotiated for ``family`` (RFC 7911 §3).  Raises
        MessageTooLongError when the attributes leave no room for a prefix in a message of
        the session's maximum size (RFC 8654 §4).
        """
        if attributes.next_hop is None:
            raise EncodeError("pack_announce needs attributes.next_hop")
        ctx = self._context
        blobs = _packing.prefix_blobs(prefixes, path_ids, family in ctx.add_path_send)
        classic = family == IPV4_UNICAST and link_local_next_hop is None
        attrs = self._encoded_attributes(attributes, classic)
        return _packing.pack_announce(
            family, attrs, attributes.next_hop, link_local_next_hop, blobs, ctx.max_message_size
        )

    def pack_withdraw(
        self, family: Family, prefixes: Sequence[str], path_ids: Sequence[int] | None = None
    ) -> list[bytes]:
        """UPDATEs withdrawing ``prefixes``, as many per message as fit (RFC 4271 §4.3)."""
        ctx = self._context
        blobs = _packing.prefix_blobs(prefixes, path_ids, family in ctx.add_path_send)
        return _packing.pack_withdraw(family, blobs, ctx.max_message_size)


def encode_message(message: Message, context: CodecContext | None = None) -> bytes:
    """Encode one message with a throw-away :class:`Codec`."""
    return Codec(context).encode(message)


def _ipv4(text: str) -> str:
    if text.count(".") != 3:
        raise EncodeError(f"not an IPv4 address: {text!r}")
    socket.inet_aton(text)
    return text


def _decode_open(frame: bytes) -> Open:
    """OPEN (RFC 4271 §4.2); semantic checks (version, AS, hold time) are the session's."""
    packet = OpenPacket(frame)
    params = bytes(packet.opt_params)
    declared = packet.opt_param_len
    extended = declared == 255 and params[:1] == b"\xff"  # RFC 9072 §2
    if not extended and declared != len(params):
        raise MessageError(2, 0, reason="optional parameters length does not match the OPEN")
    return Open(
        version=packet.version,
        my_as=packet.my_as,
        hold_time=packet.hold_time,
        bgp_identifier=packet.bgp_identifier,
        capabilities=decode_capabilities(params),
    )


def _decode_route_refresh(frame: bytes) -> RouteRefresh:
    """ROUTE-REFRESH (RFC 2918 §3, RFC 7313 §3).

    A family or subtype bgpemu does not know is passed up as the raw integer values:
    RFC 2918 §4 and RFC 7313 §3 tell the receiver to ignore such a message, and the
    session does so because the family was never negotiated / the subtype is not 0-2.
    """
    packet = RouteRefreshPacket(frame)
    afi: Afi | int = packet.afi
    safi: Safi | int = packet.safi
    try:
        family = Family(Afi(afi), Safi(safi))
    except ValueError:
        family = Family(afi, safi)  # type: ignore[arg-type]
    subtype: RouteRefreshSubtype | int
    try:
        subtype = RouteRefreshSubtype(packet.subtype)
    except ValueError:
        subtype = packet.subtype
    return RouteRefresh(family=family, subtype=subtype)  # type: ignore[arg-type]
