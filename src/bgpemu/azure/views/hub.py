"""``az network vhub get-effective-routes``: one route table of a vWAN hub (§5.3-§5.5).

Theory of operation.  The hub router is one speaker (its gateways are folded in) and
keeps one global Loc-RIB, but Azure selects per route table.  The candidates for table
T of hub H are therefore every path the hub speaker holds (Loc-RIB best/multipath and
every Adj-RIB-In path) whose connection tag (:mod:`bgpemu.azure.hubrouting`) propagates
to T, plus T's static routes.  Selection per prefix follows §5.5 [VWAN-HRP]: static over
BGP, then the hub routing preference, then ECMP over what remains.

Resource ids (decision, ARM-like):

* VNet connection: ``virtualHubs/<hub>/hubVirtualNetworkConnections/<conn>`` (next hop
  and origin);
* VPN site: next hop ``vpnGateways/<hub>-vpngw``, origin
  ``vpnGateways/<hub>-vpngw/vpnConnections/<conn>``;
* ExpressRoute: next hop ``expressRouteGateways/<hub>-ergw``, origin
  ``expressRouteGateways/<hub>-ergw/expressRouteConnections/<conn>``;
* NVA BGP peering: ``virtualHubs/<hub>/bgpConnections/<conn>``;
* P2S pool: ``p2sVpnGateways/<hub>-p2sgw`` (origin: ``.../p2sVpnGateways/<hub>-p2sgw``);
* remote hub: ``virtualHubs/<remote hub>`` (next hop and origin);
* static route: next hop = the id of the connection it names, origin
  ``virtualHubs/<hub>/hubRouteTables/<table>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from bgpemu.azure.hubrouting import (
    DEFAULT_TABLE,
    HubConnection,
    connection_of_tag,
    hub_connections,
    propagates_to,
    route_tables,
)
from bgpemu.azure.model import (
    Connection,
    HubBgpConnection,
    HubExpressRouteConnection,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    RoutingPreference,
    VWanHub,
)
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._gateway_route import GatewayRoute, SourceKind
from bgpemu.azure.views._lookup import (
    endpoints,
    large_communities,
    node_of,
    resource_id,
    snapshot_of,
)
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.rib.route import RibRoute, as_path_text
from bgpemu.types import PrefixKeys

__all__ = [
    "VNET_CONNECTION",
    "HubCandidate",
    "HubTables",
    "Kind",
    "hub_routes",
    "render_table",
    "table_rows",
]

VNET_CONNECTION = "Virtual Network Connection"
"""The next hop type of a hub VNet connection's routes, as az prints it ([AZ-vhub])."""


class Kind(Enum):
    """Where a hub route comes from, as hub routing preference sees it."""

    EXPRESS_ROUTE = "ExpressRoute"
    VPN = "VPN"
    """A VPN site, an NVA BGP peering or a P2S pool: the "VPN" side of HRP (§5.5, §6.5)."""
    VNET = "VNet"
    STATIC = "Static"


@dataclass(frozen=True, slots=True, kw_only=True)
class HubCandidate:
    """One candidate route of a hub route table."""

    prefix: str
    kind: Kind
    local: bool
    """Learned in this hub (False: from a remote hub over the inter-hub mesh)."""
    as_path: tuple[int, ...]
    next_hop: str
    next_hop_type: str
    origin: str
    routing_weight: int = 0
    """Connection routing weight of a local ExpressRoute connection (§4.4, §5.5)."""


def hub_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    hub: str,
    route_table: str = DEFAULT_TABLE,
    shared: HubTables | None = None,
) -> dict[str, Any]:
    """The effective routes of ``route_table`` of ``hub`` (§5.3-§5.5, [AZ-vhub]).

    ``shared``: what the other tables of the same report have worked out over the same
    snapshots (the hub's paths, the prefixes' sort keys; :meth:`HubTables.routes` passes
    itself), else worked out here.  KeyError when the hub or the table does not exist.
    """
    node = node_of(network, hub, (VWanHub,), "vWAN hub")
    assert isinstance(node, VWanHub)
    if route_table not in route_tables(node):
        raise KeyError(f"hub {hub!r} has no route table {route_table!r}")
    if shared is None:
        shared = HubTables(network, plan, snapshots)
    by_prefix: dict[str, list[HubCandidate]] = defaultdict(list)
    for candidate in _candidates(network, plan, node, route_table, shared.paths(node)):
        by_prefix[candidate.prefix].append(candidate)
    value: list[dict[str, Any]] = []
    as_paths: dict[tuple[int, ...], str] = {}  # the text of each AS path, made once
    for prefix in sorted(by_prefix, key=shared.prefix_keys.__getitem__):
        chosen = select(by_prefix[prefix], node.hub_routing_preference)
        first = chosen[0]
        as_path = as_paths.get(first.as_path)
        if as_path is None:
            as_path = as_paths[first.as_path] = as_path_text(first.as_path)
        row: dict[str, Any] = {"addressPrefixes": [prefix]}
        if as_path or first.next_hop_type != VNET_CONNECTION:
            # az omits asPath on a VNet connection's own routes (tests/data/az).
            row["asPath"] = as_path
        row["nextHopType"] = first.next_hop_type
        row["nextHops"] = (
            [first.next_hop]
            if len(chosen) == 1
            else list(dict.fromkeys(c.next_hop for c in chosen))
        )
        row["routeOrigin"] = first.origin
        value.append(row)
    return {"value": value}


class HubTables:
    """:func:`hub_routes` of each (hub, route table) of one converged network, and what
    they share, computed when first asked and then kept.

    A hub's table is read by the effective routes of every VNet associated with it
    (§5.3) and printed in the report: one object per report (or per set of queries
    over the same snapshots) computes each once, and with it what several views read:
    each hub's paths (:meth:`paths`), the routes a table programs into its VNets
    (:meth:`programmed`) and every prefix's sort key (:attr:`prefix_keys`).  No module
    state: the owner creates it and drops it.  The values returned are shared: read
    them, do not change them.
    """

    __slots__ = (
        "_network",
        "_paths",
        "_plan",
        "_programmed",
        "_snapshots",
        "_tables",
        "prefix_keys",
    )

    def __init__(
        self, network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot]
    ) -> None:
        self._network = network
        self._plan = plan
        self._snapshots = snapshots
        self._tables: dict[tuple[str, str], dict[str, Any]] = {}
        self._paths: dict[str, list[RibRoute]] = {}
        self._programmed: dict[tuple[str, str], tuple[GatewayRoute, ...]] = {}
        self.prefix_keys = PrefixKeys()
        """Prefix -> :func:`~bgpemu.types.prefix_key`, for every view of the report."""

    def routes(self, hub: str, route_table: str = DEFAULT_TABLE) -> dict[str, Any]:
        """:func:`hub_routes` of ``route_table`` of ``hub`` (the same object each time)."""
        key = (hub, route_table)
        view = self._tables.get(key)
        if view is None:
            view = hub_routes(self._network, self._plan, self._snapshots, hub, route_table, self)
            self._tables[key] = view
        return view

    def paths(self, hub: VWanHub) -> list[RibRoute]:
        """The paths of ``hub``'s speaker every table of it chooses from (:func:`_paths`;
        none without a speaker)."""
        found = self._paths.get(hub.name)
        if found is None:
            found = self._paths[hub.name] = [
                route
                for endpoint in endpoints(self._plan, hub.name)[:1]
                for route in _paths(snapshot_of(self._snapshots, endpoint))
            ]
        return found

    def programmed(self, hub: VWanHub, route_table: str) -> tuple[GatewayRoute, ...]:
        """The routes ``route_table`` of ``hub`` programs into a VNet associated with it,
        in the table's order, before the VNet's own filters (its address space, 0/0
        without internet security, §5.3 [VWAN-ROUTING]): next hops the hub's router
        IPs, the AS path's length as the view prints it."""
        key = (hub.name, route_table)
        found = self._programmed.get(key)
        if found is None:
            hops = tuple(hub.virtual_router_ips)
            found = self._programmed[key] = tuple(
                GatewayRoute(
                    prefix=prefix,
                    kind=SourceKind.HUB,
                    as_path_length=len(item["asPath"].split("-")) if item.get("asPath") else 0,
                    next_hops=hops,
                )
                for item in self.routes(hub.name, route_table)["value"]
                for prefix in item["addressPrefixes"]
            )
        return found


def hub_candidates(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    hub: VWanHub,
    table: str,
) -> list[HubCandidate]:
    """Every candidate of ``table``: propagated BGP paths plus the table's static routes."""
    return _candidates(network, plan, hub, table, HubTables(network, plan, snapshots).paths(hub))


def _candidates(
    network: Network, plan: Plan, hub: VWanHub, table: str, paths: list[RibRoute]
) -> list[HubCandidate]:
    """:func:`hub_candidates` from the hub's ``paths`` (:meth:`HubTables.paths`)."""
    found: list[HubCandidate] = []
    sources: dict[tuple[str | None, tuple[str, ...]], _Source | None] = {}
    for route in paths:
        candidate = _from_path(network, plan, hub, table, route, sources)
        if candidate is not None:
            found.append(candidate)
    found.extend(_statics(network, hub, table))
    return found


def _paths(snap: RouterSnapshot) -> list[RibRoute]:
    """Loc-RIB and Adj-RIB-In paths, each once (the per-table best can differ, §5.5)."""
    seen: dict[tuple[object, ...], RibRoute] = {}
    routes = list(snap.loc_rib)
    for peer, paths in snap.adj_rib_in.items():
        routes.extend(p if p.peer == peer else replace(p, peer=peer) for p in paths)
    for route in routes:
        key = (route.prefix, route.peer, route.as_path, route.next_hop, route.large_communities)
        seen.setdefault(key, route)
    return list(seen.values())


def _p2s_pool(network: Network, prefix: str) -> VWanHub | None:
    for hub in network.of_type(VWanHub):
        for config in hub.p2s:
            if prefix in config.address_pools:
                return hub
    return None


_Source = tuple[Kind, bool, str, str, str, int]
"""What a path's neighbour and tag make of it: kind, local, next hop, nextHopType,
origin, routing weight (everything of a :class:`HubCandidate` but prefix and AS path)."""

_UNTAGGED: _Source = (Kind.VPN, False, "", "", "", -1)
"""Marks an untagged path's source: it depends on the prefix (a P2S pool or nothing)."""


def _from_path(
    network: Network,
    plan: Plan,
    hub: VWanHub,
    table: str,
    route: RibRoute,
    sources: dict[tuple[str | None, tuple[str, ...]], _Source | None],
) -> HubCandidate | None:
    """The candidate ``route`` makes in ``table``, or None; ``sources`` keeps what its
    neighbour and large communities make of a path (a hub's 10,000 paths come from a
    few dozen of those), so each is worked out once per table."""
    key = (route.peer, route.large_communities)
    try:
        source = sources[key]
    except KeyError:
        source = sources[key] = _tagged_source(network, plan, hub, table, route)
    if source is _UNTAGGED:
        source = _untagged_source(network, plan, hub, table, route)
    if source is None:
        return None
    kind, local, next_hop, next_hop_type, origin, routing_weight = source
    return HubCandidate(
        prefix=route.prefix,
        kind=kind,
        local=local,
        as_path=route.as_path,
        next_hop=next_hop,
        next_hop_type=next_hop_type,
        origin=origin,
        routing_weight=routing_weight,
    )


def _tagged_source(
    network: Network, plan: Plan, hub: VWanHub, table: str, route: RibRoute
) -> _Source | None:
    """The source of a path with a connection tag, None if it does not reach ``table``,
    or :data:`_UNTAGGED` (the path has no tag)."""
    connection = connection_of_tag(network, large_communities(route))
    if connection is None:
        return _UNTAGGED
    if not isinstance(
        connection,
        HubVnetConnection | HubVpnConnection | HubExpressRouteConnection | HubBgpConnection,
    ) or not propagates_to(network, connection, hub, table):
        return None
    kind, next_hop, next_hop_type, origin = describe(network, connection)
    routing_weight = (
        connection.routing_weight if isinstance(connection, HubExpressRouteConnection) else 0
    )
    return _over_remote_hub(
        network, plan, hub, route, kind, next_hop, next_hop_type, origin, routing_weight
    )


def _untagged_source(
    network: Network, plan: Plan, hub: VWanHub, table: str, route: RibRoute
) -> _Source | None:
    """Decision: an untagged route equal to a P2S pool is that hub's P2S branch route;
    branches propagate to the Default tables (label ``default``, §5.3)."""
    pool_hub = _p2s_pool(network, route.prefix)
    if pool_hub is None or "default" not in route_tables(hub).get(table, ()):
        return None
    kind, next_hop, next_hop_type, origin = _p2s(network, pool_hub)
    return _over_remote_hub(network, plan, hub, route, kind, next_hop, next_hop_type, origin, 0)


def _over_remote_hub(
    network: Network,
    plan: Plan,
    hub: VWanHub,
    route: RibRoute,
    kind: Kind,
    next_hop: str,
    next_hop_type: str,
    origin: str,
    routing_weight: int,
) -> _Source:
    """The source as given, or, for a path learned from a remote hub over the inter-hub
    mesh, that hub as next hop and origin (no routing weight)."""
    remote_hub = _remote_hub(network, plan, hub, route.peer)
    if remote_hub is None:
        return (kind, True, next_hop, next_hop_type, origin, routing_weight)
    remote = resource_id(network, "virtualHubs", remote_hub)
    return (kind, False, remote, "Remote Hub", remote, 0)


def _remote_hub(network: Network, plan: Plan, hub: VWanHub, peer: str | None) -> str | None:
    """The name of the remote hub ``peer`` belongs to, or None (local or not a hub)."""
    if peer is None:
        return None
    endpoint = plan.endpoints.get(peer)
    name = peer if endpoint is None else endpoint.node
    if name == hub.name:
        return None
    try:
        node = network.node(name)
    except KeyError:
        return None
    return name if isinstance(node, VWanHub) else None


def _p2s(network: Network, hub: VWanHub) -> tuple[Kind, str, str, str]:
    gateway = resource_id(network, "p2sVpnGateways", f"{hub.name}-p2sgw")
    return Kind.VPN, gateway, "P2S", gateway


def describe(network: Network, connection: HubConnection) -> tuple[Kind, str, str, str]:
    """(kind, next hop id, nextHopType, origin id) of routes learned over ``connection``."""
    hub = connection.hub
    if isinstance(connection, HubVnetConnection):
        ident = resource_id(
            network, "virtualHubs", hub, "hubVirtualNetworkConnections", connection.name
        )
        return Kind.VNET, ident, VNET_CONNECTION, ident
    if isinstance(connection, HubVpnConnection):
        gateway = resource_id(network, "vpnGateways", f"{hub}-vpngw")
        return Kind.VPN, gateway, "VPN_S2S_Gateway", f"{gateway}/vpnConnections/{connection.name}"
    if isinstance(connection, HubExpressRouteConnection):
        gateway = resource_id(network, "expressRouteGateways", f"{hub}-ergw")
        origin = f"{gateway}/expressRouteConnections/{connection.name}"
        return Kind.EXPRESS_ROUTE, gateway, "ExpressRouteGateway", origin
    ident = resource_id(network, "virtualHubs", hub, "bgpConnections", connection.name)
    return Kind.VPN, ident, "HubBgpConnection", ident


def _statics(network: Network, hub: VWanHub, table: str) -> list[HubCandidate]:
    """Static routes of ``table``: local to this hub only, never exchanged (§5.3)."""
    found: list[HubCandidate] = []
    connections: dict[str, Connection] = {c.name: c for c in hub_connections(network, hub.name)}
    origin = resource_id(network, "virtualHubs", hub.name, "hubRouteTables", table)
    for route_table in hub.route_tables:
        if route_table.name != table:
            continue
        for static in route_table.routes:
            target = connections.get(static.next_hop)
            if isinstance(
                target,
                HubVnetConnection | HubVpnConnection | HubExpressRouteConnection | HubBgpConnection,
            ):
                _kind, next_hop, next_hop_type, _origin = describe(network, target)
            else:
                next_hop, next_hop_type = static.next_hop, VNET_CONNECTION
            found.extend(
                HubCandidate(
                    prefix=destination,
                    kind=Kind.STATIC,
                    local=True,
                    as_path=(),
                    next_hop=next_hop,
                    next_hop_type=next_hop_type,
                    origin=origin,
                )
                for destination in static.destinations
            )
    return found


def select(candidates: list[HubCandidate], preference: RoutingPreference) -> list[HubCandidate]:
    """The routes a hub installs for one prefix (§5.5 [VWAN-HRP]); several = ECMP.

    1. static routes over BGP routes;
    2. ExpressRoute / VpnGateway: local over remote, ER-vs-VPN, shortest AS path;
       ASPath: shortest AS path, local over remote, ER-vs-VPN.
    ER-vs-VPN: VpnGateway always prefers VPN (VPN sites, NVA peerings, P2S); the other two
    prefer ER when all remaining routes are local and VPN when all come from remote hubs
    (§5.5 3b).  Among local ER routes the higher connection routing weight wins (§4.4).
    """
    if len(candidates) == 1:
        return list(candidates)  # what the steps below leave of a single candidate
    pool = sorted(candidates, key=lambda c: (c.next_hop, c.origin, c.as_path))
    statics = [c for c in pool if c.kind is Kind.STATIC]
    if statics:
        return statics
    if preference is RoutingPreference.AS_PATH:
        pool = _local_first(_shortest(pool))
        return _er_versus_vpn(pool, preference)
    return _shortest(_er_versus_vpn(_local_first(pool), preference))


def _shortest(pool: list[HubCandidate]) -> list[HubCandidate]:
    length = min(len(c.as_path) for c in pool)
    return [c for c in pool if len(c.as_path) == length]


def _local_first(pool: list[HubCandidate]) -> list[HubCandidate]:
    local = [c for c in pool if c.local]
    return local or pool


def _er_versus_vpn(pool: list[HubCandidate], preference: RoutingPreference) -> list[HubCandidate]:
    er = [c for c in pool if c.kind is Kind.EXPRESS_ROUTE]
    vpn = [c for c in pool if c.kind is Kind.VPN]
    if er and vpn:
        all_remote = not any(c.local for c in pool)
        if preference is RoutingPreference.VPN_GATEWAY or all_remote:
            pool = [c for c in pool if c.kind is not Kind.EXPRESS_ROUTE]
        else:
            pool = [c for c in pool if c.kind is not Kind.VPN]
    local_er = [c for c in pool if c.kind is Kind.EXPRESS_ROUTE and c.local]
    if local_er:
        weight = max(c.routing_weight for c in local_er)
        pool = [c for c in pool if c.kind is not Kind.EXPRESS_ROUTE or c.routing_weight == weight]
    return pool


def table_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`hub_routes` in az's columns."""
    rows: list[list[object]] = [
        [
            item["addressPrefixes"],
            item["nextHopType"],
            [hop.rsplit("/", 1)[-1] for hop in item["nextHops"]],
            item.get("asPath"),
            item["routeOrigin"].rsplit("/", 1)[-1],
        ]
        for item in view["value"]
    ]
    return ["Address Prefixes", "Next Hop Type", "Next Hops", "AS Path", "Origin"], rows


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`hub_routes`."""
    return format_table(*table_rows(view))
