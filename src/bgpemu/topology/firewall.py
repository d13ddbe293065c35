"""Pydantic model of role ``azure_firewall``: Azure Firewall and its policy's rules (§7).

Keys are the ARM firewall-policy names (``ruleCollectionGroups``, ``ruleCollections``,
``ruleCollectionType``, ``ipProtocols``, ``destinationPorts``, ``translatedAddress``...).
The firewall compiles to :class:`bgpemu.azure.security.AzureFirewall` in
``Network.firewalls``: it filters traffic and speaks no BGP.  Section numbers (§) refer
to ``shared/azure-traffic.md``; the rules between fields (a collection's rule types,
unique names, the subnet) are :mod:`bgpemu.topology.checks.firewall`'s.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from bgpemu.azure import security as sec
from bgpemu.azure.learn import see
from bgpemu.azure.security import SERVICE_TAGS, FirewallAction, FirewallRuleType
from bgpemu.topology._base import IpAddress, Model, Name, prefix_or_address
from bgpemu.topology.security import ArmName, PortRange, prefix_or_tag

__all__ = [
    "AzureFirewallModel",
    "FirewallActionModel",
    "FirewallApplicationProtocolModel",
    "FirewallRuleCollectionGroupModel",
    "FirewallRuleCollectionModel",
    "FirewallRuleModel",
    "firewall_rule",
]

FILTER_COLLECTION = "FirewallPolicyFilterRuleCollection"
NAT_COLLECTION = "FirewallPolicyNatRuleCollection"


def _source(value: str) -> str:
    """``*``, a CIDR or an address: service tags are for destinations only (§7.1 [TAGS])."""
    if value == "*":
        return value
    if value in SERVICE_TAGS:
        raise ValueError(
            f"service tag {value!r} as a source: Azure Firewall accepts service tags as "
            f"destinations only ({see('TAGS')})"
        )
    return prefix_or_address(value)


def _destination(value: str) -> str:
    """``*``, a CIDR, an address or a service tag (§7.1)."""
    if value == "*" or value in SERVICE_TAGS:
        return value
    return prefix_or_tag(value)


FirewallSource = Annotated[str, AfterValidator(_source)]
FirewallDestination = Annotated[str, AfterValidator(_destination)]
CollectionPriority = Annotated[int, Field(ge=100, le=65000)]
"""Rule collection and rule collection group priorities: 100-65000 (§7.1 [FW-RULES])."""


class FirewallApplicationProtocolModel(Model):
    """An application rule's protocol: ``{protocolType: Https, port: 443}``."""

    protocol_type: Literal["Http", "Https", "Mssql"]
    port: Annotated[int, Field(ge=0, le=65535)]


class FirewallRuleModel(Model):
    """One rule (§7.1): ``NetworkRule`` (L4), ``NatRule`` (DNAT) or ``ApplicationRule``
    (FQDNs: kept, but its verdict is undetermined at L4, §7.3)."""

    name: ArmName
    rule_type: FirewallRuleType
    ip_protocols: list[Literal["TCP", "UDP", "ICMP", "Any"]] = []
    source_addresses: list[FirewallSource] = []
    destination_addresses: list[FirewallDestination] = []
    destination_ports: list[PortRange] = []
    translated_address: IpAddress | None = None
    translated_port: PortRange | None = None
    protocols: list[FirewallApplicationProtocolModel] = []
    target_fqdns: list[Annotated[str, Field(min_length=1, max_length=255)]] = []


def firewall_rule(rule: FirewallRuleModel) -> sec.FirewallRule:
    """The core rule ``rule`` compiles to (service tags in their current spelling,
    §3.4; application protocols as ``Https:443``): the loader's one conversion, used to
    resolve a topology and to compile each rule at load as a trace will."""
    return sec.FirewallRule(
        name=rule.name,
        rule_type=rule.rule_type,
        ip_protocols=tuple(rule.ip_protocols),
        source_addresses=tuple(rule.source_addresses),
        destination_addresses=tuple(sec.service_tag(v) or v for v in rule.destination_addresses),
        destination_ports=tuple(rule.destination_ports),
        translated_address=rule.translated_address,
        translated_port=rule.translated_port,
        protocols=tuple(f"{p.protocol_type}:{p.port}" for p in rule.protocols),
        target_fqdns=tuple(rule.target_fqdns),
    )


class FirewallActionModel(Model):
    """``action: {type: Allow | Deny | DNAT}``."""

    type: FirewallAction


class FirewallRuleCollectionModel(Model):
    """A rule collection: rules of one type, one action, a priority (§7.1)."""

    name: ArmName
    priority: CollectionPriority
    rule_collection_type: Literal[
        "FirewallPolicyFilterRuleCollection", "FirewallPolicyNatRuleCollection"
    ]
    action: FirewallActionModel
    rules: list[FirewallRuleModel] = []


class FirewallRuleCollectionGroupModel(Model):
    """A rule collection group (§7.1: groups by priority, then collections by priority)."""

    name: ArmName
    priority: CollectionPriority
    rule_collections: list[FirewallRuleCollectionModel] = []


class AzureFirewallModel(Model):
    """``role: azure_firewall``: Azure Firewall in ``vnet``'s AzureFirewallSubnet (§7).

    No BGP speaker: it compiles to ``Network.firewalls``.
    """

    role: Literal["azure_firewall"]
    vnet: Name
    private_ip_address: IpAddress | None = None
    """Default: AzureFirewallSubnet network + 4 (the first address Azure hands out)."""
    rule_collection_groups: list[FirewallRuleCollectionGroupModel] = []
