"""Builders for policy tests: paths, peers and contexts."""

from __future__ import annotations

from bgpemu.policy import Direction, PolicyContext
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType

LOCAL_AS = 65001
ROUTER_ID = "10.0.0.1"

EBGP_PEER = PeerInfo(
    name="ext", asn=65002, router_id="10.0.0.2", address="192.0.2.2", local_asn=LOCAL_AS
)
IBGP_PEER = PeerInfo(
    name="int", asn=LOCAL_AS, router_id="10.0.0.3", address="192.0.2.3", local_asn=LOCAL_AS
)
V6_PEER = PeerInfo(
    name="ext6", asn=65004, router_id="10.0.0.4", address="2001:db8::4", local_asn=LOCAL_AS
)


def seq(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SEQUENCE, asns)


def aset(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SET, asns)


def context(
    peer: PeerInfo = EBGP_PEER,
    direction: Direction = Direction.IMPORT,
    *,
    v4: str | None = None,
    v6: str | None = None,
) -> PolicyContext:
    return PolicyContext(
        direction=direction,
        peer=peer,
        local_asn=LOCAL_AS,
        local_router_id=ROUTER_ID,
        local_next_hop_v4=v4,
        local_next_hop_v6=v6,
    )


def path(
    prefix: str = "10.1.0.0/24",
    *,
    as_path: tuple[AsPathSegment, ...] = (),
    communities: tuple[int, ...] = (),
    large: tuple[tuple[int, int, int], ...] = (),
    next_hop: str | None = None,
    source: PeerInfo = EBGP_PEER,
) -> Path:
    ipv6 = ":" in prefix
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=as_path,
        next_hop=next_hop or ("2001:db8::2" if ipv6 else "192.0.2.2"),
        communities=communities,
        large_communities=large,
    )
    return Path(
        family=IPV6_UNICAST if ipv6 else IPV4_UNICAST,
        prefix=prefix,
        attributes=attributes,
        source=source,
    )
