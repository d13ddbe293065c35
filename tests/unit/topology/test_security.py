"""NSGs, ASGs, interfaces and Azure Firewall in the topology file (issue 14): what they
compile to, and that runtime edits keep them.  The bad cases are golden files:
tests/data/topology/bad-nsg.yaml and bad-firewall.yaml (test_errors.py)."""

from __future__ import annotations

import json

import pytest

from bgpemu.azure import model as m
from bgpemu.azure import security as s
from bgpemu.errors import ConfigError
from bgpemu.topology import parse_topology
from bgpemu.topology.edit import apply_edit

TEXT = """
name: sec
applicationSecurityGroups: [AsgWeb, AsgDb]
networkSecurityGroups:
  nsg-app:
    securityRules:
      - name: web
        priority: 100
        direction: Inbound
        access: Allow
        protocol: Tcp
        sourceAddressPrefix: INTERNET
        sourcePortRange: '*'
        destinationApplicationSecurityGroups: [AsgWeb]
        destinationPortRange: '80'
      - name: block
        priority: 100
        direction: Outbound
        access: Deny
        protocol: '*'
        sourceAddressPrefixes: [10.0.1.0/24, 10.0.2.4]
        sourcePortRanges: ['1000-2000', '3000']
        destinationAddressPrefix: 172.16.0.0/12
        destinationPortRange: '*'
        description: two ranges, one address
  nsg-nva: {}
nodes:
  hub:
    role: vnet
    addressSpace: [10.0.0.0/16]
    subnets:
      - name: app
        addressPrefix: 10.0.1.0/24
        networkSecurityGroup: nsg-app
        networkInterfaces:
          - {name: vm1, privateIpAddress: 10.0.1.4, applicationSecurityGroups: [AsgWeb]}
          - {name: vm2, privateIpAddress: 10.0.1.5, networkSecurityGroup: nsg-app,
             enableIpForwarding: true, running: false}
      - {name: nva, addressPrefix: 10.0.2.0/24}
      - {name: AzureFirewallSubnet, addressPrefix: 10.0.3.0/26}
  nva1:
    role: nva
    vnet: hub
    subnet: nva
    address: 10.0.2.4
    asn: 65001
    networkSecurityGroup: nsg-nva
    applicationSecurityGroups: [AsgDb]
  nva2: {role: nva, vnet: hub, subnet: nva, address: 10.0.2.5, asn: 65002,
         enableIpForwarding: false}
  fw:
    role: azure_firewall
    vnet: hub
    ruleCollectionGroups:
      - name: DefaultNetworkRuleCollectionGroup
        priority: 200
        ruleCollections:
          - name: allow-web
            priority: 100
            ruleCollectionType: FirewallPolicyFilterRuleCollection
            action: {type: Allow}
            rules:
              - name: web
                ruleType: NetworkRule
                ipProtocols: [TCP]
                sourceAddresses: [10.1.0.0/16]
                destinationAddresses: [VIRTUAL_NETWORK, 10.2.0.4]
                destinationPorts: ['80', '443']
          - name: apps
            priority: 200
            ruleCollectionType: FirewallPolicyFilterRuleCollection
            action: {type: Deny}
            rules:
              - name: google
                ruleType: ApplicationRule
                sourceAddresses: ['*']
                protocols: [{protocolType: Https, port: 443}]
                targetFqdns: [www.google.com]
      - name: dnat
        priority: 100
        ruleCollections:
          - name: ssh-in
            priority: 100
            ruleCollectionType: FirewallPolicyNatRuleCollection
            action: {type: DNAT}
            rules:
              - name: ssh
                ruleType: NatRule
                ipProtocols: [TCP]
                sourceAddresses: ['*']
                destinationAddresses: [10.0.3.4]
                destinationPorts: ['2222']
                translatedAddress: 10.0.1.4
                translatedPort: '22'
"""


def test_nsgs_asgs_and_interfaces_compile_to_the_traffic_model() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    assert network.application_security_groups == ("AsgWeb", "AsgDb")
    web, block = (
        s.SecurityRule(
            name="web",
            priority=100,
            direction=s.Direction.INBOUND,
            access=s.Access.ALLOW,
            protocol=s.Protocol.TCP,
            source_address_prefixes=("Internet",),  # the classic spelling, current (§3.4)
            source_port_ranges=("*",),
            destination_address_prefixes=(),
            destination_application_security_groups=("AsgWeb",),
            destination_port_ranges=("80",),
        ),
        s.SecurityRule(
            name="block",
            priority=100,
            direction=s.Direction.OUTBOUND,
            access=s.Access.DENY,
            protocol=s.Protocol.ANY,
            source_address_prefixes=("10.0.1.0/24", "10.0.2.4"),
            source_port_ranges=("1000-2000", "3000"),
            destination_address_prefixes=("172.16.0.0/12",),
            destination_port_ranges=("*",),
        ),
    )
    assert network.network_security_groups == (
        s.NetworkSecurityGroup(name="nsg-app", security_rules=(web, block)),
        s.NetworkSecurityGroup(name="nsg-nva"),
    )
    vnet = network.node("hub")
    assert isinstance(vnet, m.VNet)
    app = vnet.subnets[0]
    assert app.network_security_group == "nsg-app"
    assert app.network_interfaces == (
        s.NetworkInterface(
            name="vm1",
            vnet="hub",
            subnet="app",
            private_ip_address="10.0.1.4",
            application_security_groups=("AsgWeb",),
        ),
        s.NetworkInterface(
            name="vm2",
            vnet="hub",
            subnet="app",
            private_ip_address="10.0.1.5",
            network_security_group="nsg-app",
            enable_ip_forwarding=True,
            running=False,
        ),
    )
    assert vnet.subnets[1].network_security_group is None
    assert vnet.subnets[1].network_interfaces == ()


def test_an_nva_carries_its_interface() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    nva1, nva2 = network.node("nva1"), network.node("nva2")
    assert isinstance(nva1, m.Nva)
    assert isinstance(nva2, m.Nva)
    assert (nva1.subnet, nva1.enable_ip_forwarding, nva1.network_security_group) == (
        "nva",
        True,  # the default: an appliance forwards
        "nsg-nva",
    )
    assert nva1.application_security_groups == ("AsgDb",)
    assert (nva2.enable_ip_forwarding, nva2.network_security_group) == (False, None)


def test_the_firewall_is_no_node_and_keeps_its_policy_in_file_order() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    assert [n.name for n in network.nodes] == ["hub", "nva1", "nva2"]
    (firewall,) = network.firewalls
    assert firewall == s.AzureFirewall(
        name="fw",
        vnet="hub",
        private_ip_address="10.0.3.4",  # AzureFirewallSubnet + 4
        rule_collection_groups=(
            s.FirewallRuleCollectionGroup(
                name="DefaultNetworkRuleCollectionGroup",
                priority=200,
                rule_collections=(
                    s.FirewallRuleCollection(
                        name="allow-web",
                        priority=100,
                        action=s.FirewallAction.ALLOW,
                        rules=(
                            s.FirewallRule(
                                name="web",
                                rule_type=s.FirewallRuleType.NETWORK,
                                ip_protocols=("TCP",),
                                source_addresses=("10.1.0.0/16",),
                                destination_addresses=("VirtualNetwork", "10.2.0.4"),
                                destination_ports=("80", "443"),
                            ),
                        ),
                    ),
                    s.FirewallRuleCollection(
                        name="apps",
                        priority=200,
                        action=s.FirewallAction.DENY,
                        rules=(
                            s.FirewallRule(
                                name="google",
                                rule_type=s.FirewallRuleType.APPLICATION,
                                source_addresses=("*",),
                                protocols=("Https:443",),
                                target_fqdns=("www.google.com",),
                            ),
                        ),
                    ),
                ),
            ),
            s.FirewallRuleCollectionGroup(
                name="dnat",
                priority=100,
                rule_collections=(
                    s.FirewallRuleCollection(
                        name="ssh-in",
                        priority=100,
                        action=s.FirewallAction.DNAT,
                        rules=(
                            s.FirewallRule(
                                name="ssh",
                                rule_type=s.FirewallRuleType.NAT,
                                ip_protocols=("TCP",),
                                source_addresses=("*",),
                                destination_addresses=("10.0.3.4",),
                                destination_ports=("2222",),
                                translated_address="10.0.1.4",
                                translated_port="22",
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


def test_a_topology_without_traffic_fields_has_none() -> None:
    network = parse_topology("name: t\nnodes:\n  v: {role: vnet, addressSpace: [10.0.0.0/16]}\n")
    assert (
        network.network_security_groups,
        network.application_security_groups,
        network.firewalls,
    ) == ((), (), ())


def test_edits_keep_the_nsgs_and_can_add_and_remove_a_firewall() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    spoke = {"role": "vnet", "addressSpace": ["10.9.0.0/16"]}
    added = apply_edit(network, "add_node", {"name": "spoke", **spoke})
    assert added.network_security_groups == network.network_security_groups
    assert added.firewalls == network.firewalls
    removed = apply_edit(added, "remove_node", {"name": "fw"})
    assert removed.firewalls == ()
    again = apply_edit(
        removed, "add_node", {"name": "fw2", "role": "azure_firewall", "vnet": "hub"}
    )
    assert [f.name for f in again.firewalls] == ["fw2"]


def test_a_vnet_with_a_firewall_cannot_be_removed() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    with pytest.raises(ConfigError, match="node fw"):
        apply_edit(network, "remove_node", {"name": "hub"})


def test_an_edit_that_breaks_an_nsg_reference_is_refused_with_its_path() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    node = {"role": "nva", "vnet": "hub", "address": "10.0.2.9", "asn": 65003}
    with pytest.raises(ConfigError) as info:
        apply_edit(network, "add_node", {"name": "nva3", **node, "networkSecurityGroup": "x"})
    (problem,) = info.value.problems
    assert problem.location == "nodes.nva3.networkSecurityGroup"
    assert "no network security group 'x'" in problem.message


def test_an_unreadable_asg_list_is_reported_once_not_at_every_reference() -> None:
    text = (
        "name: t\napplicationSecurityGroups: 7\nnodes:\n  v:\n    role: vnet\n"
        "    addressSpace: [10.0.0.0/16]\n    subnets:\n      - name: s\n"
        "        addressPrefix: 10.0.0.0/24\n        networkInterfaces:\n"
        "          - {name: n, privateIpAddress: 10.0.0.4, applicationSecurityGroups: [a]}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_topology(text, "t.yaml")
    (problem,) = info.value.problems
    assert problem.location == "applicationSecurityGroups"


def test_the_asg_limits_of_a_rule_side_and_an_interface() -> None:
    """§1.6 [LIMITS]: 10 ASGs on one side of a rule, 20 ASGs per interface."""
    asgs = [f"asg{i}" for i in range(21)]
    rule = {
        "name": "r",
        "priority": 100,
        "direction": "Inbound",
        "access": "Allow",
        "protocol": "Tcp",
        "sourceApplicationSecurityGroups": asgs[:11],
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "*",
    }
    nic = {"name": "n", "privateIpAddress": "10.0.0.4", "applicationSecurityGroups": asgs}
    subnet = {"name": "s", "addressPrefix": "10.0.0.0/24", "networkInterfaces": [nic]}
    document = {
        "name": "t",
        "applicationSecurityGroups": asgs,
        "networkSecurityGroups": {"nsg": {"securityRules": [rule]}},
        "nodes": {"v": {"role": "vnet", "addressSpace": ["10.0.0.0/16"], "subnets": [subnet]}},
    }
    with pytest.raises(ConfigError) as info:
        parse_topology(json.dumps(document), "t.yaml")
    assert [(p.location, p.message) for p in info.value.problems] == [
        (
            "networkSecurityGroups.nsg.securityRules[0].sourceApplicationSecurityGroups",
            "11 application security groups, more than Azure's 10 on one side of a rule",
        ),
        (
            "nodes.v.subnets[0].networkInterfaces[0].applicationSecurityGroups",
            "21 application security groups, more than Azure's 20 per interface",
        ),
    ]


def test_a_security_rule_and_a_route_are_edited_at_runtime() -> None:
    """The edits behind issue 14's failure tests: a deny rule added, a UDR removed."""
    network = parse_topology(TEXT, "sec.yaml")
    deny = {
        "name": "deny-db",
        "priority": 200,
        "direction": "Inbound",
        "access": "Deny",
        "protocol": "Tcp",
        "sourceAddressPrefix": "10.2.0.0/16",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRanges": ["1433"],
    }
    added = apply_edit(network, "add_security_rule", {"networkSecurityGroup": "nsg-app", **deny})
    rules = added.network_security_groups[0].security_rules
    assert [r.name for r in rules] == ["web", "block", "deny-db"]
    assert rules[-1].destination_port_ranges == ("1433",)
    back = apply_edit(
        added, "remove_security_rule", {"networkSecurityGroup": "nsg-app", "name": "deny-db"}
    )
    assert back == network


def test_runtime_rule_and_route_edits_are_held_to_the_files_rules() -> None:
    network = parse_topology(TEXT, "sec.yaml")
    clash = {
        "name": "again",
        "priority": 100,
        "direction": "Inbound",
        "access": "Deny",
        "protocol": "Tcp",
        "sourceAddressPrefix": "*",
        "sourcePortRange": "*",
        "destinationAddressPrefix": "*",
        "destinationPortRange": "*",
    }
    with pytest.raises(ConfigError) as info:
        apply_edit(network, "add_security_rule", {"networkSecurityGroup": "nsg-app", **clash})
    (problem,) = info.value.problems
    assert problem.file == "add_security_rule nsg-app/again"
    assert problem.location == "networkSecurityGroups.nsg-app.securityRules[2].priority"
    with pytest.raises(
        ConfigError, match="no network security group 'nope' \\(NSGs: nsg-app, nsg-nva\\)"
    ):
        apply_edit(network, "add_security_rule", {"networkSecurityGroup": "nope", **clash})
    with pytest.raises(ConfigError, match="no security rule 'x' \\(security rules: web, block\\)"):
        apply_edit(
            network, "remove_security_rule", {"networkSecurityGroup": "nsg-app", "name": "x"}
        )
    with pytest.raises(ConfigError, match="hub has no route table 'rt' \\(tables: none\\)"):
        apply_edit(network, "remove_route", {"vnet": "hub", "routeTable": "rt", "name": "r"})


@pytest.mark.parametrize("port", ["2200-2300", "*"])
def test_a_dnat_translated_port_is_one_port(port: str) -> None:
    """A DNAT rule translates to one port (§7.1): a range or '*' is refused at load, with
    its line, path and a hint (it used to load and fail as a ValueError in a trace)."""
    text = TEXT.replace("translatedPort: '22'", f"translatedPort: '{port}'")
    with pytest.raises(ConfigError) as info:
        parse_topology(text, "sec.yaml")
    (problem,) = info.value.problems
    line = text.splitlines().index(f"                translatedPort: '{port}'") + 1
    assert problem.file == f"sec.yaml:{line}"
    assert problem.location == (
        "nodes.fw.ruleCollectionGroups[1].ruleCollections[0].rules[0].translatedPort"
    )
    assert f"translatedPort {port!r} is not one port" in problem.message
    assert "one port" in (problem.hint or "")


def test_every_firewall_policy_is_compiled_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader compiles each rule as a trace does (FirewallPolicy.of): whatever it
    refuses is a load problem on that rule, never a ValueError in a trace."""
    from bgpemu.azure.traffic import firewall as fw

    real = fw.FirewallPolicy.of.__func__  # type: ignore[attr-defined]

    def refuse_google(cls: type[fw.FirewallPolicy], firewall: s.AzureFirewall) -> object:
        for group in firewall.rule_collection_groups:
            for collection in group.rule_collections:
                if any(rule.name == "google" for rule in collection.rules):
                    raise ValueError("rule 'google': refused by the compiler")
        return real(cls, firewall)

    monkeypatch.setattr(fw.FirewallPolicy, "of", classmethod(refuse_google))
    with pytest.raises(ConfigError) as info:
        parse_topology(TEXT, "sec.yaml")
    (problem,) = info.value.problems
    assert problem.location == "nodes.fw.ruleCollectionGroups[0].ruleCollections[1].rules[0]"
    assert "refused by the compiler" in problem.message
