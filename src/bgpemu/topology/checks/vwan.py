"""Virtual WAN: Basic limits, hub route tables, routing configurations, hub BGP peers.

Rules (shared/azure-routing.md): a Basic WAN has S2S VPN only, no ExpressRoute, no P2S,
no custom route tables (§5.1 [VWAN-TYPES], routing features are Standard [VWAN-ROUTING]);
route tables named by a connection exist in its hub, labels exist in the WAN, static
routes point at connections of the hub (§5.3); branch connections associate to
Default and propagate alike (§5.3); an NVA peering with a hub sits in a VNet connected
to that hub (§5.6 [VWAN-BGP]).
"""

from __future__ import annotations

from collections.abc import Iterator

from bgpemu.azure.hubrouting import DEFAULT_TABLE, NONE_TABLE
from bgpemu.azure.learn import see
from bgpemu.azure.model import VWanType
from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.connections import (
    HubBgpConnectionModel,
    HubExpressRouteConnectionModel,
    HubRoutingModel,
    HubVnetConnectionModel,
    HubVpnConnectionModel,
)
from bgpemu.topology.nodes import NvaModel, VWanHubModel, VWanModel

__all__ = ["check_vwan"]


def _hub(index: Index, name: str) -> VWanHubModel | None:
    node = index.nodes.get(name)
    return node if isinstance(node, VWanHubModel) else None


def _basic(index: Index, hub: VWanHubModel) -> bool:
    wan = index.nodes.get(hub.vwan)
    return isinstance(wan, VWanModel) and wan.type is VWanType.BASIC


def check_vwan(index: Index) -> Iterator[Issue]:
    """Every vWAN rule."""
    yield from _basic_limits(index)
    yield from _hub_tables(index)
    yield from _routing(index)
    yield from _branches(index)
    yield from _hub_bgp(index)


def _basic_limits(index: Index) -> Iterator[Issue]:
    hint = f"set type: Standard on the vwan ({see('VWAN-TYPES')})"
    for name, hub in index.of(VWanHubModel):
        if not _basic(index, hub):
            continue
        if hub.p2s:
            yield Issue(("nodes", name, "p2s"), f"{hub.vwan} is a Basic WAN: no P2S", hint)
        if hub.route_tables:
            yield Issue(
                ("nodes", name, "routeTables"),
                f"{hub.vwan} is a Basic WAN: no custom route tables",
                hint,
            )
    for position, connection in index.conns(HubExpressRouteConnectionModel):
        owner = _hub(index, connection.hub)
        if owner is not None and _basic(index, owner):
            yield Issue(
                ("connections", position, "type"),
                f"{owner.vwan} is a Basic WAN: no ExpressRoute connections",
                hint,
            )


def _tables(hub: VWanHubModel) -> list[str]:
    return [DEFAULT_TABLE, NONE_TABLE, *(t.name for t in hub.route_tables)]


def _hub_tables(index: Index) -> Iterator[Issue]:
    """Hub static routes point at connections of this hub; the None table stays empty."""
    connections: dict[str, set[str]] = {}
    for _, connection in index.connections:
        hub = getattr(connection, "hub", None)
        if isinstance(hub, str):
            connections.setdefault(hub, set()).add(connection.effective_name())
    for name, hub in index.of(VWanHubModel):
        own = connections.get(name, set())
        for t, table in enumerate(hub.route_tables):
            if table.name == NONE_TABLE and (table.routes or table.labels):
                yield Issue(
                    ("nodes", name, "routeTables", t, "name"),
                    f"{NONE_TABLE} cannot hold routes or labels",
                    f"propagating to None means propagating nothing ({see('VWAN-ROUTING')})",
                )
            for r, route in enumerate(table.routes):
                if route.next_hop not in own:
                    hint = (
                        f"connections of {name}: {', '.join(sorted(own))}"
                        if own
                        else (f"connect something to {name} first")
                    )
                    yield Issue(
                        ("nodes", name, "routeTables", t, "routes", r, "nextHop"),
                        f"{route.next_hop!r} is not a connection of hub {name}",
                        hint,
                    )


def _routing(index: Index) -> Iterator[Issue]:
    """Associated / propagated tables exist in the hub; labels exist in the WAN (§5.3)."""
    labels: dict[str, set[str]] = {}
    for _, hub in index.of(VWanHubModel):
        known = labels.setdefault(hub.vwan, {"default"})
        for table in hub.route_tables:
            known.update(table.labels)
    for position, connection in index.connections:
        if not isinstance(
            connection,
            HubVnetConnectionModel | HubVpnConnectionModel | HubExpressRouteConnectionModel,
        ):
            continue
        owner = _hub(index, connection.hub)
        if owner is None:
            continue
        tables = _tables(owner)
        config = connection.routing_configuration
        base = ("connections", position, "routingConfiguration")
        hint = f"tables of {connection.hub}: {', '.join(tables)}"
        if config.associated_route_table not in tables:
            yield Issue(
                (*base, "associatedRouteTable"),
                f"hub {connection.hub} has no route table {config.associated_route_table!r}",
                hint,
            )
        propagated = config.propagated_route_tables
        if propagated is None:
            continue
        for n, table_name in enumerate(propagated.names):
            if table_name not in tables:
                yield Issue(
                    (*base, "propagatedRouteTables", "names", n),
                    f"hub {connection.hub} has no route table {table_name!r}",
                    hint + " (names are per hub; use labels to reach other hubs)",
                )
        wan_labels = labels.get(owner.vwan, {"default"})
        for n, label in enumerate(propagated.labels):
            if label not in wan_labels:
                yield Issue(
                    (*base, "propagatedRouteTables", "labels", n),
                    f"no route table of {owner.vwan} carries the label {label!r}",
                    f"labels in {owner.vwan}: {', '.join(sorted(wan_labels))}",
                )


def _propagation(config: HubRoutingModel) -> tuple[frozenset[str], frozenset[str]]:
    propagated = config.propagated_route_tables
    if propagated is None:
        return frozenset({DEFAULT_TABLE}), frozenset({"default"})
    return frozenset(propagated.names), frozenset(propagated.labels)


def _branches(index: Index) -> Iterator[Issue]:
    """Branch connections (VPN, ER) associate to Default and propagate alike (§5.3)."""
    first: dict[str, tuple[int, tuple[frozenset[str], frozenset[str]]]] = {}
    for position, connection in index.connections:
        if not isinstance(connection, HubVpnConnectionModel | HubExpressRouteConnectionModel):
            continue
        config = connection.routing_configuration
        base = ("connections", position, "routingConfiguration")
        if config.associated_route_table != DEFAULT_TABLE:
            yield Issue(
                (*base, "associatedRouteTable"),
                f"a branch connection is associated to {DEFAULT_TABLE}, not "
                f"{config.associated_route_table!r}",
                f"all VPN/ExpressRoute/P2S connections share Default ({see('VWAN-ROUTING')})",
            )
        propagation = _propagation(config)
        if connection.hub not in first:
            first[connection.hub] = (position, propagation)
        elif first[connection.hub][1] != propagation:
            yield Issue(
                (*base, "propagatedRouteTables"),
                f"propagates differently from connections[{first[connection.hub][0]}], another "
                f"branch of {connection.hub}",
                "all branch connections of a hub propagate to the same tables "
                f"({see('VWAN-ROUTING')})",
            )


def _hub_bgp(index: Index) -> Iterator[Issue]:
    """An NVA peering with a hub is in a VNet directly connected to it (§5.6)."""
    connected = {(c.hub, c.vnet) for _, c in index.conns(HubVnetConnectionModel)}
    for position, connection in index.conns(HubBgpConnectionModel):
        nva = index.nodes.get(connection.nva)
        if isinstance(nva, NvaModel) and (connection.hub, nva.vnet) not in connected:
            yield Issue(
                ("connections", position, "nva"),
                f"{connection.nva} is in {nva.vnet}, which has no hub_vnet connection to "
                f"{connection.hub}",
                f"the NVA's VNet must be directly connected to the hub ({see('VWAN-BGP')})",
            )
