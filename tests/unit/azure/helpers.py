"""Helpers for the azure tests: build networks and plans, converge a Network in the fabric,
read snapshots, run policies."""

from __future__ import annotations

from typing import Any

from bgpemu.azure.model import Announcement, Network, Nva, OnPrem, Peering, Subnet, VNet, VWanHub
from bgpemu.azure.plan import Endpoint, Plan
from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.fabric import Fabric
from bgpemu.policy import Direction, Policy, PolicyContext
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.rib.route import RibRoute
from bgpemu.router.spec import SpeakerSpec
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType

Tables = dict[str, RouterSnapshot]


def converge(network: Network) -> tuple[Plan, Fabric, Tables]:
    """Compile, run the fabric until idle, snapshot every speaker."""
    plan = compile_network(network)
    fabric = Fabric(plan.speakers)
    fabric.run_until_idle()
    return plan, fabric, tables_of(plan, fabric)


def tables_of(plan: Plan, fabric: Fabric) -> Tables:
    """A snapshot of every speaker of ``plan``."""
    return {
        s.name: snapshot(s.name, fabric.router(s.name), fabric.sessions(s.name))
        for s in plan.speakers
    }


def best(table: RouterSnapshot, prefix: str) -> RibRoute | None:
    """The best Loc-RIB path to ``prefix``."""
    return next((r for r in table.loc_rib if r.prefix == prefix and r.best), None)


def multipath(table: RouterSnapshot, prefix: str) -> list[RibRoute]:
    """The Loc-RIB ECMP set of ``prefix``."""
    return [r for r in table.loc_rib if r.prefix == prefix and r.multipath]


def loc_prefixes(table: RouterSnapshot) -> set[str]:
    """Prefixes with a best path."""
    return {r.prefix for r in table.loc_rib if r.best}


def sent(table: RouterSnapshot, peer: str) -> dict[str, RibRoute]:
    """What ``table``'s speaker advertises to ``peer`` (as sent, after rewriting)."""
    return {r.prefix: r for r in table.adj_rib_out.get(peer, ())}


def received(table: RouterSnapshot, peer: str) -> dict[str, RibRoute]:
    """What ``table``'s speaker accepted from ``peer`` (after import policy)."""
    return {r.prefix: r for r in table.adj_rib_in.get(peer, ())}


def established(table: RouterSnapshot) -> dict[str, bool]:
    """Per neighbour: is the session Established?"""
    return {p.peer: p.state == "Established" for p in table.peers}


def spec(plan: Plan, name: str) -> SpeakerSpec:
    """The SpeakerSpec called ``name``."""
    return next(s for s in plan.speakers if s.name == name)


def neighbor_names(plan: Plan, name: str) -> list[str]:
    """Neighbour names of speaker ``name``."""
    return sorted(n.name for n in spec(plan, name).neighbors)


def _peer(plan: Plan, local: str, remote: str) -> PeerInfo:
    remote_end = plan.endpoints[remote]
    return PeerInfo(
        name=remote,
        asn=remote_end.asn,
        router_id=remote_end.azure_address,
        address=remote_end.lab_address,
        local_asn=plan.endpoints[local].asn,
    )


def route(
    prefix: str,
    *asns: int,
    source: PeerInfo = LOCAL,
    med: int | None = None,
    large: tuple[tuple[int, int, int], ...] = (),
) -> Path:
    """A path to ``prefix`` with AS path ``asns`` learned from ``source``."""
    as_path = (AsPathSegment(SegmentType.AS_SEQUENCE, asns),) if asns else ()
    return Path(
        family=IPV4_UNICAST,
        prefix=prefix,
        attributes=PathAttributes(
            origin=Origin.IGP,
            as_path=as_path,
            next_hop="192.0.2.1",
            med=med,
            large_communities=large,
        ),
        source=source,
    )


def from_peer(plan: Plan, local: str, remote: str) -> PeerInfo:
    """The PeerInfo ``local`` has for neighbour ``remote``."""
    return _peer(plan, local, remote)


def apply(plan: Plan, local: str, remote: str, direction: Direction, path: Path) -> Path | None:
    """Run ``local``'s import/export policy for neighbour ``remote`` on ``path``."""
    config = spec(plan, local).router
    policy: Policy | None
    neighbor = config.neighbor(remote)
    policy = neighbor.import_policy if direction is Direction.IMPORT else neighbor.export_policy
    if policy is None:
        return path
    context = PolicyContext(
        direction=direction,
        peer=_peer(plan, local, remote),
        local_asn=config.asn,
        local_router_id=config.router_id,
        local_next_hop_v4=config.next_hop_v4,
    )
    return policy(path, context)


# --- builders -----------------------------------------------------------------------------


def site(name: str, asn: int, address: str, *prefixes: str) -> OnPrem:
    """An on-premises router at ``address`` (also its router id) announcing ``prefixes``."""
    return OnPrem(
        name=name,
        asn=asn,
        bgp_peering_address=address,
        router_id=address,
        prefixes=tuple(Announcement(prefix=p) for p in prefixes),
    )


def nva(
    name: str, address: str, asn: int, *prefixes: str, vnet: str = "hub", **options: Any
) -> Nva:
    """An NVA in ``vnet`` at ``address`` (also its router id) announcing ``prefixes``."""
    return Nva(
        name=name,
        vnet=vnet,
        address=address,
        asn=asn,
        router_id=address,
        prefixes=tuple(Announcement(prefix=p) for p in prefixes),
        **options,
    )


def vnet(name: str, space: str, *peerings: Peering) -> VNet:
    """A VNet of one address space with one subnet ``s`` covering it."""
    return VNet(
        name=name,
        address_space=(space,),
        subnets=(Subnet(name="s", address_prefix=space),),
        peerings=peerings,
    )


def vwan_hub(name: str, third: int, *, vwan: str = "wan", **options: Any) -> VWanHub:
    """A hub of ``vwan`` with address prefix 192.168.<third>.0/24, routers .68 and .69."""
    return VWanHub(
        name=name,
        vwan=vwan,
        address_prefix=f"192.168.{third}.0/24",
        virtual_router_ips=(f"192.168.{third}.68", f"192.168.{third}.69"),
        **options,
    )


def endpoint(
    speaker: str, node: str, role: str, address: str, asn: int, instance: int = 0
) -> Endpoint:
    """A plan endpoint (the views read the Azure address, never the lab address)."""
    return Endpoint(
        speaker=speaker,
        node=node,
        role=role,
        instance=instance,
        azure_address=address,
        lab_address="127.0.0.1",
        asn=asn,
    )


def plan_of(*endpoints: Endpoint) -> Plan:
    """A plan of ``endpoints`` and no speakers, for views over hand-made snapshots."""
    return Plan(speakers=(), endpoints={e.speaker: e for e in endpoints})
