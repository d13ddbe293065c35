"""Golden vectors: hand-built RFC examples both ways, and captured BIRD/GoBGP frames."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import (
    AddPathMode,
    AsPathSegment,
    Capabilities,
    Codec,
    CodecContext,
    Keepalive,
    Message,
    MpReach,
    Notification,
    Open,
    Origin,
    PathAttributes,
    RouteRefresh,
    RouteRefreshSubtype,
    SegmentType,
    Update,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "wire"
SEQ = SegmentType.AS_SEQUENCE
MANDATORY = PathAttributes(
    origin=Origin.IGP, as_path=(AsPathSegment(SEQ, (65001, 65002)),), next_hop="192.0.2.1"
)
V4_AP = frozenset({IPV4_UNICAST})

EXPECTED: dict[str, tuple[CodecContext, Message]] = {
    "keepalive": (CodecContext(), Keepalive()),
    "open-4octet-as": (
        CodecContext(),
        Open(
            my_as=23456,
            hold_time=90,
            bgp_identifier="192.0.2.1",
            capabilities=Capabilities(
                multiprotocol=(IPV4_UNICAST, IPV6_UNICAST),
                route_refresh=True,
                four_octet_as=4200000001,
            ),
        ),
    ),
    "update-ipv4": (
        CodecContext(),
        Update(
            withdrawn=("10.9.0.0/16",),
            attributes=PathAttributes(
                origin=Origin.IGP,
                as_path=(AsPathSegment(SEQ, (65001, 65002)),),
                next_hop="192.0.2.1",
                med=100,
                communities=(65001 << 16 | 100,),
            ),
            nlri=("10.0.0.0/24", "0.0.0.0/0"),
        ),
    ),
    "update-ipv6-mp-reach": (
        CodecContext(),
        Update(
            attributes=PathAttributes(origin=Origin.IGP, as_path=(AsPathSegment(SEQ, (65001,)),)),
            mp_reach=MpReach(
                family=IPV6_UNICAST,
                next_hop="2001:db8::1",
                link_local_next_hop="fe80::1",
                nlri=("2001:db8:1::/48",),
            ),
        ),
    ),
    "end-of-rib-ipv4": (CodecContext(), Update.end_of_rib(IPV4_UNICAST)),
    "end-of-rib-ipv6": (CodecContext(), Update.end_of_rib(IPV6_UNICAST)),
    "notification-cease-shutdown": (
        CodecContext(),
        Notification(code=6, subcode=2, data=b"\x03bye"),
    ),
    "route-refresh-ipv6": (CodecContext(), RouteRefresh(family=IPV6_UNICAST)),
    "route-refresh-borr-ipv4": (
        CodecContext(),
        RouteRefresh(family=IPV4_UNICAST, subtype=RouteRefreshSubtype.BEGIN_OF_RIB),
    ),
    "update-2octet-as4-path": (
        CodecContext(four_octet_as=False),
        Update(
            attributes=PathAttributes(
                origin=Origin.IGP,
                as_path=(AsPathSegment(SEQ, (65001, 4200000001)),),
                next_hop="192.0.2.1",
            ),
            nlri=("10.0.0.0/8",),
        ),
    ),
    "update-add-path-ipv4": (
        CodecContext(add_path_receive=V4_AP, add_path_send=V4_AP),
        Update(attributes=MANDATORY, nlri=("10.0.0.0/24", "10.0.0.0/24"), nlri_path_ids=(1, 2)),
    ),
}


def _hex(path: Path) -> bytes:
    return bytes.fromhex("".join(path.read_text().split()))


def test_every_handbuilt_file_has_an_expectation() -> None:
    files = {p.stem for p in (DATA / "handbuilt").glob("*.hex")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_handbuilt_both_ways(name: str) -> None:
    ctx, expected = EXPECTED[name]
    wire = _hex(DATA / "handbuilt" / f"{name}.hex")
    codec = Codec(ctx)
    assert codec.decode(wire) == expected
    assert codec.encode(expected) == wire


CAPTURED = sorted((DATA / "captured").glob("*.hex"))
BOTH = frozenset({IPV4_UNICAST, IPV6_UNICAST})
# Files whose sender's encoding is the canonical one bgpemu produces (attributes in ascending
# order, MP attribute first, Extended Length only when needed): re-encoding is byte-exact.
# Not in the list: OPENs (capability order), GoBGP UPDATEs with NEXT_HOP / MP_REACH last, and
# BIRD's IPv6 UPDATE (Extended Length flag on a 28-octet MP_REACH_NLRI).
BYTE_EXACT = {
    "bird_eor_ipv4",
    "bird_eor_ipv6",
    "bird_keepalive",
    "bird_notification_cease",
    "bird_route_refresh",
    "bird_route_refresh_ipv6",
    "bird_update_ipv4",
    "gobgp_eor_ipv4",
    "gobgp_eor_ipv6",
    "gobgp_keepalive",
    "gobgp_notification",
    "gobgp_update_extcommunity",
    "gobgp_update_ipv4_addpath",
    "gobgp_update_ipv4_addpath_2",
    "gobgp_update_ipv4_best",
}


def _captured_context(name: str) -> CodecContext:
    if "addpath" in name:
        return CodecContext(add_path_receive=BOTH, add_path_send=BOTH)
    return CodecContext()


def _check_values(name: str, msg: Message) -> None:
    """A few values per file, as tests/data/wire/captured/README.md describes them."""
    if name == "bird_open":
        assert isinstance(msg, Open)
        assert (msg.my_as, msg.hold_time, msg.bgp_identifier) == (23456, 90, "127.0.0.63")
        caps = msg.capabilities
        assert caps.multiprotocol == (IPV4_UNICAST, IPV6_UNICAST)
        assert caps.route_refresh
        assert caps.enhanced_route_refresh
        assert caps.four_octet_as == 4200000063
        assert msg.asn == 4200000063
        assert caps.graceful_restart is not None
        assert caps.graceful_restart.restart_time == 120
        assert caps.unknown == ((71, b""),)
    elif name.startswith("gobgp_open"):
        assert isinstance(msg, Open)
        assert msg.asn == 4200000064
        assert msg.bgp_identifier == "127.0.0.64"
        assert dict(msg.capabilities.unknown) == {
            5: bytes.fromhex("000100010002"),
            73: b"\x02vm\x00",
        }
        if name == "gobgp_open":
            assert msg.capabilities.add_path == (
                (IPV4_UNICAST, AddPathMode.BOTH),
                (IPV6_UNICAST, AddPathMode.BOTH),
            )
        else:
            gr = msg.capabilities.graceful_restart
            assert gr is not None
            assert gr.families == ((IPV4_UNICAST, False), (IPV6_UNICAST, False))
    elif name == "bird_update_ipv4":
        assert isinstance(msg, Update)
        a = msg.attributes
        assert msg.nlri == ("10.63.1.0/24", "10.63.2.0/24", "10.63.3.0/24")
        assert (a.as_path_asns(), a.next_hop, a.med) == ((4200000063,), "192.0.2.2", 50)
        assert a.communities == (65063 << 16 | 1, 65063 << 16 | 2)
        assert a.large_communities == ((4200000063, 7, 8),)
    elif name == "bird_update_ipv6":
        assert isinstance(msg, Update)
        assert msg.mp_reach is not None
        assert msg.mp_reach.nlri == ("2001:db8:63::/48",)
        assert (msg.mp_reach.next_hop, msg.mp_reach.link_local_next_hop) == ("2001:db8::2", None)
    elif name == "gobgp_update_ipv4":
        assert isinstance(msg, Update)
        assert msg.attributes.as_path_asns() == (4200000064, 65001, 65002)
        assert msg.attributes.next_hop == "192.0.2.4"
        assert msg.nlri == ("10.64.1.0/24", "10.64.2.0/24")
    elif name == "gobgp_update_extcommunity":
        assert isinstance(msg, Update)
        assert msg.attributes.extended_communities == (bytes.fromhex("0002fe2800000064"),)
    elif name.startswith("gobgp_update_ipv4_addpath"):
        assert isinstance(msg, Update)
        assert msg.nlri == ("10.64.9.0/24",)
        assert msg.nlri_path_ids == ((2,) if name.endswith("addpath") else (1,))
    elif name == "gobgp_update_ipv6_addpath":
        assert isinstance(msg, Update)
        assert msg.mp_reach is not None
        assert (msg.mp_reach.nlri, msg.mp_reach.path_ids) == (("2001:db8:64::/48",), (1,))
    elif name.endswith("eor_ipv4"):
        assert isinstance(msg, Update)
        assert msg.end_of_rib_family == IPV4_UNICAST
    elif name.endswith("eor_ipv6"):
        assert isinstance(msg, Update)
        assert msg.end_of_rib_family == IPV6_UNICAST
    elif "notification" in name:
        assert msg == Notification(code=6, subcode=2, data=b"\x0ebgpemu capture")
    elif name == "bird_route_refresh_ipv6":
        assert msg == RouteRefresh(family=IPV6_UNICAST)
    elif name == "bird_route_refresh":
        assert msg == RouteRefresh(family=IPV4_UNICAST)
    elif name.endswith("keepalive"):
        assert msg == Keepalive()


@pytest.mark.skipif(not CAPTURED, reason="no captured frames yet (tests/data/wire/captured)")
@pytest.mark.parametrize("path", CAPTURED, ids=[p.stem for p in CAPTURED])
def test_captured_frames(path: Path) -> None:
    codec = Codec(_captured_context(path.stem))
    frame = _hex(path)
    msg = codec.decode(frame)
    assert not isinstance(msg, Update) or msg.issues == ()
    _check_values(path.stem, msg)
    wire = codec.encode(msg)
    assert codec.decode(wire) == msg
    if path.stem in BYTE_EXACT:
        assert wire == frame
