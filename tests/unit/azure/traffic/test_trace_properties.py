"""Hypothesis properties of traces (issue 14): a trace never visits a hop twice without
reporting a loop, whatever the UDRs between a few NVAs say; any flow from an address a
node holds gets an answer, never an exception."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bgpemu.azure.model import Network, NextHopType, RouteTable, Subnet, UserRoute, VNet
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.trace import trace
from tests.unit.azure.traffic.networks import context, er_vpn, nic, s5, s6

APPLIANCES = 4
TARGETS = (
    "none",
    "internet",
    "local",
    "gateway",
    *(f"10.0.{i}.4" for i in range(1, APPLIANCES + 1)),
)


def network(choices: list[str], forwarding: list[bool]) -> Network:
    """Subnets 10.0.i.0/24 (i = 0 the source, 1..4 appliances); subnet i sends 10.9/16
    (and 10.0.5/24, where the destination lives) where ``choices[i]`` says."""

    def routes(target: str) -> tuple[UserRoute, ...]:
        if target == "local":
            return ()
        kinds = {
            "none": NextHopType.NONE,
            "internet": NextHopType.INTERNET,
            "gateway": NextHopType.VIRTUAL_NETWORK_GATEWAY,  # no gateway here: no route
        }
        kind = kinds.get(target, NextHopType.VIRTUAL_APPLIANCE)
        hop = target if kind is NextHopType.VIRTUAL_APPLIANCE else None
        return tuple(
            UserRoute(name=f"r{n}", address_prefix=p, next_hop_type=kind, next_hop_ip_address=hop)
            for n, p in enumerate(("10.9.0.0/16", "10.0.5.0/24"))
        )

    subnets = [
        Subnet(
            name=f"s{i}",
            address_prefix=f"10.0.{i}.0/24",
            route_table=f"t{i}",
            network_interfaces=(
                nic(f"n{i}", "v", f"s{i}", f"10.0.{i}.4", enable_ip_forwarding=forwarding[i]),
            ),
        )
        for i in range(APPLIANCES + 1)
    ]
    subnets.append(
        Subnet(
            name="dst",
            address_prefix="10.0.5.0/24",
            network_interfaces=(nic("dst", "v", "dst", "10.0.5.4"),),
        )
    )
    return Network(
        name="prop",
        nodes=(
            VNet(
                name="v",
                address_space=("10.0.0.0/16", "10.9.0.0/16"),
                subnets=tuple(subnets),
                route_tables=tuple(
                    RouteTable(name=f"t{i}", routes=routes(choices[i]))
                    for i in range(APPLIANCES + 1)
                ),
            ),
        ),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    choices=st.lists(st.sampled_from(TARGETS), min_size=APPLIANCES + 1, max_size=APPLIANCES + 1),
    forwarding=st.lists(st.booleans(), min_size=APPLIANCES + 1, max_size=APPLIANCES + 1),
    destination=st.sampled_from(("10.0.5.4", "10.9.1.1")),
)
def test_a_trace_never_visits_a_hop_twice_without_reporting_a_loop(
    choices: list[str], forwarding: list[bool], destination: str
) -> None:
    answer = trace(
        context(network(choices, forwarding)), Flow.parse("tcp", "10.0.0.4", 1, destination, 80)
    )
    assert answer.paths
    for path in (*answer.paths, *answer.reply_paths):
        keys = [h.key for h in path.hops]
        if len(set(keys)) != len(keys):
            assert path.verdict is Verdict.LOOP
            assert keys[-1] in keys[:-1]
            assert len(set(keys[:-1])) == len(keys) - 1
        else:
            assert path.verdict is not Verdict.LOOP


_CONTEXTS: dict[str, TrafficContext] = {}


def _context(name: str) -> TrafficContext:
    """The converged context of a reference network, built once per test session."""
    found = _CONTEXTS.get(name)
    if found is None:
        found = _CONTEXTS[name] = context({"er_vpn": er_vpn, "s5": s5, "s6": s6}[name]())
    return found


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(("er_vpn", "s5", "s6")),
    source_index=st.integers(min_value=0, max_value=63),
    destination=st.integers(min_value=0, max_value=2**32 - 1),
    port=st.integers(min_value=0, max_value=65535),
)
def test_any_flow_from_a_held_address_gets_an_answer(
    name: str, source_index: int, destination: int, port: int
) -> None:
    """Any destination, from any address a node holds: a trace with a verdict, a reason
    and a connection troubleshoot answer, never an exception (hostile input)."""
    ctx = _context(name)
    owners = list(ctx.owners.values())
    source = owners[source_index % len(owners)].address
    flow = Flow("Tcp", source, 50000, str(ipaddress.IPv4Address(destination)), port)
    answer = trace(ctx, flow)
    assert answer.reason
    assert answer.paths
    check = answer.to_connectivity_check()
    assert check["hops"][0]["type"] == "Source"
    assert (check["connectionStatus"] == "Reachable") == (answer.verdict is Verdict.REACHABLE)
