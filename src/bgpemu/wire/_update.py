"""UPDATE decoding and encoding (RFC 4271 §4.3) around the scapy UPDATE layer.

::

    +-----------------------------------------------------+
    |   Withdrawn Routes Length (2 octets)                |
    |   Withdrawn Routes (variable)                       |
    |   Total Path Attribute Length (2 octets)            |
    |   Path Attributes (variable)                        |
    |   Network Layer Reachability Information (variable) |
    +-----------------------------------------------------+

Decoding: the two length fields are checked against the message (RFC 4271 §6.3,
RFC 7606 §3 b: 3/1), the frame is dissected once by
:class:`~bgpemu.wire._scapy.UpdatePacket` (its prefix fields decode whole lists; syntax
errors → 3/10, RFC 7606 §3 i, §3 j, §5.3), the attribute block is split and its non-MP
part decoded through the caller's cache, and finally RFC 7606 treat-as-withdraw is
applied (``_attributes`` holds the full error table), or the session reset of §5.2
when the message announces nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire._attributes import DecodedAttributes, split_attributes
from bgpemu.wire._mp import decode_mp_reach, decode_mp_unreach, encode_mp_reach, encode_mp_unreach
from bgpemu.wire._nlri import NlriError, encode_sent_prefixes
from bgpemu.wire._scapy import UpdateAddPathPacket, UpdatePacket
from bgpemu.wire.constants import AttrType, ErrorCode, UpdateErrorSubcode
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import (
    MpReach,
    MpUnreach,
    PathAttributes,
    Update,
    UpdateIssue,
    UpdateIssueAction,
)

__all__ = ["build_update", "decode_update", "encode_update"]

_UPDATE = ErrorCode.UPDATE_MESSAGE_ERROR
_TAW = UpdateIssueAction.TREAT_AS_WITHDRAW
_DISCARD = UpdateIssueAction.ATTRIBUTE_DISCARD

AttrDecoder = Callable[[bytes], DecodedAttributes]
AttrEncoder = Callable[[PathAttributes, bool], bytes]


def decode_update(frame: bytes, context: CodecContext, attrs: AttrDecoder) -> Update:
    """Decode one whole UPDATE frame (header included, length already checked)."""
    size = len(frame)
    withdrawn_len = (frame[19] << 8) | frame[20]
    if 23 + withdrawn_len > size:
        raise MessageError(_UPDATE, 1, reason="Withdrawn Routes Length overruns the message")
    attr_len = (frame[21 + withdrawn_len] << 8) | frame[22 + withdrawn_len]
    if 23 + withdrawn_len + attr_len > size:
        raise MessageError(_UPDATE, 1, reason="Total Path Attribute Length overruns the message")
    v4_add_path = IPV4_UNICAST in context.add_path_receive
    layer = UpdateAddPathPacket if v4_add_path else UpdatePacket
    try:
        packet = layer(frame)
    except NlriError as exc:
        raise MessageError(
            _UPDATE, UpdateErrorSubcode.INVALID_NETWORK_FIELD, reason=f"NLRI field: {exc}"
        ) from None
    withdrawn, withdrawn_ids = packet.withdrawn
    nlri, nlri_ids = packet.nlri
    split = split_attributes(packet.path_attributes)
    decoded = attrs(split.key)
    issues = decoded.issues
    withdraw = decoded.withdraw
    mp_reach: MpReach | None = None
    mp_unreach: MpUnreach | None = None
    extra: list[UpdateIssue] = []
    if split.broken is not None:
        extra.append(split.broken)  # RFC 7606 §4
    if split.mp_reach is not None:
        flags, value = split.mp_reach
        mp_reach = decode_mp_reach(flags, value, context.add_path_receive)
        if mp_reach is None:
            extra.append(UpdateIssue(_DISCARD, AttrType.MP_REACH_NLRI, "unsupported family"))
    if split.mp_unreach is not None:
        flags, value = split.mp_unreach
        mp_unreach = decode_mp_unreach(flags, value, context.add_path_receive)
        if mp_unreach is None:
            extra.append(UpdateIssue(_DISCARD, AttrType.MP_UNREACH_NLRI, "unsupported family"))
    # An MP_REACH_NLRI of a family never negotiated announces routes bgpemu ignores.
    announces = bool(nlri) or (
        split.mp_reach is not None and (mp_reach is None or bool(mp_reach.nlri))
    )
    if nlri or (mp_reach is not None and mp_reach.nlri):
        # RFC 7606 §3 d: a missing well-known mandatory attribute → treat-as-withdraw.
        if not decoded.has_origin:
            extra.append(UpdateIssue(_TAW, AttrType.ORIGIN, "missing ORIGIN"))
        if not decoded.has_as_path:
            extra.append(UpdateIssue(_TAW, AttrType.AS_PATH, "missing AS_PATH"))
        if nlri and not decoded.has_next_hop:
            extra.append(UpdateIssue(_TAW, AttrType.NEXT_HOP, "missing NEXT_HOP"))
    if extra:
        issues = issues + tuple(extra)
        withdraw = withdraw or any(i.action == _TAW for i in extra)
    raw = frame if issues else b""
    if withdraw:
        if not announces:
            raise _no_nlri_reset(decoded.reset, issues)
        return _as_withdraw(
            withdrawn, withdrawn_ids, nlri, nlri_ids, mp_reach, mp_unreach, issues, raw
        )
    return Update(
        withdrawn=withdrawn,
        withdrawn_path_ids=withdrawn_ids,
        attributes=decoded.attributes,
        nlri=nlri,
        nlri_path_ids=nlri_ids,
        mp_reach=mp_reach,
        mp_unreach=mp_unreach,
        issues=issues,
        raw=raw,
    )


def _no_nlri_reset(
    first: tuple[int, bytes, str] | None, issues: tuple[UpdateIssue, ...]
) -> MessageError:
    """RFC 7606 §5.2: treat-as-withdraw in an UPDATE that announces nothing → reset.

    The NOTIFICATION is the RFC 4271 §6.3 one of the first malformed attribute; an
    attribute block that breaks off (§4) is a Malformed Attribute List.
    """
    if first is not None:
        subcode, data, reason = first
        return MessageError(_UPDATE, subcode, data, f"{reason} in an UPDATE without NLRI")
    reason = next(i.reason for i in issues if i.action == _TAW)
    return MessageError(
        _UPDATE,
        UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST,
        reason=f"{reason} in an UPDATE without NLRI",
    )


def _join_ids(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if a is None and b is None:
        return None
    return (a or ()) + (b or ())


def _as_withdraw(
    withdrawn: tuple[str, ...],
    withdrawn_ids: tuple[int, ...] | None,
    nlri: tuple[str, ...],
    nlri_ids: tuple[int, ...] | None,
    mp_reach: MpReach | None,
    mp_unreach: MpUnreach | None,
    issues: tuple[UpdateIssue, ...],
    raw: bytes,
) -> Update:
    """RFC 7606 §2 treat-as-withdraw: every NLRI of the message becomes a withdrawal.

    IPv4 unicast withdrawals may always go in the Withdrawn Routes field, so an
    MP_REACH_NLRI and an MP_UNREACH_NLRI of two families (RFC 7606 §5.1: any
    combination must be accepted) still fit the one ``mp_unreach`` of the model.
    """
    withdrawn += nlri
    withdrawn_ids = _join_ids(withdrawn_ids, nlri_ids)
    if mp_reach is not None and mp_reach.nlri:
        reach = MpUnreach(
            family=mp_reach.family, withdrawn=mp_reach.nlri, path_ids=mp_reach.path_ids
        )
        if mp_unreach is None or mp_unreach.family == reach.family:
            mp_unreach = _merge(mp_unreach, reach)
        else:
            v4, other = (reach, mp_unreach) if reach.family == IPV4_UNICAST else (mp_unreach, reach)
            if v4.family != IPV4_UNICAST:  # only if a third family becomes supported
                raise MessageError(_UPDATE, 1, reason="treat-as-withdraw of two MP families")
            withdrawn += v4.withdrawn
            withdrawn_ids = _join_ids(withdrawn_ids, v4.path_ids)
            mp_unreach = other
    return Update(
        withdrawn=withdrawn,
        withdrawn_path_ids=withdrawn_ids,
        nlri=(),
        mp_unreach=mp_unreach,
        issues=issues,
        raw=raw,
    )


def _merge(first: MpUnreach | None, second: MpUnreach) -> MpUnreach:
    if first is None:
        return second
    return MpUnreach(
        family=first.family,
        withdrawn=first.withdrawn + second.withdrawn,
        path_ids=_join_ids(first.path_ids, second.path_ids),
    )


def build_update(withdrawn: bytes, attributes: bytes, nlri: bytes) -> bytes:
    """Build one UPDATE through the scapy layer from already-encoded parts."""
    packet = UpdatePacket(
        withdrawn_len=len(withdrawn),
        withdrawn=withdrawn,
        attr_len=len(attributes),
        path_attributes=attributes,
        nlri=nlri,
    )
    packet.explicit = 1
    return bytes(packet.build())


def encode_update(update: Update, context: CodecContext, attrs: AttrEncoder) -> bytes:
    """Encode an :class:`Update`; raises ValueError/EncodeError for a bad model."""
    send = context.add_path_send
    v4_ap = IPV4_UNICAST in send
    withdrawn = encode_sent_prefixes(
        update.withdrawn, update.withdrawn_path_ids, v4_ap, IPV4_UNICAST
    )
    nlri = encode_sent_prefixes(update.nlri, update.nlri_path_ids, v4_ap, IPV4_UNICAST)
    blob = b""
    if update.mp_reach is not None:
        blob += encode_mp_reach(update.mp_reach, update.mp_reach.family in send)
    if update.mp_unreach is not None:
        blob += encode_mp_unreach(update.mp_unreach, update.mp_unreach.family in send)
    blob += attrs(update.attributes, True)
    return build_update(withdrawn, blob, nlri)
