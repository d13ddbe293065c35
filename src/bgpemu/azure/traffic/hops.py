"""The records of a trace: hops, the route and rules seen at each, paths and verdicts.

Plain frozen values shared by :mod:`.trace` (which makes them) and :mod:`.pitfalls`
(which reads them).  Section numbers (§) refer to ``shared/azure-traffic.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bgpemu.azure.traffic.flow import Flow

__all__ = ["Hop", "HopType", "Issue", "RouteUsed", "RuleCheck", "TracePath", "Verdict"]


class Verdict(StrEnum):
    """The outcome of a path, or of a whole trace (issue 14's list)."""

    REACHABLE = "reachable"
    DENIED = "denied"
    """A rule dropped it (NSG, firewall, or a peering setting), named with its hop."""
    NO_ROUTE = "no_route"
    """No route, or a route to something that holds no such address."""
    DROPPED_NONE_ROUTE = "dropped_none_route"
    """The route that matched has next hop ``None`` (§5.2)."""
    IP_FORWARDING_OFF = "ip_forwarding_off"
    """Sent to an appliance that does not forward (§5.3 [NIC-IPFWD], P3)."""
    LOOP = "loop"
    """A hop visited twice on one path."""
    ASYMMETRIC = "asymmetric"
    """The reply crosses a stateful hop the request did not, or misses one it did (P1)."""
    UNDETERMINED = "undetermined"
    """A firewall's application rules (FQDN) would decide, which an L4 model cannot see
    (decision §9.9): neither reachable nor denied."""


class HopType(StrEnum):
    """Connection troubleshoot hop ``type`` (§4.4); decision §9.6 names the hops the docs
    do not: a gateway instance ``VirtualNetworkGateway``, an ExpressRoute MSEE
    ``ExpressRouteCircuit``, a vWAN hub router ``VirtualHub``, an on-prem router
    ``OnPremises`` (the effective-route and resource vocabulary, as §9.4)."""

    SOURCE = "Source"
    VIRTUAL_APPLIANCE = "VirtualAppliance"
    VNET_LOCAL = "VnetLocal"
    VNET_PEERING = "VNetPeering"
    VIRTUAL_NETWORK_GATEWAY = "VirtualNetworkGateway"
    EXPRESS_ROUTE_CIRCUIT = "ExpressRouteCircuit"
    VIRTUAL_HUB = "VirtualHub"
    ON_PREMISES = "OnPremises"
    INTERNET = "Internet"
    DESTINATION = "Destination"
    """Where a dropped path would have gone (``resourceId`` ``Unknown``, [NW-CT-CLI])."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteUsed:
    """The route a hop forwarded by, and why it won."""

    table: str
    """``vnet/subnet`` (effective routes) or ``<speaker> Loc-RIB``."""
    prefix: str
    next_hop_type: str
    next_hops: tuple[str, ...] = ()
    source: str
    """``Default``, ``User``, ``VirtualNetworkGateway`` (effective routes) or ``BGP``."""
    why: str

    def to_json(self) -> dict[str, Any]:
        """camelCase, as §4.3 prints a route."""
        return {
            "table": self.table,
            "addressPrefix": self.prefix,
            "nextHopType": self.next_hop_type,
            "nextHopIpAddress": list(self.next_hops),
            "source": self.source,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleCheck:
    """A rule that admitted or dropped the packet at a hop."""

    kind: str
    """``NetworkSecurityGroup``, ``AzureFirewall`` or ``VirtualNetworkPeering``."""
    direction: str
    """``Inbound`` or ``Outbound``."""
    access: str
    """``Allow`` or ``Deny``."""
    rule_name: str
    resource: str
    """The NSG, firewall or peering that holds the rule."""
    association: str = ""
    """``subnet`` or ``networkInterface`` for an NSG (§3.5)."""
    translated: str = ""
    """A firewall DNAT rule's translation, ``address:port -> address:port`` (§7.1,
    decision §9.8); empty when the rule translates nothing."""

    def to_json(self) -> dict[str, Any]:
        """camelCase; ``translated`` only when the rule translated the destination."""
        document = {
            "kind": self.kind,
            "direction": self.direction,
            "access": self.access,
            "ruleName": self.rule_name,
            "resource": self.resource,
            "association": self.association,
        }
        if self.translated:
            document["translated"] = self.translated
        return document


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A connection troubleshoot issue (§4.4): origin ``Inbound``/``Outbound``/``Local``,
    severity ``Error``/``Warning``, type (``NetworkSecurityRule``, ``UserDefinedRoute``...)
    and ``{key, value}`` context."""

    origin: str
    severity: str
    type: str
    context: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """§4.4's shape."""
        return {
            "origin": self.origin,
            "severity": self.severity,
            "type": self.type,
            "context": [{"key": k, "value": v} for k, v in self.context],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One hop of a path: what it is, the route it forwarded by, the rules it applied."""

    type: HopType
    name: str
    address: str
    resource_id: str = "Unknown"
    route: RouteUsed | None = None
    checks: tuple[RuleCheck, ...] = ()
    issues: tuple[Issue, ...] = ()
    stateful: bool = False
    """A transit NVA or firewall: it must see the reply too (§6 P1)."""
    position: tuple[str, str | None] | None = None
    """The subnet it forwards from (``(vnet, subnet)``), None outside Azure."""

    def but(
        self,
        *,
        route: RouteUsed | None = None,
        checks: tuple[RuleCheck, ...] = (),
        issues: tuple[Issue, ...] = (),
        position: tuple[str, str | None] | None = None,
    ) -> Hop:
        """This hop with ``route`` and ``position`` set (when given) and ``checks`` and
        ``issues`` added (a trace builds a hop in steps; :func:`dataclasses.replace` costs
        several times more on the trace's hot path)."""
        return Hop(
            type=self.type,
            name=self.name,
            address=self.address,
            resource_id=self.resource_id,
            route=self.route if route is None else route,
            checks=self.checks + checks if checks else self.checks,
            issues=self.issues + issues if issues else self.issues,
            stateful=self.stateful,
            position=self.position if position is None else position,
        )

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two hops the same hop (a path visiting one twice loops)."""
        return (self.type.value, self.name, self.address)

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        return {
            "type": self.type.value,
            "name": self.name,
            "address": self.address,
            "resourceId": self.resource_id,
            "route": None if self.route is None else self.route.to_json(),
            "rules": [c.to_json() for c in self.checks],
            "issues": [i.to_json() for i in self.issues],
            "stateful": self.stateful,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TracePath:
    """One path from source to where it ended (ECMP fans a trace out into several)."""

    hops: tuple[Hop, ...]
    verdict: Verdict
    reason: str
    translated: Flow | None = None
    """The flow as a firewall's DNAT rule rewrote it on this path (decision §9.8): its
    reply is traced from the translated destination; None when nothing translated it."""

    @property
    def stateful(self) -> tuple[str, ...]:
        """The stateful hops it crosses (names, in order)."""
        return tuple(h.name for h in self.hops if h.stateful)

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "hops": [h.to_json() for h in self.hops],
        }
