"""The TCP fuzz harness's oracle (fuzz/tcp/oracle.py) on hand-built messages, one RFC row
each, and its judgements of observed outcomes: each test can fail if a rule is lost.

The messages are built with the harness's own encoder (fuzz/tcp/wire.py), never with
bgpemu.wire, so that the oracle stays independent of the code it judges.
"""

from __future__ import annotations

import struct

import pytest

from fuzz.tcp import wire as w
from fuzz.tcp.judge import judge_down, judge_up
from fuzz.tcp.oracle import Action, Context, Expectation, Phase, judge

PEER_AS, LOCAL_AS = 65101, 65000
FAMILIES = frozenset({(w.AFI_IPV4, 1), (w.AFI_IPV6, 1)})
LEGACY = Context(PEER_AS, LOCAL_AS, False, False, frozenset(), FAMILIES)
FULL = Context(4200000100, LOCAL_AS, True, True, FAMILIES, FAMILIES, True, True)
PREFIX = w.make_prefix("10.17.3.0/24")
V6 = w.make_prefix("2001:db8:11:3::/64")


def _attr(flags: int, code: int, value: bytes) -> bytes:
    return w.attribute(flags, code, value)


def _base(
    ctx: Context = LEGACY, *, origin: bytes = b"\0", path: list[int] | None = None
) -> list[bytes]:
    size = "!I" if ctx.four_octet else "!H"
    asns = path if path is not None else [ctx.peer_as]
    as_path = bytes((2, len(asns))) + b"".join(struct.pack(size, a) for a in asns)
    return [
        _attr(0x40, w.ORIGIN, origin),
        _attr(0x40, w.AS_PATH, as_path),
        _attr(0x40, w.NEXT_HOP, bytes((192, 0, 2, 1))),
    ]


def _update(attrs: list[bytes], nlri: bytes | None = None, withdrawn: bytes = b"") -> bytes:
    nlri = w.prefix_bytes(PREFIX) if nlri is None else nlri
    return w.frame(w.UPDATE, w.update_body(withdrawn, b"".join(attrs), nlri))


def _up(data: bytes, ctx: Context = LEGACY) -> Expectation:
    return judge(data, ctx, Phase.ESTABLISHED)


def test_a_valid_update_is_accepted() -> None:
    exp = _up(_update(_base()))
    assert exp.possible() == {Action.ACCEPT}
    assert [p for p, _ in exp.field_nlri] == [PREFIX]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xfe" + w.keepalive()[1:], (1, 1)),  # RFC 4271 §6.1 marker
        (w.MARKER + struct.pack("!HB", 18, w.KEEPALIVE), (1, 2)),  # length below 19
        (w.frame(w.KEEPALIVE, b"\0"), (1, 2)),  # KEEPALIVE with a body
        (w.frame(9, b""), (1, 3)),  # unknown type
        (w.frame(w.UPDATE, b"\0\0\0\0" + bytes(4100)), (1, 2)),  # RFC 8654: not negotiated
        (w.frame(w.UPDATE, b"\0\x05\0\0"), (3, 1)),  # Withdrawn Routes Length overruns
        (_update(_base(), nlri=b"\x21" + bytes(5)), (3, 10)),  # NLRI /33 (RFC 7606 §5.3)
        (w.frame(w.OPEN, w.open_body(PEER_AS, 0, b"\x0a\0\0\x01", b"")), (5, 3)),  # §8.2.2
    ],
)
def test_session_errors_give_their_notification(data: bytes, code: tuple[int, int]) -> None:
    exp = _up(data)
    assert exp.must_reset()
    assert exp.code_ok(code)
    assert not exp.code_ok((6, 0))


def test_an_extended_update_is_fine_once_negotiated() -> None:
    big = [_attr(0xC0, w.COMMUNITIES, bytes(4 * 1100))]
    data = _update(_base(FULL) + big, nlri=w.prefix_bytes(PREFIX, 1))
    assert len(data) > w.MAX_LEN
    assert _up(data, FULL).possible() == {Action.ACCEPT}
    assert _up(data, LEGACY).must_reset()


@pytest.mark.parametrize(
    ("attrs", "action"),
    [
        (_base(origin=b"\x03"), Action.WITHDRAW),  # RFC 7606 §7.1
        (_base()[1:], Action.WITHDRAW),  # §3 d: ORIGIN missing
        (_base()[:2], Action.WITHDRAW),  # §3 d: NEXT_HOP missing
        ([*_base(), _attr(0x80, w.MED, b"\0\0\0")], Action.WITHDRAW),  # §7.4
        ([*_base(), _attr(0xC0, w.COMMUNITIES, b"\0\0\0")], Action.WITHDRAW),  # §7.8
        ([*_base(), _attr(0x40, w.ATOMIC_AGGREGATE, b"\0")], Action.DISCARD),  # §7.6
        ([*_base(), _attr(0xC0, w.AGGREGATOR, bytes(5))], Action.DISCARD),  # §7.7
        ([*_base(), _attr(0x40, w.LOCAL_PREF, bytes(4))], Action.DISCARD),  # §7.5 eBGP
        ([*_base(), _attr(0x80, w.COMMUNITIES, bytes(4))], Action.WITHDRAW),  # §3 c flags
        ([*_base(), b"\x40\x01"], Action.WITHDRAW),  # §4: header truncated
        ([*_base(), b"\xc0\x08\x09" + bytes(4)], Action.WITHDRAW),  # §4: value overruns
        (_base(path=[PEER_AS, LOCAL_AS]), Action.WITHDRAW),  # RFC 4271 §9.1.2 loop
    ],
)
def test_attribute_rows_of_rfc_7606(attrs: list[bytes], action: Action) -> None:
    assert _up(_update(attrs)).possible() == {action}


def test_a_cut_mp_attribute_is_not_treat_as_withdraw() -> None:
    """RFC 7606 §4 last paragraph: treat-as-withdraw needs the MP NLRI parsed."""
    exp = _up(_update([*_base(), b"\x80\x0e"]))
    assert exp.may_reset()
    assert exp.code_ok((3, 9))


def test_a_repeated_mp_reach_resets_and_other_repeats_are_dropped() -> None:
    mp = _attr(0x80, w.MP_REACH, w.mp_reach(2, 1, bytes(15) + b"\1", w.prefix_bytes(V6)))
    assert _up(_update([mp, mp, *_base()])).possible() == {Action.RESET}
    origin_twice = [*_base(), _attr(0x40, w.ORIGIN, b"\x07")]  # §3 g: the first one counts
    assert _up(_update(origin_twice)).possible() == {Action.ACCEPT}


def test_the_as4_path_rebuild_decides_the_loop() -> None:
    """RFC 6793 §4.2.3: AS_PATH [peer, 23456, 65000] + AS4_PATH [64760, 65269] is
    [peer, 23456, 64760, 65269] and holds no loop; without AS4_PATH it does."""
    attrs = _base(path=[PEER_AS, w.AS_TRANS, w.AS_TRANS, LOCAL_AS])
    as4 = _attr(0xC0, w.AS4_PATH, bytes((2, 2)) + struct.pack("!II", 64760, 65269))
    assert _up(_update([*attrs, as4])).possible() == {Action.ACCEPT}
    assert _up(_update(attrs)).possible() == {Action.WITHDRAW}


def test_unrecognized_attributes() -> None:
    exp = _up(_update([*_base(), _attr(0xC0, 99, b"x")]))
    assert exp.possible() == {Action.ACCEPT}
    assert exp.partial == {99}
    assert _up(_update([*_base(), _attr(0x40, 99, b"x")])).code_ok((3, 2))


def test_no_reachable_nlri_with_a_malformed_attribute_may_reset() -> None:
    """RFC 7606 §5.2."""
    exp = _up(_update(_base(origin=b"\x09"), nlri=b"", withdrawn=w.prefix_bytes(PREFIX)))
    assert exp.may_reset()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (w.open_body(PEER_AS, 90, b"\x0a\0\0\x01", b"", version=3), (2, 1)),
        (w.open_body(PEER_AS + 1, 90, b"\x0a\0\0\x01", b""), (2, 2)),
        (w.open_body(PEER_AS, 90, bytes(4), b""), (2, 3)),
        (w.open_body(PEER_AS, 90, b"\x0a\0\0\x01", b"\x01\x02ab"), (2, 4)),
        (w.open_body(PEER_AS, 2, b"\x0a\0\0\x01", b""), (2, 6)),
    ],
)
def test_open_errors(body: bytes, code: tuple[int, int]) -> None:
    exp = judge(w.frame(w.OPEN, body), LEGACY, Phase.OPEN_SENT)
    assert exp.code_ok(code)


def test_a_valid_open_opens_the_session_and_an_update_first_is_an_fsm_error() -> None:
    caps = [w.cap_mp(1, 1), w.cap_mp(2, 1), w.capability(w.CAP_RR, b"")]
    body = w.open_body(PEER_AS, 90, b"\x0a\0\0\x01", w.cap_param(caps))
    assert judge(w.frame(w.OPEN, body), LEGACY, Phase.OPEN_SENT).opens_session
    exp = judge(_update(_base()), LEGACY, Phase.OPEN_SENT)
    assert exp.code_ok((5, 1))
    assert exp.code_ok((5, 0))


def test_judgements_of_observed_outcomes_fail_when_they_should() -> None:
    withdraw = _up(_update(_base(origin=b"\x03")))
    assert judge_up(withdraw, {})[1] is None
    assert judge_up(withdraw, {PREFIX: {}})[1] is not None  # installed, must not be
    accept = _up(_update(_base()))
    assert judge_up(accept, {PREFIX: {}})[1] is None
    assert judge_up(accept, {})[1] is not None  # not installed, must be
    assert judge_down(accept, "notify:3/1") is not None  # a reset where none is allowed
    reset = _up(w.frame(9, b""))
    assert judge_up(reset, {})[1] is not None  # stayed up, must reset
    assert judge_down(reset, "notify:1/3") is None
    assert judge_down(reset, "notify:1/2") is not None  # the wrong subcode
    unknown = _up(_update([*_base(), _attr(0xC0, 99, b"x")]))
    assert judge_up(unknown, {PREFIX: {99: (0xC0, b"x")}})[1] is not None  # no Partial bit
    assert judge_up(unknown, {PREFIX: {99: (0xE0, b"x")}})[1] is None
    discard = _up(_update([*_base(), _attr(0x40, w.ATOMIC_AGGREGATE, b"\0")]))
    assert judge_up(discard, {PREFIX: {w.ATOMIC_AGGREGATE: (0x40, b"")}})[1] is not None


def test_explain_prints_the_expectation_of_a_reproducer(capsys: pytest.CaptureFixture[str]) -> None:
    from fuzz.tcp.explain import main

    assert main(["--worker", "1", _update(_base(origin=b"\x03")).hex()]) == 0
    out = capsys.readouterr().out
    assert "allowed: ['WITHDRAW']" in out
    assert "RFC 7606 §7.1: ORIGIN" in out
    assert "NLRI field: 10.17.3.0/24" in out


def test_an_optional_error_without_reachable_nlri_may_reset_with_any_update_subcode() -> None:
    """RFC 7606 §5.2 after §3 c: EXTENDED COMMUNITIES with the Optional bit clear is a
    flags error if the speaker recognizes the attribute (treat-as-withdraw), which with
    no reachable NLRI becomes a session reset (found by the long run: 3/4)."""
    ext = _attr(0x40, w.EXT_COMMUNITIES, bytes(8))
    exp = _up(_update([*_base(), ext], nlri=b""))
    assert exp.code_ok((3, 4))
    assert Action.ACCEPT in exp.possible()
