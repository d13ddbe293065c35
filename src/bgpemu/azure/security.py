"""What filters traffic in the Azure network a topology describes (L6, plain frozen values).

The traffic half of the network model of :mod:`bgpemu.azure.model`: network security
groups and their rules, application security groups, the network interfaces of virtual
machines and NVAs, and Azure Firewall with its rule collection groups.  Field names are
the snake_case of the ARM property names; section numbers (§) refer to
``shared/azure-traffic.md``.  Values are validated and resolved by :mod:`bgpemu.topology`
(priorities in range and unique per direction, prefixes normalised, every NSG, ASG and
subnet a value names exists); the rules' evaluation lives in :mod:`bgpemu.azure.traffic`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "SERVICE_TAGS",
    "Access",
    "AzureFirewall",
    "Direction",
    "FirewallAction",
    "FirewallRule",
    "FirewallRuleCollection",
    "FirewallRuleCollectionGroup",
    "FirewallRuleType",
    "NetworkInterface",
    "NetworkSecurityGroup",
    "Protocol",
    "SecurityRule",
    "service_tag",
]

SERVICE_TAGS: dict[str, str] = {
    "VirtualNetwork": "VirtualNetwork",
    "Internet": "Internet",
    "AzureLoadBalancer": "AzureLoadBalancer",
    "VIRTUAL_NETWORK": "VirtualNetwork",
    "INTERNET": "Internet",
    "AZURE_LOADBALANCER": "AzureLoadBalancer",
}
"""The service tags a rule may name -> their current spelling: the three tags of private
routing (§3.1-§3.3) and their classic spellings (§3.4 [TAGS]).  The loader refuses any
other tag and writes the current spelling into :class:`SecurityRule` values."""


def service_tag(text: str) -> str | None:
    """The current spelling of service tag ``text`` (``VIRTUAL_NETWORK`` ->
    ``VirtualNetwork``), or None when ``text`` is not a tag bgpemu knows (§3.4)."""
    return SERVICE_TAGS.get(text)


class Direction(StrEnum):
    """``direction`` of a security rule: each direction is its own ordered list (§1.1)."""

    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class Access(StrEnum):
    """``access`` of a security rule (§1.1)."""

    ALLOW = "Allow"
    DENY = "Deny"


class Protocol(StrEnum):
    """``protocol`` of a security rule; ``*`` is Any, printed ``All`` by the effective-rules
    API (§1.1, §4.1)."""

    TCP = "Tcp"
    UDP = "Udp"
    ICMP = "Icmp"
    ESP = "Esp"
    AH = "Ah"
    ANY = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityRule:
    """One rule of an NSG (§1.1): matches when protocol, both address sides and both port
    sides match; the lowest ``priority`` that matches decides.

    An address side is a tuple of CIDRs / addresses, ``("*",)``, or one service tag
    (``VirtualNetwork``, ``Internet``, ``AzureLoadBalancer``; never several tags in one
    field, §1.1), or empty when application security groups stand in its place.  Port
    sides are tuples of ``"*"``, ``"80"`` or ``"1000-2000"`` strings as written.
    """

    name: str
    priority: int
    """100-4096 for user rules; 65000, 65001, 65500 for the default rules (§1.2)."""
    direction: Direction
    access: Access
    protocol: Protocol = Protocol.ANY
    source_address_prefixes: tuple[str, ...] = ("*",)
    source_application_security_groups: tuple[str, ...] = ()
    source_port_ranges: tuple[str, ...] = ("*",)
    destination_address_prefixes: tuple[str, ...] = ("*",)
    destination_application_security_groups: tuple[str, ...] = ()
    destination_port_ranges: tuple[str, ...] = ("*",)
    default: bool = False
    """One of the six default rules (printed ``defaultSecurityRules/<name>``, §1.2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkSecurityGroup:
    """An NSG: its user rules (the six default rules are added by the evaluator, §1.2).

    Associated with zero or more subnets (``Subnet.network_security_group``) and network
    interfaces (``NetworkInterface.network_security_group``), §1.4.
    """

    name: str
    security_rules: tuple[SecurityRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkInterface:
    """A virtual machine's network interface in a subnet (one IP configuration).

    ``enable_ip_forwarding``: the NIC may receive packets not addressed to it and send
    packets with a foreign source (§5.3 [NIC-IPFWD]); off by default, as in Azure.
    """

    name: str
    vnet: str
    subnet: str
    private_ip_address: str
    network_security_group: str | None = None
    application_security_groups: tuple[str, ...] = ()
    enable_ip_forwarding: bool = False
    running: bool = True
    """A stopped VM's interface receives nothing (§8 S9: ``VM_TURNED_OFF``)."""


class FirewallRuleType(StrEnum):
    """``ruleType`` of a firewall policy rule (§7.1)."""

    NETWORK = "NetworkRule"
    NAT = "NatRule"
    APPLICATION = "ApplicationRule"


class FirewallAction(StrEnum):
    """``action.type`` of a rule collection (§7.1); DNAT collections say ``DNAT``."""

    ALLOW = "Allow"
    DENY = "Deny"
    DNAT = "DNAT"


@dataclass(frozen=True, slots=True, kw_only=True)
class FirewallRule:
    """One rule of a rule collection (network, DNAT or application; §7.1).

    ``ip_protocols``: ``TCP``, ``UDP``, ``ICMP``, ``Any``.  Application rules keep their
    ``protocols`` (``Http:80``...) and ``target_fqdns`` only to report the verdict they
    leave undetermined at L4 (§7.3).
    """

    name: str
    rule_type: FirewallRuleType
    ip_protocols: tuple[str, ...] = ()
    source_addresses: tuple[str, ...] = ()
    destination_addresses: tuple[str, ...] = ()
    """CIDRs, addresses, ``*`` or service tags (destination only, §7.1 [TAGS])."""
    destination_ports: tuple[str, ...] = ()
    translated_address: str | None = None
    translated_port: str | None = None
    protocols: tuple[str, ...] = ()
    target_fqdns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FirewallRuleCollection:
    """A rule collection: one type of rules, one action, a priority (100-65000)."""

    name: str
    priority: int
    action: FirewallAction
    rules: tuple[FirewallRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FirewallRuleCollectionGroup:
    """A rule collection group of the firewall's policy (§7.1: groups by priority, then
    collections by priority, in three passes DNAT, Network, Application)."""

    name: str
    priority: int
    rule_collections: tuple[FirewallRuleCollection, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureFirewall:
    """Role ``azure_firewall``: Azure Firewall in ``vnet``'s AzureFirewallSubnet (§7).

    Default deny, first match wins, stateful; FQDN filtering, TLS inspection, IDPS and
    threat intelligence are out of scope (§7.3).
    """

    name: str
    vnet: str
    private_ip_address: str
    rule_collection_groups: tuple[FirewallRuleCollectionGroup, ...] = ()
