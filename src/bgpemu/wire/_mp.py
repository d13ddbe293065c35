"""MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4) for IPv4 and IPv6 unicast.

::

    MP_REACH_NLRI value                     MP_UNREACH_NLRI value
    +---------------------------+           +---------------------------+
    | AFI (2) | SAFI (1)        |           | AFI (2) | SAFI (1)        |
    | Next hop length (1)       |           | Withdrawn routes (var)    |
    | Next hop (var)            |           +---------------------------+
    | Reserved (1)              |
    | NLRI (var)                |
    +---------------------------+

An IPv6 next hop is 16 octets, or 32 with a link-local address second (RFC 2545 §3);
an IPv4 next hop is 4 octets.  Errors here reset the session with UPDATE Message
Error / Optional Attribute Error and the attribute as data (RFC 4760 §7, RFC 7606
§7.11, §7.12, §5.3, §3 j: bgpemu has no "AFI/SAFI disable"), Optional/Transitive
flags other than optional non-transitive included (RFC 7606 §5.3); a family bgpemu
does not support is discarded, since it was never negotiated.
"""

from __future__ import annotations

import socket

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire._attr_encode import attribute
from bgpemu.wire._nlri import NlriError, decode_prefixes, encode_sent_prefixes, v6_text
from bgpemu.wire.constants import AttrFlag, AttrType, ErrorCode, UpdateErrorSubcode
from bgpemu.wire.messages import MpReach, MpUnreach

__all__ = [
    "decode_mp_reach",
    "decode_mp_unreach",
    "encode_mp_reach",
    "encode_mp_unreach",
    "mp_reach_header",
]

_FAMILIES = {(1, 1): IPV4_UNICAST, (2, 1): IPV6_UNICAST}
_INET6 = socket.AF_INET6
_FLAGS = int(AttrFlag.OPTIONAL)
_OT_MASK = int(AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)


def _error(flags: int, code: int, value: bytes, reason: str) -> MessageError:
    data = attribute(flags, code, value)
    return MessageError(
        ErrorCode.UPDATE_MESSAGE_ERROR, UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, data, reason
    )


def _family(flags: int, code: AttrType, value: bytes, min_len: int) -> Family | None:
    """The AFI/SAFI of an MP attribute (RFC 4760 §3, §4) once its flags (optional
    non-transitive, RFC 7606 §5.3) and length are checked; None for a family bgpemu
    does not support."""
    if flags & _OT_MASK != _FLAGS:
        raise _error(flags, code, value, f"{code.name} attribute flags 0x{flags:02x}")
    if len(value) < min_len:
        raise _error(flags, code, value, f"{code.name} too short")
    return _FAMILIES.get(((value[0] << 8) | value[1], value[2]))


def _prefixes(
    flags: int, code: AttrType, value: bytes, start: int, family: Family, receive: frozenset[Family]
) -> tuple[tuple[str, ...], tuple[int, ...] | None]:
    """The prefix field from ``start`` to the end of the attribute, and its path ids
    when ``family`` is in ``receive`` (RFC 7911 §3)."""
    try:
        return decode_prefixes(value[start:], family == IPV6_UNICAST, family in receive)
    except NlriError as exc:
        raise _error(flags, code, value, f"{code.name}: {exc}") from None


def decode_mp_reach(
    flags: int, value: bytes, add_path_receive: frozenset[Family]
) -> MpReach | None:
    """MP_REACH_NLRI, or None for an unsupported family (the caller records the discard)."""
    code = AttrType.MP_REACH_NLRI
    family = _family(flags, code, value, 5)
    if family is None:
        return None
    nh_len = value[3]
    nlri_start = 4 + nh_len + 1
    if nlri_start > len(value):
        raise _error(flags, code, value, "MP_REACH_NLRI next hop overruns the attribute")
    nh = value[4 : 4 + nh_len]
    link_local: str | None = None
    if family == IPV6_UNICAST:
        if nh_len not in (16, 32):
            raise _error(flags, code, value, f"IPv6 next hop length {nh_len}")
        next_hop = v6_text(nh[:16])
        if nh_len == 32:
            link_local = v6_text(nh[16:])
    else:
        if nh_len != 4:
            raise _error(flags, code, value, f"IPv4 next hop length {nh_len}")
        next_hop = socket.inet_ntoa(nh)
    nlri, ids = _prefixes(flags, code, value, nlri_start, family, add_path_receive)
    return MpReach(
        family=family, next_hop=next_hop, link_local_next_hop=link_local, nlri=nlri, path_ids=ids
    )


def decode_mp_unreach(
    flags: int, value: bytes, add_path_receive: frozenset[Family]
) -> MpUnreach | None:
    """MP_UNREACH_NLRI, or None for an unsupported family."""
    code = AttrType.MP_UNREACH_NLRI
    family = _family(flags, code, value, 3)
    if family is None:
        return None
    withdrawn, ids = _prefixes(flags, code, value, 3, family, add_path_receive)
    return MpUnreach(family=family, withdrawn=withdrawn, path_ids=ids)


def mp_reach_header(family: Family, next_hop: str, link_local: str | None) -> bytes:
    """AFI, SAFI, next hop length, next hop and the reserved octet (RFC 4760 §3)."""
    if family == IPV6_UNICAST:
        nh = socket.inet_pton(_INET6, next_hop)
        if link_local is not None:
            nh += socket.inet_pton(_INET6, link_local)
    elif family == IPV4_UNICAST:
        if link_local is not None:
            raise ValueError("an IPv4 next hop has no link-local part")
        if next_hop.count(".") != 3:
            raise ValueError(f"not an IPv4 next hop: {next_hop!r}")
        nh = socket.inet_aton(next_hop)
    else:
        raise ValueError(f"unsupported family {family}")
    return int(family.afi).to_bytes(2, "big") + bytes((int(family.safi), len(nh))) + nh + b"\x00"


def encode_mp_reach(reach: MpReach, add_path: bool, nlri: bytes | None = None) -> bytes:
    """The whole MP_REACH_NLRI attribute; ``nlri`` may be given already packed."""
    if nlri is None:
        nlri = encode_sent_prefixes(reach.nlri, reach.path_ids, add_path, reach.family)
    header = mp_reach_header(reach.family, reach.next_hop, reach.link_local_next_hop)
    return attribute(_FLAGS, AttrType.MP_REACH_NLRI, header + nlri)


def encode_mp_unreach(unreach: MpUnreach, add_path: bool, withdrawn: bytes | None = None) -> bytes:
    """The whole MP_UNREACH_NLRI attribute; ``withdrawn`` may be given already packed."""
    if withdrawn is None:
        withdrawn = encode_sent_prefixes(
            unreach.withdrawn, unreach.path_ids, add_path, unreach.family
        )
    fam = unreach.family
    header = int(fam.afi).to_bytes(2, "big") + bytes((int(fam.safi),))
    return attribute(_FLAGS, AttrType.MP_UNREACH_NLRI, header + withdrawn)
