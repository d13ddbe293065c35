"""Hypothesis property (issue 14): under stateful rules the verdict of a flow is decided
by the rules of its own direction; the reply of an admitted flow passes whatever the
rules say about packets going the other way (NSGs §1.3, Azure Firewall §7.1 of
azure-traffic.md).

For a random flow A -> B between two interfaces of a reference topology, every NSG gets
deny rules for the reply's 5-tuple (B -> A, inbound and outbound) and every firewall a
deny collection for it, all evaluated first.  Those rules can only ever see packets
going from B to A: the verdict of A -> B, and its reply's paths, must not change; the
reverse flow B -> A, a new connection, is what they deny (checked where an NSG or
firewall is on its path, so the property is not vacuous).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.converge import solve
from bgpemu.azure.model import Network, VNet
from bgpemu.azure.security import (
    Access,
    Direction,
    FirewallAction,
    FirewallRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    FirewallRuleType,
    Protocol,
    SecurityRule,
)
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.trace import Trace, trace
from bgpemu.topology import load_topology
from tests.testing.traffic_helpers import DATA, SCENARIOS

TOPOLOGIES = (
    SCENARIOS / "s3-peered-vnets-deny.yaml",
    SCENARIOS / "s5-hub-nva.yaml",
    SCENARIOS / "s6-two-nvas.yaml",
    SCENARIOS / "s7-asgs.yaml",
    SCENARIOS / "s8-firewall-rules.yaml",
    DATA / "topologies" / "firewall-symmetric.yaml",
    DATA / "topologies" / "er-vpn-failover.yaml",
)
SHIFT = 20
"""The existing rules' priorities move up by this much; the reply's deny rules take 100+."""


@cache
def converged(index: int) -> tuple[Network, TrafficContext]:
    network = load_topology(TOPOLOGIES[index])
    solution = solve(network)
    return network, TrafficContext(network, solution.plan, solution.snapshots)


def interfaces(network: Network) -> list[str]:
    return [
        nic.private_ip_address
        for vnet in network.of_type(VNet)
        for subnet in vnet.subnets
        for nic in subnet.network_interfaces
    ]


def deny_replies(network: Network, flow: Flow) -> Network:
    """``network`` with every NSG and firewall denying the reply's 5-tuple first."""
    reply = flow.reply()
    protocol = Protocol(flow.protocol)
    nsg_rules = tuple(
        SecurityRule(
            name=f"deny-reply-{direction.value.lower()}",
            priority=100 + index,
            direction=direction,
            access=Access.DENY,
            protocol=protocol,
            source_address_prefixes=(f"{reply.source}/32",),
            source_port_ranges=(str(reply.source_port),),
            destination_address_prefixes=(f"{reply.destination}/32",),
            destination_port_ranges=(str(reply.destination_port),),
        )
        for index, direction in enumerate(Direction)
    )
    collection = FirewallRuleCollection(
        name="deny-reply",
        priority=100,
        action=FirewallAction.DENY,
        rules=(
            FirewallRule(
                name="reply",
                rule_type=FirewallRuleType.NETWORK,
                ip_protocols=(flow.protocol.upper(),),
                source_addresses=(reply.source,),
                destination_addresses=(reply.destination,),
                destination_ports=(str(reply.destination_port),),
            ),
        ),
    )
    group = FirewallRuleCollectionGroup(
        name="deny-replies", priority=100, rule_collections=(collection,)
    )
    return replace(
        network,
        network_security_groups=tuple(
            replace(
                nsg,
                security_rules=(
                    *nsg_rules,
                    *(replace(r, priority=r.priority + SHIFT) for r in nsg.security_rules),
                ),
            )
            for nsg in network.network_security_groups
        ),
        firewalls=tuple(
            replace(
                fw,
                rule_collection_groups=(
                    group,
                    *(replace(g, priority=g.priority + SHIFT) for g in fw.rule_collection_groups),
                ),
            )
            for fw in network.firewalls
        ),
    )


def paths(answer: Trace) -> list[list[str]]:
    return [[h.name for h in p.hops] for p in answer.reply_paths]


def rules_on(answer: Trace) -> bool:
    """Whether some NSG or firewall rule was checked on the forward paths."""
    return any(h.checks for p in answer.paths for h in p.hops)


@settings(max_examples=60, deadline=None)
@given(
    topology=st.integers(0, len(TOPOLOGIES) - 1),
    pick=st.tuples(st.integers(0, 50), st.integers(0, 50)),
    protocol=st.sampled_from(["Tcp", "Udp"]),
    source_port=st.integers(1024, 65535),
    port=st.sampled_from([22, 80, 443, 1433, 3389, 8080]),
)
def test_the_reply_of_a_flow_is_judged_by_the_flow_not_by_reverse_rules(
    topology: int, pick: tuple[int, int], protocol: str, source_port: int, port: int
) -> None:
    network, ctx = converged(topology)
    addresses = interfaces(network)
    source = addresses[pick[0] % len(addresses)]
    destination = addresses[pick[1] % len(addresses)]
    if source == destination:
        destination = addresses[(pick[1] + 1) % len(addresses)]
    flow = Flow.parse(protocol, source, source_port, destination, port)
    before = trace(ctx, flow)

    denied = deny_replies(network, flow)
    denied_ctx = TrafficContext(denied, ctx.plan, ctx.snapshots)
    after = trace(denied_ctx, flow)
    assert after.verdict is before.verdict, (before.reason, after.reason)
    assert paths(after) == paths(before)

    # Not vacuous: the same rules deny the reverse flow, a new connection, wherever an
    # NSG or a firewall is on its way and it was admitted before.
    reverse = trace(ctx, flow.reply())
    if reverse.verdict is Verdict.REACHABLE and rules_on(reverse):
        assert trace(denied_ctx, flow.reply()).verdict is Verdict.DENIED
