"""What the testing API's traffic half costs a lab (issue 14, ``bgpemu.testing.traffic``):
``lab.converged()`` with and without traffic declarations, one ``lab.trace`` (first, on a
fresh context, then warm), and a ``lab.diff`` whose watched flows are the reachability
matrix's pairs, apart from its route changes.

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_lab_traffic.py
[--spokes 100] [--prefixes 500]``.

The topology is bench_traffic.py's ``hub_spoke_traffic`` (a hub with a VPN gateway to
on-prem announcing ``prefixes`` /24s, gateway-transit spokes with a VM each behind a
default NSG, an NVA in the hub and a UDR 10.0.0.0/8 -> NVA on every spoke), in the
fabric.  The change diffed: on-prem withdraws one of its ranges (every subnet's effective
routes change for that prefix; the watched flows keep their verdicts and paths).  The
same lab without its NICs and NSG (no traffic declared) gives the route diff alone, the
cost of a diff before issue 14.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))

from bench_traffic import hub_spoke_traffic

from bgpemu.testing import start_lab
from bgpemu.topology import parse_topology


def _without_traffic(text: str) -> str:
    doc: dict[str, Any] = yaml.safe_load(text)
    doc.pop("networkSecurityGroups", None)
    for node in doc["nodes"].values():
        for subnet in node.get("subnets", ()):
            subnet.pop("networkInterfaces", None)
            subnet.pop("networkSecurityGroup", None)
    return yaml.safe_dump(doc, sort_keys=False)


async def _run(text: str, label: str, traced: bool) -> None:
    network = parse_topology(text, label)
    lab = await start_lab(network, "fabric")
    try:
        wall = time.perf_counter()
        await lab.converged(timeout=3600)
        print(f"{label}: converged() {time.perf_counter() - wall:.2f} s wall")
        before = lab.snapshot()
        if traced:
            wall = time.perf_counter()
            answer = lab.trace("10.1.1.4", "10.2.1.4", port=443)
            first = time.perf_counter() - wall
            wall = time.perf_counter()
            for _ in range(200):
                lab.trace("10.1.1.4", "10.2.1.4", port=443)
            warm = (time.perf_counter() - wall) / 200
            print(
                f"{label}: lab.trace spoke -> spoke ({answer.verdict}): first {first * 1e3:.1f} ms "
                f"(builds the context), then {warm * 1e3:.3f} ms"
            )
        await lab.withdraw("OnPrem", "172.20.0.0/24")
        await lab.converged(timeout=3600)
        after = lab.snapshot()
        wall, cpu = time.perf_counter(), time.process_time()
        changes = lab.diff(before, after)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        watched = 0 if before.flows is None else len(before.flows.states())
        print(
            f"{label}: lab.diff {wall:.2f} s wall, {cpu:.2f} s CPU: {len(changes.changes)} route "
            f"changes, {watched} watched flows, {len(changes.flows)} changed"
        )
        if traced:
            wall = time.perf_counter()
            lab.diff(before, after)
            print(f"{label}: the same diff again (flows kept): {time.perf_counter() - wall:.2f} s")
    finally:
        await lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=100)
    parser.add_argument("--prefixes", type=int, default=500)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    text = hub_spoke_traffic(args.spokes, args.prefixes)
    label = f"hub-spoke-{args.spokes}x{args.prefixes}"
    asyncio.run(_run(_without_traffic(text), f"{label} (no traffic declared)", traced=False))
    asyncio.run(_run(text, label, traced=True))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
