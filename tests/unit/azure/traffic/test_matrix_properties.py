"""Hypothesis property of the reachability matrix (issue 14): grouping one router's
ranges routed alike changes no count, whatever NSG rules name parts of them."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.azure.converge import Solution, solve
from bgpemu.azure.model import Network, Subnet, VNet
from bgpemu.azure.security import Access, Direction, NetworkSecurityGroup, SecurityRule
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import reachability_matrix
from tests.unit.azure.scenarios import scenario1
from tests.unit.azure.traffic.networks import nic

RANGES = ("10.51.0.0/24", "10.51.1.0/24", "10.51.2.0/24", "10.52.0.0/23")
PREFIXES = (*RANGES, "10.51.0.0/16", "10.51.1.0/25", "10.52.1.0/24", "VirtualNetwork", "*")


@cache
def solved() -> Solution:
    """§9 scenario 1 with Site5 announcing RANGES and two VMs in TestVNet1, converged once
    (NSGs do not change routing, so every example reuses the convergence)."""
    network = scenario1(*RANGES)
    subnets = (
        Subnet(
            name="App",
            address_prefix="10.11.1.0/24",
            network_security_group="nsg",
            network_interfaces=(nic("vm1", "TestVNet1", "App", "10.11.1.4"),),
        ),
        Subnet(
            name="Db",
            address_prefix="10.11.2.0/24",
            network_interfaces=(
                nic("vm2", "TestVNet1", "Db", "10.11.2.4", network_security_group="nsg"),
            ),
        ),
    )
    nodes = tuple(replace(n, subnets=subnets) if isinstance(n, VNet) else n for n in network.nodes)
    return solve(replace(network, nodes=nodes))


rules = st.lists(
    st.builds(
        lambda i, direction, access, source, destination, port: SecurityRule(
            name=f"r{i}",
            priority=100 + i,
            direction=direction,
            access=access,
            source_address_prefixes=(source,),
            destination_address_prefixes=(destination,),
            destination_port_ranges=(port,),
        ),
        st.integers(0, 0),
        st.sampled_from(list(Direction)),
        st.sampled_from(list(Access)),
        st.sampled_from(PREFIXES),
        st.sampled_from(PREFIXES),
        st.sampled_from(("443", "*", "22")),
    ),
    max_size=4,
).map(lambda found: tuple(replace(r, name=f"r{i}", priority=100 + i) for i, r in enumerate(found)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules)
def test_grouping_ranges_never_changes_the_counts(security_rules: tuple[SecurityRule, ...]) -> None:
    solution = solved()
    network: Network = replace(
        solution.network,
        network_security_groups=(NetworkSecurityGroup(name="nsg", security_rules=security_rules),),
    )
    grouped = reachability_matrix(TrafficContext(network, solution.plan, solution.snapshots))
    every = reachability_matrix(
        TrafficContext(network, solution.plan, solution.snapshots), group_ranges=False
    )
    assert grouped.counts == every.counts
