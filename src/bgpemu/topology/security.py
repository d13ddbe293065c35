"""Pydantic models of what filters traffic: NSGs, their rules, and network interfaces.

Keys are the ARM property names (``securityRules``, ``sourceAddressPrefixes``,
``destinationApplicationSecurityGroups``, ``privateIpAddress``...); each model compiles
to the :mod:`bgpemu.azure.security` class it is named after.  Section numbers (§) refer
to ``shared/azure-traffic.md``.  The values of one field are checked here (a prefix, a
known service tag, a port range); the rules between fields (singular or plural form,
unique priorities, references) are :mod:`bgpemu.topology.checks.security`'s.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from bgpemu.azure.learn import see
from bgpemu.azure.security import SERVICE_TAGS, Access, Direction, Protocol
from bgpemu.azure.traffic.flow import PortSet
from bgpemu.topology._base import IpAddress, Model, Name, prefix_or_address

__all__ = [
    "ArmName",
    "NetworkInterfaceModel",
    "NetworkSecurityGroupModel",
    "NsgAddress",
    "PortRange",
    "SecurityRuleModel",
    "is_tag",
    "prefix_or_tag",
]

_TAGS = f"VirtualNetwork, Internet, AzureLoadBalancer and their classic spellings ({see('TAGS')})"
_ARM_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")


def _arm_name(value: str) -> str:
    """A resource or rule name (§1.1 [NSG-OV]): 1-80 characters, letters, digits, ``_``,
    ``.`` and ``-``, starting and ending with a letter, digit or ``_``."""
    if not _ARM_NAME.match(value):
        raise ValueError(
            f"name {value!r} is not 1-80 letters, digits, '_', '.' or '-' starting and "
            f"ending with a letter, digit or '_' ({see('NSG-OV')})"
        )
    return value


def _nsg_address(value: str) -> str:
    """``*``, a service tag (§3) or a CIDR / address (§1.1), normalised."""
    if value == "*" or value in SERVICE_TAGS:
        return value
    return prefix_or_tag(value)


def prefix_or_tag(value: str) -> str:
    """A CIDR or address, normalised; ValueError naming an unknown service tag (a value
    that starts with a letter, §3.4) or a bad prefix."""
    if value[:1].isalpha() and ":" not in value:
        close = difflib.get_close_matches(value, list(SERVICE_TAGS), n=1)
        known = f"did you mean {close[0]!r}?" if close else "bgpemu knows"
        raise ValueError(f"unknown service tag {value!r} ({known} {_TAGS})")
    return prefix_or_address(value)


_PORT_RANGE = re.compile(r"^(\*|[0-9]{1,5}(-[0-9]{1,5})?)$")


def _port_range(value: str) -> str:
    """``*``, one port or a range ``a-b`` with 0 <= a <= b <= 65535 (§1.1)."""
    if "," in value:
        raise ValueError(
            f"{value!r} is several port ranges: list them in the plural field ({see('NSG-OV')})"
        )
    if not _PORT_RANGE.match(value):
        raise ValueError(f"{value!r} is not a port, a port range a-b or '*'")
    PortSet.of((value,))  # the bounds
    return value


ArmName = Annotated[str, AfterValidator(_arm_name)]
"""An NSG, ASG, interface or rule name as Azure accepts it (§1.1)."""
NsgAddress = Annotated[str, AfterValidator(_nsg_address)]
PortRange = Annotated[str, AfterValidator(_port_range)]
UserPriority = Annotated[int, Field(ge=100, le=4096)]
"""A user rule's priority: 100-4096 (§1.1); the default rules sit above (§1.2)."""


class SecurityRuleModel(Model):
    """One rule of an NSG (§1.1, ARM ``securityRules``).

    Each side gives its addresses in exactly one form: ``sourceAddressPrefix`` (one
    value: ``*``, a tag, a CIDR or an address), ``sourceAddressPrefixes`` (an "augmented"
    rule: several CIDRs/addresses, no tag) or ``sourceApplicationSecurityGroups``; and
    its ports in one form: ``sourcePortRange`` or ``sourcePortRanges``.  Destination
    likewise.
    """

    name: ArmName
    priority: UserPriority
    direction: Direction
    access: Access
    protocol: Protocol
    """``Tcp``, ``Udp``, ``Icmp``, ``Esp``, ``Ah`` or ``*`` (any)."""
    source_address_prefix: NsgAddress | None = None
    source_address_prefixes: list[NsgAddress] | None = None
    source_application_security_groups: list[Name] | None = None
    source_port_range: PortRange | None = None
    source_port_ranges: list[PortRange] | None = None
    destination_address_prefix: NsgAddress | None = None
    destination_address_prefixes: list[NsgAddress] | None = None
    destination_application_security_groups: list[Name] | None = None
    destination_port_range: PortRange | None = None
    destination_port_ranges: list[PortRange] | None = None
    description: Annotated[str, Field(max_length=140)] | None = None


class NetworkSecurityGroupModel(Model):
    """A network security group (§1): its user rules.  The six default rules (§1.2) are
    always there and are not written."""

    security_rules: list[SecurityRuleModel] = []


class NetworkInterfaceModel(Model):
    """A virtual machine's network interface in a subnet (one IP configuration)."""

    name: ArmName
    private_ip_address: IpAddress
    """Inside the subnet, used by no other interface, NVA or firewall."""
    network_security_group: Name | None = None
    """The NIC's NSG (NSG-N, §1.4), a key of ``networkSecurityGroups``."""
    application_security_groups: list[Name] = []
    """Names listed in ``applicationSecurityGroups`` (§1.1 [ASG])."""
    enable_ip_forwarding: bool = False
    """Receive packets not addressed to it and send foreign sources (§5.3 [NIC-IPFWD])."""
    running: bool = True
    """``false``: the VM is stopped and receives nothing (§8 S9)."""


def is_tag(value: str) -> bool:
    """Whether an address value is ``*`` or a service tag (alone in its field, §1.1)."""
    return value == "*" or value in SERVICE_TAGS
