"""Builders for RIB tests: peers and paths with every decision input explicit."""

from __future__ import annotations

from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType

LOCAL_ASN = 65000
PREFIX = "10.0.0.0/24"


def peer(
    name: str = "p1",
    asn: int = 65001,
    router_id: str = "192.0.2.1",
    address: str = "198.51.100.1",
    local_asn: int = LOCAL_ASN,
) -> PeerInfo:
    """A neighbour; eBGP unless ``asn == local_asn``."""
    return PeerInfo(name=name, asn=asn, router_id=router_id, address=address, local_asn=local_asn)


def seq(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SEQUENCE, asns)


def aset(*asns: int) -> AsPathSegment:
    return AsPathSegment(SegmentType.AS_SET, asns)


def attrs(
    *segments: AsPathSegment,
    origin: Origin | None = Origin.IGP,
    med: int | None = None,
    local_pref: int | None = None,
    next_hop: str = "198.51.100.1",
    originator_id: str | None = None,
) -> PathAttributes:
    return PathAttributes(
        origin=origin,
        as_path=tuple(segments),
        next_hop=next_hop,
        med=med,
        local_pref=local_pref,
        originator_id=originator_id,
    )


def path(
    attributes: PathAttributes | None = None,
    *,
    source: PeerInfo | None = None,
    prefix: str = PREFIX,
    family: Family = IPV4_UNICAST,
    path_id: int = 0,
    weight: int = 0,
    igp_cost: int = 0,
    next_hop_reachable: bool = True,
    arrival: int = 0,
) -> Path:
    """A path from ``source`` (default: peer p1 in AS 65001, AS_PATH 65001)."""
    src = peer() if source is None else source
    if attributes is None:
        attributes = attrs(seq(src.asn)) if src is not LOCAL else attrs()
    return Path(
        family=family,
        prefix=prefix,
        attributes=attributes,
        source=src,
        path_id=path_id,
        weight=weight,
        igp_cost=igp_cost,
        next_hop_reachable=next_hop_reachable,
        arrival=arrival,
    )
