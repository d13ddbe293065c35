"""Every table of a converged network in one JSON document (golden files, ``solve -o json``).

Keys: ``nodes`` (each speaker's Loc-RIB), ``effectiveRoutes`` (``VNET/SUBNET`` -> the
effective-route view), ``learnedRoutes`` (gateway -> learned routes), ``bgpPeerStatus``,
``routeServerRoutes`` (``ARS/NVA`` -> learned and advertised per instance),
``hubRoutes`` (``HUB/TABLE`` -> hub effective routes) and ``circuitRoutes``
(``CIRCUIT/primary|secondary``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bgpemu.azure.converge import Solution
from bgpemu.azure.hubrouting import route_tables
from bgpemu.azure.model import (
    ExpressRouteCircuit,
    ExpressRouteGateway,
    Network,
    RouteServer,
    RouteServerPeer,
    VNet,
    VpnGateway,
    VWanHub,
)
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views import (
    bgp_peer_status,
    circuit_routes,
    effective_routes,
    hub_routes,
    learned_routes,
    route_server_routes,
)

__all__ = ["azure_views", "full_report", "loc_ribs"]


def loc_ribs(solution: Solution) -> dict[str, list[dict[str, Any]]]:
    """Speaker -> its Loc-RIB (best path, multipath set, reason), as ``solve --config`` prints."""
    return solution.fabric.tables()


def full_report(solution: Solution) -> dict[str, Any]:
    """Every view of every node of ``solution`` (deterministic key order)."""
    return {
        "name": solution.network.name,
        "nodes": loc_ribs(solution),
        **azure_views(
            solution.network, solution.plan, solution.snapshots, solution.converged_after
        ),
    }


def azure_views(
    network: Network, plan: Plan, snaps: Mapping[str, RouterSnapshot], now: float
) -> dict[str, dict[str, Any]]:
    """Every Azure view of the network: category -> key -> the view's JSON.

    Categories and keys: ``effectiveRoutes`` (``VNET/SUBNET``), ``learnedRoutes`` and
    ``bgpPeerStatus`` (gateway), ``routeServerRoutes`` (``ARS/NVA`` -> learned and
    advertised), ``hubRoutes`` (``HUB/TABLE``), ``circuitRoutes`` (``CIRCUIT/PATH``).
    """
    report: dict[str, dict[str, Any]] = {
        "effectiveRoutes": {},
        "learnedRoutes": {},
        "bgpPeerStatus": {},
        "routeServerRoutes": {},
        "hubRoutes": {},
        "circuitRoutes": {},
    }
    for vnet in network.of_type(VNet):
        for subnet in vnet.subnets:
            if subnet.name in ("GatewaySubnet", "RouteServerSubnet"):
                continue
            report["effectiveRoutes"][f"{vnet.name}/{subnet.name}"] = effective_routes(
                network, plan, snaps, vnet.name, subnet.name
            )
    gateways: list[VpnGateway | ExpressRouteGateway] = [
        *network.of_type(VpnGateway),
        *network.of_type(ExpressRouteGateway),
    ]
    for gateway in gateways:
        report["learnedRoutes"][gateway.name] = learned_routes(network, plan, snaps, gateway.name)
        report["bgpPeerStatus"][gateway.name] = bgp_peer_status(
            network, plan, snaps, gateway.name, now
        )
    for server in network.of_type(RouteServer):
        for peer in network.of_type(RouteServerPeer):
            if peer.route_server != server.name:
                continue
            report["routeServerRoutes"][f"{server.name}/{peer.nva}"] = {
                direction: route_server_routes(
                    network, plan, snaps, server.name, peer.nva, direction
                )
                for direction in ("learned", "advertised")
            }
    for hub in network.of_type(VWanHub):
        for table in route_tables(hub):
            report["hubRoutes"][f"{hub.name}/{table}"] = hub_routes(
                network, plan, snaps, hub.name, table
            )
    for circuit in network.of_type(ExpressRouteCircuit):
        for path in ("primary", "secondary"):
            report["circuitRoutes"][f"{circuit.name}/{path}"] = circuit_routes(
                network, plan, snaps, circuit.name, path
            )
    return report
