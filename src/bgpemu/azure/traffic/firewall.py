"""Azure Firewall as a hop: its decision for one flow at L3/L4 (§7; decisions §9.8, §9.9).

Section numbers (§) refer to ``shared/azure-traffic.md``; source keys in brackets.

Theory of operation.  A firewall's policy is compiled once (:meth:`FirewallPolicy.of`)
into three ordered rule lists, one per pass (§7.1 [FW-RULES]):

1. parent-policy groups before child-policy groups, whatever the priorities;
2. three passes over all groups, by type: DNAT, then Network, then Application;
3. inside a pass: groups by ascending priority, then collections by ascending priority
   (equal priorities keep the order written).

:meth:`FirewallPolicy.decide` walks them; the first rule that matches decides (rules are
terminating, default deny):

* a DNAT match allows the flow and translates its destination; following the 2026 text
  (decision §9.8) DNAT-matched traffic is not processed by network rules;
* a network match decides by its collection's action (Allow or Deny), even where an
  application rule would have decided otherwise (§8 S8);
* with no DNAT or network match, a TCP flow to a port an application rule names (HTTP 80,
  HTTPS 443, MSSQL 1433 unless the rule says otherwise) from a source it names is
  **undetermined**: the rule matches on FQDNs, which an L4 model cannot see (decision
  §9.9, §7.3);
* anything else is denied by default.

The firewall is stateful: the replies of an allowed flow pass whatever the rules say for
the reverse direction, and an allow A→B allows no new connection B→A (§7.1).  Out of
scope (§7.3): FQDN, URL and web-category filtering, TLS inspection, IDPS, threat
intelligence, DNS proxy, the infrastructure FQDN collection, and SNAT itself: network-rule
traffic to a private destination keeps its source (§7.2 [FW-SNAT]), traffic to a public
destination would be SNATed to a firewall public IP, which the decision only reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bgpemu.azure.learn import see
from bgpemu.azure.security import (
    AzureFirewall,
    FirewallAction,
    FirewallRule,
    FirewallRuleCollection,
    FirewallRuleCollectionGroup,
    FirewallRuleType,
    service_tag,
)
from bgpemu.azure.traffic.flow import FLOW_PROTOCOLS, AddressSet, Flow, PortSet

__all__ = [
    "APPLICATION_PORTS",
    "DEFAULT_DENY",
    "FirewallDecision",
    "FirewallPolicy",
    "FirewallVerdict",
    "OrderedCollection",
    "TagExpansion",
    "firewall_decision",
    "processing_order",
]

TagExpansion = Mapping[str, AddressSet] | Callable[[str], AddressSet]
"""What a service tag named as a destination stands for where the firewall sits (the
subnet's expansion, §3): a mapping or a function from the tag's current spelling."""

DEFAULT_DENY = "default deny"
"""The ``ruleName`` of a flow no rule matches (§7.1: nothing passes until a rule allows
it)."""

APPLICATION_PORTS = {"http": 80, "https": 443, "mssql": 1433}
"""The application-rule protocols and their default ports (§7.1: HTTP, HTTPS, MSSQL)."""

_PASSES = (FirewallRuleType.NAT, FirewallRuleType.NETWORK, FirewallRuleType.APPLICATION)
_IP_PROTOCOLS = {
    "tcp": frozenset({"Tcp"}),
    "udp": frozenset({"Udp"}),
    "icmp": frozenset({"Icmp"}),
    "any": frozenset(FLOW_PROTOCOLS),
}
"""A network rule's ``ipProtocols`` -> the flow protocols it matches; Any is every IP
protocol (the 2020-11-09 meaning, §7.1)."""
_PORTED = frozenset({"Tcp", "Udp"})
_PRIVATE = AddressSet.of(("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
"""Destinations network-rule traffic is not SNATed to: RFC 1918 and RFC 6598 (§7.2)."""
_IPV6 = AddressSet.of(("::/0",))
_MAX_PORT = 65535


class FirewallVerdict(StrEnum):
    """What the firewall does with a flow (§7.3): ``undetermined`` when only an
    application rule (FQDN) could decide (decision §9.9)."""

    ALLOW = "allow"
    DENY = "deny"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class OrderedCollection:
    """One rule collection in processing order (§7.1), with the group holding it."""

    rule_type: FirewallRuleType
    group: FirewallRuleCollectionGroup
    collection: FirewallRuleCollection
    parent: bool
    """In the parent policy (processed before every child-policy group of its pass)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FirewallDecision:
    """The firewall's decision for one flow, with the rule that took it (§7).

    ``rule_collection_group``, ``rule_collection`` and ``rule`` name the deciding rule
    (for ``undetermined``: the first application rule that could match); all three are
    None for the default deny.  ``translated_address``/``translated_port``: where a DNAT
    rule sends the flow (the trace continues there, §9.8).  ``source_nat``: would Azure
    SNAT the allowed flow (True to a public IPv4 destination, False to a private one,
    §7.2); None where the reference does not say (DNAT, IPv6, not allowed).
    """

    firewall: str
    verdict: FirewallVerdict
    reason: str
    action: FirewallAction | None = None
    rule_type: FirewallRuleType | None = None
    rule_collection_group: str | None = None
    rule_collection: str | None = None
    rule: str | None = None
    translated_address: str | None = None
    translated_port: int | None = None
    source_nat: bool | None = None

    @property
    def rule_name(self) -> str:
        """``group/collection/rule``, or ``default deny``."""
        if self.rule is None:
            return DEFAULT_DENY
        return f"{self.rule_collection_group}/{self.rule_collection}/{self.rule}"

    @property
    def replies_pass(self) -> bool:
        """Stateful (§7.1): the replies of an allowed flow pass, whatever the rules say
        for the reverse direction."""
        return self.verdict is FirewallVerdict.ALLOW

    def forwarded(self, flow: Flow) -> Flow:
        """The flow as the firewall sends it on: its destination translated by a DNAT
        rule (§7.1), else unchanged.  The source is kept (SNAT is not modelled, §7.2)."""
        if self.translated_address is None:
            return flow
        port = flow.destination_port if self.translated_port is None else self.translated_port
        return Flow(flow.protocol, flow.source, flow.source_port, self.translated_address, port)

    def to_json(self) -> dict[str, object]:
        """The decision as a trace prints it (camelCase keys, like §4)."""
        return {
            "firewall": self.firewall,
            "verdict": self.verdict.value,
            "action": None if self.action is None else self.action.value,
            "ruleType": None if self.rule_type is None else self.rule_type.value,
            "ruleCollectionGroup": self.rule_collection_group,
            "ruleCollection": self.rule_collection,
            "rule": self.rule,
            "ruleName": self.rule_name,
            "reason": self.reason,
            "translatedAddress": self.translated_address,
            "translatedPort": self.translated_port,
            "sourceNat": self.source_nat,
            "stateful": True,
        }


@dataclass(frozen=True, slots=True)
class _Rule:
    """One rule compiled for matching: integer sets, no text parsing per flow."""

    place: OrderedCollection
    rule: FirewallRule
    protocols: frozenset[str]
    sources: AddressSet
    destinations: AddressSet
    destination_tags: tuple[str, ...]
    ports: PortSet | None
    """None: every port (``*``)."""
    translated_port: int | None


def _collection_type(
    firewall: str, group: str, collection: FirewallRuleCollection
) -> FirewallRuleType:
    """A collection holds rules of one type (§7.1); a DNAT collection only NAT rules."""
    where = (
        f"firewall {firewall!r}, rule collection group {group!r}, "
        f"rule collection {collection.name!r}"
    )
    types = {rule.rule_type for rule in collection.rules}
    if len(types) > 1:
        raise ValueError(
            f"{where} mixes rule types ({', '.join(sorted(types))}); a collection holds one type"
        )
    if collection.action is FirewallAction.DNAT:
        if types - {FirewallRuleType.NAT}:
            raise ValueError(
                f"{where} has action DNAT but holds {(types - {FirewallRuleType.NAT}).pop()} rules"
            )
        return FirewallRuleType.NAT
    rule_type = types.pop() if types else FirewallRuleType.NETWORK
    if rule_type is FirewallRuleType.NAT:
        raise ValueError(f"{where} holds NAT rules but its action is {collection.action}, not DNAT")
    return rule_type


def processing_order(
    firewall: AzureFirewall, *, parent_groups: Sequence[FirewallRuleCollectionGroup] = ()
) -> tuple[OrderedCollection, ...]:
    """The rule collections of ``firewall`` in the order it processes them (§7.1
    [FW-RULES]): passes DNAT, Network, Application; in each, the groups of the parent
    policy (``parent_groups``) before the firewall's own, then groups by ascending
    priority, then collections by ascending priority.  ValueError naming the collection
    whose rules are not of one type matching its action."""
    levels = ((True, parent_groups), (False, firewall.rule_collection_groups))
    placed: list[tuple[int, int, int, int, int, int, OrderedCollection]] = []
    for level, (parent, groups) in enumerate(levels):
        for group_index, group in enumerate(groups):
            for index, collection in enumerate(group.rule_collections):
                rule_type = _collection_type(firewall.name, group.name, collection)
                key = (
                    _PASSES.index(rule_type),
                    level,
                    group.priority,
                    group_index,
                    collection.priority,
                    index,
                )
                placed.append((*key, OrderedCollection(rule_type, group, collection, parent)))
    placed.sort(key=lambda item: item[:6])
    return tuple(item[6] for item in placed)


def _address_side(
    values: Iterable[str], where: str, *, tags: bool
) -> tuple[AddressSet, tuple[str, ...]]:
    """Addresses, CIDRs and ``*`` as one set; service tags apart (destination only,
    §7.1 [TAGS]).  ValueError naming the rule and the value."""
    literal: list[str] = []
    named: list[str] = []
    for value in values:
        tag = service_tag(value)
        if tag is None:
            literal.append(value)
        elif tags:
            named.append(tag)
        else:
            raise ValueError(
                f"{where}: service tag {value!r} is accepted as a destination only "
                f"({see('FW-RULES')})"
            )
    try:
        addresses = AddressSet.of(literal)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return addresses, tuple(dict.fromkeys(named))


def _application_ports(rule: FirewallRule, where: str) -> PortSet:
    """The ports of an application rule's ``protocols`` (``Http:80``, ``Https``...); the
    three defaults when it names none."""
    ports: list[str] = []
    for text in rule.protocols:
        kind, _, port = text.partition(":")
        default = APPLICATION_PORTS.get(kind.strip().lower())
        if default is None:
            raise ValueError(f"{where}: protocol {text!r} is not Http, Https or Mssql[:port]")
        ports.append(port.strip() or str(default))
    try:
        return PortSet.of(ports or [str(port) for port in APPLICATION_PORTS.values()])
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _compile(firewall: str, place: OrderedCollection, rule: FirewallRule) -> _Rule:
    """One rule for matching; ValueError naming the firewall, group, collection, rule and
    field at fault."""
    where = (
        f"firewall {firewall!r}, rule collection group {place.group.name!r}, "
        f"rule collection {place.collection.name!r}, rule {rule.name!r}"
    )
    if not rule.source_addresses:
        raise ValueError(f"{where}: no source_addresses (give '*' for every source)")
    sources, _ = _address_side(rule.source_addresses, f"{where}, source_addresses", tags=False)
    if place.rule_type is FirewallRuleType.APPLICATION:
        destinations, named = _address_side(
            rule.destination_addresses or ("*",), f"{where}, destination_addresses", tags=True
        )
        web = _application_ports(rule, f"{where}, protocols")
        return _Rule(place, rule, frozenset({"Tcp"}), sources, destinations, named, web, None)
    if not rule.destination_addresses:
        raise ValueError(f"{where}: no destination_addresses (give '*' for every destination)")
    if not rule.destination_ports:
        raise ValueError(f"{where}: no destination_ports (give '*' for every port)")
    if not rule.ip_protocols:
        raise ValueError(f"{where}: no ip_protocols (TCP, UDP, ICMP or Any)")
    protocols: frozenset[str] = frozenset()
    for text in rule.ip_protocols:
        matched = _IP_PROTOCOLS.get(text.strip().lower())
        if matched is None:
            raise ValueError(f"{where}, ip_protocols: {text!r} is not TCP, UDP, ICMP or Any")
        protocols |= matched
    destinations, named = _address_side(
        rule.destination_addresses, f"{where}, destination_addresses", tags=True
    )
    ports: PortSet | None = None
    if "*" not in rule.destination_ports:
        try:
            ports = PortSet.of(rule.destination_ports)
        except ValueError as error:
            raise ValueError(f"{where}, destination_ports: {error}") from None
        protocols &= _PORTED  # explicit destination ports make a TCP+UDP rule (§7.1)
    translated = None
    if place.rule_type is FirewallRuleType.NAT:
        translated = _nat_target(rule, where)
    return _Rule(place, rule, protocols, sources, destinations, named, ports, translated)


def _nat_target(rule: FirewallRule, where: str) -> int | None:
    """A DNAT rule's translated port (None: the original port); ValueError when it has no
    translated address or a bad port."""
    if not rule.translated_address:
        raise ValueError(f"{where}: a DNAT rule needs translated_address")
    try:
        AddressSet.of((rule.translated_address,))
    except ValueError as error:
        raise ValueError(f"{where}, translated_address: {error}") from None
    text = rule.translated_port
    if text is None:
        return None
    if not text.strip().isdigit() or int(text) > _MAX_PORT:
        raise ValueError(f"{where}, translated_port: {text!r} is not a port (0-{_MAX_PORT})")
    return int(text)


def _flow_text(flow: Flow) -> str:
    return (
        f"{flow.protocol} {flow.source}:{flow.source_port} -> "
        f"{flow.destination}:{flow.destination_port}"
    )


class _Tags:
    """Service tag expansions asked for once per decision."""

    __slots__ = ("_cache", "_expansion", "_firewall")

    def __init__(self, expansion: TagExpansion | None, firewall: str) -> None:
        self._expansion = expansion
        self._firewall = firewall
        self._cache: dict[str, AddressSet] = {}

    def __getitem__(self, tag: str) -> AddressSet:
        found = self._cache.get(tag)
        if found is None:
            expansion = self._expansion
            try:
                if expansion is None:
                    raise KeyError(tag)
                found = expansion[tag] if isinstance(expansion, Mapping) else expansion(tag)
            except KeyError:
                raise ValueError(
                    f"firewall {self._firewall!r}: no expansion of service tag {tag!r} was given"
                ) from None
            self._cache[tag] = found
        return found


def _matches(rule: _Rule, flow: Flow, tags: _Tags) -> bool:
    """Protocol, destination port, source and destination all match (§7.1)."""
    if flow.protocol not in rule.protocols:
        return False
    if rule.ports is not None and flow.destination_port not in rule.ports:
        return False
    if flow.source_key not in rule.sources:
        return False
    key = flow.destination_key
    return key in rule.destinations or any(key in tags[tag] for tag in rule.destination_tags)


@dataclass(frozen=True, slots=True)
class FirewallPolicy:
    """A firewall's rules compiled in processing order, one tuple per pass (§7.1)."""

    firewall: str
    order: tuple[OrderedCollection, ...]
    dnat: tuple[_Rule, ...]
    network: tuple[_Rule, ...]
    application: tuple[_Rule, ...]

    @classmethod
    def of(
        cls, firewall: AzureFirewall, *, parent_groups: Sequence[FirewallRuleCollectionGroup] = ()
    ) -> FirewallPolicy:
        """Compile ``firewall``'s policy (and its parent policy's ``parent_groups``);
        ValueError naming the firewall, group, collection, rule and field at fault."""
        order = processing_order(firewall, parent_groups=parent_groups)
        passes: dict[FirewallRuleType, list[_Rule]] = {kind: [] for kind in _PASSES}
        for place in order:
            passes[place.rule_type].extend(
                _compile(firewall.name, place, rule) for rule in place.collection.rules
            )
        return cls(
            firewall.name,
            order,
            tuple(passes[FirewallRuleType.NAT]),
            tuple(passes[FirewallRuleType.NETWORK]),
            tuple(passes[FirewallRuleType.APPLICATION]),
        )

    def decide(self, flow: Flow, tags: TagExpansion | None = None) -> FirewallDecision:
        """The decision for ``flow`` (§7.1, §7.3; decisions §9.8, §9.9).  ``tags``
        expands the service tags rules name as destinations; ValueError if a rule that is
        reached names a tag it does not expand."""
        expansion = _Tags(tags, self.firewall)
        for rule in self.dnat:
            if _matches(rule, flow, expansion):
                return self._dnat(rule, flow)
        for rule in self.network:
            if _matches(rule, flow, expansion):
                return self._network(rule, flow)
        for rule in self.application:
            if _matches(rule, flow, expansion):
                return self._undetermined(rule, flow)
        return FirewallDecision(
            firewall=self.firewall,
            verdict=FirewallVerdict.DENY,
            reason=(
                f"no DNAT, network or application rule matches {_flow_text(flow)}: "
                f"default deny ({see('FW-RULES')})"
            ),
        )

    def _decision(
        self,
        rule: _Rule,
        verdict: FirewallVerdict,
        reason: str,
        *,
        translated_port: int | None = None,
        source_nat: bool | None = None,
    ) -> FirewallDecision:
        place = rule.place
        translated = (
            rule.rule.translated_address if place.rule_type is FirewallRuleType.NAT else None
        )
        return FirewallDecision(
            firewall=self.firewall,
            verdict=verdict,
            reason=reason,
            action=place.collection.action,
            rule_type=place.rule_type,
            rule_collection_group=place.group.name,
            rule_collection=place.collection.name,
            rule=rule.rule.name,
            translated_address=translated,
            translated_port=translated_port,
            source_nat=source_nat,
        )

    def _dnat(self, rule: _Rule, flow: Flow) -> FirewallDecision:
        address = rule.rule.translated_address
        port = flow.destination_port if rule.translated_port is None else rule.translated_port
        reason = (
            f"DNAT rule {rule.rule.name!r} (collection {rule.place.collection.name!r}) translates "
            f"{flow.destination}:{flow.destination_port} to {address}:{port}; DNAT-matched traffic "
            "is not processed by network rules"
        )
        return self._decision(
            rule, FirewallVerdict.ALLOW, reason, translated_port=rule.translated_port
        )

    def _network(self, rule: _Rule, flow: Flow) -> FirewallDecision:
        place = rule.place
        allowed = place.collection.action is FirewallAction.ALLOW
        reason = (
            f"network rule {rule.rule.name!r} of {place.collection.action.value} collection "
            f"{place.collection.name!r} (priority {place.collection.priority}, group "
            f"{place.group.name!r} priority {place.group.priority}) is the first to match "
            f"{_flow_text(flow)} ({see('FW-RULES')})"
        )
        source_nat: bool | None = None
        if allowed and flow.destination_key not in _IPV6:
            source_nat = flow.destination_key not in _PRIVATE
            reason += (
                f"; a public destination would be SNATed to a firewall public IP ({see('FW-SNAT')})"
                if source_nat
                else f"; a private destination keeps the original source ({see('FW-SNAT')})"
            )
        verdict = FirewallVerdict.ALLOW if allowed else FirewallVerdict.DENY
        return self._decision(rule, verdict, reason, source_nat=source_nat)

    def _undetermined(self, rule: _Rule, flow: Flow) -> FirewallDecision:
        fqdns = ", ".join(rule.rule.target_fqdns) or "its FQDNs"
        reason = (
            f"undetermined — application rules (FQDN) out of scope: no DNAT or network rule "
            f"matches {_flow_text(flow)}, and application rule {rule.rule.name!r} "
            f"({rule.place.collection.action.value}, {fqdns}) decides by name"
        )
        return self._decision(rule, FirewallVerdict.UNDETERMINED, reason)


def firewall_decision(
    firewall: AzureFirewall,
    flow: Flow,
    tags: TagExpansion | None = None,
    *,
    parent_groups: Sequence[FirewallRuleCollectionGroup] = (),
) -> FirewallDecision:
    """The decision of ``firewall`` for ``flow`` (§7; decisions §9.8, §9.9).  Compiles the
    policy on each call: to decide many flows, keep a :meth:`FirewallPolicy.of`."""
    return FirewallPolicy.of(firewall, parent_groups=parent_groups).decide(flow, tags)
