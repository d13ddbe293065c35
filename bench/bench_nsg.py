"""NSG evaluation (``bgpemu.azure.traffic.nsg``) on a hub with N peered spokes.

Usage: ``python bench/bench_nsg.py [SPOKES] [RULES]`` (defaults 100 and 20).  Builds, in
code, a hub VNet 10.0.0.0/16 and SPOKES spokes 10.i.0.0/16 peered with it; each spoke's
subnet has an NSG of RULES user rules (TCP allows and denies on ports and prefixes) and
one VM.  Times, apart: the SecurityIndex, each subnet's service tags from its effective
routes (what the trace's context caches per subnet), compiling every NSG for its tags
(first evaluation), and the steady state: for every ordered pair of spoke VMs, the
source's outbound and the destination's inbound evaluation (a reachability matrix's NSG
work: SPOKES x (SPOKES - 1) x 2 evaluations), with the time per evaluation.
"""

from __future__ import annotations

import sys
import time

from bgpemu.azure.model import Network, Peering, Subnet, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.security import (
    Access,
    Direction,
    NetworkInterface,
    NetworkSecurityGroup,
    Protocol,
    SecurityRule,
)
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.nsg import SecurityIndex, evaluate_nsgs
from bgpemu.azure.traffic.tags import ServiceTags, service_tags
from bgpemu.azure.views import effective_routes


def _rules(count: int) -> tuple[SecurityRule, ...]:
    rules = []
    for i in range(count):
        rules.append(
            SecurityRule(
                name=f"r{i}",
                priority=100 + 10 * i,
                direction=Direction.INBOUND if i % 2 else Direction.OUTBOUND,
                access=Access.DENY if i % 3 == 0 else Access.ALLOW,
                protocol=Protocol.TCP,
                source_address_prefixes=(f"10.{200 + i % 50}.0.0/16", "192.168.0.0/24"),
                destination_port_ranges=(str(1000 + i), f"{2000 + 10 * i}-{2005 + 10 * i}"),
            )
        )
    return tuple(rules)


def _network(spokes: int, rules: int) -> Network:
    names = [f"spoke{i}" for i in range(1, spokes + 1)]
    hub = VNet(
        name="hub",
        address_space=("10.0.0.0/16",),
        subnets=(Subnet(name="s", address_prefix="10.0.0.0/24"),),
        peerings=tuple(Peering(remote_virtual_network=name) for name in names),
    )
    vnets = [hub]
    for i, name in enumerate(names, start=1):
        nic = NetworkInterface(
            name=f"vm{i}", vnet=name, subnet="s", private_ip_address=f"10.{i}.0.4"
        )
        subnet = Subnet(
            name="s",
            address_prefix=f"10.{i}.0.0/24",
            network_security_group=f"nsg{i}",
            network_interfaces=(nic,),
        )
        vnets.append(
            VNet(
                name=name,
                address_space=(f"10.{i}.0.0/16",),
                subnets=(subnet,),
                peerings=(Peering(remote_virtual_network="hub"),),
            )
        )
    nsgs = tuple(
        NetworkSecurityGroup(name=f"nsg{i}", security_rules=_rules(rules))
        for i in range(1, spokes + 1)
    )
    return Network(name="bench", nodes=tuple(vnets), network_security_groups=nsgs)


def main() -> None:
    spokes = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rules = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    network = _network(spokes, rules)
    plan = Plan(speakers=(), endpoints={})
    t0 = time.perf_counter()
    index = SecurityIndex(network)
    t1 = time.perf_counter()
    tags: dict[int, ServiceTags] = {
        i: service_tags(effective_routes(network, plan, {}, f"spoke{i}", "s"))
        for i in range(1, spokes + 1)
    }
    t2 = time.perf_counter()
    nics = {i: index.interface(f"vm{i}") for i in range(1, spokes + 1)}
    for i in range(1, spokes + 1):
        index.compiled(f"nsg{i}", tags[i])
    t3 = time.perf_counter()
    evaluations = allowed = 0
    for i in range(1, spokes + 1):
        for j in range(1, spokes + 1):
            if i == j:
                continue
            flow = Flow("Tcp", f"10.{i}.0.4", 50000, f"10.{j}.0.4", 443)
            out = evaluate_nsgs(index, nics[i], flow, Direction.OUTBOUND, tags[i])
            inbound = evaluate_nsgs(index, nics[j], flow, Direction.INBOUND, tags[j])
            evaluations += 2
            allowed += out.allowed and inbound.allowed
    t4 = time.perf_counter()
    print(
        f"{spokes} spokes, {rules} user rules per NSG: index {1000 * (t1 - t0):.1f} ms, "
        f"tags {1000 * (t2 - t1):.1f} ms ({spokes} subnets), "
        f"compile {1000 * (t3 - t2):.1f} ms ({spokes} NSGs); "
        f"{evaluations} evaluations {1000 * (t4 - t3):.1f} ms "
        f"({1e6 * (t4 - t3) / evaluations:.1f} us each; {allowed} pairs allowed)"
    )


if __name__ == "__main__":
    main()
