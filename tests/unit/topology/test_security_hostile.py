"""Hostile traffic fields (issue 14): any value in an NSG rule, an interface, an NVA's
interface fields or a firewall policy ends in problems or a Network, never an exception;
and a file without problems always compiles (the checks guard everything resolve reads)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.topology import check_topology, parse_topology

_SCALARS = st.sampled_from(
    [
        None,
        "",
        "*",
        "-",
        "80",
        "1-2",
        "2-1",
        "70000",
        "+80",
        "Internet",
        "VIRTUAL_NETWORK",
        "Storage",
        "10.0.1.0/24",
        "10.0.1.4",
        "10.0.3.4",
        "10.0.1.5/24",
        "::/0",
        "fe80::1",
        "nsg",
        "asg",
        "app",
        "AzureFirewallSubnet",
        "GatewaySubnet",
        "Tcp",
        "Inbound",
        "Allow",
        "DNAT",
        "NatRule",
        "NetworkRule",
        "FirewallPolicyNatRuleCollection",
        0,
        99,
        100,
        4097,
        65000,
        -1,
        True,
        1.5,
    ]
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=6,
)


def _document(
    rule: dict[str, Any], nic: dict[str, Any], nva: dict[str, Any], fw: dict[str, Any]
) -> str:
    return json.dumps(
        {
            "name": "h",
            "applicationSecurityGroups": ["asg"],
            "networkSecurityGroups": {"nsg": {"securityRules": [rule]}},
            "nodes": {
                "hub": {
                    "role": "vnet",
                    "addressSpace": ["10.0.0.0/16"],
                    "subnets": [
                        {"name": "app", "addressPrefix": "10.0.1.0/24", "networkInterfaces": [nic]},
                        {"name": "AzureFirewallSubnet", "addressPrefix": "10.0.3.0/26"},
                    ],
                },
                "nva": {"role": "nva", "vnet": "hub", "address": "10.0.1.9", "asn": 65001, **nva},
                "fw": {"role": "azure_firewall", "vnet": "hub", **fw},
            },
        }
    )


_RULE_KEYS = [
    "name",
    "priority",
    "direction",
    "access",
    "protocol",
    "sourceAddressPrefix",
    "sourceAddressPrefixes",
    "sourceApplicationSecurityGroups",
    "sourcePortRange",
    "destinationAddressPrefixes",
    "destinationPortRanges",
]
_NIC_KEYS = [
    "name",
    "privateIpAddress",
    "networkSecurityGroup",
    "applicationSecurityGroups",
    "enableIpForwarding",
]
_NVA_KEYS = ["subnet", "enableIpForwarding", "networkSecurityGroup", "applicationSecurityGroups"]
_FW_RULE_KEYS = [
    "name",
    "ruleType",
    "ipProtocols",
    "sourceAddresses",
    "destinationAddresses",
    "destinationPorts",
    "translatedAddress",
    "translatedPort",
]


_VALID_RULE = {
    "name": "r",
    "priority": 100,
    "direction": "Inbound",
    "access": "Allow",
    "protocol": "Tcp",
    "sourceAddressPrefix": "*",
    "sourcePortRange": "*",
    "destinationAddressPrefix": "*",
    "destinationPortRange": "80",
}
_VALID_NIC = {"name": "vm", "privateIpAddress": "10.0.1.4"}
_VALID_FW_RULE = {
    "name": "f",
    "ruleType": "NetworkRule",
    "ipProtocols": ["TCP"],
    "sourceAddresses": ["*"],
    "destinationAddresses": ["*"],
    "destinationPorts": ["443"],
}


def _fields(keys: list[str], valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid mapping with up to two of its keys given a drawn value (or removed)."""
    changes = st.dictionaries(st.sampled_from(keys), _VALUES, max_size=2)
    return changes.map(lambda c: {k: v for k, v in {**valid, **c}.items() if v is not None})


@settings(max_examples=120, deadline=None)
@given(
    _fields(_RULE_KEYS, _VALID_RULE),
    _fields(_NIC_KEYS, _VALID_NIC),
    _fields(_NVA_KEYS, {}),
    _fields(_FW_RULE_KEYS, _VALID_FW_RULE),
    _VALUES,
)
def test_any_traffic_field_value_ends_in_problems_or_a_network(
    rule: dict[str, Any],
    nic: dict[str, Any],
    nva: dict[str, Any],
    fw_rule: dict[str, Any],
    private_ip: Any,
) -> None:
    collection = {
        "name": "c",
        "priority": 100,
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "action": {"type": "Allow"},
        "rules": [fw_rule],
    }
    fw = {
        "privateIpAddress": private_ip,
        "ruleCollectionGroups": [{"name": "g", "priority": 100, "ruleCollections": [collection]}],
    }
    text = _document(rule, nic, nva, fw)
    problems, model = check_topology(text, "h.yaml")
    for problem in problems:
        assert problem.file.startswith("h.yaml")
        assert problem.message
    if not problems:
        assert model is not None
        parse_topology(text, "h.yaml")
