"""One test per RFC outcome: session reset (code, subcode, data) or RFC 7606 action."""

from __future__ import annotations

import struct

import pytest

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import (
    Codec,
    CodecContext,
    MpUnreach,
    PathAttributes,
    RouteRefresh,
    Update,
    UpdateIssue,
    UpdateIssueAction,
)

from .factories import (
    AS_PATH_2,
    MANDATORY,
    NEXT_HOP,
    NLRI_10_24,
    ORIGIN_IGP,
    attr,
    message,
    update,
)

TAW = UpdateIssueAction.TREAT_AS_WITHDRAW
DISCARD = UpdateIssueAction.ATTRIBUTE_DISCARD
V6_NLRI = b"\x30\x20\x01\x0d\xb8\x00\x01"  # 2001:db8:1::/48
V6_NH = bytes.fromhex("20010db8000000000000000000000001")


def mp_reach_v6(nlri: bytes = V6_NLRI, nh: bytes = V6_NH) -> bytes:
    return attr(0x80, 14, b"\x00\x02\x01" + bytes((len(nh),)) + nh + b"\x00" + nlri)


def reset(frame: bytes, ctx: CodecContext | None = None) -> MessageError:
    with pytest.raises(MessageError) as info:
        Codec(ctx).decode(frame)
    return info.value


def decode(frame: bytes, ctx: CodecContext | None = None) -> Update:
    msg = Codec(ctx).decode(frame)
    assert isinstance(msg, Update)
    return msg


def assert_withdrawn(upd: Update, code: int) -> None:
    """RFC 7606 §2 treat-as-withdraw: NLRI moved to withdrawn, attributes cleared."""
    assert upd.nlri == ()
    assert upd.withdrawn == ("10.0.0.0/24",)
    assert upd.attributes == PathAttributes()
    assert any(i.action == TAW and i.type_code == code for i in upd.issues)


# --- session reset -------------------------------------------------------------------------


def test_withdrawn_length_overrun_is_3_1() -> None:
    frame = message(2, b"\x00\x10" + b"\x00\x00")
    assert (reset(frame).code, reset(frame).subcode) == (3, 1)


def test_attribute_length_overrun_of_message_is_3_1() -> None:
    frame = message(2, b"\x00\x00\x00\x20" + ORIGIN_IGP)
    assert (reset(frame).code, reset(frame).subcode) == (3, 1)


def test_truncated_attribute_header_without_nlri_is_3_1() -> None:
    """RFC 7606 §4 asks for treat-as-withdraw, and §5.2 for a reset when nothing is
    announced (with NLRI: ``test_rfc7606.py`` rows 4-*)."""
    assert reset(update(attrs=MANDATORY + b"\x40\x01")).subcode == 1


def test_repeated_mp_reach_is_3_1() -> None:
    err = reset(update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6() + mp_reach_v6()))
    assert (err.code, err.subcode) == (3, 1)


def test_repeated_mp_unreach_is_3_1() -> None:
    unreach = attr(0x80, 15, b"\x00\x02\x01" + V6_NLRI)
    assert reset(update(attrs=unreach + unreach)).subcode == 1


@pytest.mark.parametrize(
    "nlri",
    [b"\x21\x0a\x00\x00\x00\x00", b"\x18\x0a\x00", b"\x20\x0a"],
    ids=["len33", "trunc", "t2"],
)
def test_nlri_syntax_error_is_3_10(nlri: bytes) -> None:
    err = reset(update(attrs=MANDATORY, nlri=nlri))
    assert (err.code, err.subcode) == (3, 10)


def test_withdrawn_syntax_error_is_3_10() -> None:
    assert reset(update(withdrawn=b"\x40\x0a")).subcode == 10


def test_add_path_truncated_path_id_is_3_10() -> None:
    ctx = CodecContext(add_path_receive=frozenset({IPV4_UNICAST}))
    assert reset(update(attrs=MANDATORY, nlri=b"\x00\x00\x01"), ctx).subcode == 10


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (b"\x00\x02\x01\x10" + V6_NH + b"\x00" + b"\x81", "prefix length 129"),
        (b"\x00\x02\x01\x10" + V6_NH + b"\x00" + b"\x40\x20\x01", "truncated prefix"),
        (b"\x00\x02\x01\x04\x0a\x00\x00\x01\x00" + V6_NLRI, "v6 next hop length 4"),
        (b"\x00\x02\x01\x30" + V6_NH, "next hop overruns"),
        (b"\x00\x02", "too short"),
        (b"\x00\x01\x01\x10" + V6_NH + b"\x00", "v4 next hop length 16"),
    ],
)
def test_malformed_mp_reach_is_3_9_with_attribute(value: bytes, why: str) -> None:
    mp = attr(0x80, 14, value)
    err = reset(update(attrs=ORIGIN_IGP + AS_PATH_2 + mp))
    assert (err.code, err.subcode, err.data) == (3, 9, mp), why


def test_malformed_mp_unreach_is_3_9() -> None:
    mp = attr(0x80, 15, b"\x00\x02\x01\x90")
    err = reset(update(attrs=mp))
    assert (err.code, err.subcode, err.data) == (3, 9, mp)


@pytest.mark.parametrize(
    ("code", "value", "reason"),
    [
        (14, b"\x00\x02\x01\x10", "MP_REACH_NLRI too short"),
        (15, b"\x00\x02", "MP_UNREACH_NLRI too short"),
        (14, b"\x00\x02\x01\x10" + V6_NH + b"\x00\x81", "MP_REACH_NLRI: "),
        (15, b"\x00\x02\x01\x81", "MP_UNREACH_NLRI: "),
        (14, b"\x00\x02\x01\x10" + V6_NH + b"\x00", "MP_REACH_NLRI attribute flags 0xc0"),
        (15, b"\x00\x02\x01", "MP_UNREACH_NLRI attribute flags 0xc0"),
    ],
)
def test_a_malformed_mp_attribute_is_named_in_the_reason(
    code: int, value: bytes, reason: str
) -> None:
    """RFC 4760 §7 / RFC 7606 §5.3: the reset's reason names the attribute at fault."""
    flags = 0xC0 if "flags" in reason else 0x80
    mp = attr(flags, code, value)
    err = reset(update(attrs=ORIGIN_IGP + AS_PATH_2 + mp))
    assert (err.code, err.subcode, err.data) == (3, 9, mp)
    assert err.reason.startswith(reason)


def test_unrecognized_well_known_is_3_2_with_attribute() -> None:
    weird = attr(0x40, 77, b"ab")
    err = reset(update(attrs=MANDATORY + weird, nlri=NLRI_10_24))
    assert (err.code, err.subcode, err.data) == (3, 2, weird)


# --- treat-as-withdraw ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (attr(0x40, 1, b"\x03"), 1),  # ORIGIN undefined value, RFC 7606 §7.1
        (attr(0x40, 1, b"\x00\x00"), 1),  # ORIGIN length
        (attr(0x40, 2, b"\x05\x01\x00\x00\xfd\xe9"), 2),  # AS_PATH segment type, §7.2
        (attr(0x40, 2, b"\x02\x00"), 2),  # AS_PATH zero-length segment
        (attr(0x40, 2, b"\x02\x02\x00\x00\xfd\xe9"), 2),  # AS_PATH segment overrun
        (attr(0x40, 2, b"\x02\x01\x00\x00\xfd\xe9\x02"), 2),  # AS_PATH underrun
        (attr(0x40, 3, b"\x0a\x00\x00"), 3),  # NEXT_HOP length, §7.3
        (attr(0x80, 4, b"\x00\x00\x00"), 4),  # MED length, §7.4
        (attr(0x40, 5, b"\x00"), 5),  # LOCAL_PREF length, §7.5
        (attr(0xC0, 8, b"\x00\x00\x00"), 8),  # COMMUNITIES length, §7.8
        (attr(0xC0, 8, b""), 8),  # COMMUNITIES empty
        (attr(0x80, 9, b"\x0a"), 9),  # ORIGINATOR_ID length, §7.9
        (attr(0x80, 10, b"\x0a\x00\x00\x01\x00"), 10),  # CLUSTER_LIST length, §7.10
        (attr(0xC0, 16, b"\x00" * 7), 16),  # EXTENDED_COMMUNITIES length, §7.14
        (attr(0xC0, 32, b"\x00" * 8), 32),  # LARGE_COMMUNITY length, RFC 8092 §6
        (attr(0xC0, 4, b"\x00\x00\x00\x01"), 4),  # MED with the transitive bit, §3 c
        (attr(0x80, 5, b"\x00\x00\x00\x64"), 5),  # well-known LOCAL_PREF flagged optional
    ],
)
def test_treat_as_withdraw(bad: bytes, code: int) -> None:
    base = {1: ORIGIN_IGP, 2: AS_PATH_2, 3: NEXT_HOP}
    attrs = b"".join(v for k, v in base.items() if k != code) + bad
    assert_withdrawn(decode(update(attrs=attrs, nlri=NLRI_10_24)), code)


@pytest.mark.parametrize(("missing", "code"), [(ORIGIN_IGP, 1), (AS_PATH_2, 2), (NEXT_HOP, 3)])
def test_missing_well_known_is_treat_as_withdraw(missing: bytes, code: int) -> None:
    attrs = MANDATORY.replace(missing, b"")
    assert_withdrawn(decode(update(attrs=attrs, nlri=NLRI_10_24)), code)


def test_missing_mandatory_without_nlri_is_fine() -> None:
    upd = decode(update(withdrawn=NLRI_10_24, attrs=ORIGIN_IGP))
    assert upd.issues == ()
    assert upd.withdrawn == ("10.0.0.0/24",)


def test_mp_only_update_needs_no_next_hop_but_needs_origin() -> None:
    ok = decode(update(attrs=ORIGIN_IGP + AS_PATH_2 + mp_reach_v6()))
    assert ok.issues == ()
    assert ok.mp_reach is not None
    assert ok.mp_reach.nlri == ("2001:db8:1::/48",)
    bad = decode(update(attrs=AS_PATH_2 + mp_reach_v6()))
    assert bad.mp_reach is None
    assert bad.mp_unreach == MpUnreach(family=IPV6_UNICAST, withdrawn=("2001:db8:1::/48",))
    assert bad.issues == (UpdateIssue(TAW, 1, "missing ORIGIN"),)


def test_treat_as_withdraw_merges_into_existing_mp_unreach() -> None:
    unreach = attr(0x80, 15, b"\x00\x02\x01" + b"\x20\x20\x01\x0d\xb8")
    upd = decode(update(attrs=attr(0x40, 1, b"\x09") + AS_PATH_2 + mp_reach_v6() + unreach))
    assert upd.mp_unreach is not None
    assert upd.mp_unreach.withdrawn == ("2001:db8::/32", "2001:db8:1::/48")


# --- attribute discard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (attr(0x40, 6, b"\x00"), 6),  # ATOMIC_AGGREGATE length, RFC 7606 §7.6
        (attr(0xC0, 7, b"\x00" * 6), 7),  # AGGREGATOR length in a 4-octet session, §7.7
        (attr(0xC0, 17, b"\x02\x00"), 17),  # malformed AS4_PATH, RFC 6793 §6
        (attr(0xC0, 18, b"\x00" * 6), 18),  # AS4_AGGREGATOR length
        (attr(0x40, 17, b"\x02\x01\x00\x00\x00\x01"), 17),  # AS4_PATH flags
    ],
)
def test_attribute_discard(bad: bytes, code: int) -> None:
    ctx = CodecContext(four_octet_as=code not in (17, 18))
    two = ctx.four_octet_as is False
    path = attr(0x40, 2, b"\x02\x02\xfd\xe9\xfd\xea") if two else AS_PATH_2
    upd = decode(update(attrs=ORIGIN_IGP + path + NEXT_HOP + bad, nlri=NLRI_10_24), ctx)
    assert upd.nlri == ("10.0.0.0/24",)
    assert upd.attributes.next_hop == "192.0.2.1"
    assert upd.attributes.aggregator is None
    assert upd.attributes.atomic_aggregate is False
    assert upd.attributes.as_path_asns() == (65001, 65002)
    assert [(i.action, i.type_code) for i in upd.issues] == [(DISCARD, code)]


def test_repeated_attribute_keeps_first() -> None:
    med1 = attr(0x80, 4, struct.pack("!I", 1))
    med2 = attr(0x80, 4, struct.pack("!I", 2))
    upd = decode(update(attrs=MANDATORY + med1 + med2, nlri=NLRI_10_24))
    assert upd.attributes.med == 1
    assert [(i.action, i.type_code) for i in upd.issues] == [(DISCARD, 4)]


def test_strongest_action_wins() -> None:
    bad = attr(0x40, 6, b"\x00") + attr(0x40, 5, b"\x00")
    upd = decode(update(attrs=MANDATORY + bad, nlri=NLRI_10_24))
    assert_withdrawn(upd, 5)
    assert {i.action for i in upd.issues} == {TAW, DISCARD}


def test_unknown_optional_non_transitive_is_dropped() -> None:
    upd = decode(update(attrs=MANDATORY + attr(0x80, 99, b"zz"), nlri=NLRI_10_24))
    assert upd.attributes.unknown == ()
    assert upd.issues == ()


def test_as4_path_from_four_octet_peer_is_ignored() -> None:
    as4 = attr(0xC0, 17, b"\x02\x01\xfa\x56\xea\x01")
    upd = decode(update(attrs=MANDATORY + as4, nlri=NLRI_10_24))
    assert upd.attributes.as_path_asns() == (65001, 65002)


def test_as4_path_merge_with_prepending_old_speaker() -> None:
    """RFC 6793 §4.2.3: AS_PATH 65010 23456 65001 + AS4_PATH BIG 65001 → 65010 BIG 65001."""
    path = attr(0x40, 2, b"\x02\x03" + struct.pack("!HHH", 65010, 23456, 65001))
    as4 = attr(0xC0, 17, b"\x02\x02" + struct.pack("!II", 4200000001, 65001))
    ctx = CodecContext(four_octet_as=False)
    upd = decode(update(attrs=ORIGIN_IGP + path + NEXT_HOP + as4, nlri=NLRI_10_24), ctx)
    assert upd.attributes.as_path_asns() == (65010, 4200000001, 65001)
    assert len(upd.attributes.as_path) == 1


def test_as4_path_longer_than_as_path_is_ignored() -> None:
    path = attr(0x40, 2, b"\x02\x01" + struct.pack("!H", 23456))
    as4 = attr(0xC0, 17, b"\x02\x02" + struct.pack("!II", 4200000001, 65001))
    ctx = CodecContext(four_octet_as=False)
    upd = decode(update(attrs=ORIGIN_IGP + path + NEXT_HOP + as4, nlri=NLRI_10_24), ctx)
    assert upd.attributes.as_path_asns() == (23456,)


def test_non_trans_aggregator_disables_as4_attributes() -> None:
    path = attr(0x40, 2, b"\x02\x01" + struct.pack("!H", 23456))
    agg = attr(0xC0, 7, struct.pack("!H", 65005) + bytes(4))
    as4 = attr(0xC0, 17, b"\x02\x01" + struct.pack("!I", 4200000001))
    as4agg = attr(0xC0, 18, struct.pack("!I", 4200000002) + bytes(4))
    ctx = CodecContext(four_octet_as=False)
    frame = update(attrs=ORIGIN_IGP + path + NEXT_HOP + agg + as4 + as4agg, nlri=NLRI_10_24)
    upd = decode(frame, ctx)
    assert upd.attributes.as_path_asns() == (23456,)
    assert upd.attributes.aggregator is not None
    assert upd.attributes.aggregator.asn == 65005


def test_unsupported_mp_family_is_discarded() -> None:
    mp = attr(0x80, 14, b"\x00\x19\x46\x04\x0a\x00\x00\x01\x00\x00")
    upd = decode(update(attrs=ORIGIN_IGP + AS_PATH_2 + mp))
    assert upd.mp_reach is None
    assert [(i.action, i.type_code) for i in upd.issues] == [(DISCARD, 14)]


# --- OPEN, NOTIFICATION, ROUTE-REFRESH, header --------------------------------------------


def _open(params: bytes) -> bytes:
    return message(1, b"\x04\xfd\xe9\x00\x5a\x0a\x00\x00\x01" + bytes((len(params),)) + params)


def test_unsupported_optional_parameter_is_2_4() -> None:
    err = reset(_open(b"\x01\x01\x00"))
    assert (err.code, err.subcode) == (2, 4)


@pytest.mark.parametrize(
    "params",
    [
        b"\x02\x05\x41\x04\x00\x00",  # capability overruns its parameter
        b"\x02\x03\x41\x04",  # truncated capability
        b"\x02\x04\x41\x02\x00\x01",  # 4-octet AS of length 2
        b"\x02\x07\x01\x04\x00\x01",  # parameter overruns the OPEN
        b"\x02",  # truncated parameter header
    ],
)
def test_malformed_capabilities_are_2_0(params: bytes) -> None:
    err = reset(_open(params))
    assert (err.code, err.subcode) == (2, 0)


def test_open_param_length_mismatch_is_2_0() -> None:
    frame = message(1, b"\x04\xfd\xe9\x00\x5a\x0a\x00\x00\x01\x05\x02\x00")
    assert (reset(frame).code, reset(frame).subcode) == (2, 0)


def test_codec_checks_header_itself() -> None:
    assert reset(b"\xff" * 16 + b"\x00\x13\x04" + b"x").subcode == 2  # length != frame
    assert reset(b"\xff" * 10).subcode == 2
    assert reset(b"\x00" * 19).subcode == 1


def test_route_refresh_wrong_length_in_codec_is_7_1() -> None:
    bad = message(5, b"\x00\x01\x00\x01\x00\x00")
    err = reset(bad)
    assert (err.code, err.subcode, err.data) == (7, 1, bad)


def test_route_refresh_unknown_family_and_subtype_are_passed_up_raw() -> None:
    msg = Codec().decode(message(5, b"\x40\x04\x07\x46"))
    assert isinstance(msg, RouteRefresh)
    assert tuple(msg.family) == (16388, 70)
    assert int(msg.subtype) == 7
