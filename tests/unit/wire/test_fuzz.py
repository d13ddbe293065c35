"""Property tests: generated messages round-trip; garbage only ever yields MessageError."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.errors import MessageError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import (
    Aggregator,
    AsPathSegment,
    Codec,
    CodecContext,
    Framer,
    MpReach,
    MpUnreach,
    Origin,
    PathAttributes,
    SegmentType,
    UnknownAttribute,
    Update,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
u32 = st.integers(0, 2**32 - 1)
asn = st.one_of(st.integers(1, 65535), st.integers(65536, 2**32 - 1))
ipv4 = st.ip_addresses(v=4).map(str)
v4_prefix = st.builds(
    lambda a, n: str(ipaddress.ip_network(f"{a}/{n}", strict=False)),
    st.ip_addresses(v=4),
    st.integers(0, 32),
)
v6_prefix = st.builds(
    lambda a, n: str(ipaddress.ip_network(f"{a}/{n}", strict=False)),
    st.ip_addresses(v=6),
    st.integers(0, 128),
)
segment = st.builds(
    AsPathSegment,
    st.sampled_from([SegmentType.AS_SEQUENCE, SegmentType.AS_SET]),
    st.lists(asn, min_size=1, max_size=8).map(tuple),
)
attributes = st.builds(
    PathAttributes,
    origin=st.sampled_from(Origin),
    as_path=st.lists(segment, max_size=3).map(tuple),
    next_hop=ipv4,
    med=st.none() | u32,
    local_pref=st.none() | u32,
    atomic_aggregate=st.booleans(),
    aggregator=st.none() | st.builds(Aggregator, asn, ipv4),
    communities=st.lists(u32, max_size=5).map(tuple),
    originator_id=st.none() | ipv4,
    cluster_list=st.lists(ipv4, max_size=3).map(tuple),
    extended_communities=st.lists(st.binary(min_size=8, max_size=8), max_size=3).map(tuple),
    large_communities=st.lists(st.tuples(u32, u32, u32), max_size=3).map(tuple),
    unknown=st.lists(
        st.builds(UnknownAttribute, st.just(0xE0), st.integers(40, 60), st.binary(max_size=300)),
        max_size=2,
        unique_by=lambda u: u.type_code,
    ).map(lambda xs: tuple(sorted(xs, key=lambda u: u.type_code))),
)


@st.composite
def updates(draw: st.DrawFn, add_path: bool) -> Update:
    nlri = tuple(draw(st.lists(v4_prefix, max_size=20)))
    withdrawn = tuple(draw(st.lists(v4_prefix, max_size=20)))
    v6 = tuple(draw(st.lists(v6_prefix, max_size=20)))
    v6w = tuple(draw(st.lists(v6_prefix, max_size=20)))

    def ids(items: tuple[str, ...]) -> tuple[int, ...] | None:
        return (
            tuple(draw(st.lists(u32, min_size=len(items), max_size=len(items))))
            if add_path and items
            else None
        )

    mp_reach = None
    if v6:
        mp_reach = MpReach(family=IPV6_UNICAST, next_hop="2001:db8::1", nlri=v6, path_ids=ids(v6))
    return Update(
        withdrawn=withdrawn,
        withdrawn_path_ids=ids(withdrawn),
        attributes=draw(attributes),
        nlri=nlri,
        nlri_path_ids=ids(nlri),
        mp_reach=mp_reach,
        mp_unreach=MpUnreach(family=IPV6_UNICAST, withdrawn=v6w, path_ids=ids(v6w))
        if v6w
        else None,
    )


def _ctx(four: bool, add_path: bool) -> CodecContext:
    fams = frozenset({IPV4_UNICAST, IPV6_UNICAST}) if add_path else frozenset()
    return CodecContext(four_octet_as=four, add_path_send=fams, add_path_receive=fams)


@SETTINGS
@given(st.data(), st.booleans(), st.booleans())
def test_generated_updates_round_trip(data: st.DataObject, four: bool, add_path: bool) -> None:
    update = data.draw(updates(add_path))
    codec = Codec(_ctx(four, add_path))
    wire = codec.encode(update)
    assert codec.decode(wire) == update
    assert codec.encode(codec.decode(wire)) == wire


def _decode(codec: Codec, frame: bytes) -> None:
    """Decode ``frame``: a message, or a MessageError of the decoder's own making (not
    one ``Codec.decode``'s safety net made out of a bug's exception)."""
    try:
        codec.decode(frame)
    except MessageError as exc:
        cause = exc.__cause__
    else:
        return
    assert cause is None, f"the decoder raised {cause!r}"


def _feed(data: bytes, ctx: CodecContext) -> None:
    codec = Codec(ctx)
    framer = Framer()
    try:
        frames = framer.feed(data)
    except MessageError:
        frames = []
    for frame in frames:
        _decode(codec, frame)
    _decode(codec, data)


@SETTINGS
@given(st.binary(max_size=200), st.booleans(), st.booleans())
def test_random_bytes_only_raise_message_error(data: bytes, four: bool, add_path: bool) -> None:
    _feed(b"\xff" * 16 + data, _ctx(four, add_path))
    _feed(data, _ctx(four, add_path))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    add_path = draw(st.booleans())
    frame = bytearray(Codec(_ctx(True, add_path)).encode(draw(updates(add_path))))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "length", "insert"]))
        if not frame:
            break
        pos = draw(st.integers(16, max(16, len(frame) - 1)))
        if kind == "flip" and pos < len(frame):
            frame[pos] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del frame[pos:]
        elif kind == "insert":
            frame[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "length" and len(frame) >= 25:
            # rewrite one of the length fields: header, withdrawn, attribute length
            at = draw(st.sampled_from([16, 19, 21 + int.from_bytes(frame[19:21], "big")]))
            if at + 2 <= len(frame):
                frame[at : at + 2] = draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
    # keep the header length consistent half of the time so the body parsers get exercised
    if draw(st.booleans()) and len(frame) >= 19:
        frame[16:18] = len(frame).to_bytes(2, "big")
    return bytes(frame)


@SETTINGS
@given(mutated(), st.booleans(), st.booleans())
def test_mutated_updates_only_raise_message_error(frame: bytes, four: bool, add_path: bool) -> None:
    _feed(frame, _ctx(four, add_path))
