"""The Azure views of ``bgpemu solve``'s report, computed apart from their JSON text.

Usage::

    PYTHONPATH=src .venv/bin/python bench/bench_views.py TOPOLOGY.yaml [--repeat N]

Converges the topology in the fabric (as ``bgpemu solve`` does, same garbage-collector
thresholds), then prints the CPU time of what the report's ``effectiveRoutes`` and
``hubRoutes`` members compute, step by step: the snapshots of the speakers the views
read (taken on first read, as ``solve`` takes them), every hub route table
(``azure.views.HubTables``, one per report), the effective routes of every VNet subnet
over those tables, and then the JSON text of the two members as ``solve -o json`` writes
it (``bgpemu.cli._json_stream``).  With ``--repeat``, each further round computes the
views again from fresh snapshots of the same converged network.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (default 1)")
    args = parser.parse_args()

    from bgpemu.runtime.daemon_gc import daemon_gc

    with daemon_gc():
        from bgpemu.azure.converge import snapshots_of, solve
        from bgpemu.azure.hubrouting import route_tables
        from bgpemu.azure.model import VNet, VWanHub
        from bgpemu.azure.views import HubTables, effective_routes
        from bgpemu.cli._json_stream import json_chunks
        from bgpemu.topology import load_topology

        network = load_topology(args.topology)
        solution = solve(network)
        plan = solution.plan
        hubs = list(network.of_type(VWanHub))
        subnets = [
            (vnet.name, subnet.name)
            for vnet in network.of_type(VNet)
            for subnet in vnet.subnets
            if subnet.name not in ("GatewaySubnet", "RouteServerSubnet")
        ]
        for _ in range(args.repeat):
            snaps = snapshots_of(solution.fabric)
            start = time.process_time()
            for hub in hubs:
                for endpoint in plan.of_node(hub.name):
                    snaps[endpoint.speaker]
            snapped = time.process_time()
            tables = HubTables(network, plan, snaps)
            hub_views = [
                (f"{hub.name}/{table}", tables.routes(hub.name, table))
                for hub in hubs
                for table in route_tables(hub)
            ]
            tabled = time.process_time()
            effective = [
                (
                    f"{vnet}/{subnet}",
                    effective_routes(network, plan, snaps, vnet, subnet, hub_tables=tables),
                )
                for vnet, subnet in subnets
            ]
            computed = time.process_time()
            size = 0
            members = [("effectiveRoutes", iter(effective)), ("hubRoutes", iter(hub_views))]
            for chunk in json_chunks(iter(members)):
                size += len(chunk)
            encoded = time.process_time()
            print(
                f"CPU: hub snapshots {snapped - start:.3f} s, hub tables {tabled - snapped:.3f} s, "
                f"effective routes {computed - tabled:.3f} s (computed {computed - start:.3f} s); "
                f"JSON text {encoded - computed:.3f} s ({size} characters)",
                flush=True,
            )


if __name__ == "__main__":
    main()
