"""One trace (issue 14, §5 of shared/azure-traffic.md) on a hub with N spokes.

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_trace.py [--spokes N]
[--repeats N]``.  The network: hub 10.0.0.0/16 with an NVA interface 10.0.1.4 (IP
forwarding, an NSG with one user rule on its NIC), N spokes 10.i.0.0/16 peered with the
hub only, each with one VM 10.i.0.4 in a subnet with a default NSG and a UDR sending
10.0.0.0/8 to the NVA (S5 of §8, widened).  Converged once with ``solve``.  Timed, each
the median (and minimum) of N runs of ``time.perf_counter``:

* ``TrafficContext`` built (the owner index; no effective routes yet);
* a cold trace spoke1 -> spoke2 TCP 443 on a fresh context (computes the three subnets'
  effective routes and tags, compiles the NSGs);
* a warm trace of the same flow (mean over 1,000 calls per run), forward and reply.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bgpemu.azure.converge import Solution, solve
from bgpemu.azure.model import (
    Network,
    NextHopType,
    Peering,
    RouteTable,
    Subnet,
    UserRoute,
    VNet,
)
from bgpemu.azure.security import (
    Access,
    Direction,
    NetworkInterface,
    NetworkSecurityGroup,
    SecurityRule,
)
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.trace import trace


def hub_and_spokes(spokes: int) -> Network:
    """The hub, its NVA and ``spokes`` spokes routed through it (module docstring)."""
    nva = NetworkInterface(
        name="nva",
        vnet="hub",
        subnet="nva",
        private_ip_address="10.0.1.4",
        enable_ip_forwarding=True,
        network_security_group="nsg-nva",
    )
    hub = VNet(
        name="hub",
        address_space=("10.0.0.0/16",),
        subnets=(Subnet(name="nva", address_prefix="10.0.1.0/24", network_interfaces=(nva,)),),
        peerings=tuple(
            Peering(remote_virtual_network=f"spoke{i}", allow_forwarded_traffic=True)
            for i in range(1, spokes + 1)
        ),
    )
    nodes: list[VNet] = [hub]
    for i in range(1, spokes + 1):
        name = f"spoke{i}"
        vm = NetworkInterface(
            name=f"vm{i}", vnet=name, subnet="app", private_ip_address=f"10.{i}.0.4"
        )
        route = UserRoute(
            name="to-hub-nva",
            address_prefix="10.0.0.0/8",
            next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
            next_hop_ip_address="10.0.1.4",
        )
        nodes.append(
            VNet(
                name=name,
                address_space=(f"10.{i}.0.0/16",),
                subnets=(
                    Subnet(
                        name="app",
                        address_prefix=f"10.{i}.0.0/24",
                        route_table="rt",
                        network_security_group="nsg-spoke",
                        network_interfaces=(vm,),
                    ),
                ),
                route_tables=(RouteTable(name="rt", routes=(route,)),),
                peerings=(Peering(remote_virtual_network="hub", allow_forwarded_traffic=True),),
            )
        )
    deny_ssh = SecurityRule(
        name="deny-ssh",
        priority=100,
        direction=Direction.INBOUND,
        access=Access.DENY,
        destination_port_ranges=("22",),
    )
    return Network(
        name=f"hub-{spokes}-spokes",
        nodes=tuple(nodes),
        network_security_groups=(
            NetworkSecurityGroup(name="nsg-spoke"),
            NetworkSecurityGroup(name="nsg-nva", security_rules=(deny_ssh,)),
        ),
    )


def timed(func: Callable[[], object], repeats: int, calls: int = 1) -> tuple[float, float]:
    """(median, min) seconds per call over ``repeats`` runs of ``calls`` calls."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        runs.append((time.perf_counter() - start) / calls)
    return statistics.median(runs), min(runs)


def context(solution: Solution) -> TrafficContext:
    return TrafficContext(solution.network, solution.plan, solution.snapshots)


def main() -> None:
    """Print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    solution = solve(hub_and_spokes(args.spokes))
    flow = Flow.parse("tcp", "10.1.0.4", 50000, "10.2.0.4", 443)
    answer = trace(context(solution), flow)
    print(
        f"  {flow.source} -> {flow.destination}: {answer.verdict.value}, "
        f"{len(answer.paths[0].hops)} hops, reply {len(answer.reply_paths)} path(s)"
    )
    median, low = timed(lambda: context(solution), args.repeats)
    print(
        f"TrafficContext ({args.spokes} spokes): median {median * 1e3:.3f} ms, "
        f"min {low * 1e3:.3f} ms"
    )
    median, low = timed(lambda: trace(context(solution), flow), args.repeats)
    print(f"trace, cold context: median {median * 1e3:.3f} ms, min {low * 1e3:.3f} ms")
    warm = context(solution)
    trace(warm, flow)
    median, low = timed(lambda: trace(warm, flow), args.repeats, 1000)
    print(
        f"trace, warm context: median {median * 1e3:.3f} ms, min {low * 1e3:.3f} ms "
        f"(n={args.repeats})"
    )


if __name__ == "__main__":
    main()
