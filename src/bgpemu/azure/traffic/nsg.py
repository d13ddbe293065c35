"""Network security groups: default rules, evaluation, effective rules, IP flow verify.

Section numbers (§) refer to ``shared/azure-traffic.md``.

Theory of operation.  A :class:`SecurityIndex` is built once per network: the NSGs by
name, the addresses of every application security group's members (interfaces and NVAs,
§1.1 [ASG]) and where each interface sits.  An NSG is compiled per service tags (the
``VirtualNetwork`` and ``Internet`` tags are per subnet, :mod:`.tags`) into two ordered
lists of matchers, one per direction, user rules by ascending priority then the six
default rules (§1.2); each matcher holds integer address and port sets
(:mod:`.flow`), so a flow is matched with binary searches only.  Compiled NSGs are kept in
the index per (NSG, tags).

Evaluation (§2.1 [NSG-HOW][NSG-DIAG]): inbound to an interface, its subnet's NSG then its
own; outbound, its own then its subnet's.  Inside one NSG the first matching rule of the
direction decides (§1.1).  A Deny ends the evaluation (the second NSG is not evaluated);
both NSGs present must allow; a missing NSG allows everything (§2.1 step 5).

Decisions (docs/azure-behaviours.md, "Traffic"):

* a rule matches a flow of a protocol without ports (Icmp, Esp, Ah) only if both its
  port sides are every port (``*`` or 0-65535) [INF];
* when every NSG allows, the deciding rule is the last one evaluated (outbound: the
  subnet's; inbound: the interface's), as the S1 example names it (§8 S1); with no NSG at
  all the decision is Allow with no rule (``ruleName`` null);
* ``ip_flow_verify`` accepts every protocol a flow has, ICMP included (decision §9.13:
  the more useful choice; the real tool takes TCP and UDP only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from bgpemu.azure.model import Network, Nva, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.security import (
    Access,
    Direction,
    NetworkInterface,
    NetworkSecurityGroup,
    Protocol,
    SecurityRule,
    service_tag,
)
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.traffic.flow import EVERY_PORT, AddressSet, Flow, PortSet, address_value
from bgpemu.azure.traffic.tags import ServiceTags, service_tags
from bgpemu.azure.views._lookup import resource_id
from bgpemu.azure.views.effective import effective_routes
from bgpemu.types import prefix_key

__all__ = [
    "DEFAULT_RULES",
    "NETWORK_INTERFACE",
    "SUBNET",
    "Interface",
    "NsgDecision",
    "SecurityIndex",
    "effective_security_rules",
    "evaluate_nsgs",
    "ip_flow_verify",
    "rule_name",
    "subnet_security_rules",
]

SUBNET = "subnet"
NETWORK_INTERFACE = "networkInterface"
"""The two associations of an NSG (§1.4), as the effective-rules answer names them (§4.1)."""

Interface: TypeAlias = NetworkInterface | Nva
"""What NSGs are evaluated for: a virtual machine's interface or an NVA's (§5.3)."""


def _default(
    name: str,
    priority: int,
    direction: Direction,
    access: Access,
    source: str,
    destination: str,
) -> SecurityRule:
    return SecurityRule(
        name=name,
        priority=priority,
        direction=direction,
        access=access,
        source_address_prefixes=(source,),
        destination_address_prefixes=(destination,),
        default=True,
    )


_IN, _OUT = Direction.INBOUND, Direction.OUTBOUND
_ALLOW, _DENY = Access.ALLOW, Access.DENY
DEFAULT_RULES = (
    _default("AllowVnetInBound", 65000, _IN, _ALLOW, "VirtualNetwork", "VirtualNetwork"),
    _default("AllowAzureLoadBalancerInBound", 65001, _IN, _ALLOW, "AzureLoadBalancer", "*"),
    _default("DenyAllInBound", 65500, _IN, _DENY, "*", "*"),
    _default("AllowVnetOutBound", 65000, _OUT, _ALLOW, "VirtualNetwork", "VirtualNetwork"),
    _default("AllowInternetOutBound", 65001, _OUT, _ALLOW, "*", "Internet"),
    _default("DenyAllOutBound", 65500, _OUT, _DENY, "*", "*"),
)
"""The six default rules of every NSG (§1.2 [NSG-OV]), named with the CLI spelling the
reference fixes (§1.2 "Emulator names")."""


def rule_name(rule: SecurityRule) -> str:
    """``defaultSecurityRules/<name>`` or ``securityRules/<name>`` (§1.2 [NSG-DIAG])."""
    return f"{'defaultSecurityRules' if rule.default else 'securityRules'}/{rule.name}"


@dataclass(frozen=True, slots=True)
class NsgDecision:
    """What the NSGs decide for a flow at one interface in one direction (§2.1).

    ``rule_name`` (:func:`rule_name`), ``nsg_name`` and ``association`` (:data:`SUBNET` or
    :data:`NETWORK_INTERFACE`) name the deciding rule; all None when no NSG applies.
    ``stages``: the decision of each NSG evaluated, in evaluation order (the overall
    decision only; a stage has none).
    """

    access: Access
    rule_name: str | None = None
    nsg_name: str | None = None
    association: str | None = None
    stages: tuple[NsgDecision, ...] = ()

    @property
    def allowed(self) -> bool:
        """Did the NSGs allow the flow?"""
        return self.access is Access.ALLOW


_PORTLESS = frozenset({"Icmp", "Esp", "Ah"})


@dataclass(frozen=True, slots=True)
class _Matcher:
    """One rule compiled for one set of service tags (§1.1: protocol, both address sides
    and both port sides must match; a side's list matches if any element does)."""

    rule: SecurityRule
    protocol: str | None
    sources: AddressSet
    source_ports: PortSet
    destinations: AddressSet
    destination_ports: PortSet
    every_port: bool

    def matches(self, flow: Flow) -> bool:
        if self.protocol is not None and flow.protocol != self.protocol:
            return False
        if flow.source_key not in self.sources or flow.destination_key not in self.destinations:
            return False
        if flow.protocol in _PORTLESS:
            return self.every_port
        return (
            flow.source_port in self.source_ports
            and flow.destination_port in self.destination_ports
        )


@dataclass(frozen=True, slots=True)
class _CompiledNsg:
    name: str
    inbound: tuple[_Matcher, ...]
    outbound: tuple[_Matcher, ...]

    def first_match(self, flow: Flow, direction: Direction) -> SecurityRule | None:
        for matcher in self.inbound if direction is Direction.INBOUND else self.outbound:
            if matcher.matches(flow):
                return matcher.rule
        return None


def _user_rules(nsg: NetworkSecurityGroup, direction: Direction) -> list[SecurityRule]:
    """The user rules of one direction by ascending priority (§1.1; priorities are unique
    per direction, checked on load)."""
    return sorted(
        (rule for rule in nsg.security_rules if rule.direction is direction),
        key=lambda rule: rule.priority,
    )


def _ordered(nsg: NetworkSecurityGroup, direction: Direction) -> list[SecurityRule]:
    """The rules of one direction in evaluation order: user rules, then the default rules
    (§1.2: they sit at 65000-65500, after every user rule)."""
    defaults = [rule for rule in DEFAULT_RULES if rule.direction is direction]
    return [*_user_rules(nsg, direction), *defaults]


class SecurityIndex:
    """The network's NSGs, application security groups and interfaces, read once, with
    NSGs compiled per service tags on first use.  KeyError naming what is missing."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._nsgs = {nsg.name: nsg for nsg in network.network_security_groups}
        self._subnet_nsgs: dict[tuple[str, str], str | None] = {}
        self._subnets: list[tuple[tuple[int, int, int], str, str]] = []
        self._interfaces: dict[str, Interface] = {}
        members: dict[str, list[str]] = {name: [] for name in network.application_security_groups}
        for vnet in network.of_type(VNet):
            for subnet in vnet.subnets:
                self._subnet_nsgs[(vnet.name, subnet.name)] = subnet.network_security_group
                self._subnets.append((prefix_key(subnet.address_prefix), vnet.name, subnet.name))
                for nic in subnet.network_interfaces:
                    self._interfaces.setdefault(nic.name, nic)
        for nva in network.of_type(Nva):
            self._interfaces.setdefault(nva.name, nva)
        for interface in self._interfaces.values():
            for group in interface.application_security_groups:
                members.setdefault(group, []).append(_address(interface))
        self._members = {name: AddressSet.of(addresses) for name, addresses in members.items()}
        self._compiled: dict[tuple[str, int], tuple[ServiceTags, _CompiledNsg]] = {}
        self._positions: dict[str, tuple[str, str]] = {}

    def interface(self, name: str) -> Interface:
        """The interface (or NVA) named ``name``."""
        try:
            return self._interfaces[name]
        except KeyError:
            raise KeyError(
                f"no network interface or NVA named {name!r} in network {self.network.name!r}"
            ) from None

    def nsg(self, name: str) -> NetworkSecurityGroup:
        """The NSG named ``name``."""
        try:
            return self._nsgs[name]
        except KeyError:
            raise KeyError(
                f"no network security group named {name!r} in network {self.network.name!r}"
            ) from None

    def members(self, group: str) -> AddressSet:
        """The addresses of application security group ``group``'s members."""
        try:
            return self._members[group]
        except KeyError:
            raise KeyError(
                f"no application security group named {group!r} in network {self.network.name!r}"
            ) from None

    def position(self, interface: Interface) -> tuple[str, str]:
        """``(vnet, subnet)`` of ``interface`` (an NVA without a declared subnet: the
        longest subnet of its VNet holding its address); KeyError when none does."""
        declared = interface.subnet
        if declared is not None:
            return interface.vnet, declared
        found = self._positions.get(interface.name)
        if found is None:
            found = self._positions[interface.name] = self._find_subnet(interface)
        return found

    def _find_subnet(self, interface: Interface) -> tuple[str, str]:
        key = prefix_key(_address(interface))
        best: tuple[int, str] | None = None
        for (version, network, length), vnet, subnet in self._subnets:
            bits = 32 if version == 4 else 128
            if (
                vnet == interface.vnet
                and version == key[0]
                and key[1] >> (bits - length) == network >> (bits - length)
                and (best is None or length > best[0])
            ):
                best = (length, subnet)
        if best is None:
            raise KeyError(
                f"{interface.name!r} ({_address(interface)}) is in no subnet of VNet "
                f"{interface.vnet!r}"
            )
        return interface.vnet, best[1]

    def subnet_nsg(self, vnet: str, subnet: str) -> str | None:
        """The NSG associated with ``subnet`` of ``vnet`` (None: none); KeyError naming
        them when the subnet does not exist."""
        try:
            return self._subnet_nsgs[(vnet, subnet)]
        except KeyError:
            raise KeyError(
                f"no subnet {subnet!r} in VNet {vnet!r} of network {self.network.name!r}"
            ) from None

    def associations(self, interface: Interface) -> list[tuple[str, str]]:
        """``(association, NSG name)`` of ``interface``: its subnet's NSG, then its own
        (§1.4), each only when associated."""
        found: list[tuple[str, str]] = []
        subnet_nsg = self._subnet_nsgs.get(self.position(interface))
        if subnet_nsg is not None:
            found.append((SUBNET, subnet_nsg))
        if interface.network_security_group is not None:
            found.append((NETWORK_INTERFACE, interface.network_security_group))
        return found

    def compiled(self, name: str, tags: ServiceTags) -> _CompiledNsg:
        """NSG ``name`` compiled for ``tags``, kept per tags object (the entry holds the
        object, so its id is not reused while kept; hashing a large expansion on every
        hop of a trace would cost more than the match)."""
        key = (name, id(tags))
        entry = self._compiled.get(key)
        if entry is None or entry[0] is not tags:
            nsg = self.nsg(name)
            compiled = _CompiledNsg(
                name,
                tuple(self._matcher(name, r, tags) for r in _ordered(nsg, Direction.INBOUND)),
                tuple(self._matcher(name, r, tags) for r in _ordered(nsg, Direction.OUTBOUND)),
            )
            entry = (tags, compiled)
            self._compiled[key] = entry
        return entry[1]

    def _matcher(self, nsg: str, rule: SecurityRule, tags: ServiceTags) -> _Matcher:
        """``rule`` compiled; ValueError naming the NSG, the rule and the field at fault
        (the topology loader refuses such rules first; values built in code are not)."""
        where = f"NSG {nsg!r}, rule {rule.name!r}"
        sides = {}
        for side in ("source", "destination"):
            prefixes = getattr(rule, f"{side}_address_prefixes")
            groups = getattr(rule, f"{side}_application_security_groups")
            ports = getattr(rule, f"{side}_port_ranges")
            try:
                addresses = self._side(prefixes, groups, tags)
            except (KeyError, ValueError) as error:
                message = error.args[0] if error.args else error
                raise ValueError(f"{where}, {side} addresses: {message}") from None
            try:
                port_set = PortSet.of(ports)
            except ValueError as error:
                raise ValueError(f"{where}, {side}_port_ranges: {error}") from None
            sides[side] = (addresses, port_set)
        (sources, source_ports), (destinations, destination_ports) = sides.values()
        return _Matcher(
            rule=rule,
            protocol=None if rule.protocol is Protocol.ANY else str(rule.protocol),
            sources=sources,
            source_ports=source_ports,
            destinations=destinations,
            destination_ports=destination_ports,
            every_port=source_ports == EVERY_PORT and destination_ports == EVERY_PORT,
        )

    def _side(
        self, prefixes: Iterable[str], groups: Iterable[str], tags: ServiceTags
    ) -> AddressSet:
        """One address side: CIDRs, ``*``, a service tag, and ASG members, as one set."""
        plain = [p for p in prefixes if service_tag(p) is None]
        found = AddressSet.of(plain)
        for prefix in prefixes:
            if service_tag(prefix) is not None:
                found = found.union(tags.of(prefix))
        for group in groups:
            found = found.union(self.members(group))
        return found


def _address(interface: Interface) -> str:
    return (
        interface.private_ip_address
        if isinstance(interface, NetworkInterface)
        else interface.address
    )


def evaluate_nsgs(
    index: SecurityIndex,
    interface: Interface,
    flow: Flow,
    direction: Direction,
    tags: ServiceTags,
) -> NsgDecision:
    """The NSGs' decision for ``flow`` leaving (Outbound) or reaching (Inbound)
    ``interface``, whose subnet's service tags are ``tags`` (§2.1 [NSG-HOW][NSG-DIAG]).

    Inbound: subnet NSG then interface NSG; outbound: interface NSG then subnet NSG; the
    first Deny ends it; both must allow; no NSG allows."""
    associations = index.associations(interface)
    if direction is Direction.OUTBOUND:
        associations.reverse()
    stages: list[NsgDecision] = []
    for association, name in associations:
        rule = index.compiled(name, tags).first_match(flow, direction)
        # The default DenyAll rules match every flow, so a rule is always found.
        assert rule is not None
        stage = NsgDecision(rule.access, rule_name(rule), name, association)
        stages.append(stage)
        if not stage.allowed:
            break
    if not stages:
        return NsgDecision(Access.ALLOW)
    last = stages[-1]
    return NsgDecision(last.access, last.rule_name, last.nsg_name, last.association, tuple(stages))


def _tags_of(
    index: SecurityIndex,
    interface: Interface,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
) -> ServiceTags:
    vnet, subnet = index.position(interface)
    return service_tags(effective_routes(index.network, plan, snapshots, vnet, subnet))


def ip_flow_verify(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    interface: str,
    flow: Flow,
    direction: Direction,
    *,
    index: SecurityIndex | None = None,
) -> dict[str, Any]:
    """``az network watcher test-ip-flow`` (§4.2 [NW-IPFV-REST][NW-IPFV-CLI]):
    ``{"access", "ruleName"}`` for ``flow`` at ``interface`` in ``direction``.

    The local side is the interface: the flow's source outbound, its destination inbound;
    ValueError naming both addresses otherwise.  Routes are not looked at (§4.2), only the
    tags they make.  Every flow protocol is accepted, ICMP included (decision §9.13)."""
    index = SecurityIndex(network) if index is None else index
    nic = index.interface(interface)
    local = flow.source if direction is Direction.OUTBOUND else flow.destination
    if address_value(local) != address_value(_address(nic)):
        side = "source" if direction is Direction.OUTBOUND else "destination"
        raise ValueError(
            f"the local address of an {direction} flow is its {side}, {local}, but "
            f"{interface!r} has {_address(nic)}"
        )
    decision = evaluate_nsgs(index, nic, flow, direction, _tags_of(index, nic, plan, snapshots))
    return {"access": str(decision.access), "ruleName": decision.rule_name}


def effective_security_rules(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    interface: str,
    *,
    index: SecurityIndex | None = None,
) -> dict[str, Any]:
    """``az network nic list-effective-nsg`` (§4.1 [API-EFFNSG][NSG-DIAG]): one entry per
    NSG associated with ``interface``'s subnet (first) and with the interface, each with
    every rule in evaluation order per direction (user rules by priority, then the default
    rules), tags expanded for the interface's subnet (§3.5).

    ValueError when the interface's VM is not running: Azure lists the effective rules of
    running VMs only (§3.5)."""
    index = SecurityIndex(network) if index is None else index
    nic = index.interface(interface)
    if isinstance(nic, NetworkInterface) and not nic.running:
        raise ValueError(
            f"{interface!r} is not running: effective security rules exist for running VMs only"
        )
    vnet, subnet = index.position(nic)
    tags = _tags_of(index, nic, plan, snapshots)
    return {
        "value": [
            _entry(
                index,
                name,
                resource_id(network, "virtualNetworks", vnet, "subnets", subnet)
                if association == SUBNET
                else resource_id(network, "networkInterfaces", nic.name),
                association,
                tags,
            )
            for association, name in index.associations(nic)
        ]
    }


def subnet_security_rules(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    vnet: str,
    subnet: str,
    *,
    index: SecurityIndex | None = None,
) -> dict[str, Any]:
    """The effective security rules of a subnet: the entry of its NSG as
    :func:`effective_security_rules` prints it (§4.1 shape, association ``subnet``), tags
    expanded for the subnet; ``{"value": []}`` without an NSG.  Azure answers per NIC only;
    this is the subnet's share of every NIC's answer (issue 14: "of an interface or
    subnet").  KeyError naming the VNet or subnet when it does not exist."""
    index = SecurityIndex(network) if index is None else index
    tags = service_tags(effective_routes(network, plan, snapshots, vnet, subnet))
    name = index.subnet_nsg(vnet, subnet)
    if name is None:
        return {"value": []}
    target = resource_id(network, "virtualNetworks", vnet, "subnets", subnet)
    return {"value": [_entry(index, name, target, SUBNET, tags)]}


def _entry(
    index: SecurityIndex, name: str, target: str, association: str, tags: ServiceTags
) -> dict[str, Any]:
    """One NSG's entry of the effective-rules answer (§4.1): user rules inbound then
    outbound by priority, then the six default rules."""
    nsg = index.nsg(name)
    index.compiled(name, tags)  # refuses a bad rule, naming it, before printing
    rules = [
        *_user_rules(nsg, Direction.INBOUND),
        *_user_rules(nsg, Direction.OUTBOUND),
        *DEFAULT_RULES,
    ]
    return {
        "networkSecurityGroup": {"id": resource_id(index.network, "networkSecurityGroups", name)},
        "association": {association: {"id": target}},
        "effectiveSecurityRules": [_effective_rule(index, rule, tags) for rule in rules],
    }


def _effective_rule(index: SecurityIndex, rule: SecurityRule, tags: ServiceTags) -> dict[str, Any]:
    """One rule as the effective-rules answer prints it (§4.1): Any is ``All``, ``*`` is
    ``0.0.0.0/0``, ports are ranges, tags and ASGs expanded, plain prefixes not."""
    source = _printed_side(
        index, rule.source_address_prefixes, rule.source_application_security_groups, tags
    )
    destination = _printed_side(
        index, rule.destination_address_prefixes, rule.destination_application_security_groups, tags
    )
    source_ports = PortSet.of(rule.source_port_ranges).ranges()
    destination_ports = PortSet.of(rule.destination_port_ranges).ranges()
    printed: dict[str, Any] = {
        "name": rule_name(rule),
        "protocol": "All" if rule.protocol is Protocol.ANY else str(rule.protocol),
        "access": str(rule.access),
        "priority": rule.priority,
        "direction": str(rule.direction),
        "sourceAddressPrefix": _one(source[0]),
        "sourceAddressPrefixes": source[0],
        "destinationAddressPrefix": _one(destination[0]),
        "destinationAddressPrefixes": destination[0],
        "sourcePortRange": _one(source_ports),
        "sourcePortRanges": source_ports,
        "destinationPortRange": _one(destination_ports),
        "destinationPortRanges": destination_ports,
        "expandedSourceAddressPrefix": source[1],
        "expandedDestinationAddressPrefix": destination[1],
    }
    for key, groups in (
        ("sourceApplicationSecurityGroups", rule.source_application_security_groups),
        ("destinationApplicationSecurityGroups", rule.destination_application_security_groups),
    ):
        if groups:
            printed[key] = [
                {"id": resource_id(index.network, "applicationSecurityGroups", group)}
                for group in groups
            ]
    return printed


def _printed_side(
    index: SecurityIndex, prefixes: tuple[str, ...], groups: tuple[str, ...], tags: ServiceTags
) -> tuple[list[str], list[str] | None]:
    """The printed prefixes of one side and their expansion (None for plain prefixes)."""
    printed = ["0.0.0.0/0" if p == "*" else p for p in prefixes]
    expanded: list[str] | None = None
    for prefix in prefixes:
        if service_tag(prefix) is not None:
            expanded = [*(expanded or []), *tags.expansion(prefix)]
    for group in groups:
        expanded = [*(expanded or []), *index.members(group).prefixes()]
    return printed, expanded


def _one(values: list[str]) -> str | None:
    return values[0] if len(values) == 1 else None
