"""NSG evaluation (§2 of azure-traffic.md), default rules (§1.2), IP flow verify (§4.2),
effective security rules (§4.1), on the scenarios of §8 built from model objects."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.model import Network, NextHopType, Nva, RouteTable, Subnet, UserRoute, VNet
from bgpemu.azure.security import (
    Access,
    Direction,
    NetworkInterface,
    NetworkSecurityGroup,
    Protocol,
    SecurityRule,
)
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.nsg import (
    DEFAULT_RULES,
    NETWORK_INTERFACE,
    SUBNET,
    NsgDecision,
    SecurityIndex,
    effective_security_rules,
    evaluate_nsgs,
    ip_flow_verify,
    subnet_security_rules,
)
from tests.unit.azure.traffic.builders import NO_PLAN, tags_of, vnet

GOLDEN = Path(__file__).parents[3] / "data" / "traffic"
INTERNET_HOST = "13.107.21.200"
IN, OUT = Direction.INBOUND, Direction.OUTBOUND
ALLOW, DENY = Access.ALLOW, Access.DENY


def _nic(name: str, subnet: str, address: str, **kwargs: Any) -> NetworkInterface:
    return NetworkInterface(
        name=name, vnet="v", subnet=subnet, private_ip_address=address, **kwargs
    )


def _rule(
    name: str, priority: int, direction: Direction, access: Access, **kwargs: Any
) -> SecurityRule:
    return SecurityRule(name=name, priority=priority, direction=direction, access=access, **kwargs)


def _decide(network: Network, nic: str, flow: Flow, direction: Direction) -> NsgDecision:
    index = SecurityIndex(network)
    interface = index.interface(nic)
    vnet_name, subnet = index.position(interface)
    return evaluate_nsgs(index, interface, flow, direction, tags_of(network, vnet_name, subnet))


# --------------------------------------------------------------------------- S1


ALLOW_80_IN = _rule(
    "allow-80", 100, IN, ALLOW, protocol=Protocol.TCP, destination_port_ranges=("80",)
)
DENY_80_OUT = _rule(
    "deny-80", 100, OUT, DENY, protocol=Protocol.TCP, destination_port_ranges=("80",)
)


def _s1(nsg1: tuple[SecurityRule, ...] = (), nsg2: tuple[SecurityRule, ...] = ()) -> Network:
    """§2.2: Subnet1 has NSG1; VM1 (NIC NSG2) and VM2 in Subnet1; VM3 (NIC NSG2) in Subnet2
    without a subnet NSG; VM4 in Subnet3, no NSG anywhere."""
    v = VNet(
        name="v",
        address_space=("10.0.0.0/16",),
        subnets=(
            Subnet(
                name="subnet1",
                address_prefix="10.0.1.0/24",
                network_security_group="NSG1",
                network_interfaces=(
                    _nic("vm1", "subnet1", "10.0.1.4", network_security_group="NSG2"),
                    _nic("vm2", "subnet1", "10.0.1.5"),
                ),
            ),
            Subnet(
                name="subnet2",
                address_prefix="10.0.2.0/24",
                network_interfaces=(
                    _nic("vm3", "subnet2", "10.0.2.4", network_security_group="NSG2"),
                ),
            ),
            Subnet(
                name="subnet3",
                address_prefix="10.0.3.0/24",
                network_interfaces=(_nic("vm4", "subnet3", "10.0.3.4"),),
            ),
        ),
    )
    return Network(
        name="s1",
        nodes=(v,),
        network_security_groups=(
            NetworkSecurityGroup(name="NSG1", security_rules=nsg1),
            NetworkSecurityGroup(name="NSG2", security_rules=nsg2),
        ),
    )


_ADDRESSES = {"vm1": "10.0.1.4", "vm2": "10.0.1.5", "vm3": "10.0.2.4", "vm4": "10.0.3.4"}
_NSG1 = ("NSG1", SUBNET)
_NSG2 = ("NSG2", NETWORK_INTERFACE)

# (column, VM) -> access, deciding (NSG, association, rule), the NSGs evaluated in order.
S1_CELLS = {
    ("in-defaults", "vm1"): (DENY, (*_NSG1, "defaultSecurityRules/DenyAllInBound"), ["NSG1"]),
    ("in-defaults", "vm2"): (DENY, (*_NSG1, "defaultSecurityRules/DenyAllInBound"), ["NSG1"]),
    ("in-defaults", "vm3"): (DENY, (*_NSG2, "defaultSecurityRules/DenyAllInBound"), ["NSG2"]),
    ("in-defaults", "vm4"): (ALLOW, (None, None, None), []),
    ("in-nsg1-allows-80", "vm1"): (
        DENY,
        (*_NSG2, "defaultSecurityRules/DenyAllInBound"),
        ["NSG1", "NSG2"],
    ),
    ("in-nsg1-allows-80", "vm2"): (ALLOW, (*_NSG1, "securityRules/allow-80"), ["NSG1"]),
    ("in-nsg1-allows-80", "vm3"): (
        DENY,
        (*_NSG2, "defaultSecurityRules/DenyAllInBound"),
        ["NSG2"],
    ),
    ("in-nsg1-allows-80", "vm4"): (ALLOW, (None, None, None), []),
    ("out-defaults", "vm1"): (
        ALLOW,
        (*_NSG1, "defaultSecurityRules/AllowInternetOutBound"),
        ["NSG2", "NSG1"],
    ),
    ("out-defaults", "vm2"): (
        ALLOW,
        (*_NSG1, "defaultSecurityRules/AllowInternetOutBound"),
        ["NSG1"],
    ),
    ("out-defaults", "vm3"): (
        ALLOW,
        (*_NSG2, "defaultSecurityRules/AllowInternetOutBound"),
        ["NSG2"],
    ),
    ("out-defaults", "vm4"): (ALLOW, (None, None, None), []),
    ("out-nsg2-denies-80", "vm1"): (DENY, (*_NSG2, "securityRules/deny-80"), ["NSG2"]),
    ("out-nsg2-denies-80", "vm2"): (
        ALLOW,
        (*_NSG1, "defaultSecurityRules/AllowInternetOutBound"),
        ["NSG1"],
    ),
    ("out-nsg2-denies-80", "vm3"): (DENY, (*_NSG2, "securityRules/deny-80"), ["NSG2"]),
    ("out-nsg2-denies-80", "vm4"): (ALLOW, (None, None, None), []),
}
_S1_NETWORKS = {
    "in-defaults": _s1(),
    "in-nsg1-allows-80": _s1(nsg1=(ALLOW_80_IN,)),
    "out-defaults": _s1(),
    "out-nsg2-denies-80": _s1(nsg2=(DENY_80_OUT,)),
}


@pytest.mark.parametrize(("column", "vm"), sorted(S1_CELLS))
def test_s1_every_cell_with_its_deciding_rule(column: str, vm: str) -> None:
    """§2.2 [NSG-HOW]: subnet NSG first inbound, NIC NSG first outbound; a Deny ends it."""
    access, (nsg, association, rule), evaluated = S1_CELLS[(column, vm)]
    address = _ADDRESSES[vm]
    if column.startswith("in"):
        flow, direction = Flow("Tcp", INTERNET_HOST, 60000, address, 80), IN
    else:
        flow, direction = Flow("Tcp", address, 60000, INTERNET_HOST, 80), OUT
    decision = _decide(_S1_NETWORKS[column], vm, flow, direction)
    assert (decision.access, decision.nsg_name, decision.association, decision.rule_name) == (
        access,
        nsg,
        association,
        rule,
    )
    assert [stage.nsg_name for stage in decision.stages] == evaluated


# --------------------------------------------------------------------------- S2


def _s2() -> Network:
    """§8 S2: VM 10.0.0.4 in a VNet with a default NSG (no user rules), default routes."""
    v = VNet(
        name="v",
        address_space=("10.0.0.0/16",),
        subnets=(
            Subnet(
                name="default",
                address_prefix="10.0.0.0/24",
                network_security_group="nsg",
                network_interfaces=(_nic("vm", "default", "10.0.0.4"),),
            ),
        ),
    )
    return Network(
        name="s2", nodes=(v,), network_security_groups=(NetworkSecurityGroup(name="nsg"),)
    )


S2_QUESTIONS = [
    ("Outbound", "TCP", "10.0.0.4", 60000, INTERNET_HOST, 80),
    ("Outbound", "TCP", "10.0.0.4", 60000, "172.31.0.100", 80),
    ("Inbound", "TCP", "172.31.0.100", 60000, "10.0.0.4", 80),
    ("Outbound", "UDP", "10.0.0.4", 5000, INTERNET_HOST, 53),
    ("Inbound", "ICMP", "10.0.0.5", 0, "10.0.0.4", 0),
]


def _s2_answers() -> list[dict[str, Any]]:
    network = _s2()
    answers = []
    for direction, protocol, source, sport, destination, dport in S2_QUESTIONS:
        flow = Flow.parse(protocol, source, sport, destination, dport)
        answer = ip_flow_verify(network, NO_PLAN, {}, "vm", flow, Direction(direction))
        answers.append(
            {
                "direction": direction,
                "protocol": protocol,
                "source": f"{source}:{sport}",
                "destination": f"{destination}:{dport}",
                "answer": answer,
            }
        )
    return answers


def test_s2_ip_flow_verify_answers() -> None:
    """§8 S2 [NW-IPFV-CLI]: Internet allowed, a private address outside the VNet denied
    both ways (P9); UDP answered alike; ICMP accepted (decision §9.13)."""
    answers = [item["answer"] for item in _s2_answers()]
    assert answers == [
        {"access": "Allow", "ruleName": "defaultSecurityRules/AllowInternetOutBound"},
        {"access": "Deny", "ruleName": "defaultSecurityRules/DenyAllOutBound"},
        {"access": "Deny", "ruleName": "defaultSecurityRules/DenyAllInBound"},
        {"access": "Allow", "ruleName": "defaultSecurityRules/AllowInternetOutBound"},
        {"access": "Allow", "ruleName": "defaultSecurityRules/AllowVnetInBound"},
    ]


def test_s2_ip_flow_verify_golden() -> None:
    golden = json.loads((GOLDEN / "s2_ip_flow_verify.json").read_text())
    assert _s2_answers() == golden


def test_ip_flow_verify_refuses_a_flow_not_local_to_the_interface() -> None:
    flow = Flow("Tcp", "10.0.0.9", 60000, INTERNET_HOST, 80)
    with pytest.raises(ValueError, match=r"source, 10\.0\.0\.9, but 'vm' has 10\.0\.0\.4"):
        ip_flow_verify(_s2(), NO_PLAN, {}, "vm", flow, OUT)
    with pytest.raises(KeyError, match="no network interface or NVA named 'nope'"):
        ip_flow_verify(_s2(), NO_PLAN, {}, "nope", flow, OUT)


# --------------------------------------------------------------------------- S3


DENY_FROM_B = _rule("deny-from-b", 100, IN, DENY, source_address_prefixes=("10.1.0.0/16",))


def _s3(deny: bool = False, peered: bool = True) -> Network:
    """§8 S3: VNet A 10.0/16 (VM-A 10.0.0.4) peered with VNet B 10.1/16 (VM-B 10.1.0.4),
    a default NSG on each subnet; optionally A's NSG denies inbound from 10.1/16."""

    def side(name: str, space: str, address: str, peer: str) -> VNet:
        subnet = Subnet(
            name="s",
            address_prefix=space.replace("/16", "/24"),
            network_security_group=f"nsg-{name}",
            network_interfaces=(
                NetworkInterface(
                    name=f"vm-{name}", vnet=name, subnet="s", private_ip_address=address
                ),
            ),
        )
        return vnet(name, space, subnet, peers=(peer,) if peered else ())

    return Network(
        name="s3",
        nodes=(
            side("a", "10.0.0.0/16", "10.0.0.4", "b"),
            side("b", "10.1.0.0/16", "10.1.0.4", "a"),
        ),
        network_security_groups=(
            NetworkSecurityGroup(name="nsg-a", security_rules=(DENY_FROM_B,) if deny else ()),
            NetworkSecurityGroup(name="nsg-b"),
        ),
    )


def test_s3_peered_traffic_is_allowed_by_the_vnet_rules() -> None:
    """The expanded VirtualNetwork of each side holds the peer's range (§3.1 [NSG-DIAG])."""
    network = _s3()
    flow = Flow("Tcp", "10.1.0.4", 50000, "10.0.0.4", 443)
    out_b = _decide(network, "vm-b", flow, OUT)
    in_a = _decide(network, "vm-a", flow, IN)
    assert out_b.rule_name == "defaultSecurityRules/AllowVnetOutBound"
    assert out_b.allowed
    assert in_a.rule_name == "defaultSecurityRules/AllowVnetInBound"
    assert in_a.allowed


def test_s3_a_deny_rule_acts_on_traffic_from_the_peer() -> None:
    """§8 S3 [PEER][NSG-DIAG]: the rule applies to peered traffic exactly as to local."""
    network = _s3(deny=True)
    b_to_a = Flow("Tcp", "10.1.0.4", 50000, "10.0.0.4", 443)
    decision = _decide(network, "vm-a", b_to_a, IN)
    assert (decision.access, decision.nsg_name, decision.rule_name) == (
        DENY,
        "nsg-a",
        "securityRules/deny-from-b",
    )
    a_to_b = Flow("Tcp", "10.0.0.4", 50000, "10.1.0.4", 443)
    assert _decide(network, "vm-a", a_to_b, OUT).allowed
    assert _decide(network, "vm-b", a_to_b, IN).allowed


def test_s3_without_the_peering_the_vnet_rules_no_longer_cover_the_peer() -> None:
    network = _s3(peered=False)
    flow = Flow("Tcp", "10.1.0.4", 50000, "10.0.0.4", 443)
    assert _decide(network, "vm-a", flow, IN).rule_name == "defaultSecurityRules/DenyAllInBound"


def test_s3_effective_security_rules_golden() -> None:
    """§4.1 shape: the peer's range in the VirtualNetwork expansion, the user rule
    unexpanded, ports as ranges, Any printed All."""
    produced = effective_security_rules(_s3(deny=True), NO_PLAN, {}, "vm-a")
    golden = json.loads((GOLDEN / "s3_effective_security_rules.json").read_text())
    assert produced == golden


def test_effective_rules_list_one_entry_per_associated_nsg_subnet_first() -> None:
    """§3.5 [NSG-DIAG]: both levels' NSGs, the default rules under each."""
    answer = effective_security_rules(_s1(), NO_PLAN, {}, "vm1")
    assert [
        (list(e["association"]), e["networkSecurityGroup"]["id"].rsplit("/", 1)[1])
        for e in answer["value"]
    ] == [
        (["subnet"], "NSG1"),
        (["networkInterface"], "NSG2"),
    ]
    assert [len(e["effectiveSecurityRules"]) for e in answer["value"]] == [6, 6]
    assert effective_security_rules(_s1(), NO_PLAN, {}, "vm4") == {"value": []}


def test_subnet_security_rules_are_the_subnet_share_of_each_nic_answer() -> None:
    """Issue 14: effective rules of a subnet: its NSG's entry, tags of the subnet."""
    network = _s1(nsg1=(ALLOW_80_IN,))
    subnet1 = subnet_security_rules(network, NO_PLAN, {}, "v", "subnet1")
    assert subnet1["value"] == effective_security_rules(network, NO_PLAN, {}, "vm1")["value"][:1]
    assert subnet_security_rules(network, NO_PLAN, {}, "v", "subnet2") == {"value": []}
    with pytest.raises(KeyError, match="'nope'"):
        subnet_security_rules(network, NO_PLAN, {}, "v", "nope")


def test_effective_rules_refuse_a_stopped_vm() -> None:
    network = _s2()
    v = network.nodes[0]
    assert isinstance(v, VNet)
    stopped = NetworkInterface(
        name="vm", vnet="v", subnet="default", private_ip_address="10.0.0.4", running=False
    )
    subnet = Subnet(
        name="default",
        address_prefix="10.0.0.0/24",
        network_security_group="nsg",
        network_interfaces=(stopped,),
    )
    network = Network(
        name="s2",
        nodes=(VNet(name="v", address_space=v.address_space, subnets=(subnet,)),),
        network_security_groups=network.network_security_groups,
    )
    with pytest.raises(ValueError, match="'vm' is not running"):
        effective_security_rules(network, NO_PLAN, {}, "vm")


# --------------------------------------------------------------------------- S7


def _s7() -> Network:
    """§8 S7 [ASG]: NSG1 on both subnets; NIC1, NIC2 in AsgWeb, NIC3 in AsgLogic, NIC4 in
    AsgDb; 100 Internet->AsgWeb TCP 80 Allow; 110 AsgLogic->AsgDb TCP 1433 Allow; 120
    *->AsgDb 1433 Any Deny."""
    rules = (
        _rule(
            "Allow-HTTP-Inbound-Internet",
            100,
            IN,
            ALLOW,
            protocol=Protocol.TCP,
            source_address_prefixes=("Internet",),
            destination_address_prefixes=(),
            destination_application_security_groups=("AsgWeb",),
            destination_port_ranges=("80",),
        ),
        _rule(
            "Allow-Database-BusinessLogic",
            110,
            IN,
            ALLOW,
            protocol=Protocol.TCP,
            source_address_prefixes=(),
            source_application_security_groups=("AsgLogic",),
            destination_address_prefixes=(),
            destination_application_security_groups=("AsgDb",),
            destination_port_ranges=("1433",),
        ),
        _rule(
            "Deny-Database-All",
            120,
            IN,
            DENY,
            destination_address_prefixes=(),
            destination_application_security_groups=("AsgDb",),
            destination_port_ranges=("1433",),
        ),
    )
    web = Subnet(
        name="web",
        address_prefix="10.0.1.0/24",
        network_security_group="NSG1",
        network_interfaces=(
            _nic("nic1", "web", "10.0.1.4", application_security_groups=("AsgWeb",)),
            _nic("nic2", "web", "10.0.1.5", application_security_groups=("AsgWeb",)),
        ),
    )
    back = Subnet(
        name="back",
        address_prefix="10.0.2.0/24",
        network_security_group="NSG1",
        network_interfaces=(
            _nic("nic3", "back", "10.0.2.4", application_security_groups=("AsgLogic",)),
            _nic("nic4", "back", "10.0.2.5", application_security_groups=("AsgDb",)),
        ),
    )
    return Network(
        name="s7",
        nodes=(VNet(name="v", address_space=("10.0.0.0/16",), subnets=(web, back)),),
        network_security_groups=(NetworkSecurityGroup(name="NSG1", security_rules=rules),),
        application_security_groups=("AsgWeb", "AsgLogic", "AsgDb"),
    )


S7_ROWS = [
    ("Tcp", INTERNET_HOST, "nic1", 80, ALLOW, "securityRules/Allow-HTTP-Inbound-Internet"),
    ("Tcp", INTERNET_HOST, "nic3", 80, DENY, "defaultSecurityRules/DenyAllInBound"),
    ("Tcp", "10.0.2.4", "nic4", 1433, ALLOW, "securityRules/Allow-Database-BusinessLogic"),
    ("Tcp", "10.0.1.4", "nic4", 1433, DENY, "securityRules/Deny-Database-All"),
    ("Udp", "10.0.2.4", "nic4", 1433, DENY, "securityRules/Deny-Database-All"),
    ("Tcp", "10.0.1.4", "nic3", 443, ALLOW, "defaultSecurityRules/AllowVnetInBound"),
]


@pytest.mark.parametrize(("protocol", "source", "nic", "port", "access", "rule"), S7_ROWS)
def test_s7_application_security_groups(
    protocol: str, source: str, nic: str, port: int, access: Access, rule: str
) -> None:
    """§8 S7: a rule naming an ASG applies to its members only."""
    network = _s7()
    destination = SecurityIndex(network).interface(nic)
    assert isinstance(destination, NetworkInterface)
    flow = Flow(protocol, source, 50000, destination.private_ip_address, port)
    decision = _decide(network, nic, flow, IN)
    assert (decision.access, decision.rule_name) == (access, rule)


def test_s7_effective_rules_expand_groups_to_member_addresses() -> None:
    answer = effective_security_rules(_s7(), NO_PLAN, {}, "nic4")
    rules = {r["name"]: r for r in answer["value"][0]["effectiveSecurityRules"]}
    deny = rules["securityRules/Deny-Database-All"]
    assert deny["expandedDestinationAddressPrefix"] == ["10.0.2.5/32"]
    assert deny["destinationApplicationSecurityGroups"][0]["id"].endswith(
        "/applicationSecurityGroups/AsgDb"
    )
    assert deny["protocol"] == "All"
    assert deny["destinationPortRange"] == "1433-1433"
    web = rules["securityRules/Allow-HTTP-Inbound-Internet"]
    assert web["expandedSourceAddressPrefix"][:2] == ["1.0.0.0/8", "2.0.0.0/7"]


# --------------------------------------------------------------------------- rules


def test_the_six_default_rules() -> None:
    """§1.2 [NSG-OV], names in the CLI spelling."""
    assert [(r.direction.value, r.name, r.priority, r.access.value) for r in DEFAULT_RULES] == [
        ("Inbound", "AllowVnetInBound", 65000, "Allow"),
        ("Inbound", "AllowAzureLoadBalancerInBound", 65001, "Allow"),
        ("Inbound", "DenyAllInBound", 65500, "Deny"),
        ("Outbound", "AllowVnetOutBound", 65000, "Allow"),
        ("Outbound", "AllowInternetOutBound", 65001, "Allow"),
        ("Outbound", "DenyAllOutBound", 65500, "Deny"),
    ]


def test_load_balancer_probes_are_admitted_by_their_default_rule() -> None:
    network = _s2()
    probe = Flow("Tcp", "168.63.129.16", 50000, "10.0.0.4", 8080)
    # 168.63.129.16 is in VirtualNetwork too: AllowVnetInBound, at 65000, decides first.
    assert _decide(network, "vm", probe, IN).rule_name == "defaultSecurityRules/AllowVnetInBound"


def test_first_match_by_priority_not_by_file_order() -> None:
    rules = (
        _rule("late-allow", 300, OUT, ALLOW, destination_port_ranges=("443",)),
        _rule("early-deny", 200, OUT, DENY, destination_port_ranges=("400-500",)),
    )
    network = _s2()
    network = Network(
        name="s2",
        nodes=network.nodes,
        network_security_groups=(NetworkSecurityGroup(name="nsg", security_rules=rules),),
    )
    decision = _decide(network, "vm", Flow("Tcp", "10.0.0.4", 1, INTERNET_HOST, 443), OUT)
    assert decision.rule_name == "securityRules/early-deny"


def test_protocol_and_port_lists() -> None:
    """Augmented rules (§1.1): a list of prefixes or ports matches if any element does;
    a portless protocol matches only rules open on every port (decision, nsg.py)."""
    rule = _rule(
        "deny-some",
        100,
        OUT,
        DENY,
        protocol=Protocol.UDP,
        destination_address_prefixes=("20.0.0.0/8", "13.107.21.200"),
        destination_port_ranges=("53", "5000-5010"),
    )
    icmp_rule = _rule("deny-icmp-ports", 110, OUT, DENY, destination_port_ranges=("0-100",))
    network = _s2()
    network = Network(
        name="s2",
        nodes=network.nodes,
        network_security_groups=(
            NetworkSecurityGroup(name="nsg", security_rules=(rule, icmp_rule)),
        ),
    )

    def name(protocol: str, destination: str, port: int) -> str | None:
        flow = Flow(protocol, "10.0.0.4", 40000, destination, port)
        return _decide(network, "vm", flow, OUT).rule_name

    assert name("Udp", INTERNET_HOST, 5005) == "securityRules/deny-some"
    assert name("Udp", "20.1.1.1", 53) == "securityRules/deny-some"
    assert name("Tcp", INTERNET_HOST, 53) == "securityRules/deny-icmp-ports"
    assert name("Udp", INTERNET_HOST, 5011) == "defaultSecurityRules/AllowInternetOutBound"
    assert name("Icmp", INTERNET_HOST, 0) == "defaultSecurityRules/AllowInternetOutBound"


def test_an_nva_interface_is_evaluated_with_its_own_nsg() -> None:
    """NVA interfaces carry an NSG (§5.3); an NVA without a declared subnet sits in the
    subnet holding its address."""
    hub = VNet(
        name="v",
        address_space=("10.0.0.0/16",),
        subnets=(Subnet(name="nva", address_prefix="10.0.1.0/24"),),
    )
    nva = Nva(
        name="fw1",
        vnet="v",
        address="10.0.1.4",
        asn=65010,
        router_id="10.0.1.4",
        network_security_group="nsg",
    )
    deny = _rule("deny-in", 100, IN, DENY)
    network = Network(
        name="nva",
        nodes=(hub, nva),
        network_security_groups=(NetworkSecurityGroup(name="nsg", security_rules=(deny,)),),
    )
    decision = _decide(network, "fw1", Flow("Tcp", "10.0.1.9", 1, "10.0.1.4", 22), IN)
    assert (decision.rule_name, decision.association) == (
        "securityRules/deny-in",
        NETWORK_INTERFACE,
    )


# --------------------------------------------------------------------------- property

_ADDRESS_GRID = ("10.0.0.4", "10.0.0.9", "10.1.0.4", INTERNET_HOST, "172.31.0.100", "168.63.129.16")
FLOW_GRID = [
    Flow(protocol, source, source_port, destination, port)
    for protocol in ("Tcp", "Udp", "Icmp")
    for source in _ADDRESS_GRID
    for destination in _ADDRESS_GRID
    for source_port, port in ((60000, 80), (22, 443), (0, 0))
]
"""Every flow the property checks, in each direction (324 flows)."""
_ports = st.sampled_from(["*", "80", "22", "0-1024", "443-443", "1000-65535"])
_prefixes = st.sampled_from(
    [
        "*",
        "VirtualNetwork",
        "Internet",
        "AzureLoadBalancer",
        "10.0.0.0/16",
        "10.1.0.4/32",
        "0.0.0.0/0",
    ]
)


@st.composite
def _rules(draw: st.DrawFn, access: Access) -> SecurityRule:
    return SecurityRule(
        name=f"r{draw(st.integers(0, 10**6))}",
        priority=draw(st.integers(100, 4096)),
        direction=draw(st.sampled_from([IN, OUT])),
        access=access,
        protocol=draw(st.sampled_from(list(Protocol))),
        source_address_prefixes=(draw(_prefixes),),
        source_port_ranges=(draw(_ports),),
        destination_address_prefixes=(draw(_prefixes),),
        destination_port_ranges=(draw(_ports),),
    )


def _unique(rules: list[SecurityRule]) -> tuple[SecurityRule, ...]:
    seen: dict[tuple[Direction, int], SecurityRule] = {}
    for rule in rules:
        seen.setdefault((rule.direction, rule.priority), rule)
    return tuple(seen.values())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(_rules(Access.ALLOW), _rules(Access.DENY)), max_size=6),
    _rules(Access.DENY),
)
def test_adding_a_deny_rule_never_allows_a_denied_flow(
    rules: list[SecurityRule], deny: SecurityRule
) -> None:
    """Issue 14 property: a deny rule (any priority) only turns allowed flows into denied
    ones.  Priorities are unique per direction (§1.1), so the new rule's priority is
    moved to a free one."""
    before = _unique(rules)
    taken = {(r.direction, r.priority) for r in before}
    priority = deny.priority
    while (deny.direction, priority) in taken:
        priority = priority + 1 if priority < 4096 else 100
    added = SecurityRule(
        name="added-deny",
        priority=priority,
        direction=deny.direction,
        access=Access.DENY,
        protocol=deny.protocol,
        source_address_prefixes=deny.source_address_prefixes,
        source_port_ranges=deny.source_port_ranges,
        destination_address_prefixes=deny.destination_address_prefixes,
        destination_port_ranges=deny.destination_port_ranges,
    )
    original = _s3()
    networks = [
        Network(
            name="p",
            nodes=original.nodes,
            network_security_groups=(
                NetworkSecurityGroup(name="nsg-a", security_rules=(*extra, *before)),
                NetworkSecurityGroup(name="nsg-b"),
            ),
        )
        for extra in ((), (added,))
    ]
    tags = tags_of(networks[0], "a", "s")
    indexes = [SecurityIndex(network) for network in networks]
    for flow in FLOW_GRID:
        for direction in (IN, OUT):
            old, new = (
                evaluate_nsgs(index, index.interface("vm-a"), flow, direction, tags)
                for index in indexes
            )
            if not old.allowed:
                assert not new.allowed, (flow, direction, old, new)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            _rule("bad-port", 100, OUT, DENY, destination_port_ranges=("http",)),
            "NSG 'nsg', rule 'bad-port', destination_port_ranges: 'http' is not a port",
        ),
        (
            _rule("bad-tag", 100, OUT, DENY, destination_address_prefixes=("Storage",)),
            "NSG 'nsg', rule 'bad-tag', destination addresses: 'Storage' is not an address",
        ),
        (
            _rule(
                "bad-asg",
                100,
                IN,
                DENY,
                source_address_prefixes=(),
                source_application_security_groups=("AsgX",),
            ),
            "NSG 'nsg', rule 'bad-asg', source addresses: no application security group "
            "named 'AsgX'",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_nsg_rule_and_field(rule: SecurityRule, message: str) -> None:
    """Rules built in code are not checked by the topology loader: the evaluator names
    what is wrong instead of failing deep in a matcher."""
    network = Network(
        name="s2",
        nodes=_s2().nodes,
        network_security_groups=(NetworkSecurityGroup(name="nsg", security_rules=(rule,)),),
    )
    flow = Flow("Tcp", "10.0.0.4", 1, INTERNET_HOST, 80)
    with pytest.raises(ValueError, match=re.escape(message)):
        ip_flow_verify(network, NO_PLAN, {}, "vm", flow, OUT)
    with pytest.raises(ValueError, match=re.escape(message)):
        effective_security_rules(network, NO_PLAN, {}, "vm")


# --------------------------------------------------------------------------- S5, P4a


def _spokes(*udrs: tuple[str, str, str]) -> Network:
    """§8 S5: hub 10.0/16 (NVA 10.0.1.4), Spoke1 10.1/16, Spoke2 10.2/16 peered with the
    hub only, a default NSG on each spoke subnet; ``udrs``: (spoke, prefix, next hop)."""

    def spoke(i: int) -> VNet:
        name = f"spoke{i}"
        routes = tuple(
            UserRoute(
                name=f"to-{prefix}",
                address_prefix=prefix,
                next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
                next_hop_ip_address=hop,
            )
            for owner, prefix, hop in udrs
            if owner == name
        )
        subnet = Subnet(
            name="s",
            address_prefix=f"10.{i}.0.0/24",
            route_table="rt",
            network_security_group="nsg",
            network_interfaces=(
                NetworkInterface(
                    name=f"vm{i}", vnet=name, subnet="s", private_ip_address=f"10.{i}.0.4"
                ),
            ),
        )
        return vnet(
            name,
            f"10.{i}.0.0/16",
            subnet,
            peers=("hub",),
            route_tables=(RouteTable(name="rt", routes=routes),),
        )

    hub = vnet(
        "hub",
        "10.0.0.0/16",
        Subnet(name="nva", address_prefix="10.0.1.0/24", network_security_group="nsg"),
        peers=("spoke1", "spoke2"),
    )
    nva = Nva(name="nva", vnet="hub", address="10.0.1.4", asn=65010, router_id="10.0.1.4")
    return Network(
        name="s5",
        nodes=(hub, spoke(1), spoke(2), nva),
        network_security_groups=(NetworkSecurityGroup(name="nsg"),),
    )


def test_s5_udr_prefixes_let_the_vnet_rules_admit_spoke_to_spoke() -> None:
    """§8 S5 [INF]: 10.2/16 is a UDR prefix of Spoke1 (so in its VirtualNetwork), 10.1/16
    one of Spoke2; without the UDRs the default rules deny the other spoke (P6)."""
    flow = Flow("Tcp", "10.1.0.4", 50000, "10.2.0.4", 443)
    routed = _spokes(("spoke1", "10.2.0.0/16", "10.0.1.4"), ("spoke2", "10.1.0.0/16", "10.0.1.4"))
    assert _decide(routed, "vm1", flow, OUT).rule_name == "defaultSecurityRules/AllowVnetOutBound"
    assert _decide(routed, "vm2", flow, IN).rule_name == "defaultSecurityRules/AllowVnetInBound"
    # At the NVA (decision §9.3: original addresses), the hub's tag holds both spokes.
    assert _decide(routed, "nva", flow, IN).rule_name == "defaultSecurityRules/AllowVnetInBound"
    bare = _spokes()
    assert _decide(bare, "vm1", flow, OUT).rule_name == "defaultSecurityRules/DenyAllOutBound"
    assert _decide(bare, "vm2", flow, IN).rule_name == "defaultSecurityRules/DenyAllInBound"


def test_p4a_a_default_udr_lets_the_vnet_rules_admit_the_internet() -> None:
    """Pitfall P4a [ISSUE-22178]: with 0/0 -> NVA the tag is 0.0.0.0/0, so
    AllowVnetOutBound, not AllowInternetOutBound, admits an Internet flow, and
    AllowVnetInBound admits any source."""
    network = _spokes(("spoke1", "0.0.0.0/0", "10.0.1.4"))
    out = Flow("Tcp", "10.1.0.4", 50000, INTERNET_HOST, 443)
    assert _decide(network, "vm1", out, OUT).rule_name == "defaultSecurityRules/AllowVnetOutBound"
    assert (
        _decide(network, "vm1", out.reply(), IN).rule_name
        == "defaultSecurityRules/AllowVnetInBound"
    )
    rules = effective_security_rules(network, NO_PLAN, {}, "vm1")["value"][0]
    vnet_out = next(
        r
        for r in rules["effectiveSecurityRules"]
        if r["name"] == "defaultSecurityRules/AllowVnetOutBound"
    )
    assert vnet_out["expandedDestinationAddressPrefix"] == ["0.0.0.0/0"]
