"""Regression tests for the scapy.contrib.bgp traps of shared/deps.md §4."""

from __future__ import annotations

import pytest

from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import AsPathSegment, Capabilities, Codec, CodecContext, Open, SegmentType, Update
from bgpemu.wire._scapy import stock_bgp_module

from .factories import MANDATORY, attr, message, update


def test_default_route_first_is_not_taken_for_add_path() -> None:
    """Trap 2: [0/0, 10.1/16, 10.2/16] must stay three prefixes without ADD-PATH."""
    nlri = b"\x00" + b"\x10\x0a\x01" + b"\x10\x0a\x02"
    upd = Codec().decode(update(attrs=MANDATORY, nlri=nlri))
    assert isinstance(upd, Update)
    assert upd.nlri == ("0.0.0.0/0", "10.1.0.0/16", "10.2.0.0/16")
    assert upd.nlri_path_ids is None


def test_add_path_only_when_negotiated() -> None:
    nlri = b"\x00\x00\x00\x00\x08\x0a"
    ctx = CodecContext(add_path_receive=frozenset({IPV4_UNICAST}))
    upd = Codec(ctx).decode(update(attrs=MANDATORY, nlri=nlri))
    assert isinstance(upd, Update)
    assert (upd.nlri, upd.nlri_path_ids) == (("10.0.0.0/8",), (0,))
    plain = Codec().decode(update(attrs=MANDATORY, nlri=nlri))
    assert isinstance(plain, Update)
    assert plain.nlri == ("0.0.0.0/0",) * 4 + ("10.0.0.0/8",)


def test_many_communities() -> None:
    """Trap 4: COMMUNITIES with many values."""
    values = tuple(range(1, 301))
    comm = attr(0xD0, 8, b"".join(v.to_bytes(4, "big") for v in values))
    upd = Codec().decode(update(attrs=MANDATORY + comm, nlri=b"\x08\x0a"))
    assert isinstance(upd, Update)
    assert upd.attributes.communities == values


@pytest.mark.parametrize("packing", ["one-param", "param-per-cap", "mixed"])
def test_all_capabilities_of_every_parameter(packing: str) -> None:
    """Trap 1: BIRD/GoBGP pack every capability into one optional parameter."""
    caps = [
        b"\x01\x04\x00\x01\x00\x01",
        b"\x01\x04\x00\x02\x00\x01",
        b"\x02\x00",
        b"\x41\x04\xfa\x56\xea\x01",
        b"\x46\x00",
        b"\x49\x05\x04host",
    ]
    if packing == "one-param":
        params = b"\x02" + bytes((sum(map(len, caps)),)) + b"".join(caps)
    elif packing == "param-per-cap":
        params = b"".join(b"\x02" + bytes((len(c),)) + c for c in caps)
    else:
        params = b"\x02\x0c" + caps[0] + caps[1] + b"\x02\x11" + b"".join(caps[2:])
    body = b"\x04\x5b\xa0\x00\xb4\xc0\x00\x02\x01" + bytes((len(params),)) + params
    msg = Codec().decode(message(1, body))
    assert isinstance(msg, Open)
    assert msg.capabilities == Capabilities(
        multiprotocol=(IPV4_UNICAST, IPV6_UNICAST),
        route_refresh=True,
        enhanced_route_refresh=True,
        four_octet_as=4200000001,
        unknown=((73, b"\x04host"),),
    )
    assert msg.asn == 4200000001


@pytest.mark.parametrize("flag", [True, False])
def test_global_asn_switch_is_irrelevant(flag: bool) -> None:
    """The global use_2_bytes_asn switch does not change bgpemu's results."""
    stock = stock_bgp_module()
    saved = stock.bgp_module_conf.use_2_bytes_asn
    path = attr(0x40, 2, b"\x02\x02\x00\x00\xfd\xe9\xfa\x56\xea\x01")
    frame = update(attrs=MANDATORY[:4] + path + MANDATORY[-7:], nlri=b"\x08\x0a")
    try:
        stock.bgp_module_conf.use_2_bytes_asn = flag
        four = Codec().decode(frame)
        two = Codec(CodecContext(four_octet_as=False)).encode(
            Update(attributes=four.attributes)  # type: ignore[union-attr]
        )
    finally:
        stock.bgp_module_conf.use_2_bytes_asn = saved
    assert isinstance(four, Update)
    assert four.attributes.as_path == (AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 4200000001)),)
    assert b"\x40\x02\x06\x02\x02\xfd\xe9\x5b\xa0" in two
