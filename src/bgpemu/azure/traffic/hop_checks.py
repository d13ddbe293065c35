"""The rules checked at a hop of a walk (``shared/azure-traffic.md``): a NIC's or subnet's
NSGs (§2.1, §4.4), an Azure Firewall's decision (§7, decisions §9.8, §9.9) and whether
a packet may cross a VNet peering (§5.2, P6a).  Pure over the traffic index and the flow;
:class:`bgpemu.azure.traffic.walk.Walker` drives them.
"""

from __future__ import annotations

from bgpemu.azure.learn import see
from bgpemu.azure.model import Peering
from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.firewall import FirewallVerdict
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import Hop, Issue, RuleCheck, Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.nsg import evaluate_nsgs
from bgpemu.azure.traffic.owners import Owner

__all__ = ["firewall_check", "nsg_checks", "peering_check", "rule_issue"]


def nsg_checks(
    ctx: TrafficContext, flow: Flow, owner: Owner, direction: Direction
) -> tuple[tuple[RuleCheck, ...], RuleCheck | None]:
    """The NSG stages of ``owner`` for ``direction`` (§2.1, by
    :func:`~bgpemu.azure.traffic.nsg.evaluate_nsgs`; at an appliance with the packet's
    original addresses, decision §9.3); and the denying stage, if one denies."""
    interface = owner.interface if owner.interface is not None else owner.nva
    position = ctx.position(owner)
    if interface is None or position is None or position[1] is None:
        return (), None
    decision = evaluate_nsgs(ctx.security, interface, flow, direction, ctx.tags(position))
    checks = tuple(
        RuleCheck(
            kind="NetworkSecurityGroup",
            direction=direction.value,
            access=stage.access.value,
            rule_name=stage.rule_name or "",
            resource=stage.nsg_name or "",
            association=stage.association or "",
        )
        for stage in decision.stages
    )
    denied = next((c for c in checks if c.access == "Deny"), None)
    return checks, denied


def firewall_check(
    ctx: TrafficContext, flow: Flow, owner: Owner, hop: Hop
) -> tuple[Hop, tuple[Verdict, str] | None, Flow]:
    """The firewall's decision (§7); the hop with it, the verdict and reason that end
    the path unless it allows (``denied``, or ``undetermined`` when only application
    rules could decide, decision §9.9, with a Warning issue), and the flow it sends
    on (its destination translated by a DNAT rule, §7.1)."""
    assert owner.firewall is not None
    position = ctx.position(owner)
    tags = None if position is None else ctx.tags(position).addresses
    decision = ctx.firewall_policy(owner.firewall).decide(flow, tags)
    allowed = decision.verdict is FirewallVerdict.ALLOW
    onward = decision.forwarded(flow) if allowed else flow
    translated = ""
    if onward != flow:
        translated = (
            f"{flow.destination}:{flow.destination_port} -> "
            f"{onward.destination}:{onward.destination_port}"
        )
    check = RuleCheck(
        kind="AzureFirewall",
        direction="Inbound",
        access="Allow" if allowed else "Deny",
        rule_name=decision.rule_name,
        resource=owner.name,
        translated=translated,
    )
    hop = hop.but(checks=(check,))
    if allowed:
        return hop, None, onward
    undetermined = decision.verdict is FirewallVerdict.UNDETERMINED
    issue = Issue(
        origin="Inbound",
        severity="Warning" if undetermined else "Error",
        type="AzureFirewall",
        context=(("RuleName", decision.rule_name), ("Verdict", decision.verdict.value)),
    )
    return (
        hop.but(issues=(issue,)),
        (
            Verdict.UNDETERMINED if undetermined else Verdict.DENIED,
            f"firewall {owner.name}: {decision.verdict.value} ({decision.reason})",
        ),
        flow,
    )


def peering_check(
    ctx: TrafficContext, flow: Flow, sender: str, receiver: str, *, forwarded: bool
) -> tuple[RuleCheck, Verdict, str] | None:
    """Can a packet cross from VNet ``sender`` into peered VNet ``receiver``? (§5.2)"""
    out = _peering(ctx, sender, receiver)
    back = _peering(ctx, receiver, sender)
    if out is None or back is None:
        return (
            RuleCheck(
                kind="VirtualNetworkPeering",
                direction="Inbound",
                access="Deny",
                rule_name="not peered",
                resource=f"{sender}->{receiver}",
            ),
            Verdict.NO_ROUTE,
            f"{receiver} is not directly reachable from {sender}: the VNets are not "
            f"peered (a next hop must be directly reachable, {see('UDR')})",
        )
    if not out.allow_virtual_network_access:
        return (
            RuleCheck(
                kind="VirtualNetworkPeering",
                direction="Outbound",
                access="Deny",
                rule_name="allowVirtualNetworkAccess",
                resource=f"{sender}->{receiver}",
            ),
            Verdict.DENIED,
            f"peering {sender}->{receiver} has allowVirtualNetworkAccess off",
        )
    if forwarded and not back.allow_forwarded_traffic and not _inside(ctx, flow, sender):
        return (
            RuleCheck(
                kind="VirtualNetworkPeering",
                direction="Inbound",
                access="Deny",
                rule_name="allowForwardedTraffic",
                resource=f"{receiver}->{sender}",
            ),
            Verdict.DENIED,
            f"forwarded traffic from {flow.source} enters {receiver} over its peering "
            f"with {sender}, whose allowForwardedTraffic is off (P6a)",
        )
    return None


def _inside(ctx: TrafficContext, flow: Flow, vnet: str) -> bool:
    """Is the flow's source in ``vnet``'s address space (then a packet an appliance
    relays from ``vnet`` is not forwarded traffic for the peering, [PEER-MGMT])?"""
    found = ctx.vnets.lookup(flow.source_key)
    return found is not None and found[1] == vnet


def rule_issue(check: RuleCheck) -> Issue:
    """§4.4: an NSG drop is issue ``NetworkSecurityRule`` with context ``RuleName``, the
    rule's own name as [NW-CT-CLI] prints it (``UserRule_Port80``, without the
    ``securityRules/`` of IP flow verify)."""
    return Issue(
        origin=check.direction,
        severity="Error",
        type="NetworkSecurityRule",
        context=(("RuleName", check.rule_name.rpartition("/")[2]),),
    )


def _peering(ctx: TrafficContext, vnet: str, remote: str) -> Peering | None:
    return next((p for p in ctx.vnet(vnet).peerings if p.remote_virtual_network == remote), None)
