"""encode → decode round trips for every message type and attribute."""

from __future__ import annotations

import pytest

from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import (
    AddPathMode,
    Aggregator,
    AsPathSegment,
    Capabilities,
    Codec,
    CodecContext,
    GracefulRestart,
    Keepalive,
    Message,
    MpReach,
    MpUnreach,
    Notification,
    Open,
    Origin,
    PathAttributes,
    RouteRefresh,
    RouteRefreshSubtype,
    SegmentType,
    UnknownAttribute,
    Update,
    encode_message,
)

from .factories import BASE_ATTRS

SEQ = SegmentType.AS_SEQUENCE
BIG = 4200000001

CONTEXTS = {
    "4-octet": CodecContext(),
    "2-octet": CodecContext(four_octet_as=False),
    "add-path": CodecContext(
        add_path_receive=frozenset({IPV4_UNICAST, IPV6_UNICAST}),
        add_path_send=frozenset({IPV4_UNICAST, IPV6_UNICAST}),
    ),
    "extended": CodecContext(extended_message=True),
}

ATTRIBUTE_SETS = {
    "mandatory": BASE_ATTRS,
    "big-asn-path": PathAttributes(
        origin=Origin.EGP,
        as_path=(
            AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (65100,)),
            AsPathSegment(SEQ, (65001, BIG, 23456)),
            AsPathSegment(SegmentType.AS_SET, (BIG + 1, 7)),
        ),
        next_hop="192.0.2.1",
    ),
    "all-known": PathAttributes(
        origin=Origin.INCOMPLETE,
        as_path=(AsPathSegment(SEQ, (65001,)),),
        next_hop="198.51.100.7",
        med=0,
        local_pref=200,
        atomic_aggregate=True,
        aggregator=Aggregator(65001, "192.0.2.9"),
        communities=(0xFFFF0001, 65001 << 16 | 100),
        originator_id="10.0.0.1",
        cluster_list=("10.0.0.2", "10.0.0.3"),
        extended_communities=(bytes.fromhex("0002fde900000064"),),
        large_communities=((BIG, 1, 2), (65001, 0, 0)),
        unknown=(UnknownAttribute(0xE0, 99, b"opaque"),),
    ),
    "big-aggregator": PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SEQ, (BIG,)),),
        next_hop="192.0.2.1",
        aggregator=Aggregator(BIG, "192.0.2.9"),
    ),
    "extended-length": PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SEQ, tuple(range(64512, 64512 + 100))),),
        next_hop="192.0.2.1",
        communities=tuple(range(100)),
    ),
    "ibgp-empty-path": PathAttributes(origin=Origin.IGP, next_hop="192.0.2.1", local_pref=100),
}


def _updates(ctx: CodecContext) -> dict[str, Update]:
    v4_ids = (1, 2) if IPV4_UNICAST in ctx.add_path_send else None
    v6_ids = (7,) if IPV6_UNICAST in ctx.add_path_send else None
    out = {
        f"v4-{name}": Update(
            attributes=attrs,
            nlri=("10.0.0.0/24", "0.0.0.0/0"),
            nlri_path_ids=v4_ids,
            withdrawn=("10.9.0.0/16", "10.9.128.0/17"),
            withdrawn_path_ids=v4_ids,
        )
        for name, attrs in ATTRIBUTE_SETS.items()
    }
    out["v6-reach-unreach"] = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=(AsPathSegment(SEQ, (65001,)),)),
        mp_reach=MpReach(
            family=IPV6_UNICAST,
            next_hop="2001:db8::1",
            link_local_next_hop="fe80::1",
            nlri=("2001:db8:1::/48",),
            path_ids=v6_ids,
        ),
        mp_unreach=MpUnreach(family=IPV6_UNICAST, withdrawn=("2001:db8:2::/64",), path_ids=v6_ids),
    )
    out["v6-global-only"] = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=(AsPathSegment(SEQ, (65001,)),)),
        mp_reach=MpReach(
            family=IPV6_UNICAST, next_hop="2001:db8::1", nlri=("::/0",), path_ids=v6_ids
        ),
    )
    out["v4-in-mp-reach"] = Update(
        attributes=PathAttributes(origin=Origin.IGP, as_path=(AsPathSegment(SEQ, (65001,)),)),
        mp_reach=MpReach(
            family=IPV4_UNICAST,
            next_hop="192.0.2.1",
            nlri=("10.0.0.0/8",),
            path_ids=v4_ids[:1] if v4_ids else None,
        ),
    )
    out["eor-v4"] = Update.end_of_rib(IPV4_UNICAST)
    out["eor-v6"] = Update.end_of_rib(IPV6_UNICAST)
    return out


def _cases() -> list[tuple[str, CodecContext, Message]]:
    cases: list[tuple[str, CodecContext, Message]] = []
    for cname, ctx in CONTEXTS.items():
        for uname, upd in _updates(ctx).items():
            cases.append((f"{cname}-{uname}", ctx, upd))
    ctx = CodecContext()
    caps = Capabilities(
        multiprotocol=(IPV4_UNICAST, IPV6_UNICAST),
        route_refresh=True,
        enhanced_route_refresh=True,
        four_octet_as=BIG,
        graceful_restart=GracefulRestart(
            restart_state=True, restart_time=120, families=((IPV4_UNICAST, True),)
        ),
        add_path=((IPV4_UNICAST, AddPathMode.BOTH), (IPV6_UNICAST, AddPathMode.RECEIVE)),
        extended_message=True,
        unknown=((73, b"\x04host\x00"),),
    )
    others: list[Message] = [
        Open.for_asn(BIG, 90, "192.0.2.1", caps),
        Open.for_asn(65001, 0, "10.0.0.1", Capabilities()),
        Keepalive(),
        Notification(code=6, subcode=2, data=b"\x05bye!"),
        Notification(code=4, subcode=0),
        RouteRefresh(family=IPV4_UNICAST),
        RouteRefresh(family=IPV6_UNICAST, subtype=RouteRefreshSubtype.BEGIN_OF_RIB),
        RouteRefresh(family=IPV6_UNICAST, subtype=RouteRefreshSubtype.END_OF_RIB),
    ]
    cases += [(f"{type(m).__name__}-{i}", ctx, m) for i, m in enumerate(others)]
    return cases


CASES = _cases()


@pytest.mark.parametrize(("name", "ctx", "msg"), CASES, ids=[c[0] for c in CASES])
def test_round_trip(name: str, ctx: CodecContext, msg: Message) -> None:
    codec = Codec(ctx)
    wire = codec.encode(msg)
    assert codec.decode(wire) == msg
    assert codec.encode(codec.decode(wire)) == wire  # stable bytes
    assert encode_message(msg, ctx) == wire
    assert len(wire) == int.from_bytes(wire[16:18], "big")


def test_two_octet_context_emits_as_trans_and_as4_path() -> None:
    attrs = ATTRIBUTE_SETS["big-aggregator"]
    wire = Codec(CodecContext(four_octet_as=False)).encode(Update(attributes=attrs))
    assert bytes.fromhex("40020402015ba0") in wire  # AS_PATH with AS_TRANS (23456)
    assert bytes.fromhex("c007065ba0c0000209") in wire  # AGGREGATOR with AS_TRANS
    assert bytes.fromhex("c0110602 01fa56ea01".replace(" ", "")) in wire  # AS4_PATH
    assert bytes.fromhex("c01208fa56ea01c0000209") in wire  # AS4_AGGREGATOR
    four = Codec().encode(Update(attributes=attrs))
    assert b"\xc0\x11" not in four
    assert b"\xc0\x12" not in four


def test_extended_length_flag_only_above_255() -> None:
    wire = Codec().encode(Update(attributes=ATTRIBUTE_SETS["extended-length"]))
    assert bytes.fromhex("50020192") in wire  # AS_PATH: 2 + 100*4 = 402 octets
    small = Codec().encode(Update(attributes=BASE_ATTRS))
    assert b"\x50\x02" not in small


def test_attributes_are_in_ascending_type_order() -> None:
    wire = Codec().encode(Update(attributes=ATTRIBUTE_SETS["all-known"], nlri=("10.0.0.0/8",)))
    blen = int.from_bytes(wire[21:23], "big")
    block = wire[23 : 23 + blen]
    codes = []
    pos = 0
    while pos < len(block):
        flags, code = block[pos], block[pos + 1]
        size = int.from_bytes(block[pos + 2 : pos + 4], "big") if flags & 0x10 else block[pos + 2]
        codes.append(code)
        pos += (4 if flags & 0x10 else 3) + size
    assert codes == sorted(codes)
    assert codes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 99]


def test_unknown_optional_transitive_gets_partial_bit() -> None:
    attrs = PathAttributes(unknown=(UnknownAttribute(0xC0, 99, b"x"),))
    wire = Codec().encode(Update(attributes=attrs))
    assert bytes.fromhex("e06301") + b"x" in wire
    decoded = Codec().decode(wire)
    assert isinstance(decoded, Update)
    assert decoded.attributes.unknown == (UnknownAttribute(0xE0, 99, b"x"),)
