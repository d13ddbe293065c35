"""The gateway routes Azure programs into a VNet (source ``VirtualNetworkGateway``).

Theory of operation.  A VNet V gets BGP-derived routes from (§1.2, §2, §5.3, §6.3):

* its own VPN gateway instances and ER gateway, or, when V has a peering with
  ``use_remote_gateways`` whose remote side has ``allow_gateway_transit``, the remote
  VNet's gateways (gateway transit, §2 [GW-TRANSIT]);
* the Route Server of that same VNet (own, or the remote one through
  useRemoteGateways): the routes its instances learned from NVAs, except prefixes equal
  to or more specific than the Route Server VNet's address space (§6.3 [ARS-INJECT]);
* the hub of a vWAN HubVnetConnection: the routes of the connection's associated route
  table, except prefixes equal to or more specific than V's space (§5.3) and 0/0 unless
  ``enable_internet_security``.

Per gateway the copies of one prefix are taken from the speaker's own decision when
its Loc-RIB best path came from that kind of neighbour, else from its Adj-RIB-In (an ER
copy wins the VPN gateway's Loc-RIB by weight, yet the VPN copy must still compete
here).  Copies from different sources are then chosen between by the Route Server's
routing preference (§6.5 [ARS-PREF]) or, without a Route Server, ER over VPN (§4.5),
then shortest AS path; what remains is one ECMP route.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from bgpemu.azure.hubrouting import NONE_TABLE
from bgpemu.azure.model import (
    ExpressRouteGateway,
    HubVnetConnection,
    Network,
    OnPrem,
    RouteServer,
    RoutingPreference,
    SiteToSite,
    VNet,
    VnetToVnet,
    VpnGateway,
    VWanHub,
)
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._gateway_route import GatewayRoute, SourceKind
from bgpemu.azure.views._lookup import RibIndex, endpoints, snapshot_of
from bgpemu.azure.views._prefixes import address_key, covered_by
from bgpemu.azure.views.hub import HubTables
from bgpemu.rib.route import RibRoute

__all__ = [
    "GatewayOffers",
    "GatewayRoute",
    "SourceKind",
    "choose",
    "gateway_routes",
    "gateway_vnet",
]

DEFAULT_V4 = "0.0.0.0/0"


def gateway_vnet(network: Network, vnet: VNet) -> VNet:
    """The VNet whose gateways and Route Server serve ``vnet`` (itself, or via transit).

    Gateway transit needs ``use_remote_gateways`` on this side and
    ``allow_gateway_transit`` on the remote side's peering back (§2 [PEER-MGMT]).
    """
    for peering in vnet.peerings:
        if not peering.use_remote_gateways:
            continue
        remote = network.node(peering.remote_virtual_network)
        if isinstance(remote, VNet) and any(
            back.remote_virtual_network == vnet.name and back.allow_gateway_transit
            for back in remote.peerings
        ):
            return remote
    return vnet


def gateway_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    vnet: VNet,
    hub_tables: HubTables | None = None,
    offers: GatewayOffers | None = None,
) -> dict[str, GatewayRoute]:
    """The selected gateway route of every prefix programmed into ``vnet``, by prefix.

    ``hub_tables``: the hub route tables already worked out over the same snapshots
    (one per report), else those this VNet reads are computed here.  ``offers``: the
    routes of each serving VNet's gateways already chosen over the same snapshots
    (:class:`GatewayOffers`), else computed here.
    """
    source = gateway_vnet(network, vnet)
    if offers is None:
        chosen = _chosen(network, plan, snapshots, source)
    else:
        chosen = dict(offers.chosen(source))
    tables = HubTables(network, plan, snapshots) if hub_tables is None else hub_tables
    for route in _hub_routes(network, tables, vnet):
        chosen.setdefault(route.prefix, route)
    return chosen


class GatewayOffers:
    """The routes the gateways and Route Server of each serving VNet offer, one chosen
    per prefix (:func:`gateway_routes` before the vWAN hub's), computed when first asked
    and then kept.

    Every spoke using one hub's gateways (§2 [GW-TRANSIT]) is offered the same routes:
    one object per report (or per set of queries over the same snapshots) chooses them
    once per serving VNet.  No module state: the owner creates it and drops it.  The
    mappings returned are shared: read them, do not change them.
    """

    __slots__ = ("_chosen", "_network", "_plan", "_snapshots")

    def __init__(
        self, network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot]
    ) -> None:
        self._network = network
        self._plan = plan
        self._snapshots = snapshots
        self._chosen: dict[str, dict[str, GatewayRoute]] = {}

    def chosen(self, source: VNet) -> Mapping[str, GatewayRoute]:
        """The chosen route of every prefix the gateways of ``source`` (a serving VNet,
        :func:`gateway_vnet`) and its Route Server offer, by prefix."""
        found = self._chosen.get(source.name)
        if found is None:
            found = self._chosen[source.name] = _chosen(
                self._network, self._plan, self._snapshots, source
            )
        return found


def _chosen(
    network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot], source: VNet
) -> dict[str, GatewayRoute]:
    """The offers of ``source``'s VPN and ER gateways and Route Server, one chosen per
    prefix (§4.5, §6.5)."""
    offers: dict[str, list[GatewayRoute]] = defaultdict(list)
    for route in _vpn_routes(network, plan, snapshots, source):
        offers[route.prefix].append(route)
    for route in _er_routes(network, plan, snapshots, source):
        offers[route.prefix].append(route)
    route_server = next((rs for rs in network.of_type(RouteServer) if rs.vnet == source.name), None)
    preference: RoutingPreference | None = None
    if route_server is not None:
        preference = route_server.hub_routing_preference
        for route in _nva_routes(plan, snapshots, route_server, source):
            offers[route.prefix].append(route)
    return {prefix: choose(routes, preference) for prefix, routes in offers.items()}


def choose(routes: list[GatewayRoute], preference: RoutingPreference | None) -> GatewayRoute:
    """One route from the offers of several sources for one prefix (§4.5, §6.5).

    ExpressRoute (and no Route Server): ER wins if offered; VpnGateway: VPN and NVA
    beat ER; ASPath: no source preference.  Then the shortest AS path; the rest merge
    into one ECMP route (next hops in address order).
    """
    er = [r for r in routes if r.kind is SourceKind.EXPRESS_ROUTE]
    other = [r for r in routes if r.kind is not SourceKind.EXPRESS_ROUTE]
    if preference is RoutingPreference.AS_PATH:
        pool = routes
    elif preference is RoutingPreference.VPN_GATEWAY:
        pool = other or er
    else:
        pool = er or other
    length = min(r.as_path_length for r in pool)
    best = [r for r in pool if r.as_path_length == length]
    hops = sorted({hop for r in best for hop in r.next_hops}, key=address_key)
    return GatewayRoute(
        prefix=best[0].prefix, kind=best[0].kind, as_path_length=length, next_hops=tuple(hops)
    )


# --------------------------------------------------------------------------- per source


def _roles(plan: Plan, roles: frozenset[str]) -> Callable[[str | None], bool]:
    def eligible(peer: str | None) -> bool:
        if peer is None:
            return False
        endpoint = plan.endpoints.get(peer)
        return endpoint is not None and endpoint.role in roles

    return eligible


def _copies(index: RibIndex, prefix: str, eligible: Callable[[str | None], bool]) -> list[RibRoute]:
    """The speaker's chosen paths to ``prefix`` among those from eligible neighbours.

    The speaker's own best/multipath set when its best path is eligible; otherwise the
    eligible Adj-RIB-In paths with the highest weight and LOCAL_PREF and the shortest
    AS path (RFC 4271 §9.1.2.2 a-b, with weight first as the gateways use it).
    """
    loc = index.loc.get(prefix, [])
    if any(r.best and eligible(r.peer) for r in loc):
        return [r for r in loc if eligible(r.peer)]
    paths = [r for r in index.adj_in.get(prefix, []) if eligible(r.peer)]
    if not paths:
        return []
    top = max((r.weight, 100 if r.local_pref is None else r.local_pref) for r in paths)
    paths = [r for r in paths if (r.weight, 100 if r.local_pref is None else r.local_pref) == top]
    length = min(len(r.as_path) for r in paths)
    return [r for r in paths if len(r.as_path) == length]


def _merge(routes: list[GatewayRoute]) -> list[GatewayRoute]:
    """One route per prefix: the shortest offers, their next hops together."""
    by_prefix: dict[str, list[GatewayRoute]] = defaultdict(list)
    for route in routes:
        by_prefix[route.prefix].append(route)
    merged: list[GatewayRoute] = []
    for prefix, offers in by_prefix.items():
        length = min(r.as_path_length for r in offers)
        hops = {hop for r in offers if r.as_path_length == length for hop in r.next_hops}
        merged.append(
            GatewayRoute(
                prefix=prefix,
                kind=offers[0].kind,
                as_path_length=length,
                next_hops=tuple(sorted(hops, key=address_key)),
            )
        )
    return merged


def _vpn_routes(
    network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot], vnet: VNet
) -> list[GatewayRoute]:
    """Routes of the VPN gateways of ``vnet``: next hop = the instances that have them.

    [INF §1.2] active-active instances give two next hops.  LNG address prefixes of the
    gateway's SiteToSite connections are static gateway routes (§3.1 [VPN-FAQ]), except
    the BGP peer's own /32, which Azure keeps internal (§9 scenario 1 [INF]).
    """
    eligible = _roles(plan, frozenset({"onprem", "vpn_gateway"}))
    offers: list[GatewayRoute] = []
    for gateway in network.of_type(VpnGateway):
        if gateway.vnet != vnet.name:
            continue
        instances = endpoints(plan, gateway.name)
        for endpoint in instances:
            index = RibIndex.of(snapshot_of(snapshots, endpoint))
            for prefix in index.prefixes():
                copies = _copies(index, prefix, eligible)
                if copies:
                    offers.append(
                        GatewayRoute(
                            prefix=prefix,
                            kind=SourceKind.VPN,
                            as_path_length=min(len(r.as_path) for r in copies),
                            next_hops=(endpoint.azure_address,),
                        )
                    )
        addresses = tuple(e.azure_address for e in instances)
        for connection in network.of_type(SiteToSite):
            if connection.gateway != gateway.name:
                continue
            site = network.node(connection.site)
            peer_host = (
                f"{site.bgp_peering_address}/32"
                if connection.enable_bgp and isinstance(site, OnPrem)
                else None
            )
            offers.extend(
                GatewayRoute(
                    prefix=prefix, kind=SourceKind.VPN, as_path_length=0, next_hops=addresses
                )
                for prefix in connection.local_address_prefixes
                if prefix != peer_host
            )
        offers.extend(
            GatewayRoute(prefix=prefix, kind=SourceKind.VPN, as_path_length=0, next_hops=addresses)
            for prefix in _static_vnet_to_vnet(network, gateway)
        )
    return _merge(offers)


def _static_vnet_to_vnet(network: Network, gateway: VpnGateway) -> list[str]:
    """The remote VNet's ranges over a VNet-to-VNet connection without BGP (§3.4).

    [VPN-BGP-HOWTO]: without BGP the connection gives reachability between the two
    VNets only, so their address spaces are static routes of the two gateways (and
    nothing is learned beyond them).
    """
    found: list[str] = []
    for connection in network.of_type(VnetToVnet):
        if connection.enable_bgp or gateway.name not in (
            connection.gateway,
            connection.remote_gateway,
        ):
            continue
        other = (
            connection.remote_gateway if connection.gateway == gateway.name else connection.gateway
        )
        remote = network.node(other)
        if isinstance(remote, VpnGateway):
            remote_vnet = network.node(remote.vnet)
            if isinstance(remote_vnet, VNet):
                found.extend(p for p in remote_vnet.address_space if p not in found)
    return found


def _offer(plan: Plan, prefix: str, kind: SourceKind, copies: list[RibRoute]) -> GatewayRoute:
    """``prefix`` as ``copies`` offer it: ECMP over their next hops (a path without one is
    reached at its peer's Azure address), the shortest AS path."""
    hops = {r.next_hop or _address(plan, r.peer) for r in copies}
    return GatewayRoute(
        prefix=prefix,
        kind=kind,
        as_path_length=min(len(r.as_path) for r in copies),
        next_hops=tuple(sorted(hops, key=address_key)),
    )


def _er_routes(
    network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot], vnet: VNet
) -> list[GatewayRoute]:
    """Routes of the ER gateway of ``vnet``: next hops = its multipath set's MSEEs (§4.4)."""
    eligible = _roles(plan, frozenset({"expressroute"}))
    offers: list[GatewayRoute] = []
    for gateway in network.of_type(ExpressRouteGateway):
        if gateway.vnet != vnet.name:
            continue
        for endpoint in endpoints(plan, gateway.name):
            index = RibIndex.of(snapshot_of(snapshots, endpoint))
            for prefix in index.prefixes():
                copies = _copies(index, prefix, eligible)
                if copies:
                    offers.append(_offer(plan, prefix, SourceKind.EXPRESS_ROUTE, copies))
    return _merge(offers)


def _nva_routes(
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    route_server: RouteServer,
    vnet: VNet,
) -> list[GatewayRoute]:
    """NVA routes a Route Server injects: next hop = the path's NEXT_HOP (§6.3, §7)."""
    eligible = _roles(plan, frozenset({"nva"}))
    offers: list[GatewayRoute] = []
    inside = covered_by(vnet.address_space)
    for endpoint in endpoints(plan, route_server.name):
        index = RibIndex.of(snapshot_of(snapshots, endpoint))
        for prefix in index.prefixes():
            if inside(prefix):
                continue
            copies = _copies(index, prefix, eligible)
            if copies:
                offers.append(_offer(plan, prefix, SourceKind.NVA, copies))
    return _merge(offers)


def _hub_routes(network: Network, hub_tables: HubTables, vnet: VNet) -> list[GatewayRoute]:
    """Routes a vWAN hub programs into a connected VNet (§5.3 [VWAN-ROUTING][VWAN-EFF]):
    those of the connection's associated table (:meth:`HubTables.programmed`, shared by
    the table's VNets) but the prefixes equal to or inside the VNet's own address space,
    and 0.0.0.0/0 unless the connection enables internet security."""
    found: list[GatewayRoute] = []
    inside = covered_by(vnet.address_space, hub_tables.prefix_keys.__getitem__)
    for connection in network.of_type(HubVnetConnection):
        if connection.vnet != vnet.name:
            continue
        hub = network.node(connection.hub)
        table = connection.routing_configuration.associated_route_table
        if not isinstance(hub, VWanHub) or table == NONE_TABLE:
            continue
        internet = connection.enable_internet_security
        found.extend(
            route
            for route in hub_tables.programmed(hub, table)
            if not inside(route.prefix) and (internet or route.prefix != DEFAULT_V4)
        )
    return found


def _address(plan: Plan, peer: str | None) -> str:
    endpoint = None if peer is None else plan.endpoints.get(peer)
    return endpoint.azure_address if endpoint is not None else str(peer)
