"""Traces (azure-traffic.md §5, §4.4): S5 in all its variants, S6, S3 without its peering,
on-prem -> spoke over ExpressRoute, loops, unknown addresses, golden answers."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.model import (
    HubStaticRoute,
    HubVnetConnection,
    Network,
    NextHopType,
    Peering,
    RouteTable,
    Subnet,
    UserRoute,
    VNet,
    VWanHub,
)
from bgpemu.azure.security import (
    Access,
    AzureFirewall,
    Direction,
    FirewallAction,
    FirewallRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    FirewallRuleType,
    NetworkSecurityGroup,
    SecurityRule,
)
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import HopType, Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import reachability_matrix
from bgpemu.azure.traffic.trace import MAX_HOPS, Trace, UnknownAddressError, trace
from bgpemu.topology import load_topology
from tests.unit.azure.traffic.networks import context, er_vpn, nic, s5, s6

GOLDEN = Path(__file__).parents[3] / "data" / "traffic"
TOPOLOGIES = Path(__file__).parents[4] / "topologies"


def tcp(source: str, destination: str, port: int = 443) -> Flow:
    return Flow.parse("tcp", source, 50000, destination, port)


def hops(path_hops: Any) -> list[tuple[str, str]]:
    return [(h.type.value, h.name) for h in path_hops]


def ids(answer: Trace) -> list[str]:
    return [w.id for w in answer.warnings]


def golden(name: str, document: dict[str, Any]) -> None:
    """Compare with tests/data/traffic/<name>.json (BGPEMU_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


# --------------------------------------------------------------------------- S5


def test_s5_without_udrs_spoke_to_spoke_falls_on_the_none_route() -> None:
    """§8 S5 row 1: next hop None (10.0.0.0/8), P6."""
    answer = trace(context(s5(udr_spoke1=False, udr_spoke2=False)), tcp("10.1.0.4", "10.2.0.4"))
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert "10.0.0.0/8" in answer.reason
    (path,) = answer.paths
    assert hops(path.hops) == [("Source", "vm1"), ("Destination", "Destination")]
    assert ids(answer) == ["P6"]
    assert "peered only with hub" in answer.warnings[0].message


def test_s5_with_udrs_goes_through_the_nva_both_ways() -> None:
    """§8 S5 row 2: Source -> VirtualAppliance 10.0.1.4 -> destination; reply the same."""
    answer = trace(context(s5()), tcp("10.1.0.4", "10.2.0.4"))
    assert answer.verdict is Verdict.REACHABLE
    (path,) = answer.paths
    assert hops(path.hops) == [
        ("Source", "vm1"),
        ("VirtualAppliance", "nva1"),
        ("VNetPeering", "vm2"),
    ]
    assert path.hops[0].route is not None
    assert path.hops[0].route.source == "User"
    assert path.stateful == ("nva1",)
    (reply,) = answer.reply_paths
    assert hops(reply.hops) == [
        ("Source", "vm2"),
        ("VirtualAppliance", "nva1"),
        ("VNetPeering", "vm1"),
    ]
    assert answer.warnings == ()


def test_s5_ip_forwarding_off_stops_at_the_nva() -> None:
    """§8 S5 row 3 (P3)."""
    answer = trace(context(s5(ip_forwarding=False)), tcp("10.1.0.4", "10.2.0.4"))
    assert answer.verdict is Verdict.IP_FORWARDING_OFF
    assert hops(answer.paths[0].hops)[-1] == ("VirtualAppliance", "nva1")
    assert ids(answer) == ["P3"]


def test_s5_forwarded_traffic_refused_entering_spoke2() -> None:
    """§8 S5 row 4 (P6a): allowForwardedTraffic off on Spoke2's side."""
    answer = trace(context(s5(forwarded_spoke2=False)), tcp("10.1.0.4", "10.2.0.4"))
    assert answer.verdict is Verdict.DENIED
    assert "allowForwardedTraffic" in answer.reason
    last = answer.paths[0].hops[-1]
    assert (last.type, last.name) == (HopType.VNET_PEERING, "vm2")
    assert [c.rule_name for c in last.checks] == ["allowForwardedTraffic"]
    assert ids(answer) == ["P6a"]


def test_s5_udr_on_spoke1_only_loses_the_reply() -> None:
    """§8 S5 row 5: forward via the NVA, the reply falls on Spoke2's None route."""
    answer = trace(context(s5(udr_spoke2=False)), tcp("10.1.0.4", "10.2.0.4"))
    assert answer.paths[0].verdict is Verdict.REACHABLE
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert answer.reason.startswith("reply: ")
    assert [p.verdict for p in answer.reply_paths] == [Verdict.DROPPED_NONE_ROUTE]
    assert ids(answer) == ["P6"]


def test_s5_golden() -> None:
    """The S5 traces (with UDRs; reply lost) as JSON and as connection troubleshoot."""
    ctx = context(s5())
    lost = context(s5(udr_spoke2=False))
    flow = tcp("10.1.0.4", "10.2.0.4")
    golden(
        "s5-trace",
        {
            "udrs": trace(ctx, flow).to_json(),
            "udrsConnectivityCheck": trace(ctx, flow).to_connectivity_check(),
            "udrOnSpoke1Only": trace(lost, flow).to_json(),
        },
    )


# --------------------------------------------------------------------------- S6


def test_s6_two_nvas_the_second_denies_port_80_outbound() -> None:
    """§8 S6 [NW-CT-CLI]: Source, VirtualAppliance, VirtualAppliance (issue
    NetworkSecurityRule, Outbound, RuleName=UserRule_Port80), VnetLocal; Unreachable."""
    answer = trace(context(s6()), tcp("10.1.1.4", "10.1.4.4", 80))
    assert answer.verdict is Verdict.DENIED
    check = answer.to_connectivity_check()
    assert check["connectionStatus"] == "Unreachable"
    assert (check["probesSent"], check["probesFailed"]) == (100, 100)
    assert [h["type"] for h in check["hops"]] == [
        "Source",
        "VirtualAppliance",
        "VirtualAppliance",
        "VnetLocal",
    ]
    assert [h["address"] for h in check["hops"]] == ["10.1.1.4", "10.1.2.4", "10.1.3.4", "10.1.4.4"]
    assert [h["nextHopIds"] for h in check["hops"]] == [["h2"], ["h3"], ["h4"], []]
    assert check["hops"][2]["issues"] == [
        {
            "origin": "Outbound",
            "severity": "Error",
            "type": "NetworkSecurityRule",
            "context": [{"key": "RuleName", "value": "UserRule_Port80"}],
        }
    ]
    assert [h["issues"] for h in check["hops"][:2] + check["hops"][3:]] == [[], [], []]


def test_s6_variant_a_user_route_drops_internet_traffic() -> None:
    """§8 S6 variant: Source (issue UserDefinedRoute, RouteType=User) -> Destination."""
    answer = trace(context(s6(internet_drop=True)), tcp("10.1.1.4", "13.107.21.200", 80))
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    check = answer.to_connectivity_check()
    assert [(h["type"], h["resourceId"]) for h in check["hops"]][1] == ("Destination", "Unknown")
    assert check["hops"][0]["issues"] == [
        {
            "origin": "Outbound",
            "severity": "Error",
            "type": "UserDefinedRoute",
            "context": [{"key": "RouteType", "value": "User"}],
        }
    ]


def test_s6_port_443_passes_but_the_reply_bypasses_both_nvas() -> None:
    """P1: the DB subnet has no UDR back, so the reply skips the stateful NVAs."""
    answer = trace(context(s6()), tcp("10.1.1.4", "10.1.4.4", 443))
    assert answer.verdict is Verdict.ASYMMETRIC
    assert sorted(w.hop or "" for w in answer.warnings if w.id == "P1") == ["fwNic", "nvaNic"]


def test_s6_golden() -> None:
    """The S6 answers as connection troubleshoot and as traces."""
    ctx = context(s6())
    dropped = context(s6(internet_drop=True))
    golden(
        "s6-trace",
        {
            "port80ConnectivityCheck": trace(
                ctx, tcp("10.1.1.4", "10.1.4.4", 80)
            ).to_connectivity_check(),
            "port80": trace(ctx, tcp("10.1.1.4", "10.1.4.4", 80)).to_json(),
            "userRouteConnectivityCheck": trace(
                dropped, tcp("10.1.1.4", "13.107.21.200", 80)
            ).to_connectivity_check(),
        },
    )


# --------------------------------------------------------------------------- S3


def s3(*, peered: bool = True, deny_b: bool = False) -> Network:
    """§8 S3: VNet A 10.0/16 (VM-A 10.0.0.4) and VNet B 10.1/16 (VM-B 10.1.0.4), default
    NSGs on both subnets; ``deny_b``: A's subnet NSG denies 10.1.0.0/16 inbound (100)."""

    def vnet(name: str, index: int, other: str) -> VNet:
        return VNet(
            name=name,
            address_space=(f"10.{index}.0.0/16",),
            subnets=(
                Subnet(
                    name="default",
                    address_prefix=f"10.{index}.0.0/24",
                    network_security_group=f"nsg-{name}",
                    network_interfaces=(nic(f"vm-{name}", name, "default", f"10.{index}.0.4"),),
                ),
            ),
            peerings=(Peering(remote_virtual_network=other),) if peered else (),
        )

    deny = SecurityRule(
        name="deny-b",
        priority=100,
        direction=Direction.INBOUND,
        access=Access.DENY,
        source_address_prefixes=("10.1.0.0/16",),
    )
    return Network(
        name="s3",
        nodes=(vnet("a", 0, "b"), vnet("b", 1, "a")),
        network_security_groups=(
            NetworkSecurityGroup(name="nsg-a", security_rules=(deny,) if deny_b else ()),
            NetworkSecurityGroup(name="nsg-b"),
        ),
    )


def test_s3_peered_vms_reach_each_other_by_the_default_rules() -> None:
    """§8 S3: AllowVnetOutBound (B) and AllowVnetInBound (A), over the peering."""
    answer = trace(context(s3()), tcp("10.1.0.4", "10.0.0.4"))
    assert answer.verdict is Verdict.REACHABLE
    first, last = answer.paths[0].hops[0], answer.paths[0].hops[-1]
    assert [c.rule_name for c in first.checks] == ["defaultSecurityRules/AllowVnetOutBound"]
    assert (last.type, [c.rule_name for c in last.checks]) == (
        HopType.VNET_PEERING,
        ["defaultSecurityRules/AllowVnetInBound"],
    )


def test_s3_nsg_in_a_acts_on_traffic_from_the_peer() -> None:
    """§8 S3: A's subnet NSG denies B inbound; A -> B still passes (and its reply)."""
    ctx = context(s3(deny_b=True))
    answer = trace(ctx, tcp("10.1.0.4", "10.0.0.4"))
    assert answer.verdict is Verdict.DENIED
    assert answer.reason == "securityRules/deny-b of nsg-a denies it inbound at vm-a"
    assert trace(ctx, tcp("10.0.0.4", "10.1.0.4")).verdict is Verdict.REACHABLE


def test_s3_without_the_peering_drops_before_any_nsg() -> None:
    """§8 S3: remove the peering: 10.0.0.0/8 None, no NSG evaluated past the source (P6)."""
    answer = trace(context(s3(peered=False)), tcp("10.1.0.4", "10.0.0.4"))
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert answer.paths[0].hops[0].route is not None
    assert answer.paths[0].hops[0].route.prefix == "10.0.0.0/8"
    assert answer.paths[0].hops[-1].checks == ()
    assert ids(answer) == ["P6"]
    assert "b and a are not peered" in answer.warnings[0].message


# --------------------------------------------------------------------------- ER + VPN


def test_onprem_to_spoke_goes_over_expressroute_to_both_msees() -> None:
    """On-prem -> spoke: the CE's best path is ExpressRoute (LOCAL_PREF 150), over both
    MSEEs (ECMP fans out, decision §9.11), the ER gateway, then the peering (transit)."""
    ctx = context(er_vpn())
    answer = trace(ctx, tcp("10.1.11.10", "10.17.11.132"))
    assert answer.verdict is Verdict.REACHABLE
    assert sorted(
        h.address for p in answer.paths for h in p.hops if h.type.value == "ExpressRouteCircuit"
    ) == [
        "192.168.11.18",
        "192.168.11.22",
    ]
    for path in answer.paths:
        assert [h.type.value for h in path.hops] == [
            "Source",
            "OnPremises",
            "ExpressRouteCircuit",
            "VirtualNetworkGateway",
            "VNetPeering",
        ]
        assert path.hops[3].name == "ergw"
    assert not any(h.name == "vpngw" for p in answer.reply_paths for h in p.hops)
    for path in answer.reply_paths:
        # VNet -> ER gateway -> MSEE -> CE (§5.5 [ER-GW]), though the route's next hops
        # are the MSEEs
        assert [(h.type.value, h.name) for h in path.hops] == [
            ("Source", "spokevm"),
            ("VirtualNetworkGateway", "ergw"),
            ("ExpressRouteCircuit", "er"),
            ("OnPremises", "ce"),
        ]
    assert answer.reply_paths
    assert all(p.verdict is Verdict.REACHABLE for p in answer.reply_paths)


# --------------------------------------------------------------------------- bad input, loops


def test_a_source_no_node_holds_is_named() -> None:
    ctx = context(s5())
    with pytest.raises(UnknownAddressError, match=r"source 10\.1\.0\.99 is held by no interface"):
        trace(ctx, tcp("10.1.0.99", "10.2.0.4"))


def test_a_destination_no_node_holds_is_named() -> None:
    answer = trace(context(s5()), tcp("10.1.0.4", "10.1.0.99"))
    assert answer.verdict is Verdict.NO_ROUTE
    assert answer.reason == (
        "destination 10.1.0.99 is held by no interface, appliance or gateway in VNet spoke1"
    )


def ping_pong(second_hop: str) -> Network:
    """Two NVAs whose subnets send 10.9/16 to each other (a loop), or to None."""

    def table(name: str, hop: str) -> RouteTable:
        kind = NextHopType.NONE if hop == "none" else NextHopType.VIRTUAL_APPLIANCE
        route = UserRoute(
            name="r",
            address_prefix="10.9.0.0/16",
            next_hop_type=kind,
            next_hop_ip_address=None if hop == "none" else hop,
        )
        return RouteTable(name=name, routes=(route,))

    def subnet(name: str, index: int, table_name: str, forwarding: bool) -> Subnet:
        return Subnet(
            name=name,
            address_prefix=f"10.0.{index}.0/24",
            route_table=table_name,
            network_interfaces=(
                nic(name, "v", name, f"10.0.{index}.4", enable_ip_forwarding=forwarding),
            ),
        )

    return Network(
        name="loop",
        nodes=(
            VNet(
                name="v",
                address_space=("10.0.0.0/16",),
                subnets=(
                    subnet("src", 1, "t1", False),
                    subnet("a", 2, "t2", True),
                    subnet("b", 3, "t3", True),
                ),
                route_tables=(
                    table("t1", "10.0.2.4"),
                    table("t2", "10.0.3.4"),
                    table("t3", second_hop),
                ),
            ),
        ),
    )


def test_two_nvas_pointing_at_each_other_loop() -> None:
    answer = trace(context(ping_pong("10.0.2.4")), tcp("10.0.1.4", "10.9.0.1"))
    assert answer.verdict is Verdict.LOOP
    assert hops(answer.paths[0].hops) == [
        ("Source", "src"),
        ("VirtualAppliance", "a"),
        ("VirtualAppliance", "b"),
        ("VirtualAppliance", "a"),
    ]
    assert answer.reason == "a (10.0.2.4) visited twice"


def test_connectivity_check_ids_are_stable() -> None:
    """Hop ids are h1, h2... in visit order, the same on every run (not GUIDs)."""
    first = trace(context(s5()), tcp("10.1.0.4", "10.2.0.4")).to_connectivity_check()
    second = trace(context(s5()), tcp("10.1.0.4", "10.2.0.4")).to_connectivity_check()
    assert first == second
    assert [h["id"] for h in first["hops"]] == ["h1", "h2", "h3"]


def test_trace_context_is_reused_across_flows() -> None:
    """One context answers many flows; routes are indexed once per subnet."""
    ctx: TrafficContext = context(s5())
    for port in (22, 80, 443):
        assert trace(ctx, tcp("10.1.0.4", "10.2.0.4", port)).verdict is Verdict.REACHABLE
    assert set(ctx._routes) == {("spoke1", "app"), ("hub", "nva"), ("spoke2", "app")}
    assert replace(s5()) == s5()


# --------------------------------------------------------------------------- firewall


def firewalled() -> Network:
    """S5 with an Azure Firewall (10.0.3.4, AzureFirewallSubnet) in place of the NVA: one
    network rule allows TCP 443 from Spoke1 to Spoke2 (§7)."""
    network = s5()
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet) and node.name == "hub":
            node = replace(
                node,
                subnets=(Subnet(name="AzureFirewallSubnet", address_prefix="10.0.3.0/26"),),
            )
        elif isinstance(node, VNet):
            node = replace(
                node,
                route_tables=tuple(
                    replace(
                        t,
                        routes=tuple(replace(r, next_hop_ip_address="10.0.3.4") for r in t.routes),
                    )
                    for t in node.route_tables
                ),
            )
        nodes.append(node)
    rule = FirewallRule(
        name="spoke1-to-spoke2-https",
        rule_type=FirewallRuleType.NETWORK,
        ip_protocols=("TCP",),
        source_addresses=("10.1.0.0/16",),
        destination_addresses=("10.2.0.0/16",),
        destination_ports=("443",),
    )
    firewall = AzureFirewall(
        name="fw",
        vnet="hub",
        private_ip_address="10.0.3.4",
        rule_collection_groups=(
            FirewallRuleCollectionGroup(
                name="group",
                priority=100,
                rule_collections=(
                    FirewallRuleCollection(
                        name="allow-https", priority=100, action=FirewallAction.ALLOW, rules=(rule,)
                    ),
                ),
            ),
        ),
    )
    return replace(network, nodes=tuple(nodes), firewalls=(firewall,))


def test_a_hub_firewall_allows_by_rule_and_denies_by_default() -> None:
    """§7 in a trace: the firewall's network rule admits 443 (and its reply passes,
    stateful), the default deny drops 22; the firewall is a stateful hop both ways."""
    ctx = context(firewalled())
    allowed = trace(ctx, tcp("10.1.0.4", "10.2.0.4", 443))
    assert allowed.verdict is Verdict.REACHABLE
    hop = allowed.paths[0].hops[1]
    assert (hop.type, hop.name, hop.stateful) == (HopType.VIRTUAL_APPLIANCE, "fw", True)
    assert [c.rule_name for c in hop.checks] == ["group/allow-https/spoke1-to-spoke2-https"]
    assert [p.stateful for p in allowed.reply_paths] == [("fw",)]
    denied = trace(ctx, tcp("10.1.0.4", "10.2.0.4", 22))
    assert denied.verdict is Verdict.DENIED
    assert denied.reason.startswith("firewall fw: deny")
    assert denied.to_connectivity_check()["hops"][1]["issues"][0]["type"] == "AzureFirewall"


# --------------------------------------------------------------------------- Virtual WAN


def vwan_with_vms() -> Network:
    """topologies/vwan-standard-any-to-any.yaml (two hubs, two VNets and a branch each)
    with one VM (x.x.x.4) in every VNet's subnet."""
    network = load_topology(TOPOLOGIES / "vwan-standard-any-to-any.yaml")
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet):
            subnet = node.subnets[0]
            address = subnet.address_prefix.split("/")[0].rsplit(".", 1)[0] + ".4"
            vm = nic(f"{node.name}-vm", node.name, subnet.name, address)
            node = replace(node, subnets=(replace(subnet, network_interfaces=(vm,)),))
        nodes.append(node)
    return replace(network, nodes=tuple(nodes))


def test_vwan_spokes_branches_and_hubs() -> None:
    """§5.4 [VWAN-ROUTING]: a spoke's VirtualNetworkGateway route leads to both router
    IPs of its hub (ECMP), the hub router delivers into a connected VNet, hands a remote
    hub's VNet to that hub, and a branch's prefix to the branch's router."""
    ctx = context(vwan_with_vms())
    local = trace(ctx, tcp("10.1.0.4", "10.2.0.4"))
    assert local.verdict is Verdict.REACHABLE
    assert sorted(p.hops[1].address for p in local.paths) == ["192.168.1.68", "192.168.1.69"]
    assert {tuple(h.type.value for h in p.hops) for p in local.paths} == {
        ("Source", "VirtualHub", "VNetPeering")
    }
    remote = trace(ctx, tcp("10.1.0.4", "10.3.0.4"))
    assert remote.verdict is Verdict.REACHABLE
    assert [h.name for h in remote.paths[0].hops] == ["VNet1-vm", "Hub1", "Hub2", "VNet3-vm"]
    branch = trace(ctx, tcp("10.200.0.10", "10.1.0.4"))
    assert branch.verdict is Verdict.REACHABLE
    assert [h.name for h in branch.paths[0].hops] == [
        "host behind Branch2",
        "Branch2",
        "Hub2",
        "Hub1",
        "VNet1-vm",
    ]


def test_active_active_vpn_instances_are_both_followed() -> None:
    """§5.5 [VPN-AA]: without ExpressRoute, a spoke reaches on-prem over both instances
    of the active-active VPN gateway (ECMP, decision §9.11), and on-prem comes back over
    both (the on-prem router's multipath set)."""
    base = er_vpn()
    dropped = {"ergw", "er", "ce"}
    network = replace(
        base,
        nodes=tuple(n for n in base.nodes if n.name not in dropped),
        connections=tuple(c for c in base.connections if c.name != "erc"),
    )
    answer = trace(context(network), tcp("10.17.11.132", "10.1.11.10"))
    assert answer.verdict is Verdict.REACHABLE
    assert sorted((p.hops[1].name, p.hops[1].address) for p in answer.paths) == [
        ("vpngw", "10.17.11.76"),
        ("vpngw", "10.17.11.77"),
    ]
    assert {tuple(h.type.value for h in p.hops) for p in answer.paths} == {
        ("Source", "VirtualNetworkGateway", "OnPremises")
    }
    assert sorted(p.hops[2].address for p in answer.reply_paths) == ["10.17.11.76", "10.17.11.77"]
    check = answer.to_connectivity_check()
    assert check["hops"][0]["nextHopIds"] == ["h2", "h4"]


def test_the_route_used_says_why_it_won() -> None:
    """§1.4 [UDR]: the hop's route names its prefix length and the routes to the same
    prefix it beat (a UDR over the gateway's BGP route)."""
    base = er_vpn()
    spoke = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "spoke")
    override = UserRoute(
        name="onprem-via-hub",
        address_prefix="10.1.11.0/25",
        next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
        next_hop_ip_address="10.17.11.4",
    )
    network = replace(
        base,
        nodes=tuple(
            replace(
                n,
                route_tables=(RouteTable(name="rt", routes=(override,)),),
                subnets=(replace(spoke.subnets[0], route_table="rt"),),
            )
            if n is spoke
            else n
            for n in base.nodes
        ),
    )
    answer = trace(context(network), tcp("10.17.11.132", "10.1.11.10"))
    route = answer.paths[0].hops[0].route
    assert route is not None
    assert (route.prefix, route.source, route.next_hops) == (
        "10.1.11.0/25",
        "User",
        ("10.17.11.4",),
    )
    assert route.why == (
        "longest prefix match (/25), User onprem-via-hub route, over VirtualNetworkGateway "
        "VirtualNetworkGateway (User > VirtualNetworkGateway > Default)"
    )
    # the hub VM does not forward: the UDR leads nowhere
    assert answer.verdict is Verdict.IP_FORWARDING_OFF


def test_a_udr_to_the_virtual_network_gateway_uses_the_vpn_gateway() -> None:
    """§5.2 [UDR]: a user route of type VirtualNetworkGateway (no IP) sends to the VPN
    gateway serving the VNet (UDR VirtualNetworkGateway = VPN only), here both
    active-active instances through gateway transit; with no VPN gateway, no route, said
    so (it was an IndexError: a route with no next hop gave a trace with no path)."""
    base = er_vpn()
    spoke = next(n for n in base.nodes if isinstance(n, VNet) and n.name == "spoke")
    to_gateway = UserRoute(
        name="onprem-via-vpn",
        address_prefix="10.1.11.0/25",
        next_hop_type=NextHopType.VIRTUAL_NETWORK_GATEWAY,
    )

    def with_udr(network: Network) -> Network:
        return replace(
            network,
            nodes=tuple(
                replace(
                    n,
                    route_tables=(RouteTable(name="rt", routes=(to_gateway,)),),
                    subnets=(replace(spoke.subnets[0], route_table="rt"),),
                )
                if isinstance(n, VNet) and n.name == "spoke"
                else n
                for n in network.nodes
            ),
        )

    answer = trace(context(with_udr(base)), tcp("10.17.11.132", "10.1.11.10"))
    assert answer.verdict is Verdict.REACHABLE
    assert sorted({p.hops[1].address for p in answer.paths}) == ["10.17.11.76", "10.17.11.77"]
    # each instance forwards by its own best path (§5.2): the ER gateway's copy, which
    # wins the VPN gateway's Loc-RIB by weight (azure-routing §4.5)
    assert {tuple(h.name for h in p.hops) for p in answer.paths} == {
        ("spokevm", "vpngw", "ergw", "er", "ce")
    }
    no_vpn = replace(
        base,
        nodes=tuple(n for n in base.nodes if n.name != "vpngw"),
        connections=tuple(c for c in base.connections if c.name != "s2s"),
    )
    dropped = trace(context(with_udr(no_vpn)), tcp("10.17.11.132", "10.1.11.10"))
    assert dropped.verdict is Verdict.NO_ROUTE
    assert dropped.reason == (
        "route 10.1.11.0/25 (User) of spoke/app sends to the virtual network gateway, "
        "but no VPN gateway serves VNet spoke"
    )


def test_traffic_from_the_sending_vnet_is_not_forwarded_traffic() -> None:
    """P6a [PEER-MGMT]: allowForwardedTraffic concerns packets whose source is outside the
    sending VNet; a hub VM's packet relayed by the hub NVA into Spoke2 keeps a hub source
    and enters even with allowForwardedTraffic off (Spoke1's, relayed, does not)."""
    network = s5(forwarded_spoke2=False)
    hub = next(n for n in network.nodes if isinstance(n, VNet) and n.name == "hub")
    route = UserRoute(
        name="to-spoke2",
        address_prefix="10.2.0.0/16",
        next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
        next_hop_ip_address="10.0.1.4",
    )
    workload = Subnet(
        name="workload",
        address_prefix="10.0.2.0/24",
        route_table="rt-hub",
        network_interfaces=(nic("hubvm", "hub", "workload", "10.0.2.4"),),
    )
    network = replace(
        network,
        nodes=tuple(
            replace(
                n,
                subnets=(*hub.subnets, workload),
                route_tables=(RouteTable(name="rt-hub", routes=(route,)),),
            )
            if n is hub
            else n
            for n in network.nodes
        ),
    )
    ctx = context(network)
    from_hub = trace(ctx, tcp("10.0.2.4", "10.2.0.4"))
    assert [h.name for h in from_hub.paths[0].hops] == ["hubvm", "nva1", "vm2"]
    assert from_hub.paths[0].verdict is Verdict.REACHABLE
    assert trace(ctx, tcp("10.1.0.4", "10.2.0.4")).verdict is Verdict.DENIED


def custom_tables(*, static: bool) -> Network:
    """topologies/vwan-custom-route-tables.yaml (V1, V2 associated with RT_SHARED and
    propagating to Default only; the shared VNet S and the branch B reach both) with a VM
    in every VNet (S's forwards); ``static``: RT_SHARED sends 10.200.0.0/16 to S's
    connection, whose static route names S's VM as the next hop (§5.3)."""
    network = load_topology(TOPOLOGIES / "vwan-custom-route-tables.yaml")
    shared = next(
        c for c in network.connections if isinstance(c, HubVnetConnection) and c.vnet == "S"
    )
    nodes = []
    for node in network.nodes:
        if isinstance(node, VNet):
            subnet = node.subnets[0]
            address = subnet.address_prefix.split("/")[0].rsplit(".", 1)[0] + ".4"
            vm = nic(
                f"{node.name}-vm",
                node.name,
                subnet.name,
                address,
                enable_ip_forwarding=node.name == "S",
            )
            node = replace(node, subnets=(replace(subnet, network_interfaces=(vm,)),))
        elif isinstance(node, VWanHub) and static:
            to_shared = HubStaticRoute(
                name="to-nva", destinations=("10.200.0.0/16",), next_hop=shared.name
            )
            node = replace(
                node,
                route_tables=tuple(
                    replace(t, routes=(to_shared,)) if t.name == "RT_SHARED" else t
                    for t in node.route_tables
                ),
            )
        nodes.append(node)
    connections = network.connections
    if static:
        to_vm = HubStaticRoute(name="nva", destinations=("10.200.0.0/16",), next_hop="10.9.0.4")
        connections = tuple(
            replace(c, static_routes=(to_vm,)) if c is shared else c for c in connections
        )
    return replace(network, nodes=tuple(nodes), connections=connections)


def test_vwan_hub_forwards_by_the_ingress_connections_route_table() -> None:
    """§5.4 [VWAN-ROUTING]: the hub looks the destination up in the table associated with
    the connection the packet came in by: V1 (RT_SHARED) reaches S and B but not V2;
    B (Default) reaches V2; a static route of RT_SHARED leads through S's connection to
    the VM its static route names."""
    ctx = context(custom_tables(static=False))
    assert trace(ctx, tcp("10.1.0.4", "10.2.0.4")).verdict is Verdict.DROPPED_NONE_ROUTE
    to_shared = trace(ctx, tcp("10.1.0.4", "10.9.0.4"))
    assert to_shared.verdict is Verdict.REACHABLE
    hub_hop = to_shared.paths[0].hops[1]
    assert hub_hop.route is not None
    assert (hub_hop.name, hub_hop.route.table) == ("hub", "hub/RT_SHARED")
    from_branch = trace(ctx, tcp("10.50.0.10", "10.2.0.4"))
    assert from_branch.verdict is Verdict.REACHABLE
    assert [h.route.table for h in from_branch.paths[0].hops if h.name == "hub" and h.route] == [
        "hub/defaultRouteTable"
    ]
    chained = trace(context(custom_tables(static=True)), tcp("10.1.0.4", "10.200.0.1"))
    assert [(h.type.value, h.name) for h in chained.paths[0].hops[:3]] == [
        ("Source", "V1-vm"),
        ("VirtualHub", "hub"),
        ("VirtualAppliance", "S-vm"),
    ]


def test_a_path_longer_than_max_hops_ends_with_its_length_named() -> None:
    """The TTL guard (§5.1 step 4): a chain of more appliances than MAX_HOPS, none visited
    twice, ends as a loop whose reason says the path is too long (not 'visited twice')."""
    count = MAX_HOPS + 2
    subnets = []
    tables = []
    for i in range(count):
        target = f"10.0.{i + 1}.4" if i + 1 < count else None
        routes = (
            ()
            if target is None
            else (
                UserRoute(
                    name="next",
                    address_prefix="10.9.0.0/16",
                    next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
                    next_hop_ip_address=target,
                ),
            )
        )
        tables.append(RouteTable(name=f"t{i}", routes=routes))
        subnets.append(
            Subnet(
                name=f"s{i}",
                address_prefix=f"10.0.{i}.0/24",
                route_table=f"t{i}",
                network_interfaces=(
                    nic(f"n{i}", "v", f"s{i}", f"10.0.{i}.4", enable_ip_forwarding=True),
                ),
            )
        )
    network = Network(
        name="chain",
        nodes=(
            VNet(
                name="v",
                address_space=("10.0.0.0/16",),
                subnets=tuple(subnets),
                route_tables=tuple(tables),
            ),
        ),
    )
    answer = trace(context(network), tcp("10.0.0.4", "10.9.0.1"))
    assert answer.verdict is Verdict.LOOP
    assert len(answer.paths[0].hops) == MAX_HOPS + 1
    assert answer.reason == f"the path is longer than {MAX_HOPS} hops (a loop or TTL guard)"


# --------------------------------------------------------------------------- DNAT


def with_dnat(network: Network) -> Network:
    """``network``'s firewall fw with a DNAT collection first: TCP to its own address
    10.0.3.4 port 8443 is translated to vm2 10.2.0.4 port 443 (§7.1, decision §9.8)."""
    (firewall,) = network.firewalls
    dnat = FirewallRuleCollectionGroup(
        name="dnat-group",
        priority=50,
        rule_collections=(
            FirewallRuleCollection(
                name="publish",
                priority=100,
                action=FirewallAction.DNAT,
                rules=(
                    FirewallRule(
                        name="vm2-https",
                        rule_type=FirewallRuleType.NAT,
                        ip_protocols=("TCP",),
                        source_addresses=("*",),
                        destination_addresses=("10.0.3.4",),
                        destination_ports=("8443",),
                        translated_address="10.2.0.4",
                        translated_port="443",
                    ),
                ),
            ),
        ),
    )
    firewall = replace(firewall, rule_collection_groups=(dnat, *firewall.rule_collection_groups))
    return replace(network, firewalls=(firewall,))


def test_a_dnat_rule_sends_the_trace_on_to_the_translated_destination() -> None:
    """§7.1, decision §9.8: a flow to the firewall's 10.0.3.4:8443 is translated to
    10.2.0.4:443 and the trace goes on there (the hop says what was translated); the
    reply is traced from the translated destination and crosses the firewall (stateful,
    it untranslates)."""
    answer = trace(context(with_dnat(firewalled())), tcp("10.1.0.4", "10.0.3.4", 8443))
    assert answer.verdict is Verdict.REACHABLE, answer.reason
    (path,) = answer.paths
    assert hops(path.hops) == [
        ("Source", "vm1"),
        ("VirtualAppliance", "fw"),
        ("VNetPeering", "vm2"),
    ]
    fw = path.hops[1]
    assert fw.stateful
    (check,) = fw.checks
    assert check.rule_name == "dnat-group/publish/vm2-https"
    assert check.translated == "10.0.3.4:8443 -> 10.2.0.4:443"
    assert fw.to_json()["rules"][0]["translated"] == "10.0.3.4:8443 -> 10.2.0.4:443"
    assert path.translated == Flow.parse("tcp", "10.1.0.4", 50000, "10.2.0.4", 443)
    (reply,) = answer.reply_paths
    assert [h.name for h in reply.hops] == ["vm2", "fw", "vm1"]
    assert reply.verdict is Verdict.REACHABLE


def test_a_dnat_reply_is_traced_from_the_translated_destination() -> None:
    """The reply of a translated flow must come back through the firewall that translated
    it (its state; no SNAT is modelled, §7.2): the reply is traced from vm2, the translated
    destination, and without spoke2's UDR it falls on spoke2's None route to 10.1/16."""
    network = with_dnat(firewalled())
    nodes = tuple(
        replace(n, route_tables=(), subnets=tuple(replace(s, route_table=None) for s in n.subnets))
        if isinstance(n, VNet) and n.name == "spoke2"
        else n
        for n in network.nodes
    )
    answer = trace(context(replace(network, nodes=nodes)), tcp("10.1.0.4", "10.0.3.4", 8443))
    assert answer.paths[0].verdict is Verdict.REACHABLE
    assert answer.verdict is Verdict.DROPPED_NONE_ROUTE
    assert answer.reason.startswith("reply: ")
    assert answer.reply_paths[0].hops[0].name == "vm2"


# --------------------------------------------------------------------------- undetermined


def with_application_rule(network: Network) -> Network:
    """``network``'s firewall fw with an application collection (allow HTTPS to
    www.example.com from spoke1): a flow no network rule matches on TCP 8443 is
    undetermined, the rule's FQDNs decide (decision §9.9)."""
    (firewall,) = network.firewalls
    web = FirewallRuleCollectionGroup(
        name="web-group",
        priority=300,
        rule_collections=(
            FirewallRuleCollection(
                name="web",
                priority=100,
                action=FirewallAction.ALLOW,
                rules=(
                    FirewallRule(
                        name="example",
                        rule_type=FirewallRuleType.APPLICATION,
                        source_addresses=("10.1.0.0/16",),
                        protocols=("Https:8443",),
                        target_fqdns=("www.example.com",),
                    ),
                ),
            ),
        ),
    )
    firewall = replace(firewall, rule_collection_groups=(*firewall.rule_collection_groups, web))
    return replace(network, firewalls=(firewall,))


def test_a_firewall_undetermined_decision_is_its_own_verdict() -> None:
    """Decision §9.9: application rules (FQDN) are out of scope, so a flow only they could
    decide is `undetermined`, not `denied`; connection troubleshoot says `Unknown`
    (decision §9.5); a flow nothing matches is still denied by default."""
    ctx = context(with_application_rule(firewalled()))
    answer = trace(ctx, tcp("10.1.0.4", "10.2.0.4", 8443))
    assert answer.verdict is Verdict.UNDETERMINED, answer.reason
    assert answer.reason.startswith("firewall fw: undetermined")
    assert answer.reply_paths == ()
    check = answer.to_connectivity_check()
    assert (check["connectionStatus"], check["probesFailed"]) == ("Unknown", None)
    assert check["hops"][1]["issues"][0]["severity"] == "Warning"
    assert trace(ctx, tcp("10.1.0.4", "10.2.0.4", 22)).verdict is Verdict.DENIED


def test_the_matrix_counts_undetermined_pairs_apart() -> None:
    """The reachability matrix summarises `undetermined` under its own name (a pair the
    firewall's application rules decide is neither reachable nor denied)."""
    matrix = reachability_matrix(context(with_application_rule(firewalled())), port=8443)
    assert matrix.counts == {"denied": 1, "undetermined": 1}
    assert [(p.source, p.verdict) for p in matrix.unreachable] == [
        ("spoke1/app", Verdict.UNDETERMINED),
        ("spoke2/app", Verdict.DENIED),
    ]


# --------------------------------------------------------------------------- one place


def test_an_nva_sits_in_one_subnet_for_its_routes_and_its_nsgs() -> None:
    """The subnet of an NVA without a declared subnet is worked out once: the trace's
    lookups (TrafficContext.position) and its NSGs (SecurityIndex.position) agree, even
    when a longer subnet of another VNet (not peered, overlapping) holds its address."""
    from bgpemu.azure.model import Nva

    hub = VNet(
        name="hub",
        address_space=("10.0.0.0/16",),
        subnets=(Subnet(name="nva", address_prefix="10.0.1.0/24"),),
    )
    other = VNet(
        name="other",
        address_space=("10.0.1.0/25",),
        subnets=(Subnet(name="inner", address_prefix="10.0.1.0/26"),),
    )
    nva = Nva(name="nva", vnet="hub", address="10.0.1.4", asn=65010, router_id="10.0.1.4")
    ctx = context(Network(name="overlap", nodes=(hub, other, nva)))
    owner = ctx.find("nva")
    assert ctx.position(owner) == ctx.security.position(nva) == ("hub", "nva")
