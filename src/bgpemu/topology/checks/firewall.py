"""Azure Firewall: its subnet, its address, and the shape of its policy's rules.

Rules (shared/azure-traffic.md §7.1 [FW-RULES]): the firewall lives in its VNet's
AzureFirewallSubnet; a rule collection holds rules of one type (DNAT collections
``NatRule``s with action ``DNAT``; filter collections ``NetworkRule``s or
``ApplicationRule``s with action ``Allow`` or ``Deny``); names are unique in their
group, collection or policy; a DNAT rule translates to one port.  Priorities
(100-65000) are the schema's.  Each rule that passes these checks is then compiled as a
trace compiles it (:meth:`bgpemu.azure.traffic.firewall.FirewallPolicy.of`), so that
whatever the compiler refuses is a load problem on that rule, never an error in a trace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from pydantic.alias_generators import to_snake

from bgpemu.azure import security as sec
from bgpemu.azure.learn import see
from bgpemu.azure.security import FirewallAction, FirewallRuleType
from bgpemu.azure.traffic.firewall import FirewallPolicy
from bgpemu.topology._yaml import Path
from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.firewall import (
    NAT_COLLECTION,
    AzureFirewallModel,
    FirewallRuleCollectionModel,
    FirewallRuleModel,
    firewall_rule,
)

__all__ = ["check_firewalls"]

_SUBNET = "AzureFirewallSubnet"
_SMALLEST = 26
"""AzureFirewallSubnet is a /26 (the firewall scales out inside it) [FW-FAQ]."""
_MAX_PORT = 65535


def check_firewalls(index: Index) -> Iterator[Issue]:
    """Every firewall rule, in file order."""
    owners: dict[str, str] = {}
    for name, firewall in index.of(AzureFirewallModel):
        base: Path = ("nodes", name)
        vnet = index.vnet(firewall.vnet)
        if vnet is not None:
            if firewall.vnet in owners:
                yield Issue(
                    (*base, "vnet"),
                    f"{firewall.vnet} already has the firewall {owners[firewall.vnet]}",
                    "one Azure Firewall per VNet, in its AzureFirewallSubnet",
                )
            owners.setdefault(firewall.vnet, name)
            subnet = index.subnet(firewall.vnet, _SUBNET)
            if subnet is None:
                yield Issue(
                    (*base, "vnet"),
                    f"{firewall.vnet} has no {_SUBNET}",
                    f"add a subnet named {_SUBNET} (a /26) to {firewall.vnet}",
                )
            elif subnet.prefixlen > _SMALLEST:
                yield Issue(
                    (*base, "vnet"),
                    f"{_SUBNET} {subnet} of {firewall.vnet} is smaller than a /{_SMALLEST}",
                    f"Azure Firewall needs a /{_SMALLEST} {_SUBNET} ({see('FW-FAQ')})",
                )
            elif firewall.private_ip_address is not None and (
                ipaddress.ip_address(firewall.private_ip_address) not in subnet
            ):
                yield Issue(
                    (*base, "privateIpAddress"),
                    f"{firewall.private_ip_address} is not in {_SUBNET} {subnet}",
                    f"the firewall's private IP comes from {_SUBNET} (default: "
                    f"{subnet.network_address + 4})",
                )
        yield from _policy(base, name, firewall)


def _unique(path: Path, names: list[str], what: str) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            yield Issue(
                (*path, i, "name"),
                f"{what} {name!r} is already defined at {path[-1]}[{seen[name]}]",
                f"{what} names must be unique",
            )
        seen.setdefault(name, i)


def _policy(base: Path, name: str, firewall: AzureFirewallModel) -> Iterator[Issue]:
    groups = (*base, "ruleCollectionGroups")
    yield from _unique(groups, [g.name for g in firewall.rule_collection_groups], "group")
    collections: dict[str, str] = {}
    for g, group in enumerate(firewall.rule_collection_groups):
        path = (*groups, g, "ruleCollections")
        for c, collection in enumerate(group.rule_collections):
            where = f"ruleCollectionGroups[{g}].ruleCollections[{c}]"
            if collection.name in collections:
                yield Issue(
                    (*path, c, "name"),
                    f"rule collection {collection.name!r} is already defined at "
                    f"{collections[collection.name]}",
                    "rule collection names are unique in a policy",
                )
            collections.setdefault(collection.name, where)
            issues = list(_collection((*path, c), collection))
            yield from issues
            if not issues:
                yield from _compiled((*path, c), name, group.name, group.priority, collection)


def _compiled(
    path: Path, firewall: str, group: str, priority: int, collection: FirewallRuleCollectionModel
) -> Iterator[Issue]:
    """Each rule of a collection the checks accept, compiled alone as a trace compiles
    the policy (``FirewallPolicy.of``): its ValueError is a problem on that rule."""
    for r, rule in enumerate(collection.rules):
        alone = sec.AzureFirewall(
            name=firewall,
            vnet="",
            private_ip_address="",
            rule_collection_groups=(
                sec.FirewallRuleCollectionGroup(
                    name=group,
                    priority=priority,
                    rule_collections=(
                        sec.FirewallRuleCollection(
                            name=collection.name,
                            priority=collection.priority,
                            action=collection.action.type,
                            rules=(firewall_rule(rule),),
                        ),
                    ),
                ),
            ),
        )
        try:
            FirewallPolicy.of(alone)
        except ValueError as error:
            yield Issue(
                (*path, "rules", r),
                str(error),
                f"the rule must compile as Azure Firewall processes it ({see('FW-RULES')})",
            )


def _collection(path: Path, collection: FirewallRuleCollectionModel) -> Iterator[Issue]:
    nat = collection.rule_collection_type == NAT_COLLECTION
    action = collection.action.type
    if nat != (action is FirewallAction.DNAT):
        wanted = "DNAT" if nat else "Allow or Deny"
        yield Issue(
            (*path, "action", "type"),
            f"a {collection.rule_collection_type} takes action {wanted}, not {action.value}",
            f"DNAT collections translate; filter collections allow or deny ({see('FW-RULES')})",
        )
    rules = (*path, "rules")
    yield from _unique(rules, [r.name for r in collection.rules], "rule")
    kinds = {r.rule_type for r in collection.rules}
    if not nat and len(kinds) > 1:
        yield Issue(
            rules,
            "the collection mixes NetworkRule and ApplicationRule",
            f"all rules of a collection have one type: split it in two ({see('FW-RULES')})",
        )
    for r, rule in enumerate(collection.rules):
        if nat != (rule.rule_type is FirewallRuleType.NAT):
            wanted = "NatRule" if nat else "NetworkRule or ApplicationRule"
            yield Issue(
                (*rules, r, "ruleType"),
                f"a {collection.rule_collection_type} holds {wanted}, not {rule.rule_type.value}",
                "DNAT collections hold NatRules; filter collections network or application "
                f"rules ({see('FW-RULES')})",
            )
            continue
        yield from _rule((*rules, r), rule)


_NEEDS: dict[FirewallRuleType, tuple[str, ...]] = {
    FirewallRuleType.NETWORK: (
        "ipProtocols",
        "sourceAddresses",
        "destinationAddresses",
        "destinationPorts",
    ),
    FirewallRuleType.NAT: (
        "ipProtocols",
        "sourceAddresses",
        "destinationAddresses",
        "destinationPorts",
        "translatedAddress",
        "translatedPort",
    ),
    FirewallRuleType.APPLICATION: ("sourceAddresses", "protocols", "targetFqdns"),
}
"""The fields each rule type needs (ARM firewall policy)."""

_FIELDS = (
    "ipProtocols",
    "sourceAddresses",
    "destinationAddresses",
    "destinationPorts",
    "translatedAddress",
    "translatedPort",
    "protocols",
    "targetFqdns",
)


def _rule(path: Path, rule: FirewallRuleModel) -> Iterator[Issue]:
    needs = _NEEDS[rule.rule_type]
    for key in _FIELDS:
        value = getattr(rule, to_snake(key))
        given = value not in (None, [])
        if key in needs and not given:
            yield Issue(
                (*path, key),
                f"{rule.rule_type.value} {rule.name!r} needs {key}",
                f"a {rule.rule_type.value} gives {', '.join(needs)} ({see('FW-RULES')})",
            )
        elif key not in needs and given:
            yield Issue(
                (*path, key),
                f"{key} is not a field of a {rule.rule_type.value}",
                f"a {rule.rule_type.value} gives {', '.join(needs)} ({see('FW-RULES')})",
            )
    if rule.rule_type is FirewallRuleType.NAT:
        port = rule.translated_port
        if port is not None and not (port.isdigit() and int(port) <= _MAX_PORT):
            yield Issue(
                (*path, "translatedPort"),
                f"translatedPort {port!r} is not one port",
                f"a DNAT rule translates to one port (0-{_MAX_PORT}), e.g. '22' "
                f"({see('FW-RULES')})",
            )
        for i, protocol in enumerate(rule.ip_protocols):
            if protocol not in ("TCP", "UDP"):
                yield Issue(
                    (*path, "ipProtocols", i),
                    f"a NatRule translates TCP or UDP, not {protocol}",
                    "use TCP and/or UDP",
                )
