"""NSGs, application security groups and interfaces: rules, references, addresses.

Rules (shared/azure-traffic.md): a rule gives each address side and each port side in
one form, and augmented rules hold several CIDRs but never several service tags or a
tag mixed with CIDRs (§1.1 [NSG-OV]); two rules of one NSG and direction never share a
priority, rule names are unique in their NSG (§1.1); no NSG on GatewaySubnet,
RouteServerSubnet or AzureFirewallSubnet (§1.4 [GW-SETTINGS][ARS-FAQ][FW-FAQ]); the
members of an ASG are in one VNet (§1.1 [ASG]); the limits of §1.6 [LIMITS].  An
interface's address lies in its subnet and is used once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic.alias_generators import to_snake

from bgpemu.azure.learn import see
from bgpemu.topology._yaml import Path
from bgpemu.topology.checks._index import Index, Issue, network
from bgpemu.topology.firewall import AzureFirewallModel
from bgpemu.topology.nodes import NvaModel, VNetModel
from bgpemu.topology.security import NetworkSecurityGroupModel, SecurityRuleModel, is_tag

__all__ = ["NO_NSG_SUBNETS", "RESERVED_SUBNETS", "check_security", "firewall_address"]

RESERVED_SUBNETS = {
    "GatewaySubnet": "GatewaySubnet holds the VPN and ExpressRoute gateways only",
    "RouteServerSubnet": "RouteServerSubnet holds the Route Server only",
    "AzureFirewallSubnet": "AzureFirewallSubnet holds the Azure Firewall only",
}
"""Subnets no virtual machine interface or NVA goes in (decision: Azure dedicates them to
its service, §1.4 [GW-SETTINGS][ARS-FAQ][FW-FAQ]; a trace would otherwise meet a VM
where the service is)."""

NO_NSG_SUBNETS = {
    "GatewaySubnet": "NSGs are not supported on GatewaySubnet: one may stop the gateway "
    f"working ({see('GW-SETTINGS')})",
    "RouteServerSubnet": f"RouteServerSubnet takes no NSG and no UDR ({see('ARS-FAQ')})",
    "AzureFirewallSubnet": "the platform disables NSGs on AzureFirewallSubnet: the "
    f"firewall's own rules filter there ({see('FW-FAQ')})",
}
"""Subnets where Azure refuses (or disables) an NSG, with the reason (§1.4)."""

MAX_RULES = 1000
MAX_PREFIXES = 4000
MAX_RULE_ASGS = 10
MAX_NIC_ASGS = 20
MAX_NSG_ASGS = 100
"""The limits of §1.6 [LIMITS]: rules per NSG, addresses on one side of a rule, ASGs
on one side of a rule, ASGs of one interface, ASGs across the rules of one NSG."""

_SHOWN = 10


def check_security(index: Index) -> Iterator[Issue]:
    """Every NSG, ASG and interface rule, in file order per rule."""
    for name, nsg in index.nsgs.items():
        yield from _nsg(index, name, nsg)
    members = _Members()
    addresses = _Addresses()
    nic_names: dict[str, str] = {}
    for name, vnet in index.of(VNetModel):
        yield from _subnets(index, name, vnet, members, addresses, nic_names)
    for name, nva in index.of(NvaModel):
        yield from _nva(index, name, nva, members, addresses)
    for name, firewall in index.of(AzureFirewallModel):
        address = firewall_address(index, firewall)
        if address is not None:
            given = firewall.private_ip_address is not None
            yield from addresses.use(
                address,
                ("nodes", name, "privateIpAddress" if given else "vnet"),
                f"firewall {name}",
                "" if given else "the default privateIpAddress (AzureFirewallSubnet + 4) ",
            )
    yield from members.issues
    for name, nsg in index.nsgs.items():
        yield from _asg_sides(name, nsg, members)


def _asg_sides(name: str, nsg: NetworkSecurityGroupModel, members: _Members) -> Iterator[Issue]:
    """A rule with ASGs on both sides names ASGs of one VNet (§1.1 [ASG])."""
    for i, rule in enumerate(nsg.security_rules):
        sources = rule.source_application_security_groups or []
        destinations = rule.destination_application_security_groups or []
        if not (sources and destinations):
            continue
        vnets = sorted(
            {members.first[a][0] for a in (*sources, *destinations) if a in members.first}
        )
        if len(vnets) > 1:
            yield Issue(
                (
                    "networkSecurityGroups",
                    name,
                    "securityRules",
                    i,
                    "destinationApplicationSecurityGroups",
                ),
                f"rule {rule.name!r} names application security groups of {' and '.join(vnets)} "
                "on its two sides",
                "with ASGs as source and destination, both groups' interfaces are in one VNet "
                f"({see('ASG')})",
            )


def firewall_address(index: Index, firewall: AzureFirewallModel) -> str | None:
    """The firewall's private IP: given, or AzureFirewallSubnet network + 4 (None when
    the VNet or the subnet is missing)."""
    if firewall.private_ip_address is not None:
        return firewall.private_ip_address
    subnet = index.subnet(firewall.vnet, "AzureFirewallSubnet")
    if subnet is None:
        return None
    return str(subnet.network_address + 4)


def _choices(names: frozenset[str] | list[str], what: str, key: str) -> str:
    known = sorted(names)
    if not known:
        return f"define it in {key}"
    more = f", ... ({len(known)} in all)" if len(known) > _SHOWN else ""
    return f"{what}: {', '.join(known[:_SHOWN])}{more}"


def nsg_reference(index: Index, path: Path, name: str | None) -> Iterator[Issue]:
    """An issue if ``name`` is not a key of ``networkSecurityGroups``."""
    if name is not None and name not in index.nsg_names:
        hint = _choices(index.nsg_names, "NSGs", "networkSecurityGroups")
        yield Issue(path, f"no network security group {name!r}", hint)


def asg_references(index: Index, path: Path, names: list[str]) -> Iterator[Issue]:
    """An issue per name that ``applicationSecurityGroups`` does not list."""
    if index.asgs is None:
        return
    for i, name in enumerate(names):
        if name not in index.asgs:
            hint = _choices(index.asgs, "application security groups", "applicationSecurityGroups")
            yield Issue((*path, i), f"no application security group {name!r}", hint)


# --------------------------------------------------------------------------- rules


def _nsg(index: Index, name: str, nsg: NetworkSecurityGroupModel) -> Iterator[Issue]:
    base: Path = ("networkSecurityGroups", name, "securityRules")
    if len(nsg.security_rules) > MAX_RULES:
        yield Issue(
            base,
            f"{len(nsg.security_rules)} rules, more than Azure's {MAX_RULES} per NSG",
            f"split the rules over several NSGs, or use augmented rules ({see('LIMITS')})",
        )
    names: dict[str, int] = {}
    priorities: dict[tuple[str, int], int] = {}
    asgs: set[str] = set()
    for i, rule in enumerate(nsg.security_rules):
        path = (*base, i)
        if rule.name in names:
            yield Issue(
                (*path, "name"),
                f"rule {rule.name!r} is already defined at securityRules[{names[rule.name]}]",
                f"rule names are unique in an NSG ({see('NSG-OV')})",
            )
        names.setdefault(rule.name, i)
        key = (rule.direction.value, rule.priority)
        if key in priorities:
            other = nsg.security_rules[priorities[key]].name
            yield Issue(
                (*path, "priority"),
                f"priority {rule.priority} of {rule.direction.value} rule {rule.name!r} is "
                f"already used by {other!r} (securityRules[{priorities[key]}])",
                f"two rules of one NSG and direction cannot share a priority ({see('NSG-OV')})",
            )
        priorities.setdefault(key, i)
        for side in ("source", "destination"):
            yield from _addresses(index, path, rule, side)
            yield from _ports(path, rule, side)
            asgs.update(getattr(rule, f"{side}_application_security_groups") or ())
    if len(asgs) > MAX_NSG_ASGS:
        yield Issue(
            base,
            f"the rules name {len(asgs)} application security groups, more than Azure's "
            f"{MAX_NSG_ASGS} per NSG",
            f"split the rules over several NSGs ({see('LIMITS')})",
        )


def _one_form(path: Path, rule: SecurityRuleModel, fields: tuple[str, ...]) -> Iterator[Issue]:
    """A side given in exactly one of ``fields`` (ARM's singular or plural form, §1.1)."""
    given = [f for f in fields if getattr(rule, to_snake(f)) is not None]
    if not given:
        yield Issue(
            (*path, fields[0]),
            f"rule {rule.name!r} gives no {' or '.join(fields)}",
            f"give one of them ('*' for any) ({see('NSG-OV')})",
        )
    for extra in given[1:]:
        yield Issue(
            (*path, extra),
            f"rule {rule.name!r} gives both {given[0]} and {extra}",
            "a rule gives each side in one form: one value, a list, or application "
            f"security groups ({see('NSG-OV')})",
        )
    for f in given:
        if getattr(rule, to_snake(f)) == []:
            yield Issue((*path, f), f"{f} is empty", "list at least one value, or use '*'")


def _addresses(index: Index, path: Path, rule: SecurityRuleModel, side: str) -> Iterator[Issue]:
    forms = (f"{side}AddressPrefix", f"{side}AddressPrefixes", f"{side}ApplicationSecurityGroups")
    yield from _one_form(path, rule, forms)
    prefixes: list[str] = getattr(rule, f"{side}_address_prefixes") or []
    tags = [p for p in prefixes if is_tag(p)]
    if tags and len(prefixes) > 1:
        yield Issue(
            (*path, forms[1], prefixes.index(tags[0])),
            f"{tags[0]!r} in a list of {len(prefixes)} values",
            "an augmented rule lists CIDRs and addresses; a service tag or '*' stands "
            f"alone in {forms[0]} (never several tags, or a tag with CIDRs) ({see('NSG-OV')})",
        )
    if len(prefixes) > MAX_PREFIXES:
        yield Issue(
            (*path, forms[1]),
            f"{len(prefixes)} addresses, more than Azure's {MAX_PREFIXES} on one side of a rule",
            f"split the rule ({see('LIMITS')})",
        )
    asgs: list[str] = getattr(rule, f"{side}_application_security_groups") or []
    yield from asg_references(index, (*path, forms[2]), asgs)
    if len(asgs) > MAX_RULE_ASGS:
        yield Issue(
            (*path, forms[2]),
            f"{len(asgs)} application security groups, more than Azure's {MAX_RULE_ASGS} "
            "on one side of a rule",
            f"split the rule ({see('LIMITS')})",
        )


def _ports(path: Path, rule: SecurityRuleModel, side: str) -> Iterator[Issue]:
    yield from _one_form(path, rule, (f"{side}PortRange", f"{side}PortRanges"))


# --------------------------------------------------------------------------- interfaces


@dataclass
class _Members:
    """The VNet of each ASG's first member, to report members in another VNet (§1.1)."""

    first: dict[str, tuple[str, str]] = field(default_factory=dict)
    """ASG -> (VNet, member) of its first member."""
    issues: list[Issue] = field(default_factory=list)

    def join(self, vnet: str, member: str, path: Path, asgs: list[str]) -> None:
        for i, asg in enumerate(asgs):
            seen = self.first.setdefault(asg, (vnet, member))
            if seen[0] != vnet:
                self.issues.append(
                    Issue(
                        (*path, i),
                        f"{member} in {vnet} joins {asg!r}, whose member {seen[1]} is in {seen[0]}",
                        "all interfaces of an application security group are in one VNet "
                        f"({see('ASG')})",
                    )
                )


@dataclass
class _Addresses:
    """Private IPs used so far (interfaces, NVAs, firewalls), to report one used twice."""

    owners: dict[str, str] = field(default_factory=dict)

    def use(self, address: str, path: Path, owner: str, what: str = "") -> Iterator[Issue]:
        if address in self.owners:
            yield Issue(
                path,
                f"{what}{address} is already the address of {self.owners[address]}",
                "each interface, NVA and firewall has its own private IP",
            )
        else:
            self.owners[address] = owner


def _inside(address: str, prefix: str) -> bool:
    return ipaddress.ip_address(address) in network(prefix)


def _subnets(
    index: Index,
    name: str,
    vnet: VNetModel,
    members: _Members,
    addresses: _Addresses,
    nic_names: dict[str, str],
) -> Iterator[Issue]:
    for s, subnet in enumerate(vnet.subnets):
        base: Path = ("nodes", name, "subnets", s)
        if subnet.network_security_group is not None:
            path = (*base, "networkSecurityGroup")
            yield from nsg_reference(index, path, subnet.network_security_group)
            if subnet.name in NO_NSG_SUBNETS:
                yield Issue(
                    path,
                    f"{subnet.name} of {name} has NSG {subnet.network_security_group!r}",
                    f"remove it: {NO_NSG_SUBNETS[subnet.name]}",
                )
        for k, nic in enumerate(subnet.network_interfaces):
            path = (*base, "networkInterfaces", k)
            if subnet.name in RESERVED_SUBNETS:
                yield Issue(
                    path,
                    f"interface {nic.name!r} in {subnet.name} of {name}",
                    f"put it in a subnet of its own: {RESERVED_SUBNETS[subnet.name]}",
                )
            if nic.name in nic_names:
                yield Issue(
                    (*path, "name"),
                    f"interface {nic.name!r} is already defined at {nic_names[nic.name]}",
                    "interface names are unique in a topology",
                )
            nic_names.setdefault(nic.name, f"nodes.{name}.subnets[{s}].networkInterfaces[{k}]")
            if not _inside(nic.private_ip_address, subnet.address_prefix):
                yield Issue(
                    (*path, "privateIpAddress"),
                    f"{nic.private_ip_address} is not in subnet {subnet.name} "
                    f"({subnet.address_prefix})",
                    "an interface's address comes from its subnet",
                )
            yield from addresses.use(
                nic.private_ip_address, (*path, "privateIpAddress"), f"interface {nic.name}"
            )
            yield from nsg_reference(
                index, (*path, "networkSecurityGroup"), nic.network_security_group
            )
            asgs_path = (*path, "applicationSecurityGroups")
            yield from asg_references(index, asgs_path, nic.application_security_groups)
            yield from _nic_asg_limit(asgs_path, nic.application_security_groups)
            members.join(name, f"interface {nic.name}", asgs_path, nic.application_security_groups)


def _nic_asg_limit(path: Path, asgs: list[str]) -> Iterator[Issue]:
    if len(asgs) > MAX_NIC_ASGS:
        yield Issue(
            path,
            f"{len(asgs)} application security groups, more than Azure's {MAX_NIC_ASGS} "
            "per interface",
            f"{see('LIMITS')}",
        )


def _nva(
    index: Index, name: str, nva: NvaModel, members: _Members, addresses: _Addresses
) -> Iterator[Issue]:
    base: Path = ("nodes", name)
    vnet = index.vnet(nva.vnet)
    if nva.subnet is not None and vnet is not None:
        subnets = {s.name: s for s in vnet.subnets}
        subnet = subnets.get(nva.subnet)
        if subnet is None:
            yield Issue(
                (*base, "subnet"),
                f"{nva.vnet} has no subnet {nva.subnet!r}",
                _choices(list(subnets), f"subnets of {nva.vnet}", f"{nva.vnet}'s subnets"),
            )
        elif subnet.name in RESERVED_SUBNETS:
            yield Issue(
                (*base, "subnet"),
                f"NVA {name} in {subnet.name} of {nva.vnet}",
                f"put it in a subnet of its own: {RESERVED_SUBNETS[subnet.name]}",
            )
        elif not _inside(nva.address, subnet.address_prefix):
            yield Issue(
                (*base, "address"),
                f"{nva.address} is not in subnet {subnet.name} ({subnet.address_prefix})",
                "the NVA's interface takes its address from its subnet",
            )
    yield from addresses.use(nva.address, (*base, "address"), f"NVA {name}")
    yield from nsg_reference(index, (*base, "networkSecurityGroup"), nva.network_security_group)
    asgs_path = (*base, "applicationSecurityGroups")
    yield from asg_references(index, asgs_path, nva.application_security_groups)
    yield from _nic_asg_limit(asgs_path, nva.application_security_groups)
    members.join(nva.vnet, f"NVA {name}", asgs_path, nva.application_security_groups)
