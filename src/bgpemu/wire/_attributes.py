"""Path attribute decoding and the RFC 7606 classification of every malformation.

The attribute block of an UPDATE is walked twice.  :func:`split_attributes` runs on
every message: it checks the TLV structure, lifts MP_REACH_NLRI / MP_UNREACH_NLRI out
(they carry per-message NLRI) and returns the bytes of the remaining attributes.
:func:`decode_attribute_set` turns those bytes into a :class:`DecodedAttributes`; it
is pure, so the codec caches its result per distinct byte string.

Error table (the action for each case; "reset" raises :class:`MessageError`)::

    case                                             action             where
    -----------------------------------------------  -----------------  -----------------------
    attribute header truncated (fewer than 3 octets, treat-as-withdraw  RFC 7606 §4: the NLRI
      4 with Extended Length) / value overruns the   (the attributes    is located from the
      Total Path Attribute Length                    before it kept)    Total Path Attr. Length
      ... when it is MP_REACH / MP_UNREACH           reset 3/9          RFC 7606 §3 j
    any attribute of length zero but AS_PATH and     as the attribute's RFC 7606 §4
      ATOMIC_AGGREGATE                               row below
    MP_REACH_NLRI or MP_UNREACH_NLRI repeated        reset 3/1          RFC 7606 §3 g
    any other attribute repeated                     discard all but    RFC 7606 §3 g
                                                     the first
    unrecognized well-known attribute (O bit clear)  reset 3/2, data =  RFC 4271 §6.3
                                                     the attribute
    unrecognized optional transitive                 kept, Partial set  RFC 4271 §5, §9
                                                     when re-sent
    unrecognized optional non-transitive             dropped quietly    RFC 4271 §5
    Optional/Transitive bits wrong, recognized attr  treat-as-withdraw  RFC 7606 §3 c
      (AS4_PATH / AS4_AGGREGATOR: attribute discard;                     (RFC 6793 §6;
      MP_REACH / MP_UNREACH: reset 3/9)                                  RFC 7606 §5.3)
    well-known mandatory missing while NLRI present  treat-as-withdraw  RFC 7606 §3 d
      (ORIGIN, AS_PATH; NEXT_HOP for classic NLRI)                       (RFC 4760 §3 for MP)
    ORIGIN length != 1 or value > 2                  treat-as-withdraw  RFC 7606 §7.1
    AS_PATH bad segment type, zero count, overrun,   treat-as-withdraw  RFC 7606 §7.2
      underrun (length not a whole segment list)
    NEXT_HOP length != 4                             treat-as-withdraw  RFC 7606 §7.3
    MULTI_EXIT_DISC length != 4                      treat-as-withdraw  RFC 7606 §7.4
    LOCAL_PREF from an external peer                 attribute discard  RFC 7606 §7.5
    LOCAL_PREF length != 4 (internal peer)           treat-as-withdraw  RFC 7606 §7.5
    ATOMIC_AGGREGATE length != 0                     attribute discard  RFC 7606 §7.6
    AGGREGATOR length != 6 (2-octet) / 8 (4-octet)   attribute discard  RFC 7606 §7.7
    COMMUNITIES length 0 or not a multiple of 4      treat-as-withdraw  RFC 7606 §7.8
    ORIGINATOR_ID / CLUSTER_LIST from external peer  attribute discard  RFC 7606 §7.9, §7.10
    ORIGINATOR_ID length != 4 (internal peer)        treat-as-withdraw  RFC 7606 §7.9
    CLUSTER_LIST length 0 or not a multiple of 4     treat-as-withdraw  RFC 7606 §7.10
    EXTENDED_COMMUNITIES length 0 or not mult. of 8  treat-as-withdraw  RFC 7606 §7.14
    AS4_PATH malformed (as AS_PATH, 4-octet ASNs;    attribute discard  RFC 6793 §6
      length < 6 or odd)
    AS4_PATH AS_CONFED_* segments (2-octet peer)     segments dropped,  RFC 6793 §6
                                                     recorded as discard
    AS4_AGGREGATOR length != 8                       attribute discard  RFC 6793 §6
    LARGE_COMMUNITY length 0 or not a mult. of 12    treat-as-withdraw  RFC 8092 §6
    AS4_PATH / AS4_AGGREGATOR from a 4-octet peer    attribute discard  RFC 6793 §6
    MP_REACH / MP_UNREACH too short, next-hop length reset 3/9, data =  RFC 7606 §7.11, §7.12,
      wrong for the family, NLRI syntax error        the attribute      §5.3; subcode from
                                                                         RFC 4760 §7
    MP_REACH / MP_UNREACH of an unsupported family   attribute discard  (never negotiated)
    classic NLRI / Withdrawn Routes syntax error     reset 3/10         RFC 4271 §6.3, RFC 7606
                                                                         §5.3
    Withdrawn Routes Length or Total Path Attribute  reset 3/1          RFC 4271 §6.3,
      Length larger than the message allows                              RFC 7606 §3 b

Several errors in one UPDATE: the strongest action wins (reset > treat-as-withdraw >
attribute discard), RFC 7606 §3 h.  An UPDATE that announces nothing (no NLRI, no
MP_REACH_NLRI prefix) but carries a treat-as-withdraw error is a session reset with
the RFC 4271 §6.3 subcode of its first such error (RFC 7606 §5.2), which
:attr:`DecodedAttributes.reset` keeps.  Attributes bgpemu does not recognize (Traffic Engineering
24, IPv6 Address Specific Extended Community 25, ATTR_SET 128, ...) are unrecognized
optional attributes for RFC 4271 §5, so RFC 7606 §7.13, §7.15 and §7.16 never apply.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from bgpemu.errors import MessageError
from bgpemu.text import counted
from bgpemu.types import AS_TRANS
from bgpemu.wire.constants import AttrFlag, AttrType, ErrorCode, UpdateErrorSubcode
from bgpemu.wire.messages import (
    Aggregator,
    AsPathSegment,
    Origin,
    PathAttributes,
    SegmentType,
    UnknownAttribute,
    UpdateIssue,
    UpdateIssueAction,
)

__all__ = [
    "DecodedAttributes",
    "SplitAttributes",
    "decode_attribute_set",
    "merge_as4_path",
    "split_attributes",
]

_UPDATE = ErrorCode.UPDATE_MESSAGE_ERROR
_TAW = UpdateIssueAction.TREAT_AS_WITHDRAW
_DISCARD = UpdateIssueAction.ATTRIBUTE_DISCARD
_OPT = int(AttrFlag.OPTIONAL)
_TRANS = int(AttrFlag.TRANSITIVE)
_EXT = int(AttrFlag.EXTENDED_LENGTH)
_OT_MASK = _OPT | _TRANS
_WELL_KNOWN = _TRANS
_OPT_TRANS = _OPT | _TRANS
_OPT_NON_TRANS = _OPT
_MP_REACH = int(AttrType.MP_REACH_NLRI)
_MP_UNREACH = int(AttrType.MP_UNREACH_NLRI)
_CONFED = (SegmentType.AS_CONFED_SEQUENCE, SegmentType.AS_CONFED_SET)
_U32 = struct.Struct("!I")
_ntoa = socket.inet_ntoa

# type code -> (expected Optional/Transitive bits, action when those bits are wrong)
_FLAG_RULES: dict[int, tuple[int, UpdateIssueAction]] = {
    AttrType.ORIGIN: (_WELL_KNOWN, _TAW),
    AttrType.AS_PATH: (_WELL_KNOWN, _TAW),
    AttrType.NEXT_HOP: (_WELL_KNOWN, _TAW),
    AttrType.MULTI_EXIT_DISC: (_OPT_NON_TRANS, _TAW),
    AttrType.LOCAL_PREF: (_WELL_KNOWN, _TAW),
    AttrType.ATOMIC_AGGREGATE: (_WELL_KNOWN, _TAW),
    AttrType.AGGREGATOR: (_OPT_TRANS, _TAW),
    AttrType.COMMUNITIES: (_OPT_TRANS, _TAW),
    AttrType.ORIGINATOR_ID: (_OPT_NON_TRANS, _TAW),
    AttrType.CLUSTER_LIST: (_OPT_NON_TRANS, _TAW),
    AttrType.MP_REACH_NLRI: (_OPT_NON_TRANS, _TAW),
    AttrType.MP_UNREACH_NLRI: (_OPT_NON_TRANS, _TAW),
    AttrType.EXTENDED_COMMUNITIES: (_OPT_TRANS, _TAW),
    AttrType.AS4_PATH: (_OPT_TRANS, _DISCARD),
    AttrType.AS4_AGGREGATOR: (_OPT_TRANS, _DISCARD),
    AttrType.LARGE_COMMUNITY: (_OPT_TRANS, _TAW),
}


_LENGTH = int(UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR)
_FLAGS = int(UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR)
_AS_PATH = int(UpdateErrorSubcode.MALFORMED_AS_PATH)
_BAD_ORIGIN = int(UpdateErrorSubcode.INVALID_ORIGIN_ATTRIBUTE)
_NO_DATA = (int(UpdateErrorSubcode.MALFORMED_AS_PATH),)
"""RFC 4271 §6.3 subcodes whose NOTIFICATION carries no attribute as data."""


class _MalformedError(Exception):
    """One attribute failed its RFC 7606 §7 check; ``subcode`` is its RFC 4271 §6.3 one."""

    def __init__(self, action: UpdateIssueAction, reason: str, subcode: int = _LENGTH) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason
        self.subcode = subcode


def _tlv(flags: int, code: int, value: bytes) -> bytes:
    """An attribute re-serialised as received, for NOTIFICATION data (RFC 4271 §6.3)."""
    if flags & _EXT:
        return bytes((flags, code)) + len(value).to_bytes(2, "big") + value
    return bytes((flags, code, len(value))) + value


@dataclass(frozen=True, slots=True)
class SplitAttributes:
    """The attribute block split into the cacheable part and the MP attributes."""

    key: bytes
    """The bytes of every attribute except MP_REACH_NLRI / MP_UNREACH_NLRI."""
    mp_reach: tuple[int, bytes] | None
    """(flags, value) of MP_REACH_NLRI."""
    mp_unreach: tuple[int, bytes] | None
    """(flags, value) of MP_UNREACH_NLRI."""
    broken: UpdateIssue | None = None
    """The RFC 7606 §4 treat-as-withdraw of an attribute header truncated or a value
    overrunning the block; ``key`` and the MP attributes then hold what came before."""


def split_attributes(block: bytes) -> SplitAttributes:
    """Check the TLV structure of the attribute block and lift out the MP attributes.

    A truncated attribute header or a value overrunning the block ends the walk with
    ``broken`` set (RFC 7606 §4: treat-as-withdraw, the NLRI being located from the
    Total Path Attribute Length).  Raises MessageError 3/1 when MP_REACH_NLRI or
    MP_UNREACH_NLRI appears twice (RFC 7606 §3 g), and 3/9 with what is left of the
    attribute when the cut one is MP_REACH_NLRI / MP_UNREACH_NLRI (§3 j: its NLRI
    cannot be parsed, the stronger error §4 defers to).
    """
    pos = 0
    end = len(block)
    pieces: list[bytes] | None = None
    mp_reach: tuple[int, bytes] | None = None
    mp_unreach: tuple[int, bytes] | None = None
    broken: UpdateIssue | None = None
    while pos < end:
        flags = block[pos]
        code = block[pos + 1] if pos + 1 < end else 0
        start = pos + (4 if flags & _EXT else 3)
        if start > end:
            left = end - pos
            text = f"{counted(left, 'octet')} left for an attribute header"
            broken = UpdateIssue(_TAW, code, text)
            break
        length = (block[pos + 2] << 8) | block[pos + 3] if flags & _EXT else block[pos + 2]
        stop = start + length
        if stop > end:
            over = stop - end
            reason = f"attribute {code} overruns the Total Path Attribute Length by {over}"
            broken = UpdateIssue(_TAW, code, reason)
            break
        if code in (_MP_REACH, _MP_UNREACH):
            if pieces is None:
                pieces = [block[:pos]]
            entry = (flags, block[start:stop])
            if code == _MP_REACH:
                if mp_reach is not None:
                    raise MessageError(_UPDATE, 1, reason="MP_REACH_NLRI repeated")
                mp_reach = entry
            else:
                if mp_unreach is not None:
                    raise MessageError(_UPDATE, 1, reason="MP_UNREACH_NLRI repeated")
                mp_unreach = entry
        elif pieces is not None:
            pieces.append(block[pos:stop])
        pos = stop
    if broken is not None and code in (_MP_REACH, _MP_UNREACH):
        # §4 yields to §3 j: the NLRI of a cut MP attribute cannot be parsed.
        raise MessageError(
            _UPDATE, UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, block[pos:], broken.reason
        )
    key = b"".join(pieces) if pieces is not None else block[:pos] if broken else block
    return SplitAttributes(key=key, mp_reach=mp_reach, mp_unreach=mp_unreach, broken=broken)


@dataclass(frozen=True, slots=True)
class DecodedAttributes:
    """The interpretation of one attribute byte string (cached per Codec)."""

    attributes: PathAttributes
    issues: tuple[UpdateIssue, ...]
    withdraw: bool
    """True when any issue is TREAT_AS_WITHDRAW (RFC 7606 §2)."""
    reset: tuple[int, bytes, str] | None
    """RFC 4271 §6.3 (subcode, data, reason) of the first treat-as-withdraw issue: the
    session reset RFC 7606 §5.2 asks for when the UPDATE announces nothing."""
    has_origin: bool
    """ORIGIN is present, well-formed or not (RFC 7606 §3 d is about missing ones)."""
    has_as_path: bool
    has_next_hop: bool


def _parse_as_path(value: bytes, width: int, action: UpdateIssueAction) -> list[AsPathSegment]:
    """AS_PATH / AS4_PATH segments (RFC 4271 §4.3 b; malformations RFC 7606 §7.2)."""
    segments: list[AsPathSegment] = []
    pos = 0
    end = len(value)
    fmt = "!%dI" if width == 4 else "!%dH"
    while pos < end:
        if pos + 2 > end:
            raise _MalformedError(action, "AS path segment header underrun", _AS_PATH)
        seg_type = value[pos]
        count = value[pos + 1]
        if seg_type < 1 or seg_type > 4:
            raise _MalformedError(action, f"unknown AS path segment type {seg_type}", _AS_PATH)
        if count == 0:
            raise _MalformedError(action, "AS path segment of length zero", _AS_PATH)
        stop = pos + 2 + count * width
        if stop > end:
            raise _MalformedError(action, "AS path segment overruns the attribute", _AS_PATH)
        asns = struct.unpack_from(fmt % count, value, pos + 2)
        segments.append(AsPathSegment(SegmentType(seg_type), asns))
        pos = stop
    return segments


def _parse_as4_path(value: bytes, issues: list[UpdateIssue]) -> list[AsPathSegment]:
    """AS4_PATH from a 2-octet-AS peer (RFC 6793 §6): a malformed one is discarded, and
    AS_CONFED_SEQUENCE / AS_CONFED_SET segments are dropped (recorded for the log)."""
    if len(value) < 6 or len(value) % 2:
        raise _MalformedError(_DISCARD, f"AS4_PATH length {len(value)} is odd or below 6")
    segments = _parse_as_path(value, 4, _DISCARD)
    kept = [seg for seg in segments if seg.type not in _CONFED]
    if len(kept) != len(segments):
        reason = "AS_CONFED segments of AS4_PATH discarded"
        issues.append(UpdateIssue(_DISCARD, AttrType.AS4_PATH, reason))
    return kept


def _path_count(segments: list[AsPathSegment] | tuple[AsPathSegment, ...]) -> int:
    """Path length as RFC 6793 §4.2.3 counts it: AS_SET is 1, confederation segments 0."""
    total = 0
    for seg in segments:
        if seg.type == SegmentType.AS_SEQUENCE:
            total += len(seg.asns)
        elif seg.type == SegmentType.AS_SET:
            total += 1
    return total


def merge_as4_path(
    as_path: list[AsPathSegment], as4_path: list[AsPathSegment]
) -> list[AsPathSegment]:
    """Rebuild the 4-octet path from AS_PATH + AS4_PATH (RFC 6793 §4.2.3)."""
    as4 = [seg for seg in as4_path if seg.type not in _CONFED]
    need = _path_count(as_path) - _path_count(as4)
    if need < 0:
        return as_path  # "the AS4_PATH attribute ... MUST be ignored"
    out: list[AsPathSegment] = []
    for seg in as_path:
        if seg.type in _CONFED:
            out.append(seg)
            continue
        if need == 0:
            break
        if seg.type == SegmentType.AS_SET:
            out.append(seg)
            need -= 1
            continue
        take = seg.asns[:need]
        out.append(AsPathSegment(SegmentType.AS_SEQUENCE, take))
        need -= len(take)
    if (
        out
        and as4
        and out[-1].type == SegmentType.AS_SEQUENCE
        and as4[0].type == SegmentType.AS_SEQUENCE
        and len(out[-1].asns) + len(as4[0].asns) <= 255
    ):
        joined = AsPathSegment(SegmentType.AS_SEQUENCE, out[-1].asns + as4[0].asns)
        return [*out[:-1], joined, *as4[1:]]
    return out + as4


def _quads(value: bytes, size: int, what: str) -> tuple[int, ...]:
    """A non-zero multiple of ``size`` octets as 4-octet integers (RFC 7606 §7.8 etc.)."""
    if not value or len(value) % size:
        raise _MalformedError(
            _TAW, f"{what} length {len(value)} is not a positive multiple of {size}"
        )
    return struct.unpack(f"!{len(value) // 4}I", value)


def _exactly(value: bytes, size: int, what: str, action: UpdateIssueAction) -> None:
    if len(value) != size:
        raise _MalformedError(action, f"{what} length {len(value)} != {size}")


_EXTERNAL_DISCARD = frozenset(
    (int(AttrType.LOCAL_PREF), int(AttrType.ORIGINATOR_ID), int(AttrType.CLUSTER_LIST))
)
"""Discarded when received from an external peer (RFC 7606 §7.5, §7.9, §7.10)."""
_AS4 = frozenset((int(AttrType.AS4_PATH), int(AttrType.AS4_AGGREGATOR)))


def decode_attribute_set(key: bytes, four_octet_as: bool, external: bool) -> DecodedAttributes:
    """Interpret the non-MP attributes ``key`` (already structurally checked).

    Raises MessageError 3/2 for an unrecognized well-known attribute (RFC 4271 §6.3);
    every other problem becomes an :class:`UpdateIssue` per the module table.
    """
    fields: dict[str, object] = {}
    issues: list[UpdateIssue] = []
    reset: tuple[int, bytes, str] | None = None
    unknown: list[UnknownAttribute] = []
    seen: set[int] = set()
    as4_path: list[AsPathSegment] | None = None
    as4_aggregator: Aggregator | None = None
    pos = 0
    end = len(key)
    while pos < end:
        flags = key[pos]
        code = key[pos + 1]
        if flags & _EXT:
            length = (key[pos + 2] << 8) | key[pos + 3]
            pos += 4
        else:
            length = key[pos + 2]
            pos += 3
        value = key[pos : pos + length]
        pos += length
        if code in seen:
            issues.append(UpdateIssue(_DISCARD, code, "repeated attribute discarded"))
            continue
        seen.add(code)
        rule = _FLAG_RULES.get(code)
        if rule is None:
            if not flags & _OPT:
                raise MessageError(
                    _UPDATE,
                    UpdateErrorSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
                    _tlv(flags, code, value),
                    f"unrecognized well-known attribute {code}",
                )
            if flags & _TRANS:
                unknown.append(UnknownAttribute(flags & ~_EXT & 0xF0, code, value))
            continue
        if external and code in _EXTERNAL_DISCARD:
            issues.append(UpdateIssue(_DISCARD, code, "received from an external peer"))
            continue
        if four_octet_as and code in _AS4:
            issues.append(UpdateIssue(_DISCARD, code, "received from a 4-octet-AS peer"))
            continue
        try:
            if flags & _OT_MASK != rule[0]:
                raise _MalformedError(
                    rule[1], f"attribute flags 0x{flags:02x} wrong for type {code}", _FLAGS
                )
            if code == AttrType.AS4_PATH:
                as4_path = _parse_as4_path(value, issues)
            elif code == AttrType.AS4_AGGREGATOR:
                _exactly(value, 8, "AS4_AGGREGATOR", _DISCARD)
                as4_aggregator = Aggregator(_U32.unpack_from(value)[0], _ntoa(value[4:]))
            else:
                _decode_known(code, value, four_octet_as, fields)
        except _MalformedError as bad:
            issues.append(UpdateIssue(bad.action, code, bad.reason))
            if reset is None and bad.action == _TAW:
                data = b"" if bad.subcode in _NO_DATA else _tlv(flags, code, value)
                reset = (bad.subcode, data, bad.reason)
    if not four_octet_as:
        _apply_as4(fields, as4_path, as4_aggregator)
    if unknown:
        fields["unknown"] = tuple(unknown)
    attributes = PathAttributes(**fields)  # type: ignore[arg-type]
    return DecodedAttributes(
        attributes=attributes,
        issues=tuple(issues),
        withdraw=any(issue.action == _TAW for issue in issues),
        reset=reset,
        has_origin=AttrType.ORIGIN in seen,
        has_as_path=AttrType.AS_PATH in seen,
        has_next_hop=AttrType.NEXT_HOP in seen,
    )


def _apply_as4(
    fields: dict[str, object],
    as4_path: list[AsPathSegment] | None,
    as4_aggregator: Aggregator | None,
) -> None:
    """RFC 6793 §4.2.3: rebuild the real ASNs sent by a 4-octet-aware speaker."""
    aggregator = fields.get("aggregator")
    if as4_aggregator is not None and isinstance(aggregator, Aggregator):
        if aggregator.asn != AS_TRANS:
            return  # AS4_AGGREGATOR and AS4_PATH SHALL be ignored
        fields["aggregator"] = as4_aggregator
    current = fields.get("as_path")
    if as4_path is not None and isinstance(current, tuple):
        fields["as_path"] = tuple(merge_as4_path(list(current), as4_path))


def _decode_known(code: int, value: bytes, four_octet_as: bool, fields: dict[str, object]) -> None:
    """Decode one recognized attribute into ``fields`` (RFC 7606 §7 checks)."""
    if code == AttrType.ORIGIN:
        _exactly(value, 1, "ORIGIN", _TAW)
        if value[0] > 2:
            raise _MalformedError(_TAW, f"undefined ORIGIN value {value[0]}", _BAD_ORIGIN)
        fields["origin"] = Origin(value[0])
    elif code == AttrType.AS_PATH:
        fields["as_path"] = tuple(_parse_as_path(value, 4 if four_octet_as else 2, _TAW))
    elif code == AttrType.NEXT_HOP:
        _exactly(value, 4, "NEXT_HOP", _TAW)
        fields["next_hop"] = _ntoa(value)
    elif code == AttrType.MULTI_EXIT_DISC:
        _exactly(value, 4, "MULTI_EXIT_DISC", _TAW)
        fields["med"] = _U32.unpack(value)[0]
    elif code == AttrType.LOCAL_PREF:
        _exactly(value, 4, "LOCAL_PREF", _TAW)
        fields["local_pref"] = _U32.unpack(value)[0]
    elif code == AttrType.ATOMIC_AGGREGATE:
        _exactly(value, 0, "ATOMIC_AGGREGATE", _DISCARD)
        fields["atomic_aggregate"] = True
    elif code == AttrType.AGGREGATOR:
        if four_octet_as:
            _exactly(value, 8, "AGGREGATOR", _DISCARD)
            fields["aggregator"] = Aggregator(_U32.unpack_from(value)[0], _ntoa(value[4:]))
        else:
            _exactly(value, 6, "AGGREGATOR", _DISCARD)
            fields["aggregator"] = Aggregator((value[0] << 8) | value[1], _ntoa(value[2:]))
    elif code == AttrType.COMMUNITIES:
        fields["communities"] = _quads(value, 4, "COMMUNITIES")
    elif code == AttrType.ORIGINATOR_ID:
        _exactly(value, 4, "ORIGINATOR_ID", _TAW)
        fields["originator_id"] = _ntoa(value)
    elif code == AttrType.CLUSTER_LIST:
        _quads(value, 4, "CLUSTER_LIST")
        fields["cluster_list"] = tuple(_ntoa(value[i : i + 4]) for i in range(0, len(value), 4))
    elif code == AttrType.EXTENDED_COMMUNITIES:
        _quads(value, 8, "EXTENDED_COMMUNITIES")
        fields["extended_communities"] = tuple(value[i : i + 8] for i in range(0, len(value), 8))
    elif code == AttrType.LARGE_COMMUNITY:
        nums = _quads(value, 12, "LARGE_COMMUNITY")
        fields["large_communities"] = tuple(
            (nums[i], nums[i + 1], nums[i + 2]) for i in range(0, len(nums), 3)
        )
    else:  # MP_REACH / MP_UNREACH never reach here (split_attributes lifts them out)
        raise _MalformedError(_DISCARD, f"unexpected attribute {code}")
