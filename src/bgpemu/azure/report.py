"""Every table of a converged network in one JSON document (golden files, ``solve -o json``).

Keys: ``nodes`` (each speaker's Loc-RIB), ``effectiveRoutes`` (``VNET/SUBNET`` -> the
effective-route view), ``learnedRoutes`` (gateway -> learned routes), ``bgpPeerStatus``,
``routeServerRoutes`` (``ARS/NVA`` -> learned and advertised per instance),
``hubRoutes`` (``HUB/TABLE`` -> hub effective routes) and ``circuitRoutes``
(``CIRCUIT/primary|secondary``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from bgpemu.azure.catalog import AzureView
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
    HubTables,
    bgp_peer_status,
    circuit_routes,
    effective_routes,
    learned_routes,
    route_server_routes,
)

__all__ = ["azure_views", "full_report", "loc_ribs", "report_members", "view_work"]

Snapshots = Mapping[str, RouterSnapshot]


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


def report_members(solution: Solution) -> Iterator[tuple[str, Any]]:
    """The members of :func:`full_report`, in its order, each computed when reached.

    The value of ``nodes`` and of each view category is itself an iterator of ``(key,
    value)`` pairs (one node's Loc-RIB, one view), so a writer can emit the document
    piece by piece (``bgpemu solve -o json``) without ever holding all of it.
    """
    fabric = solution.fabric
    yield "name", solution.network.name
    yield "nodes", ((name, fabric.router(name).table()) for name in fabric.nodes())
    for category, members in view_work(
        solution.network, solution.plan, solution.snapshots, solution.converged_after
    ):
        yield category, ((key, compute()) for key, compute in members)


def view_work(
    network: Network, plan: Plan, snaps: Snapshots, now: float
) -> Iterator[tuple[str, Iterator[tuple[str, Callable[[], Any]]]]]:
    """The Azure views of the network, in the report's order, not yet computed: each
    category (:data:`_CATEGORIES`) with its ``(key, compute)`` pairs, ``compute()``
    giving the view.  The views of one call share what they work out once (the hub
    tables); each may be computed apart, in any order, with the same result (``solve
    --jobs 2``: each process computes the views of the speakers it converged)."""
    report = _Report(network, plan, snaps, now)
    for category, members in _CATEGORIES.items():
        yield category, members(report)


def azure_views(
    network: Network, plan: Plan, snaps: Snapshots, now: float
) -> dict[str, dict[str, Any]]:
    """Every Azure view of the network: category -> key -> the view's JSON.

    Categories and keys: ``effectiveRoutes`` (``VNET/SUBNET``), ``learnedRoutes`` and
    ``bgpPeerStatus`` (gateway), ``routeServerRoutes`` (``ARS/NVA`` -> learned and
    advertised), ``hubRoutes`` (``HUB/TABLE``), ``circuitRoutes`` (``CIRCUIT/PATH``).
    """
    return {
        category: {key: compute() for key, compute in members}
        for category, members in view_work(network, plan, snaps, now)
    }


class _Report:
    """What every view of one report reads: the network, its plan and snapshots, the
    convergence time, and the hub tables worked out once for the whole report (each
    is read by the effective routes of its VNets and printed among the hub routes)."""

    __slots__ = ("hub_tables", "network", "now", "plan", "snaps")

    def __init__(self, network: Network, plan: Plan, snaps: Snapshots, now: float) -> None:
        self.network = network
        self.plan = plan
        self.snaps = snaps
        self.now = now
        self.hub_tables = HubTables(network, plan, snaps)


_Work = Iterator[tuple[str, Callable[[], Any]]]
"""A category's views: ``(key, compute)`` pairs."""


def _effective_routes(report: _Report) -> _Work:
    network, plan, snaps = report.network, report.plan, report.snaps
    for vnet in network.of_type(VNet):
        for subnet in vnet.subnets:
            if subnet.name in ("GatewaySubnet", "RouteServerSubnet"):
                continue
            yield (
                f"{vnet.name}/{subnet.name}",
                partial(
                    effective_routes,
                    network,
                    plan,
                    snaps,
                    vnet.name,
                    subnet.name,
                    hub_tables=report.hub_tables,
                ),
            )


def _gateways(network: Network) -> list[VpnGateway | ExpressRouteGateway]:
    return [*network.of_type(VpnGateway), *network.of_type(ExpressRouteGateway)]


def _learned_routes(report: _Report) -> _Work:
    network, plan, snaps = report.network, report.plan, report.snaps
    for gateway in _gateways(network):
        yield gateway.name, partial(learned_routes, network, plan, snaps, gateway.name)


def _bgp_peer_status(report: _Report) -> _Work:
    network, plan, snaps = report.network, report.plan, report.snaps
    for gateway in _gateways(network):
        yield gateway.name, partial(bgp_peer_status, network, plan, snaps, gateway.name, report.now)


def _route_server_routes(report: _Report) -> _Work:
    network, plan, snaps = report.network, report.plan, report.snaps

    def both(server: str, nva: str) -> dict[str, Any]:
        return {
            direction: route_server_routes(network, plan, snaps, server, nva, direction)
            for direction in ("learned", "advertised")
        }

    for server in network.of_type(RouteServer):
        for peer in network.of_type(RouteServerPeer):
            if peer.route_server == server.name:
                yield f"{server.name}/{peer.nva}", partial(both, server.name, peer.nva)


def _hub_routes(report: _Report) -> _Work:
    for hub in report.network.of_type(VWanHub):
        for table in route_tables(hub):
            yield f"{hub.name}/{table}", partial(report.hub_tables.routes, hub.name, table)


def _circuit_routes(report: _Report) -> _Work:
    network, plan, snaps = report.network, report.plan, report.snaps
    for circuit in network.of_type(ExpressRouteCircuit):
        for path in ("primary", "secondary"):
            yield (
                f"{circuit.name}/{path}",
                partial(circuit_routes, network, plan, snaps, circuit.name, path),
            )


_CATEGORIES: dict[str, Callable[[_Report], _Work]] = {
    AzureView.EFFECTIVE_ROUTES.key: _effective_routes,
    AzureView.LEARNED_ROUTES.key: _learned_routes,
    AzureView.BGP_PEER_STATUS.key: _bgp_peer_status,
    AzureView.ROUTE_SERVER_ROUTES.key: _route_server_routes,
    AzureView.HUB_ROUTES.key: _hub_routes,
    AzureView.CIRCUIT_ROUTES.key: _circuit_routes,
}
"""Each view category (:attr:`AzureView.key <bgpemu.azure.catalog.AzureView.key>`),
in the report's order, and the generator of its ``(key, compute)`` pairs."""
