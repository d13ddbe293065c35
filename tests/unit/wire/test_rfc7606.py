"""RFC 7606 followed row by row: one test per rule, each quoting the outcome it requires.

The table below walks RFC 7606 §3 (a-j), §4, §5 (5.1-5.4), §6 and every §7 subsection,
plus the per-attribute rules other RFCs give in the same terms (RFC 8092 §6 for
LARGE_COMMUNITY, RFC 6793 §6 for AS4_PATH / AS4_AGGREGATOR, RFC 4271 §6.3 for what
RFC 7606 leaves unchanged).  Each row is an UPDATE built byte by byte
(``factories``, independent of the codec) and the outcome the RFC requires:

- :class:`Reset`: the session is reset; ``decode`` raises MessageError(code, subcode).
- :class:`Withdraw`: treat-as-withdraw (RFC 7606 §2): every announced route of the
  message is withdrawn, no attribute survives, no route is announced.
- :class:`Discard`: attribute discard (RFC 7606 §2): the routes are announced with the
  attributes of ``baseline``, i.e. as if the malformed attribute had not been sent.
- :class:`Accept`: no error; the routes are announced and no issue is recorded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import Codec, CodecContext, PathAttributes, Update, UpdateIssueAction

from .factories import AS_PATH_2, MANDATORY, NEXT_HOP, NLRI_10_24, ORIGIN_IGP, attr, update

TAW = UpdateIssueAction.TREAT_AS_WITHDRAW
DISCARD = UpdateIssueAction.ATTRIBUTE_DISCARD

V6_NH = bytes.fromhex("20010db8000000000000000000000001")
V6_NLRI = b"\x30\x20\x01\x0d\xb8\x00\x01"  # 2001:db8:1::/48
V6_PREFIX = "2001:db8:1::/48"
V4_MP_NLRI = b"\x18\xc6\x33\x64"  # 198.51.100.0/24
V4_MP_PREFIX = "198.51.100.0/24"
PREFIX = "10.0.0.0/24"
AS_PATH_OLD = attr(0x40, 2, b"\x02\x02" + struct.pack("!HH", 65001, 65002))
MANDATORY_OLD = ORIGIN_IGP + AS_PATH_OLD + NEXT_HOP
AS_PATH_ONE_OLD = attr(0x40, 2, b"\x02\x01" + struct.pack("!H", 65001))


def mp_reach_v6(nlri: bytes = V6_NLRI, flags: int = 0x80, nh: bytes = V6_NH) -> bytes:
    return attr(flags, 14, b"\x00\x02\x01" + bytes((len(nh),)) + nh + b"\x00" + nlri)


def mp_reach_v4(nlri: bytes = V4_MP_NLRI) -> bytes:
    return attr(0x80, 14, b"\x00\x01\x01\x04\xc0\x00\x02\x01\x00" + nlri)


def mp_unreach_v6(nlri: bytes = V6_NLRI, flags: int = 0x80) -> bytes:
    return attr(flags, 15, b"\x00\x02\x01" + nlri)


def announce(extra: bytes = b"", base: bytes = MANDATORY) -> bytes:
    """An UPDATE announcing 10.0.0.0/24 with ``base`` + ``extra`` attributes."""
    return update(attrs=base + extra, nlri=NLRI_10_24)


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    code: int
    subcode: int
    data: bytes | None = None
    """The NOTIFICATION data, when the RFC fixes it (None: not checked)."""


@dataclass(frozen=True)
class Withdraw:
    code: int | None
    """Type code of the attribute that caused it (None: any)."""
    withdrawn: tuple[str, ...] = (PREFIX,)
    mp_withdrawn: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discard:
    code: int
    baseline: bytes = MANDATORY
    """The attributes the routes must end up with (the malformed one left out)."""


@dataclass(frozen=True)
class Accept:
    nlri: tuple[str, ...] = (PREFIX,)


Outcome = Reset | Withdraw | Discard | Accept


DEFAULT = CodecContext()
"""4-octet AS, no ADD-PATH, an internal peer: the codec's defaults."""
EXTERNAL = CodecContext(external=True)
"""An eBGP session (RFC 7606 §7.5, §7.9, §7.10)."""
OLD = CodecContext(four_octet_as=False)
"""A session without the 4-octet AS capability (RFC 6793)."""


@dataclass(frozen=True)
class Row:
    rule: str
    """Where the requirement is: ``RFC 7606 §7.1`` etc."""
    quote: str
    """The required outcome, in the RFC's words."""
    frame: bytes
    expect: Outcome
    context: CodecContext = DEFAULT


ROWS: dict[str, Row] = {
    # ---- §3 Revision to BGP UPDATE Message Error Handling ---------------------------------
    "3a-reset-uses-update-message-error": Row(
        "RFC 7606 §3 a",
        "An error ... for which a session reset is specified MUST be indicated by sending "
        "the NOTIFICATION message with the Error Code UPDATE Message Error.",
        announce(attr(0x40, 77, b"x")),
        Reset(3, 2, attr(0x40, 77, b"x")),
    ),
    "3b-withdrawn-length-too-large": Row(
        "RFC 7606 §3 b",
        "If the Withdrawn Routes Length or Total Attribute Length is too large ... the "
        "Error Subcode MUST be set to Malformed Attribute List.",
        bytes.fromhex("ff" * 16 + "0017" + "02" + "0010" + "0000"),
        Reset(3, 1),
    ),
    "3b-total-attribute-length-too-large": Row(
        "RFC 7606 §3 b",
        "... Withdrawn Routes Length + Total Attribute Length + 23 exceeds the message "
        "Length ... Malformed Attribute List.",
        bytes.fromhex("ff" * 16 + "001b" + "02" + "0000" + "0020") + ORIGIN_IGP,
        Reset(3, 1),
    ),
    "3c-well-known-flagged-optional": Row(
        "RFC 7606 §3 c",
        "If the value of either the Optional or Transitive bits in the Attribute Flags is "
        'in conflict with their specified values ... the "treat-as-withdraw" approach used',
        announce(base=attr(0xC0, 1, b"\x00") + AS_PATH_2 + NEXT_HOP),
        Withdraw(1),
    ),
    "3c-optional-non-transitive-flagged-transitive": Row(
        "RFC 7606 §3 c",
        '... treated as malformed and the "treat-as-withdraw" approach used',
        announce(attr(0xC0, 4, b"\x00\x00\x00\x01")),
        Withdraw(4),
    ),
    "3c-optional-transitive-flagged-non-transitive": Row(
        "RFC 7606 §3 c",
        '... treated as malformed and the "treat-as-withdraw" approach used',
        announce(attr(0x80, 8, b"\xfd\xe9\x00\x01")),
        Withdraw(8),
    ),
    "3c-aggregator-flags": Row(
        "RFC 7606 §3 c (not §3 f: a flag conflict no longer specifies a session reset)",
        '... treated as malformed and the "treat-as-withdraw" approach used',
        announce(attr(0x80, 7, struct.pack("!I", 65001) + bytes(4))),
        Withdraw(7),
    ),
    "3c-mp-reach-flags-per-5.3": Row(
        "RFC 7606 §3 c 'unless the specification ... mandates different handling', §5.3, §3 j",
        "MP_REACH_NLRI ... SHALL be considered to be incorrect if ... the attribute flags "
        '... are inconsistent with those specified in [RFC4760] → "session reset"',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6(flags=0xC0)),
        Reset(3, 9, mp_reach_v6(flags=0xC0)),
    ),
    "3c-mp-unreach-flags-per-5.3": Row(
        "RFC 7606 §5.3, §3 j",
        "the attribute flags of the attribute are inconsistent with those specified in "
        '[RFC4760] → "session reset" (bgpemu has no AFI/SAFI disable)',
        update(attrs=mp_unreach_v6(flags=0x40)),
        Reset(3, 9, mp_unreach_v6(flags=0x40)),
    ),
    "3d-missing-origin": Row(
        "RFC 7606 §3 d",
        "If any of the well-known mandatory attributes are not present in an UPDATE "
        'message, then "treat-as-withdraw" MUST be used.',
        announce(base=AS_PATH_2 + NEXT_HOP),
        Withdraw(1),
    ),
    "3d-missing-as-path": Row(
        "RFC 7606 §3 d",
        '... not present ... "treat-as-withdraw" MUST be used.',
        announce(base=ORIGIN_IGP + NEXT_HOP),
        Withdraw(2),
    ),
    "3d-missing-next-hop-with-classic-nlri": Row(
        "RFC 7606 §3 d",
        '... not present ... "treat-as-withdraw" MUST be used.',
        announce(base=ORIGIN_IGP + AS_PATH_2),
        Withdraw(3),
    ),
    "3d-mp-reach-needs-no-next-hop": Row(
        "RFC 7606 §3 d",
        "(Note that [RFC4760] reclassifies NEXT_HOP as what is effectively discretionary.)",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6()),
        Accept(nlri=(V6_PREFIX,)),
    ),
    "3d-mp-reach-missing-origin": Row(
        "RFC 7606 §3 d",
        '... not present ... "treat-as-withdraw" MUST be used.',
        update(attrs=AS_PATH_2 + mp_reach_v6()),
        Withdraw(1, withdrawn=(), mp_withdrawn=(V6_PREFIX,)),
    ),
    "3g-mp-reach-twice": Row(
        "RFC 7606 §3 g",
        "If the MP_REACH_NLRI attribute or the MP_UNREACH_NLRI attribute appears more "
        'than once ... NOTIFICATION ... with the Error Subcode "Malformed Attribute List".',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6() + mp_reach_v6()),
        Reset(3, 1),
    ),
    "3g-mp-unreach-twice": Row(
        "RFC 7606 §3 g",
        '... NOTIFICATION ... "Malformed Attribute List".',
        update(attrs=mp_unreach_v6() + mp_unreach_v6()),
        Reset(3, 1),
    ),
    "3g-other-attribute-twice-keeps-first": Row(
        "RFC 7606 §3 g",
        "If any other attribute ... appears more than once ... all the occurrences ... "
        "other than the first one SHALL be discarded",
        announce(attr(0x80, 4, b"\x00\x00\x00\x01") + attr(0x80, 4, b"\x00\x00\x00\x02")),
        Discard(4, baseline=MANDATORY + attr(0x80, 4, b"\x00\x00\x00\x01")),
    ),
    "3g-unrecognized-attribute-twice-keeps-first": Row(
        "RFC 7606 §3 g",
        "If any other attribute (whether recognized or unrecognized) appears more than "
        "once ... other than the first one SHALL be discarded",
        announce(attr(0xC0, 99, b"a") + attr(0xC0, 99, b"b")),
        Discard(99, baseline=MANDATORY + attr(0xC0, 99, b"a")),
    ),
    "3h-strongest-action-withdraw-over-discard": Row(
        "RFC 7606 §3 h",
        "When multiple attribute errors exist ... the approach with the strongest action "
        "MUST be used.",
        announce(attr(0x40, 6, b"\x00") + attr(0x80, 4, b"\x00")),
        Withdraw(4),
    ),
    "3h-strongest-action-reset-over-withdraw": Row(
        "RFC 7606 §3 h",
        "... the approach with the strongest action MUST be used.",
        update(attrs=attr(0x40, 1, b"\x07") + AS_PATH_2 + NEXT_HOP, nlri=b"\x21" + bytes(5)),
        Reset(3, 10),
    ),
    "3i-withdrawn-routes-syntax": Row(
        "RFC 7606 §3 i, §5.3",
        "The Withdrawn Routes field MUST be checked for syntactic correctness in the same "
        "manner as the NLRI field.",
        update(withdrawn=b"\x40\x0a"),
        Reset(3, 10),
    ),
    "3j-nlri-unparseable": Row(
        "RFC 7606 §3 j",
        'If this [parsing the NLRI] is not possible ... the "session reset" approach ... '
        "MUST be followed.",
        update(attrs=MANDATORY, nlri=b"\x18\x0a\x00"),
        Reset(3, 10),
    ),
    "3j-mp-reach-nlri-unparseable": Row(
        "RFC 7606 §3 j, §5.3",
        '... the MP_REACH_NLRI ... need to be successfully parsed ... "session reset"',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6(nlri=b"\x40\x20\x01")),
        Reset(3, 9, mp_reach_v6(nlri=b"\x40\x20\x01")),
    ),
    # ---- §4 Attribute Length Fields ---------------------------------------------------
    "4-last-attribute-overruns-total-attribute-length": Row(
        "RFC 7606 §4, first case",
        "the length of the last encountered path attribute would cause the Total Attribute "
        'Length to be exceeded ... the "treat-as-withdraw" approach MUST be used ... and '
        "the Total Attribute Length MUST be relied upon to ... locate the NLRI",
        announce(b"\x40\x05\x09\x00\x00"),
        Withdraw(5),
    ),
    "4-fewer-than-three-octets-left": Row(
        "RFC 7606 §4, second case",
        "fewer than three octets remain ... when beginning to parse the attribute ... "
        '"treat-as-withdraw" approach MUST be used',
        announce(b"\x40\x05"),
        Withdraw(None),
    ),
    "4-one-octet-left": Row(
        "RFC 7606 §4, second case",
        'fewer than three octets remain ... "treat-as-withdraw" approach MUST be used',
        announce(b"\x40"),
        Withdraw(None),
    ),
    "4-fewer-than-four-octets-left-extended-length": Row(
        "RFC 7606 §4, second case",
        "(or fewer than four octets, if the Attribute Flags field has the Extended Length "
        'bit set) ... "treat-as-withdraw"',
        announce(b"\x50\x05\x00"),
        Withdraw(None),
    ),
    "4-extended-length-overrun": Row(
        "RFC 7606 §4, first case",
        '... would cause the Total Attribute Length to be exceeded ... "treat-as-withdraw"',
        announce(b"\xd0\x08\x01\x00\x00\x00"),
        Withdraw(8),
    ),
    "4-mp-reach-before-the-break-is-withdrawn": Row(
        "RFC 7606 §4, §5.1 (MP_REACH_NLRI first), §2",
        'the "treat-as-withdraw" approach MUST be used: all contained routes ... withdrawn '
        "(or in the MP_UNREACH_NLRI attribute if appropriate)",
        update(attrs=mp_reach_v6() + ORIGIN_IGP + AS_PATH_2 + b"\x80\x04\x09\x00"),
        Withdraw(4, withdrawn=(), mp_withdrawn=(V6_PREFIX,)),
    ),
    "4-mp-reach-overrun-is-reset-per-3j": Row(
        "RFC 7606 §4 'unless some other, more severe error', §3 j",
        'in order to use the approach of "treat-as-withdraw", ... the MP_REACH_NLRI and '
        'MP_UNREACH_NLRI attributes need to be successfully parsed ... "session reset"',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6()[:-2], nlri=NLRI_10_24),
        Reset(3, 9),
    ),
    "4-mp-unreach-header-cut-is-reset-per-3j": Row(
        "RFC 7606 §4, §3 j",
        '... MP_UNREACH_NLRI ... need to be successfully parsed ... "session reset"',
        update(attrs=MANDATORY + b"\x80\x0f", nlri=NLRI_10_24),
        Reset(3, 9),
    ),
    "4-overrun-without-nlri-is-reset-per-5.2": Row(
        "RFC 7606 §4 with §5.2",
        "if an UPDATE message ... does contain path attributes other than MP_UNREACH_NLRI "
        'and doesn\'t encode any reachable NLRI ... the "session reset" approach MUST be used',
        update(withdrawn=NLRI_10_24, attrs=ORIGIN_IGP + b"\x40\x05\x09\x00"),
        Reset(3, 1),
    ),
    "4-zero-length-origin": Row(
        "RFC 7606 §4",
        "it SHALL be considered a syntax error for the attribute to have a length of zero "
        "(ORIGIN: §7.1 treat-as-withdraw)",
        announce(base=attr(0x40, 1, b"") + AS_PATH_2 + NEXT_HOP),
        Withdraw(1),
    ),
    "4-zero-length-next-hop": Row(
        "RFC 7606 §4, §7.3",
        "... a syntax error for the attribute to have a length of zero",
        announce(base=ORIGIN_IGP + AS_PATH_2 + attr(0x40, 3, b"")),
        Withdraw(3),
    ),
    "4-zero-length-aggregator": Row(
        "RFC 7606 §4, §7.7",
        '... a syntax error ... AGGREGATOR ... "attribute discard"',
        announce(attr(0xC0, 7, b"")),
        Discard(7),
    ),
    "4-zero-length-as-path-is-valid": Row(
        "RFC 7606 §4",
        "only AS_PATH and ATOMIC_AGGREGATE may validly have an attribute length of zero",
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"") + NEXT_HOP),
        Accept(),
    ),
    "4-zero-length-atomic-aggregate-is-valid": Row(
        "RFC 7606 §4",
        "only AS_PATH and ATOMIC_AGGREGATE may validly have an attribute length of zero",
        announce(attr(0x40, 6, b"")),
        Accept(),
    ),
    # ---- §5 Parsing of NLRI fields --------------------------------------------------------
    "5.1-mp-reach-in-any-position": Row(
        "RFC 7606 §5.1",
        "an implementation MUST still be prepared to receive these fields in any position "
        "or combination",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 4, bytes(4)) + mp_reach_v6()),
        Accept(nlri=(V6_PREFIX,)),
    ),
    "5.1-all-four-fields-in-one-message": Row(
        "RFC 7606 §5.1",
        "... prepared to receive these fields in any position or combination",
        update(
            withdrawn=b"\x18\x0a\x00\x01",
            attrs=mp_unreach_v6(b"\x20\x20\x01\x0d\xb8") + MANDATORY + mp_reach_v6(),
            nlri=NLRI_10_24,
        ),
        Accept(nlri=(PREFIX, V6_PREFIX)),
    ),
    "5.1-treat-as-withdraw-across-two-mp-families": Row(
        "RFC 7606 §5.1, §2",
        "... any position or combination; treat-as-withdraw: all contained routes ... "
        "withdrawn (in the WITHDRAWN ROUTES field or in the MP_UNREACH_NLRI attribute)",
        update(attrs=attr(0x40, 1, b"\x05") + AS_PATH_2 + mp_unreach_v6() + mp_reach_v4()),
        Withdraw(1, withdrawn=(V4_MP_PREFIX,), mp_withdrawn=(V6_PREFIX,)),
    ),
    "5.2-malformed-attribute-without-nlri-is-reset": Row(
        "RFC 7606 §5.2",
        "if any path attribute errors are encountered in such an UPDATE message and if any "
        'encountered error specifies an error-handling approach other than "attribute '
        'discard", then the "session reset" approach MUST be used.',
        update(withdrawn=NLRI_10_24, attrs=attr(0x40, 1, b"\x05")),
        Reset(3, 6, attr(0x40, 1, b"\x05")),
    ),
    "5.2-discard-without-nlri-is-no-reset": Row(
        "RFC 7606 §5.2",
        'if any encountered error specifies an ... approach other than "attribute discard"',
        update(withdrawn=NLRI_10_24, attrs=attr(0x40, 6, b"\x00")),
        Discard(6, baseline=b""),
    ),
    "5.2-empty-mp-reach-with-malformed-attribute-is-reset": Row(
        "RFC 7606 §5.2",
        '... doesn\'t encode any reachable NLRI ... "session reset" approach MUST be used',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 4, b"\x00") + mp_reach_v6(b"")),
        Reset(3, 5, attr(0x80, 4, b"\x00")),
    ),
    "5.2-end-of-rib-ipv4": Row(
        "RFC 7606 §5.2",
        "an End-of-RIB message ... can also be a completely empty UPDATE message",
        update(),
        Accept(nlri=()),
    ),
    "5.2-end-of-rib-mp": Row(
        "RFC 7606 §5.2",
        "an UPDATE message that contains only a MP_UNREACH_NLRI attribute that encodes no NLRI",
        update(attrs=mp_unreach_v6(b"")),
        Accept(nlri=()),
    ),
    "5.3-nlri-prefix-longer-than-32": Row(
        "RFC 7606 §5.3",
        'The NLRI field ... SHALL be considered "syntactically incorrect" if ... The length '
        "of any of the included NLRI is greater than 32.",
        update(attrs=MANDATORY, nlri=b"\x21\x0a\x00\x00\x00\x00"),
        Reset(3, 10),
    ),
    "5.3-nlri-last-prefix-truncated": Row(
        "RFC 7606 §5.3",
        "the length of the last NLRI found exceeds the amount of unconsumed data",
        update(attrs=MANDATORY, nlri=b"\x20\x0a"),
        Reset(3, 10),
    ),
    "5.3-mp-prefix-longer-than-128": Row(
        "RFC 7606 §5.3",
        "an IPv6 NLRI has a length greater than 128 → incorrect → §3 j session reset",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6(nlri=b"\x81" + bytes(17))),
        Reset(3, 9),
    ),
    "5.3-mp-ipv4-prefix-longer-than-32": Row(
        "RFC 7606 §5.3",
        "an IPv4 NLRI has a length greater than 32 → incorrect → §3 j session reset",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v4(nlri=b"\x21" + bytes(5))),
        Reset(3, 9),
    ),
    "5.3-mp-unreach-shorter-than-3": Row(
        "RFC 7606 §5.3",
        "The length of the MP_UNREACH_NLRI attribute is less than 3",
        update(attrs=attr(0x80, 15, b"\x00\x02")),
        Reset(3, 9, attr(0x80, 15, b"\x00\x02")),
    ),
    "5.3-mp-reach-shorter-than-5": Row(
        "RFC 7606 §5.3",
        "the length of the MP_REACH_NLRI attribute is less than 5",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 14, b"\x00\x02\x01\x00")),
        Reset(3, 9, attr(0x80, 14, b"\x00\x02\x01\x00")),
    ),
    "5.4-family-not-supported-is-discarded": Row(
        "RFC 7606 §5.4 (bgpemu supports no typed family; others are never negotiated)",
        "MUST handle routes with unrecognized NLRI types ... by discarding them",
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 14, b"\x00\x19\x46\x04" + bytes(6))),
        Discard(14, baseline=ORIGIN_IGP + AS_PATH_2),
    ),
    # ---- §7 Error-Handling Procedures for Existing Attributes -----------------------------
    "7.1-origin-length": Row(
        "RFC 7606 §7.1",
        'malformed if its length is not 1 ... SHALL be handled using ... "treat-as-withdraw"',
        announce(base=attr(0x40, 1, b"\x00\x00") + AS_PATH_2 + NEXT_HOP),
        Withdraw(1),
    ),
    "7.1-origin-undefined-value": Row(
        "RFC 7606 §7.1",
        'malformed ... if it has an undefined value ... "treat-as-withdraw"',
        announce(base=attr(0x40, 1, b"\x03") + AS_PATH_2 + NEXT_HOP),
        Withdraw(1),
    ),
    "7.2-as-path-unrecognized-segment-type": Row(
        "RFC 7606 §7.2",
        'malformed if an unrecognized segment type is encountered ... "treat-as-withdraw"',
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"\x05\x01\x00\x00\xfd\xe9") + NEXT_HOP),
        Withdraw(2),
    ),
    "7.2-as-path-segment-overrun": Row(
        "RFC 7606 §7.2",
        "the Path Segment Length field of the last segment ... would cause the Attribute "
        "Length to be exceeded",
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"\x02\x02\x00\x00\xfd\xe9") + NEXT_HOP),
        Withdraw(2),
    ),
    "7.2-as-path-segment-underrun": Row(
        "RFC 7606 §7.2",
        "after the last successfully parsed segment there is only a single octet remaining",
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"\x02\x01\x00\x00\xfd\xe9\x02") + NEXT_HOP),
        Withdraw(2),
    ),
    "7.2-as-path-zero-segment-length": Row(
        "RFC 7606 §7.2",
        "It has a Path Segment Length field of zero.",
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"\x02\x00") + NEXT_HOP),
        Withdraw(2),
    ),
    "7.2-as-path-two-octet-session": Row(
        "RFC 7606 §7.2 (2-octet ASNs, RFC 6793)",
        "overrun → treat-as-withdraw",
        announce(base=ORIGIN_IGP + attr(0x40, 2, b"\x02\x02\xfd\xe9") + NEXT_HOP),
        Withdraw(2),
        OLD,
    ),
    "7.3-next-hop-length": Row(
        "RFC 7606 §7.3",
        'malformed if its length is not 4 ... "treat-as-withdraw"',
        announce(base=ORIGIN_IGP + AS_PATH_2 + attr(0x40, 3, b"\xc0\x00\x02\x01\x00")),
        Withdraw(3),
    ),
    "7.4-med-length": Row(
        "RFC 7606 §7.4",
        'malformed if its length is not 4 ... "treat-as-withdraw"',
        announce(attr(0x80, 4, b"\x00\x00\x01")),
        Withdraw(4),
    ),
    "7.5-local-pref-from-external-is-discarded": Row(
        "RFC 7606 §7.5",
        "if the LOCAL_PREF attribute is received from an external neighbor, it SHALL be "
        'discarded using the approach of "attribute discard"',
        announce(attr(0x40, 5, b"\x00\x00\x00\x64")),
        Discard(5),
        EXTERNAL,
    ),
    "7.5-malformed-local-pref-from-external-is-discarded": Row(
        "RFC 7606 §7.5",
        "received from an external neighbor ... SHALL be discarded (whatever its length)",
        announce(attr(0x40, 5, b"\x00")),
        Discard(5),
        EXTERNAL,
    ),
    "7.5-local-pref-length-from-internal": Row(
        "RFC 7606 §7.5",
        "if received from an internal neighbor ... malformed if its length is not equal to "
        '4 ... "treat-as-withdraw"',
        announce(attr(0x40, 5, b"\x00\x00\x64")),
        Withdraw(5),
    ),
    "7.6-atomic-aggregate-length": Row(
        "RFC 7606 §7.6",
        'malformed if its length is not 0 ... "attribute discard"',
        announce(attr(0x40, 6, b"\x01")),
        Discard(6),
    ),
    "7.7-aggregator-length-four-octet-session": Row(
        "RFC 7606 §7.7",
        "Its length is not 8 (when the 4-octet AS number capability is both advertised to "
        'and received from the peer) ... "attribute discard"',
        announce(attr(0xC0, 7, struct.pack("!H", 65001) + bytes(4))),
        Discard(7),
    ),
    "7.7-aggregator-length-two-octet-session": Row(
        "RFC 7606 §7.7",
        "Its length is not 6 (when the 4-octet AS number capability is not advertised to "
        'or not received from the peer) ... "attribute discard"',
        announce(attr(0xC0, 7, struct.pack("!I", 65001) + bytes(4)), base=MANDATORY_OLD),
        Discard(7, baseline=MANDATORY_OLD),
        OLD,
    ),
    "7.8-community-length-not-multiple-of-4": Row(
        "RFC 7606 §7.8",
        'malformed if its length is not a non-zero multiple of 4 ... "treat-as-withdraw"',
        announce(attr(0xC0, 8, b"\x00\x00\x00\x01\x00")),
        Withdraw(8),
    ),
    "7.8-community-length-zero": Row(
        "RFC 7606 §7.8",
        '... not a non-zero multiple of 4 ... "treat-as-withdraw"',
        announce(attr(0xC0, 8, b"")),
        Withdraw(8),
    ),
    "7.9-originator-id-from-external-is-discarded": Row(
        "RFC 7606 §7.9",
        "if the ORIGINATOR_ID attribute is received from an external neighbor, it SHALL be "
        'discarded using the approach of "attribute discard"',
        announce(attr(0x80, 9, b"\x0a\x00\x00\x01")),
        Discard(9),
        EXTERNAL,
    ),
    "7.9-originator-id-length-from-internal": Row(
        "RFC 7606 §7.9",
        "if received from an internal neighbor ... malformed if its length is not equal to "
        '4 ... "treat-as-withdraw"',
        announce(attr(0x80, 9, b"\x0a\x00\x00")),
        Withdraw(9),
    ),
    "7.10-cluster-list-from-external-is-discarded": Row(
        "RFC 7606 §7.10",
        "if the CLUSTER_LIST attribute is received from an external neighbor, it SHALL be "
        'discarded using the approach of "attribute discard"',
        announce(attr(0x80, 10, b"\x0a\x00\x00\x01")),
        Discard(10),
        EXTERNAL,
    ),
    "7.10-cluster-list-length-from-internal": Row(
        "RFC 7606 §7.10",
        "if received from an internal neighbor ... malformed if its length is not a "
        'non-zero multiple of 4 ... "treat-as-withdraw"',
        announce(attr(0x80, 10, b"\x0a\x00\x00\x01\x00\x00")),
        Withdraw(10),
    ),
    "7.11-mp-reach-ipv6-next-hop-length": Row(
        "RFC 7606 §7.11",
        "If the Length of Next Hop Network Address field ... is inconsistent with that which "
        'was expected ... the "session reset" or "AFI/SAFI disable" approach MUST be used.',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6(nh=V6_NH[:4])),
        Reset(3, 9, mp_reach_v6(nh=V6_NH[:4])),
    ),
    "7.11-mp-reach-ipv4-next-hop-length": Row(
        "RFC 7606 §7.11",
        '... inconsistent with that which was expected ... "session reset"',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 14, b"\x00\x01\x01\x10" + V6_NH + b"\0")),
        Reset(3, 9),
    ),
    "7.11-mp-reach-next-hop-overruns": Row(
        "RFC 7606 §7.11",
        'it will not be possible to reliably locate the NLRI ... "session reset"',
        update(attrs=ORIGIN_IGP + AS_PATH_2 + attr(0x80, 14, b"\x00\x02\x01\x30" + V6_NH)),
        Reset(3, 9),
    ),
    "7.12-mp-unreach-nlri-unparseable": Row(
        "RFC 7606 §7.12, §5.3",
        "Sections 3 and 5 discuss the handling of this attribute (→ §3 j session reset)",
        update(attrs=mp_unreach_v6(b"\x90")),
        Reset(3, 9, mp_unreach_v6(b"\x90")),
    ),
    "7.13-traffic-engineering-not-recognized": Row(
        "RFC 7606 §7.13 (bgpemu does not recognize attribute 24: RFC 4271 §5 applies)",
        "an implementation that determines ... a malformed Traffic Engineering path attribute "
        "MUST ... treat-as-withdraw; an unrecognized optional transitive one is passed on",
        announce(attr(0xC0, 24, b"\x01\x02")),
        Accept(),
    ),
    "7.14-extended-community-length": Row(
        "RFC 7606 §7.14",
        'malformed if its length is not a non-zero multiple of 8 ... "treat-as-withdraw"',
        announce(attr(0xC0, 16, bytes(12))),
        Withdraw(16),
    ),
    "7.14-extended-community-length-zero": Row(
        "RFC 7606 §7.14",
        "... not a non-zero multiple of 8 ...",
        announce(attr(0xC0, 16, b"")),
        Withdraw(16),
    ),
    "7.14-unrecognized-extended-community-type-is-no-error": Row(
        "RFC 7606 §7.14",
        "a BGP speaker MUST NOT treat an unrecognized Extended Community Type or Sub-Type "
        "as an error.",
        announce(attr(0xC0, 16, b"\x7f\xee" + bytes(6))),
        Accept(),
    ),
    "7.15-ipv6-extended-community-not-recognized": Row(
        "RFC 7606 §7.15 (bgpemu does not recognize attribute 25: RFC 4271 §5 applies)",
        "MUST NOT treat an unrecognized IPv6 Address Specific Extended Community Type ... "
        "as an error",
        announce(attr(0xC0, 25, bytes(20))),
        Accept(),
    ),
    "7.16-attr-set-not-recognized": Row(
        "RFC 7606 §7.16 (bgpemu does not recognize attribute 128: RFC 4271 §5 applies)",
        "a malformed ATTR_SET ... treat as withdraw; an unrecognized one is passed on",
        announce(attr(0xC0, 128, struct.pack("!I", 65001))),
        Accept(),
    ),
    # ---- RFC 8092 §6 LARGE_COMMUNITY -------------------------------------------------------
    "rfc8092-6-large-community-length": Row(
        "RFC 8092 §6",
        'malformed if the length ... is not a non-zero multiple of 12 ... "treat-as-withdraw"',
        announce(attr(0xC0, 32, bytes(13))),
        Withdraw(32),
    ),
    "rfc8092-6-large-community-length-zero": Row(
        "RFC 8092 §6",
        "... not a non-zero multiple of 12 ...",
        announce(attr(0xC0, 32, b"")),
        Withdraw(32),
    ),
    "rfc8092-6-duplicate-large-communities-are-no-error": Row(
        "RFC 8092 §6",
        "SHALL NOT be considered malformed due to presence of duplicate Large Community values",
        announce(attr(0xC0, 32, bytes(12) * 2)),
        Accept(),
    ),
    # ---- RFC 6793 §6 AS4_PATH / AS4_AGGREGATOR --------------------------------------------
    "rfc6793-6-as4-path-from-new-speaker-is-discarded": Row(
        "RFC 6793 §6",
        "A NEW BGP speaker that receives the AS4_PATH attribute ... from another NEW BGP "
        "speaker MUST discard the path attribute and continue processing",
        announce(attr(0xC0, 17, b"\x02\x01" + struct.pack("!I", 4200000001))),
        Discard(17),
    ),
    "rfc6793-6-as4-aggregator-from-new-speaker-is-discarded": Row(
        "RFC 6793 §6",
        "... the AS4_AGGREGATOR attribute ... from another NEW BGP speaker MUST discard",
        announce(attr(0xC0, 18, struct.pack("!I", 4200000001) + bytes(4))),
        Discard(18),
    ),
    "rfc6793-6-as4-path-zero-segment-length": Row(
        "RFC 6793 §6",
        "malformed ... the path segment length in the attribute is either zero ... MUST "
        "discard the attribute and continue processing",
        announce(attr(0xC0, 17, b"\x02\x00"), base=MANDATORY_OLD),
        Discard(17, baseline=MANDATORY_OLD),
        OLD,
    ),
    "rfc6793-6-as4-path-too-short": Row(
        "RFC 6793 §6",
        "the attribute length is not a multiple of two or is too small (i.e., less than 6)",
        announce(attr(0xC0, 17, b""), base=MANDATORY_OLD),
        Discard(17, baseline=MANDATORY_OLD),
        OLD,
    ),
    "rfc6793-6-as4-path-segment-type": Row(
        "RFC 6793 §6",
        "the path segment type in the attribute is not one of the types defined",
        announce(attr(0xC0, 17, b"\x09\x01" + bytes(4)), base=MANDATORY_OLD),
        Discard(17, baseline=MANDATORY_OLD),
        OLD,
    ),
    "rfc6793-6-as4-path-flags": Row(
        "RFC 6793 §6 (the attribute's own spec, as RFC 7606 §3 c allows)",
        'the "attribute discard" approach is chosen to handle a malformed AS4_PATH attribute',
        announce(attr(0x40, 17, b"\x02\x01" + bytes(4)), base=MANDATORY_OLD),
        Discard(17, baseline=MANDATORY_OLD),
        OLD,
    ),
    "rfc6793-6-as4-aggregator-length": Row(
        "RFC 6793 §6",
        "malformed if the attribute length is not 8 ... MUST discard the attribute",
        announce(attr(0xC0, 18, bytes(6)), base=MANDATORY_OLD),
        Discard(18, baseline=MANDATORY_OLD),
        OLD,
    ),
    "rfc6793-6-as4-path-confed-segments-discarded": Row(
        "RFC 6793 §6",
        "AS_CONFED_SEQUENCE and AS_CONFED_SET ... MUST NOT be carried in the AS4_PATH ... "
        "MUST discard these path segments ... and continue processing",
        announce(
            attr(0xC0, 17, b"\x03\x01" + struct.pack("!I", 64512)),
            base=ORIGIN_IGP + AS_PATH_ONE_OLD + NEXT_HOP,
        ),
        Discard(17, baseline=ORIGIN_IGP + AS_PATH_ONE_OLD + NEXT_HOP),
        OLD,
    ),
    # ---- RFC 4271 §6.3 rows RFC 7606 leaves as they were ----------------------------------
    "rfc4271-6.3-unrecognized-well-known": Row(
        "RFC 4271 §6.3 (unchanged by RFC 7606)",
        "If any of the well-known mandatory attributes are not recognized, then the Error "
        "Subcode MUST be set to Unrecognized Well-known Attribute. The Data field MUST "
        "contain the unrecognized attribute",
        announce(attr(0x40, 200, b"ab")),
        Reset(3, 2, attr(0x40, 200, b"ab")),
    ),
    "rfc4271-5-unrecognized-optional-transitive-kept": Row(
        "RFC 4271 §5",
        "If an optional transitive attribute is unrecognized ... it is passed on",
        announce(attr(0xC0, 99, b"x")),
        Accept(),
    ),
}


def _decode(row: Row, frame: bytes | None = None) -> Update:
    msg = Codec(row.context).decode(row.frame if frame is None else frame)
    assert isinstance(msg, Update)
    return msg


def _announced(upd: Update) -> tuple[str, ...]:
    return upd.nlri + (upd.mp_reach.nlri if upd.mp_reach is not None else ())


@pytest.mark.parametrize("name", list(ROWS))
def test_rfc7606_row(name: str) -> None:
    row = ROWS[name]
    expect = row.expect
    why = f"{row.rule}: {row.quote}"
    if isinstance(expect, Reset):
        with pytest.raises(MessageError) as info:
            _decode(row)
        err = info.value
        assert (err.code, err.subcode) == (expect.code, expect.subcode), why
        if expect.data is not None:
            assert err.data == expect.data, why
        return
    upd = _decode(row)
    if isinstance(expect, Withdraw):
        assert _announced(upd) == (), why
        assert upd.attributes == PathAttributes(), why
        assert upd.withdrawn == expect.withdrawn, why
        got_mp = upd.mp_unreach.withdrawn if upd.mp_unreach is not None else ()
        assert got_mp == expect.mp_withdrawn, why
        assert any(
            i.action == TAW and (expect.code is None or i.type_code == expect.code)
            for i in upd.issues
        ), why
    elif isinstance(expect, Discard):
        baseline = update(
            withdrawn=NLRI_10_24 if upd.withdrawn else b"",
            attrs=expect.baseline,
            nlri=NLRI_10_24 if upd.nlri else b"",
        )
        clean = _decode(row, baseline)
        assert clean.issues == (), "the baseline itself must be clean"
        assert upd.attributes == clean.attributes, why
        assert _announced(upd) == _announced(clean), why
        assert upd.issues, why
        assert all(i.action == DISCARD for i in upd.issues), why
        assert expect.code in {i.type_code for i in upd.issues}, why
    else:
        assert upd.issues == (), why
        assert _announced(upd) == expect.nlri, why


def test_every_rfc7606_section_has_a_row() -> None:
    """§3 a-j, §4, §5.1-§5.4, §7.1-§7.16 each have at least one row (§6: tests below)."""
    rules = " ".join(row.rule for row in ROWS.values())
    wanted = [f"§3 {c}" for c in "abcdefghij" if c not in "ef"] + ["§4"]
    wanted += [f"§5.{n}" for n in range(1, 5)] + [f"§7.{n}" for n in range(1, 17)]
    # §3 e and §3 f are the per-attribute rows of §7.1-§7.5 and §7.6-§7.7.
    missing = [w for w in wanted if f"RFC 7606 {w}" not in rules and f", {w}" not in rules]
    assert missing == []


# ---- §6 Operational Considerations -----------------------------------------------------------


def test_6_the_malformed_update_is_kept_whole_for_the_log() -> None:
    """RFC 7606 §6: "logging an error listing the NLRI involved and containing the entire
    malformed UPDATE message"."""
    frame = announce(attr(0xC0, 8, b"\x00\x01"))
    upd = Codec().decode(frame)
    assert isinstance(upd, Update)
    from bgpemu.wire.describe import describe_issues

    line = describe_issues(upd)
    assert frame.hex() in line
    assert PREFIX in line
    assert "COMMUNITIES" in line or "8" in line
    assert "treat-as-withdraw" in line


def test_6_a_clean_update_keeps_no_copy() -> None:
    upd = Codec().decode(announce())
    assert isinstance(upd, Update)
    assert upd.raw == b""


def test_6_mp_treat_as_withdraw_lists_mp_nlri() -> None:
    frame = update(attrs=AS_PATH_2 + mp_reach_v6())
    upd = Codec().decode(frame)
    assert isinstance(upd, Update)
    from bgpemu.wire.describe import describe_issues

    assert V6_PREFIX in describe_issues(upd)


# ---- §2 Error-Handling Approaches ---------------------------------------------------------


def test_2_treat_as_withdraw_keeps_add_path_identifiers() -> None:
    """RFC 7606 §2: the routes are withdrawn "just as if they had been listed in the
    WITHDRAWN ROUTES field (or in the MP_UNREACH_NLRI attribute if appropriate)"; with
    ADD-PATH (RFC 7911 §3) that is the same path of the prefix, so its identifier stays."""
    both = frozenset({IPV4_UNICAST, IPV6_UNICAST})
    bad_origin = attr(0x40, 1, b"\x07")
    v6 = mp_reach_v6(nlri=b"\x00\x00\x00\x09" + V6_NLRI)
    frame = update(
        withdrawn=b"\x00\x00\x00\x05" + b"\x18\x0a\x00\x01",
        attrs=bad_origin + AS_PATH_2 + NEXT_HOP + v6,
        nlri=b"\x00\x00\x00\x07" + NLRI_10_24,
    )
    upd = Codec(CodecContext(add_path_receive=both)).decode(frame)
    assert isinstance(upd, Update)
    assert upd.withdrawn == ("10.0.1.0/24", PREFIX)
    assert upd.withdrawn_path_ids == (5, 7)
    assert upd.mp_unreach is not None
    assert (upd.mp_unreach.withdrawn, upd.mp_unreach.path_ids) == ((V6_PREFIX,), (9,))


def test_3d_a_malformed_mandatory_attribute_is_not_also_missing() -> None:
    """RFC 7606 §3 d is about attributes "not present"; a malformed ORIGIN is present
    (§7.1), so the log names one problem, not two."""
    frame = announce(base=attr(0x40, 1, b"\x05") + AS_PATH_2 + NEXT_HOP)
    upd = Codec().decode(frame)
    assert isinstance(upd, Update)
    assert [(i.action, i.type_code) for i in upd.issues] == [(TAW, 1)]
    assert upd.issues[0].reason == "undefined ORIGIN value 5"
