"""pack_announce / pack_withdraw: as many prefixes per UPDATE as fit, each exactly once."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import replace

import pytest

from bgpemu.errors import EncodeError
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire import Codec, CodecContext, Framer, MpReach, MpUnreach, PathAttributes, Update

from .factories import BASE_ATTRS

V4 = [f"10.{i >> 8}.{i & 255}.0/24" for i in range(10_000)]
V6 = [str(ipaddress.ip_network(f"2001:db8:{i:x}::/48")) for i in range(10_000)]


def _decode_all(codec: Codec, frames: list[bytes]) -> list[Update]:
    out = []
    for frame in frames:
        msg = codec.decode(frame)
        assert isinstance(msg, Update)
        out.append(msg)
    return out


@pytest.mark.parametrize("extended", [False, True])
@pytest.mark.parametrize("add_path", [False, True])
def test_pack_10000_v4(extended: bool, add_path: bool) -> None:
    fams = frozenset({IPV4_UNICAST}) if add_path else frozenset()
    ctx = CodecContext(extended_message=extended, add_path_send=fams, add_path_receive=fams)
    codec = Codec(ctx)
    ids = list(range(len(V4))) if add_path else None
    frames = codec.pack_announce(IPV4_UNICAST, BASE_ATTRS, V4, path_ids=ids)
    limit = ctx.max_message_size
    attr_len = int.from_bytes(frames[0][21:23], "big")
    per_prefix = 4 + (4 if add_path else 0)
    fit = (limit - 23 - attr_len) // per_prefix
    assert len(frames) == math.ceil(len(V4) / fit)
    assert all(len(f) <= limit for f in frames)
    assert len(frames[0]) == 23 + attr_len + min(fit, len(V4)) * per_prefix
    updates = _decode_all(codec, frames)
    assert [p for u in updates for p in u.nlri] == V4
    if add_path:
        assert [i for u in updates for i in u.nlri_path_ids or ()] == ids
    assert {u.attributes for u in updates} == {BASE_ATTRS}


@pytest.mark.parametrize("extended", [False, True])
def test_pack_10000_v6_with_link_local(extended: bool) -> None:
    ctx = CodecContext(extended_message=extended)
    codec = Codec(ctx)
    attrs = PathAttributes(
        origin=BASE_ATTRS.origin, as_path=BASE_ATTRS.as_path, next_hop="2001:db8::1"
    )
    frames = codec.pack_announce(IPV6_UNICAST, attrs, V6, link_local_next_hop="fe80::1")
    assert all(len(f) <= ctx.max_message_size for f in frames)
    mp_overhead = 4 + 2 + 1 + 1 + 32 + 1  # attribute header, AFI, SAFI, NH len, NH, reserved
    attr_len = int.from_bytes(frames[0][21:23], "big")
    first_nlri = attr_len - mp_overhead - 17  # ORIGIN (4) + AS_PATH (13) follow MP_REACH
    fit = (ctx.max_message_size - 23 - 17 - mp_overhead) // 7  # a /48 is 7 octets
    assert first_nlri == min(fit, len(V6)) * 7
    assert len(frames) == math.ceil(len(V6) / fit)
    updates = _decode_all(codec, frames)
    got: list[str] = []
    for u in updates:
        assert u.mp_reach is not None
        assert u.nlri == ()
        assert u.attributes.next_hop is None  # no NEXT_HOP attribute for IPv6
        assert (u.mp_reach.next_hop, u.mp_reach.link_local_next_hop) == ("2001:db8::1", "fe80::1")
        got += u.mp_reach.nlri
    assert got == V6


@pytest.mark.parametrize(("family", "prefixes"), [(IPV4_UNICAST, V4), (IPV6_UNICAST, V6)])
def test_pack_withdraw(family: Family, prefixes: list[str]) -> None:
    codec = Codec()
    frames = codec.pack_withdraw(family, prefixes)
    assert all(len(f) <= 4096 for f in frames)
    got: list[str] = []
    for u in _decode_all(codec, frames):
        got += (
            u.withdrawn
            if family == IPV4_UNICAST
            else (u.mp_unreach.withdrawn if u.mp_unreach else ())
        )
    assert got == prefixes
    stream = Framer().feed(b"".join(frames))
    assert stream == frames


def test_add_path_requires_path_ids() -> None:
    codec = Codec(CodecContext(add_path_send=frozenset({IPV4_UNICAST})))
    with pytest.raises(EncodeError):
        codec.pack_announce(IPV4_UNICAST, BASE_ATTRS, ["10.0.0.0/8"])
    with pytest.raises(EncodeError):
        codec.pack_withdraw(IPV4_UNICAST, ["10.0.0.0/8"], path_ids=[1, 2])


_V6_REACH = MpReach(family=IPV6_UNICAST, next_hop="2001:db8::1", nlri=("2001:db8:1::/48",))
_V6_UNREACH = MpUnreach(family=IPV6_UNICAST, withdrawn=("2001:db8:1::/48",))


@pytest.mark.parametrize(
    ("update", "family"),
    [
        (Update(attributes=BASE_ATTRS, nlri=("10.0.0.0/8",)), "ipv4-unicast"),
        (Update(withdrawn=("10.0.0.0/8",)), "ipv4-unicast"),
        (Update(attributes=replace(BASE_ATTRS, next_hop=None), mp_reach=_V6_REACH), "ipv6-unicast"),
        (Update(mp_unreach=_V6_UNREACH), "ipv6-unicast"),
    ],
)
def test_an_update_without_the_negotiated_path_ids_names_the_family(
    update: Update, family: str
) -> None:
    """ADD-PATH send (RFC 7911 §3) for both families: a prefix field without its path
    ids cannot be encoded, and the error says for which family they are missing."""
    both = frozenset({IPV4_UNICAST, IPV6_UNICAST})
    with pytest.raises(EncodeError, match=f"ADD-PATH is negotiated for {family}: path ids"):
        Codec(CodecContext(add_path_send=both)).encode(update)
    assert Codec(CodecContext(add_path_send=both)).encode(Update()) == Codec().encode(Update())


def test_path_ids_ignored_when_not_negotiated() -> None:
    frames = Codec().pack_announce(IPV4_UNICAST, BASE_ATTRS, ["10.0.0.0/8"], path_ids=[5])
    assert frames[0].endswith(b"\x08\x0a")


def test_bad_input_is_encode_error() -> None:
    with pytest.raises(EncodeError):
        Codec().pack_announce(IPV4_UNICAST, BASE_ATTRS, ["10.0.0.300/24"])
    with pytest.raises(EncodeError):
        Codec().pack_announce(IPV4_UNICAST, PathAttributes(), ["10.0.0.0/24"])
    assert Codec().pack_withdraw(IPV6_UNICAST, []) == []
