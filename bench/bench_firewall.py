"""Azure Firewall decisions (issue 14, §7 of shared/azure-traffic.md) over a policy of
1,000 network rules.

Not a test.  Run: ``.venv/bin/python bench/bench_firewall.py [--rules N] [--repeats N]``.
The policy: 10 rule collection groups x 10 network collections x N/100 rules, every rule
TCP from one /24 to one /24 on two ports, the odd collections Deny, the even ones Allow.
Timed: compiling the policy (``FirewallPolicy.of``), and one decision
(``FirewallPolicy.decide``) for a flow the first rule decides, one the last rule decides,
and one no rule matches (default deny: every rule is tried); and ``firewall_decision``,
which compiles on each call.  Each figure is the median (and minimum) of N runs of
``time.perf_counter``, a decision's the mean over 1,000 calls per run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from bgpemu.azure.security import (
    AzureFirewall,
    FirewallAction,
    FirewallRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    FirewallRuleType,
)
from bgpemu.azure.traffic.firewall import FirewallPolicy, firewall_decision
from bgpemu.azure.traffic.flow import Flow


def policy(rules: int) -> AzureFirewall:
    """10 groups x 10 collections x rules/100 rules; rule i: 10.(i//256).(i%256).0/24 ->
    172.16.(i//256).(i%256)... on ports 1000+i and 2000+i."""
    per_collection = max(1, rules // 100)
    groups = []
    index = 0
    for g in range(10):
        collections = []
        for c in range(10):
            members = []
            for _ in range(per_collection):
                members.append(
                    FirewallRule(
                        name=f"r{index}",
                        rule_type=FirewallRuleType.NETWORK,
                        ip_protocols=("TCP",),
                        source_addresses=(f"10.{index // 256}.{index % 256}.0/24",),
                        destination_addresses=(f"172.16.{index // 256}.{index % 256}/32",),
                        destination_ports=(str(1000 + index), str(20000 + index)),
                    )
                )
                index += 1
            action = FirewallAction.DENY if c % 2 else FirewallAction.ALLOW
            collections.append(
                FirewallRuleCollection(
                    name=f"g{g}c{c}", priority=100 + c, action=action, rules=tuple(members)
                )
            )
        groups.append(
            FirewallRuleCollectionGroup(
                name=f"g{g}", priority=100 + g, rule_collections=tuple(collections)
            )
        )
    return AzureFirewall(
        name="fw", vnet="hub", private_ip_address="10.255.0.4", rule_collection_groups=tuple(groups)
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


def main() -> None:
    """Print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    firewall = policy(args.rules)
    count = sum(len(c.rules) for g in firewall.rule_collection_groups for c in g.rule_collections)
    compiled = FirewallPolicy.of(firewall)
    last = count - 1
    flows = {
        "first rule": Flow("Tcp", "10.0.0.7", 50000, "172.16.0.0", 1000),
        "last rule": Flow(
            "Tcp",
            f"10.{last // 256}.{last % 256}.7",
            50000,
            f"172.16.{last // 256}.{last % 256}",
            1000 + last,
        ),
        "default deny": Flow("Tcp", "192.0.2.7", 50000, "198.51.100.7", 443),
    }
    for label, flow in flows.items():
        decision = compiled.decide(flow)
        print(f"  {label}: {decision.verdict.value} by {decision.rule_name}")
    median, low = timed(partial(FirewallPolicy.of, firewall), args.repeats)
    print(
        f"FirewallPolicy.of ({count} rules): median {median * 1e3:.2f} ms, min {low * 1e3:.2f} ms"
    )
    for label, flow in flows.items():
        median, low = timed(partial(compiled.decide, flow), args.repeats, 1000)
        print(f"decide, {label}: median {median * 1e6:.1f} us, min {low * 1e6:.1f} us")
    median, low = timed(partial(firewall_decision, firewall, flows["default deny"]), args.repeats)
    print(
        f"firewall_decision (compiles each call), default deny: "
        f"median {median * 1e3:.2f} ms, min {low * 1e3:.2f} ms (n={args.repeats})"
    )


if __name__ == "__main__":
    main()
