"""What the Azure views look up: nodes, endpoints, snapshots, routes by prefix, resource ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bgpemu.azure.model import Network, Node
from bgpemu.azure.plan import Endpoint, Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.rib.route import RibRoute

__all__ = [
    "SUBSCRIPTION",
    "RibIndex",
    "endpoints",
    "large_communities",
    "node_of",
    "peer_address",
    "resource_id",
    "snapshot_of",
]

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
"""The placeholder subscription id of every resource id the views print."""


def large_communities(route: RibRoute) -> tuple[tuple[int, int, int], ...]:
    """The route's large communities as integer triples (RFC 8092)."""
    found: list[tuple[int, int, int]] = []
    for text in route.large_communities:
        parts = text.split(":")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            found.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return tuple(found)


def node_of(network: Network, name: str, kinds: tuple[type[Node], ...], what: str) -> Node:
    """Node ``name`` if it is one of ``kinds``; KeyError naming it otherwise."""
    try:
        node = network.node(name)
    except KeyError:
        raise KeyError(f"no {what} named {name!r} in network {network.name!r}") from None
    if not isinstance(node, kinds):
        raise KeyError(f"{name!r} is not a {what} (it is a {type(node).__name__})")
    return node


def endpoints(plan: Plan, node: str) -> list[Endpoint]:
    """The endpoints (speakers) of ``node``, by instance."""
    return plan.of_node(node)


def peer_address(plan: Plan, speaker: str | None) -> str | None:
    """The Azure address of speaker ``speaker`` (its name when the plan lacks it)."""
    if speaker is None:
        return None
    endpoint = plan.endpoints.get(speaker)
    return speaker if endpoint is None else endpoint.azure_address


def snapshot_of(snapshots: Mapping[str, RouterSnapshot], endpoint: Endpoint) -> RouterSnapshot:
    """The snapshot of ``endpoint``'s speaker; an empty one when it is missing.

    Decision: a speaker without a snapshot (not running, external) has empty RIBs, so a
    view of a partly running lab still renders.
    """
    found = snapshots.get(endpoint.speaker)
    if found is not None:
        return found
    return RouterSnapshot(name=endpoint.speaker, asn=endpoint.asn, router_id=endpoint.azure_address)


def resource_id(network: Network, *parts: str) -> str:
    """An ARM-like id under ``/subscriptions/<zeros>/resourceGroups/<network>/providers/...``."""
    tail = "/".join(parts)
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{network.name}"
        f"/providers/Microsoft.Network/{tail}"
    )


@dataclass(slots=True)
class RibIndex:
    """A snapshot's Loc-RIB and Adj-RIB-In grouped by prefix."""

    loc: dict[str, list[RibRoute]] = field(default_factory=lambda: defaultdict(list))
    adj_in: dict[str, list[RibRoute]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, snap: RouterSnapshot) -> RibIndex:
        """Index ``snap``; Adj-RIB-In routes get ``peer`` set to their neighbour."""
        index = cls()
        for route in snap.loc_rib:
            index.loc[route.prefix].append(route)
        for peer, routes in snap.adj_rib_in.items():
            for route in routes:
                index.adj_in[route.prefix].append(
                    route if route.peer == peer else replace(route, peer=peer)
                )
        return index

    def prefixes(self) -> set[str]:
        """Every prefix in either table."""
        return set(self.loc) | set(self.adj_in)
