"""The reachability matrix (issue 14): S5's variants, grouping of on-prem ranges (the
same counts as tracing every range), skipped subnets, endpoints written by users."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bgpemu.azure.model import Network, Subnet, VNet
from bgpemu.azure.security import Access, Direction, NetworkSecurityGroup, SecurityRule
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.matrix import (
    SOURCE_PORT,
    endpoint_address,
    flow_between,
    matrix_endpoints,
    reachability_matrix,
)
from bgpemu.azure.traffic.trace import trace
from tests.unit.azure.scenarios import scenario1
from tests.unit.azure.traffic.networks import context, nic, s5


def test_s5_with_udrs_every_pair_is_reachable() -> None:
    """§8 S5 row 2: spokes reach each other through the NVA, and the hub both."""
    matrix = reachability_matrix(context(s5()), port=443)
    assert [e.name for e in matrix.endpoints] == ["hub/nva", "spoke1/app", "spoke2/app"]
    assert matrix.counts == {"reachable": 6}
    assert matrix.unreachable == ()


def test_s5_without_udrs_names_the_spoke_pairs_and_why() -> None:
    """§8 S5 row 1: spoke to spoke falls on the 10.0.0.0/8 None route (P6); the hub pairs
    stay reachable."""
    matrix = reachability_matrix(context(s5(udr_spoke1=False, udr_spoke2=False)), port=443)
    assert matrix.counts == {"reachable": 4, "dropped_none_route": 2}
    assert [(p.source, p.destination) for p in matrix.unreachable] == [
        ("spoke1/app", "spoke2/app"),
        ("spoke2/app", "spoke1/app"),
    ]
    assert "10.0.0.0/8" in matrix.unreachable[0].reason


def test_each_pair_is_the_trace_of_the_flow_between_the_representatives() -> None:
    """A pair's verdict and reason are those of trace() for SOURCE_PORT -> port."""
    ctx = context(s5(ip_forwarding=False))
    matrix = reachability_matrix(ctx, protocol="udp", port=53)
    addresses = {e.name: e.address for e in matrix.endpoints}
    assert matrix.protocol == "Udp"
    for pair in matrix.pairs:
        answer = trace(
            ctx, flow_between("Udp", addresses[pair.source], addresses[pair.destination], 53)
        )
        assert (pair.verdict, pair.reason) == (answer.verdict, answer.reason)
    assert matrix.verdict("spoke1/app", "spoke2/app").verdict is Verdict.IP_FORWARDING_OFF


def test_flows_use_the_ephemeral_source_port_and_no_port_for_icmp() -> None:
    flow = flow_between("tcp", "10.0.0.4", "10.0.0.5", 1433)
    assert (flow.protocol, flow.source_port, flow.destination_port) == ("Tcp", SOURCE_PORT, 1433)
    icmp = flow_between("icmp", "10.0.0.4", "10.0.0.5", 1433)
    assert (icmp.source_port, icmp.destination_port) == (0, 0)


def _vpn_site(deny: str | None) -> Network:
    """§9 scenario 1 (a VPN gateway, Site5 announcing three /24s) with a VM in an App
    subnet whose NSG denies inbound from ``deny`` (one of the site's ranges)."""
    network = scenario1("10.51.0.0/24", "10.51.1.0/24", "10.51.2.0/24")
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet):
            node = replace(
                node,
                subnets=(
                    Subnet(
                        name="App",
                        address_prefix="10.11.1.0/24",
                        network_security_group="app-nsg",
                        network_interfaces=(nic("vm1", node.name, "App", "10.11.1.4"),),
                    ),
                ),
            )
        nodes.append(node)
    rules: tuple[SecurityRule, ...] = ()
    if deny is not None:
        rules = (
            SecurityRule(
                name="deny-one-range",
                priority=100,
                direction=Direction.INBOUND,
                access=Access.DENY,
                source_address_prefixes=(deny,),
            ),
        )
    nsg = NetworkSecurityGroup(name="app-nsg", security_rules=rules)
    return replace(network, nodes=tuple(nodes), network_security_groups=(nsg,))


def test_on_prem_ranges_routed_alike_are_one_endpoint() -> None:
    """Site5's three ranges are routed alike: one endpoint standing for three."""
    ctx = context(_vpn_site(deny=None))
    endpoints, skipped = matrix_endpoints(ctx)
    assert [(e.name, e.weight) for e in endpoints] == [
        ("TestVNet1/App", 1),
        ("Site5:10.51.0.0/24", 3),
    ]
    assert endpoints[1].address == "10.51.0.1"
    assert skipped == []
    matrix = reachability_matrix(ctx)
    # 1 x 3 + 3 x 1 + the ranges among themselves 3 x 2.
    assert sum(p.weight for p in matrix.pairs) == 12


@pytest.mark.parametrize("deny", [None, "10.51.1.0/24"])
def test_grouped_ranges_give_the_counts_of_tracing_every_range(deny: str | None) -> None:
    """The grouping is exact: an NSG rule naming one range splits it out, and the
    verdict counts equal those of tracing every range apart."""
    network = _vpn_site(deny=deny)
    grouped = reachability_matrix(context(network))
    every = reachability_matrix(context(network), group_ranges=False)
    assert len(every.endpoints) == 4
    assert grouped.counts == every.counts
    if deny is not None:
        assert grouped.counts == {"reachable": 11, "denied": 1}
        assert [e.name for e in grouped.endpoints][1:] == [
            "Site5:10.51.0.0/24",
            "Site5:10.51.1.0/24",
        ]


def test_a_subnet_nothing_runs_in_is_skipped_with_why() -> None:
    network = s5()
    empty = Subnet(name="GatewaySubnet", address_prefix="10.0.255.0/27")
    nodes = tuple(
        replace(n, subnets=(*n.subnets, empty)) if isinstance(n, VNet) and n.name == "hub" else n
        for n in network.nodes
    )
    matrix = reachability_matrix(context(replace(network, nodes=nodes)))
    assert matrix.skipped == (("hub/GatewaySubnet", "no running interface or NVA to send from"),)
    assert matrix.to_json()["skipped"] == [
        {"name": "hub/GatewaySubnet", "reason": "no running interface or NVA to send from"}
    ]


def test_interfaces_mode_has_one_endpoint_per_interface() -> None:
    matrix = reachability_matrix(context(s5()), interfaces=True)
    assert [e.name for e in matrix.endpoints] == ["nva1", "vm1", "vm2"]
    assert matrix.counts == {"reachable": 6}


def test_matrix_json_summarises_by_verdict() -> None:
    matrix = reachability_matrix(context(s5(udr_spoke1=False, udr_spoke2=False)), port=22)
    document = matrix.to_json()
    assert document["protocol"] == "Tcp"
    assert document["port"] == 22
    assert document["pairs"] == 6
    assert document["summary"] == {"reachable": 4, "dropped_none_route": 2}
    assert document["unreachable"][0]["source"] == "spoke1/app"
    assert document["unreachable"][0]["verdict"] == "dropped_none_route"


def test_endpoints_written_by_users() -> None:
    ctx = context(s5())
    assert endpoint_address(ctx, "10.2.0.4") == "10.2.0.4"
    assert endpoint_address(ctx, "vm2") == "10.2.0.4"
    assert endpoint_address(ctx, "spoke2/app") == "10.2.0.4"
    with pytest.raises(ValueError, match="no subnet 'db' in a VNet 'spoke2'"):
        endpoint_address(ctx, "spoke2/db")
    with pytest.raises(ValueError, match="'vm9'"):
        endpoint_address(ctx, "vm9")
