"""The reachability matrix (issue 14, ``bgpemu.azure.traffic.matrix``) on a hub with 100
spokes and on vWAN 2 x 50 x 200, and one trace.

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_traffic.py [--spokes 100]
[--prefixes 500] [--vwan 2x50x200] [--repeats 3]`` (``--vwan none`` skips the vWAN).

* **hub-spoke**: bench/_lab/generators.py ``hub_spoke(spokes, prefixes)`` (a hub with a
  VPN gateway to on-prem, which announces ``prefixes`` /24s, and gateway-transit spokes),
  with a VM in every spoke's App subnet behind a default NSG, an NVA interface 10.0.1.4
  (IP forwarding) in the hub's Shared subnet, and a UDR 10.0.0.0/8 -> the NVA on every
  spoke (S5 of §8, widened): spoke to spoke crosses the NVA both ways, spoke to on-prem
  goes through the gateway.  Endpoints: 101 subnets and one group of the 500 on-prem
  ranges (routed alike): 102 x 102 traces, 102,010 weighted pairs with the ranges.
* **vwan**: ``vwan_standard(hubs, branches, prefixes)`` with a VM in every VNet: 4
  subnets and 100 branches' ranges (20,000, grouped per branch).

Timed apart: load + converge (``solve``, not part of the matrix), the speakers'
snapshots (``solve`` takes each when first read: not part of the matrix either, the
first answer of any kind over a solution pays it; vWAN 2 x 50 x 200: about 20 s CPU,
mostly converting the branches' Adj-RIBs-In), then the matrix on a
fresh :class:`TrafficContext` (indexing, every subnet's effective routes and tags, the
grouping of on-prem ranges, the traces): wall (``perf_counter``) and CPU
(``process_time``), the best and the median of ``--repeats``; then once more on the last
context, already indexed (the testing API keeps one context per convergence); and one
trace (spoke to
spoke through the NVA, and spoke to on-prem) on the warm context, mean of 1,000.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from _lab.generators import hub_spoke, vwan_standard

from bgpemu.azure.converge import Solution, solve
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import flow_between, reachability_matrix
from bgpemu.azure.traffic.trace import trace
from bgpemu.topology import parse_topology


def hub_spoke_traffic(spokes: int, prefixes: int) -> str:
    """``hub_spoke`` with VMs, an NVA and UDRs (module docstring)."""
    doc: dict[str, Any] = yaml.safe_load(hub_spoke(spokes=spokes, prefixes=prefixes))
    doc["networkSecurityGroups"] = {"spoke-nsg": {}}
    for name, node in doc["nodes"].items():
        if node.get("role") != "vnet":
            continue
        for subnet in node["subnets"]:
            base = subnet["addressPrefix"].split("/")[0].rsplit(".", 1)[0]
            if subnet["name"] == "App":
                subnet["networkInterfaces"] = [
                    {"name": f"{name}-vm", "privateIpAddress": f"{base}.4"}
                ]
                subnet["routeTable"] = "via-nva"
                subnet["networkSecurityGroup"] = "spoke-nsg"
                node["routeTables"] = [
                    {
                        "name": "via-nva",
                        "routes": [
                            {
                                "name": "private-via-nva",
                                "addressPrefix": "10.0.0.0/8",
                                "nextHopType": "VirtualAppliance",
                                "nextHopIpAddress": "10.0.1.4",
                            }
                        ],
                    }
                ]
            elif subnet["name"] == "Shared":
                subnet["networkInterfaces"] = [
                    {"name": "nva-nic", "privateIpAddress": "10.0.1.4", "enableIpForwarding": True}
                ]
    return yaml.safe_dump(doc, sort_keys=False)


def vwan_traffic(hubs: int, branches: int, prefixes: int) -> str:
    """``vwan_standard`` with a VM in every VNet's subnet."""
    doc: dict[str, Any] = yaml.safe_load(
        vwan_standard(hubs=hubs, branches=branches, prefixes=prefixes)
    )
    for name, node in doc["nodes"].items():
        if node.get("role") == "vnet":
            for subnet in node["subnets"]:
                base = subnet["addressPrefix"].split("/")[0].rsplit(".", 1)[0]
                last = int(subnet["addressPrefix"].split("/")[0].rsplit(".", 1)[1])
                subnet["networkInterfaces"] = [
                    {"name": f"{name}-vm", "privateIpAddress": f"{base}.{last + 4}"}
                ]
    return yaml.safe_dump(doc, sort_keys=False)


def _solved(text: str, label: str) -> Solution:
    start = time.perf_counter()
    solution = solve(parse_topology(text, label))
    print(f"{label}: load + converge {time.perf_counter() - start:.2f} s (not in the matrix)")
    wall, cpu = time.perf_counter(), time.process_time()
    for name in solution.snapshots:
        solution.snapshots[name]
    print(
        f"{label}: snapshots of {len(solution.snapshots)} speakers (solve takes each when "
        f"first read; the first traffic answer over a solution pays it): wall "
        f"{time.perf_counter() - wall:.2f} s, CPU {time.process_time() - cpu:.2f} s "
        "(not in the matrix)"
    )
    return solution


def _matrix(solution: Solution, label: str, repeats: int) -> None:
    walls, cpus = [], []
    matrix = None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        ctx = TrafficContext(solution.network, solution.plan, solution.snapshots)
        matrix = reachability_matrix(ctx, protocol="tcp", port=443)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert matrix is not None
    wall, cpu = time.perf_counter(), time.process_time()
    reachability_matrix(ctx, protocol="tcp", port=443)
    warm_wall, warm_cpu = time.perf_counter() - wall, time.process_time() - cpu
    traces = sum(1 for _ in matrix.pairs)
    print(
        f"{label}: matrix of {len(matrix.endpoints)} endpoints, {traces} traces, "
        f"{sum(p.weight for p in matrix.pairs):,} weighted pairs {matrix.counts}"
    )
    print(
        f"{label}: matrix wall best {min(walls):.2f} s median {statistics.median(walls):.2f} s; "
        f"CPU best {min(cpus):.2f} s median {statistics.median(cpus):.2f} s "
        f"({min(cpus) / traces * 1e6:.0f} us CPU per trace)"
    )
    print(
        f"{label}: matrix again on the same context (effective routes, tags and NSGs "
        f"already indexed): wall {warm_wall:.2f} s, CPU {warm_cpu:.2f} s"
    )


def _one_trace(solution: Solution, source: str, destination: str, label: str) -> None:
    ctx = TrafficContext(solution.network, solution.plan, solution.snapshots)
    flow = flow_between("tcp", source, destination, 443)
    verdict = trace(ctx, flow).verdict  # warms the context
    start = time.perf_counter()
    for _ in range(1000):
        trace(ctx, flow)
    mean = (time.perf_counter() - start) / 1000
    print(f"{label}: one trace {source} -> {destination} ({verdict}): {mean * 1e3:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=100)
    parser.add_argument("--prefixes", type=int, default=500)
    parser.add_argument("--vwan", default="2x50x200", help="HUBSxBRANCHESxPREFIXES or none")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    label = f"hub-spoke-{args.spokes}x{args.prefixes}"
    solution = _solved(hub_spoke_traffic(args.spokes, args.prefixes), label)
    _matrix(solution, label, args.repeats)
    _one_trace(solution, "10.1.1.4", "10.2.1.4", label)
    _one_trace(solution, "10.1.1.4", "172.20.0.1", label)
    if args.vwan != "none":
        hubs, branches, prefixes = (int(x) for x in args.vwan.split("x"))
        label = f"vwan-{args.vwan}"
        solution = _solved(vwan_traffic(hubs, branches, prefixes), label)
        _matrix(solution, label, max(1, args.repeats - 2))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
