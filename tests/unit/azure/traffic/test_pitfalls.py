"""The pitfalls of azure-traffic.md §6 a trace names (P1, P3, P6, P6a: test_trace.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bgpemu.azure.model import (
    ExpressRouteCircuit,
    Network,
    NextHopType,
    Peering,
    RouteTable,
    Subnet,
    UserRoute,
    VNet,
)
from bgpemu.azure.security import Access, Direction, NetworkSecurityGroup, SecurityRule
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.trace import Trace, trace
from bgpemu.topology import load_topology
from tests.unit.azure.traffic.networks import context, er_vpn, nic, s2

ONPREM_HOST = "10.1.11.10"
TOPOLOGIES = Path(__file__).parents[4] / "topologies"


def tcp(source: str, destination: str, port: int = 443) -> Flow:
    return Flow.parse("tcp", source, 50000, destination, port)


def ids(answer: Trace) -> list[str]:
    return [w.id for w in answer.warnings]


def with_vnet(network: Network, name: str, **changes: object) -> Network:
    nodes = tuple(
        replace(n, **changes) if isinstance(n, VNet) and n.name == name else n  # type: ignore[arg-type]
        for n in network.nodes
    )
    return replace(network, nodes=nodes)


def udr(prefix: str, kind: NextHopType, hop: str | None = None) -> UserRoute:
    return UserRoute(name="r", address_prefix=prefix, next_hop_type=kind, next_hop_ip_address=hop)


def test_p9_private_destination_outside_everything() -> None:
    """P9 [NW-IPFV-CLI][NW-NH-CLI]: S2's 172.31.0.100, None route (and DenyAllOutBound)."""
    answer = trace(context(s2()), tcp("10.0.0.4", "172.31.0.100"))
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert ids(answer) == ["P9"]
    assert trace(context(s2()), tcp("10.0.0.4", "13.107.21.200")).warnings == ()


def test_p10_gateway_routes_suppressed_on_the_spoke() -> None:
    """P10 [UDR]: the spoke's table has 'propagate gateway routes' off and no UDR."""
    network = with_vnet(
        er_vpn(),
        "spoke",
        route_tables=(RouteTable(name="rt", disable_bgp_route_propagation=True),),
        subnets=(
            replace(
                next(
                    n for n in er_vpn().nodes if isinstance(n, VNet) and n.name == "spoke"
                ).subnets[0],
                route_table="rt",
            ),
        ),
    )
    answer = trace(context(network), tcp("10.17.11.132", ONPREM_HOST))
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert ids(answer) == ["P10"]
    assert "10.1.11.0/25" in answer.warnings[0].message
    # control: propagation on, no warning
    assert trace(context(er_vpn()), tcp("10.17.11.132", ONPREM_HOST)).warnings == ()


def gateway_subnet_network(*, udr_default: bool, nsg: bool) -> Network:
    """ER + VPN with a declared GatewaySubnet, optionally with a 0/0 UDR or an NSG."""
    base = er_vpn()
    hub = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "hub")
    gateway = Subnet(
        name="GatewaySubnet",
        address_prefix="10.17.11.64/27",
        route_table="rt-gw" if udr_default else None,
        network_security_group="nsg-gw" if nsg else None,
    )
    tables = (
        (RouteTable(name="rt-gw", routes=(udr("0.0.0.0/0", NextHopType.INTERNET),)),)
        if udr_default
        else ()
    )
    network = with_vnet(base, "hub", subnets=(*hub.subnets, gateway), route_tables=tables)
    return replace(
        network,
        network_security_groups=(NetworkSecurityGroup(name="nsg-gw"),) if nsg else (),
    )


def test_p4_default_udr_on_gateway_subnet() -> None:
    """P4 [UDR]: on-prem -> spoke crosses GatewaySubnet, which has a 0/0 UDR."""
    answer = trace(
        context(gateway_subnet_network(udr_default=True, nsg=False)),
        tcp(ONPREM_HOST, "10.17.11.132"),
    )
    assert "P4" in ids(answer)
    clean = trace(
        context(gateway_subnet_network(udr_default=False, nsg=False)),
        tcp(ONPREM_HOST, "10.17.11.132"),
    )
    assert clean.verdict is Verdict.REACHABLE
    assert "P4" not in ids(clean)


def test_p5_nsg_on_gateway_subnet() -> None:
    """P5 [GW-SETTINGS]: an NSG associated to GatewaySubnet on the path."""
    answer = trace(
        context(gateway_subnet_network(udr_default=False, nsg=True)),
        tcp(ONPREM_HOST, "10.17.11.132"),
    )
    assert ids(answer) == ["P5"]
    assert "GatewaySubnet" in answer.warnings[0].message


def hub_and_spoke(*, default_to_nva: bool, nsg: bool = False) -> Network:
    """Spoke 10.1/16 peered with hub 10.0/16 (NVA 10.0.1.4); the spoke's subnet may send
    0/0 to the NVA and carry a default NSG."""
    spoke_subnet = Subnet(
        name="app",
        address_prefix="10.1.0.0/24",
        route_table="rt" if default_to_nva else None,
        network_security_group="nsg-app" if nsg else None,
        network_interfaces=(nic("vm1", "spoke", "app", "10.1.0.4"),),
    )
    return Network(
        name="p7",
        nodes=(
            VNet(
                name="hub",
                address_space=("10.0.0.0/16",),
                subnets=(
                    Subnet(
                        name="nva",
                        address_prefix="10.0.1.0/24",
                        network_interfaces=(
                            nic("nva1", "hub", "nva", "10.0.1.4", enable_ip_forwarding=True),
                            nic("hubvm", "hub", "nva", "10.0.1.5"),
                        ),
                    ),
                ),
                peerings=(Peering(remote_virtual_network="spoke", allow_forwarded_traffic=True),),
            ),
            VNet(
                name="spoke",
                address_space=("10.1.0.0/16",),
                subnets=(spoke_subnet,),
                route_tables=(
                    RouteTable(
                        name="rt",
                        routes=(udr("0.0.0.0/0", NextHopType.VIRTUAL_APPLIANCE, "10.0.1.4"),),
                    ),
                ),
                peerings=(Peering(remote_virtual_network="hub", allow_forwarded_traffic=True),),
            ),
        ),
        network_security_groups=(NetworkSecurityGroup(name="nsg-app"),) if nsg else (),
    )


def test_p7_peering_route_bypasses_the_default_udr() -> None:
    """P7 [FW-HYBRID]: the spoke means 0/0 -> NVA, but the hub's VNetPeering route wins."""
    answer = trace(context(hub_and_spoke(default_to_nva=True)), tcp("10.1.0.4", "10.0.1.5"))
    assert answer.verdict is Verdict.REACHABLE
    assert ids(answer) == ["P7"]
    no_udr = trace(context(hub_and_spoke(default_to_nva=False)), tcp("10.1.0.4", "10.0.1.5"))
    assert no_udr.warnings == ()


def test_p4a_default_udr_widens_virtual_network() -> None:
    """P4a [ISSUE-22178]: with 0/0 -> NVA, AllowVnetOutBound admits an Internet flow."""
    answer = trace(
        context(hub_and_spoke(default_to_nva=True, nsg=True)), tcp("10.1.0.4", "13.107.21.200")
    )
    source = answer.paths[0].hops[0]
    assert [c.rule_name for c in source.checks] == ["defaultSecurityRules/AllowVnetOutBound"]
    assert "P4a" in ids(answer)
    plain = trace(
        context(hub_and_spoke(default_to_nva=False, nsg=True)), tcp("10.1.0.4", "13.107.21.200")
    )
    assert "P4a" not in ids(plain)


def test_p8_one_nsg_level_allows_the_other_denies() -> None:
    """P8 [NSG-HOW]: the NIC's NSG opens TCP 443 out, the subnet's denies it (outbound:
    NIC first, then subnet, §2.1)."""

    def rule(access: Access) -> SecurityRule:
        return SecurityRule(
            name=f"{access.value.lower()}-443",
            priority=100,
            direction=Direction.OUTBOUND,
            access=access,
            destination_port_ranges=("443",),
        )

    network = s2()
    vnet = network.nodes[0]
    assert isinstance(vnet, VNet)
    subnet = replace(
        vnet.subnets[0],
        network_security_group="nsg-subnet",
        network_interfaces=(
            replace(vnet.subnets[0].network_interfaces[0], network_security_group="nsg-nic"),
        ),
    )
    network = replace(
        network,
        nodes=(replace(vnet, subnets=(subnet,)),),
        network_security_groups=(
            NetworkSecurityGroup(name="nsg-subnet", security_rules=(rule(Access.DENY),)),
            NetworkSecurityGroup(name="nsg-nic", security_rules=(rule(Access.ALLOW),)),
        ),
    )
    answer = trace(context(network), tcp("10.0.0.4", "13.107.21.200"))
    assert answer.verdict is Verdict.DENIED
    assert answer.reason == "securityRules/deny-443 of nsg-subnet denies it outbound at vm1"
    assert ids(answer) == ["P8"]
    assert trace(context(network), tcp("10.0.0.4", "13.107.21.200", 80)).warnings == ()


def test_p3a_next_hop_reached_only_through_a_gateway() -> None:
    """P3a [UDR]: a UDR's VirtualAppliance next hop lies on-prem (a gateway route)."""
    base = er_vpn()
    spoke = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "spoke")
    network = with_vnet(
        base,
        "spoke",
        route_tables=(
            RouteTable(
                name="rt",
                routes=(udr("10.99.0.0/16", NextHopType.VIRTUAL_APPLIANCE, "10.1.11.5"),),
            ),
        ),
        subnets=(replace(spoke.subnets[0], route_table="rt"),),
    )
    answer = trace(context(network), tcp("10.17.11.132", "10.99.0.1"))
    assert answer.verdict is Verdict.NO_ROUTE
    assert ids(answer) == ["P3a"]


def route_server_with_vm() -> Network:
    """topologies/nva-ha-route-server.yaml (two NVAs announce 0/0 through Route Server,
    10.200/16 active/passive) with a VM 10.5.1.4 in the spoke."""
    network = load_topology(TOPOLOGIES / "nva-ha-route-server.yaml")
    return with_vnet(
        network,
        "Spoke",
        subnets=(
            Subnet(
                name="app",
                address_prefix="10.5.1.0/24",
                network_interfaces=(nic("vm", "Spoke", "app", "10.5.1.4"),),
            ),
        ),
    )


def test_p1a_and_p4_route_server_nvas_in_ecmp_loop_on_their_own_subnet() -> None:
    """P1a [AAC-NVA-HA]: 0/0 spread over both NVAs; P4 [ARS-TS]: each NVA's subnet gets its
    own 0/0 back from Route Server and loops.  The NVAs are VirtualAppliance hops though
    a VirtualNetworkGateway route led there (§5.5 [ARS-FAQ])."""
    ctx = context(route_server_with_vm())
    answer = trace(ctx, tcp("10.5.1.4", "13.107.21.200"))
    assert answer.verdict is Verdict.LOOP
    assert sorted(p.hops[1].name for p in answer.paths) == [
        "nva1",
        "nva1",
        "nva1",
        "nva2",
        "nva2",
        "nva2",
    ]
    assert {h.type.value for p in answer.paths for h in p.hops[1:]} == {"VirtualAppliance"}
    assert ids(answer) == ["P1a", "P4", "P4"]
    assert "10.0.1.4, 10.0.1.5" in answer.warnings[0].message
    # active/passive (prepend): one NVA, no P1a, still the loop
    passive = trace(ctx, tcp("10.5.1.4", "10.200.0.1"))
    assert ids(passive) == ["P4"]


def test_p2_request_over_vpn_reply_over_expressroute() -> None:
    """P2 [ER-COEX]: on-prem's router behind the VPN prefers its own VPN path (no
    LOCAL_PREF on the ExpressRoute side), Azure answers over ExpressRoute."""
    base = er_vpn()
    nodes = [n for n in base.nodes if n.name == "fw"]
    nodes += [
        replace(n, peer_policy=replace(n.peer_policy, local_pref=None))
        if isinstance(n, ExpressRouteCircuit)
        else n
        for n in base.nodes
        if n.name != "fw"
    ]
    network = replace(base, nodes=tuple(nodes))
    answer = trace(context(network), tcp(ONPREM_HOST, "10.17.11.132"))
    assert answer.verdict is Verdict.REACHABLE
    assert answer.paths[0].hops[1].name == "fw"
    assert ids(answer) == ["P2"]
    assert "request crosses VPN, the reply ExpressRoute" in answer.warnings[0].message
    assert trace(context(er_vpn()), tcp(ONPREM_HOST, "10.17.11.132")).warnings == ()


def test_p1c_onprem_to_spoke_bypasses_the_hub_appliance() -> None:
    """P1c [FW-HYBRID]: the spoke sends on-prem traffic to a hub appliance (UDR), but
    GatewaySubnet has no UDR back: the reply from on-prem enters through the ER gateway
    and goes straight to the spoke (asymmetric, P1 and P1c)."""
    base = er_vpn()
    hub = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "hub")
    spoke = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "spoke")
    appliance = replace(hub.subnets[0].network_interfaces[0], enable_ip_forwarding=True)
    network = with_vnet(
        with_vnet(
            base,
            "hub",
            subnets=(replace(hub.subnets[0], network_interfaces=(appliance,)),),
        ),
        "spoke",
        route_tables=(
            RouteTable(
                name="rt",
                routes=(udr("10.1.11.0/25", NextHopType.VIRTUAL_APPLIANCE, "10.17.11.4"),),
            ),
        ),
        subnets=(replace(spoke.subnets[0], route_table="rt"),),
    )
    answer = trace(context(network), tcp("10.17.11.132", ONPREM_HOST))
    assert answer.verdict is Verdict.ASYMMETRIC
    assert [h.name for h in answer.paths[0].hops] == ["spokevm", "hubvm", "ergw", "er", "ce"]
    assert [h.name for h in answer.reply_paths[0].hops] == [
        "host behind ce",
        "ce",
        "er",
        "ergw",
        "spokevm",
    ]
    assert ids(answer) == ["P1", "P1c"]
    assert "enters through ergw and bypasses hubvm" in answer.warnings[1].message
    # the fix: GatewaySubnet sends the spoke's prefix to the appliance too (and the
    # spoke accepts what the appliance forwards, P6a)
    hub = next(n for n in network.nodes if isinstance(n, VNet) and n.name == "hub")
    spoke = next(n for n in network.nodes if isinstance(n, VNet) and n.name == "spoke")
    network = with_vnet(
        network,
        "spoke",
        peerings=tuple(replace(p, allow_forwarded_traffic=True) for p in spoke.peerings),
    )
    gateway_subnet = Subnet(
        name="GatewaySubnet", address_prefix="10.17.11.64/27", route_table="rt-gw"
    )
    fixed = with_vnet(
        network,
        "hub",
        subnets=(*hub.subnets, gateway_subnet),
        route_tables=(
            RouteTable(
                name="rt-gw",
                routes=(udr("10.17.11.128/26", NextHopType.VIRTUAL_APPLIANCE, "10.17.11.4"),),
            ),
        ),
    )
    symmetric = trace(context(fixed), tcp("10.17.11.132", ONPREM_HOST))
    assert symmetric.verdict is Verdict.REACHABLE
    assert [h.name for h in symmetric.reply_paths[0].hops] == [
        "host behind ce",
        "ce",
        "er",
        "ergw",
        "hubvm",
        "spokevm",
    ]
    assert symmetric.warnings == ()


def test_p4a_a_bgp_learned_default_widens_virtual_network_too() -> None:
    """P4a [ISSUE-22178], decision §9.1: a 0/0 the subnet learns by BGP (here the NVA
    pair's, injected by Route Server: source VirtualNetworkGateway) widens VirtualNetwork
    as a 0/0 UDR does, so AllowVnetOutBound admits an Internet flow: named, though the
    subnet has no route table."""
    network = load_topology(TOPOLOGIES / "nva-ha-route-server.yaml")
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet) and node.name == "Spoke":
            (app,) = node.subnets
            app = replace(
                app,
                network_security_group="nsg",
                network_interfaces=(nic("vm", "Spoke", "app", "10.5.1.4"),),
            )
            node = replace(node, subnets=(app,))
        nodes.append(node)
    network = replace(
        network,
        nodes=tuple(nodes),
        network_security_groups=(NetworkSecurityGroup(name="nsg"),),
    )
    answer = trace(context(network), tcp("10.5.1.4", "13.107.21.200"))
    source = answer.paths[0].hops[0]
    assert [c.rule_name for c in source.checks] == ["defaultSecurityRules/AllowVnetOutBound"]
    (p4a,) = [w for w in answer.warnings if w.id == "P4a"]
    assert p4a.hop == "vm"
    assert "VirtualNetworkGateway" in p4a.message


def test_a_trace_without_warnings_is_the_same_trace_with_none() -> None:
    """trace(with_warnings=False), as the reachability matrix traces: the pitfalls are
    not looked for; verdict, reason and paths do not change."""
    ctx = context(gateway_subnet_network(udr_default=True, nsg=True))
    flow = tcp(ONPREM_HOST, "10.17.11.132")
    full = trace(ctx, flow)
    assert {"P4", "P5"} <= set(ids(full))
    bare = trace(ctx, flow, with_warnings=False)
    assert bare.warnings == ()
    assert replace(bare, warnings=full.warnings) == full


def test_p7_is_not_named_for_traffic_to_the_appliance_itself() -> None:
    """P7 [FW-HYBRID] is a peer reached around the appliance; a flow addressed to the
    appliance (here S8's firewall DNAT address, 10.0.3.4:2222) reaches it by the peering
    route and bypasses nothing."""
    network = load_topology(TOPOLOGIES / "traffic" / "s8-firewall-rules.yaml")
    answer = trace(context(network), tcp("10.1.1.4", "10.0.3.4", 2222))
    assert answer.verdict is Verdict.REACHABLE
    assert "P7" not in ids(answer)
