"""Builders for fabric scenarios: nodes on 10.0.0.N, eBGP/iBGP links by node name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

FAMILIES = (IPV4_UNICAST, IPV6_UNICAST)


def v4(prefix: str, **kwargs: object) -> OriginatedRoute:
    """An IPv4 unicast route to originate."""
    return OriginatedRoute(prefix=prefix, family=IPV4_UNICAST, **kwargs)  # type: ignore[arg-type]


@dataclass(slots=True)
class Node:
    """One speaker of a scenario: index N gives address 10.0.0.N and router id 10.255.0.N."""

    name: str
    index: int
    asn: int
    routes: tuple[OriginatedRoute, ...] = ()
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    policies: dict[str, NeighborPolicy] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"10.0.0.{self.index}"

    @property
    def router_id(self) -> str:
        return f"10.255.0.{self.index}"


def build(
    nodes: Sequence[Node], links: Sequence[tuple[str, str]], *, hold_time: int = 90
) -> list[SpeakerSpec]:
    """SpeakerSpecs for ``nodes`` with one session per link (both directions)."""
    by_name = {n.name: n for n in nodes}
    neighbors: dict[str, list[NeighborSpec]] = {n.name: [] for n in nodes}
    for a, b in links:
        for here, there in ((by_name[a], by_name[b]), (by_name[b], by_name[a])):
            session = SessionConfig(
                local_as=here.asn,
                peer_as=there.asn,
                bgp_identifier=here.router_id,
                hold_time=hold_time,
                connect_retry_time=30.0,
                idle_hold_time=5.0,
                families=FAMILIES,
                peer_name=there.name,
            )
            neighbors[here.name].append(
                NeighborSpec(name=there.name, address=there.address, session=session)
            )
    specs = []
    for node in nodes:
        router = RouterConfig(
            asn=node.asn,
            router_id=node.router_id,
            next_hop_v4=node.address,
            next_hop_v6=f"2001:db8::{node.index}",
            routes=node.routes,
            decision=node.decision,
            neighbors=tuple(replace(p, name=peer) for peer, p in sorted(node.policies.items())),
        )
        specs.append(
            SpeakerSpec(
                name=node.name,
                local_address=node.address,
                router=router,
                neighbors=tuple(neighbors[node.name]),
            )
        )
    return specs


def best(table: list[dict[str, object]], prefix: str) -> dict[str, object] | None:
    """The Loc-RIB entry of ``prefix`` in a ``Router.table()``, or None."""
    for entry in table:
        if entry["prefix"] == prefix:
            return entry
    return None
