"""The pitfalls of §6 of ``shared/azure-traffic.md`` a trace can see, as warnings.

Each check reads the paths of one trace (and the context they were traced in) and names
the documented pitfall, its id (P1, P3...), the hop it concerns and what to do.  A check
warns; it never changes a verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.learn import see
from bgpemu.azure.model import NextHopType, VNet
from bgpemu.azure.traffic.flow import Flow, address_value
from bgpemu.azure.traffic.hops import Hop, HopType, TracePath, Verdict
from bgpemu.azure.traffic.index import Position, TrafficContext
from bgpemu.azure.traffic.owners import OwnerKind

__all__ = ["RESTRICTED_SUBNETS", "Pitfall", "pitfalls"]

RESTRICTED_SUBNETS = {
    "GatewaySubnet": (
        f"NSGs are not supported on GatewaySubnet and may stop the gateway working "
        f"({see('GW-SETTINGS')})"
    ),
    "RouteServerSubnet": f"RouteServerSubnet takes no NSG ({see('ARS-FAQ')})",
    "AzureFirewallSubnet": f"NSGs on AzureFirewallSubnet are disabled by the platform "
    f"({see('FW-FAQ')})",
}
"""P5: the subnets where an NSG is refused or ignored (§1.4)."""

_PRIVATE = tuple(
    (address_value(net.split("/")[0]), int(net.split("/")[1]))
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pitfall:
    """A documented pitfall seen on a trace (§6)."""

    id: str
    """``P1``, ``P3``... as §6 numbers them."""
    message: str
    hop: str | None = None
    """The hop (name) it concerns, if one."""
    severity: str = "Warning"

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        return {"id": self.id, "severity": self.severity, "hop": self.hop, "message": self.message}


def pitfalls(
    ctx: TrafficContext,
    flow: Flow,
    paths: Iterable[TracePath],
    reply_paths: Iterable[TracePath],
    verdict: Verdict,
) -> list[Pitfall]:
    """Every pitfall of §6 the trace of ``flow`` shows, each once (the first hop it is
    seen at), in check order."""
    forward = list(paths)
    backward = list(reply_paths)
    view = _Seen(ctx, flow, forward, backward, verdict)
    found: list[Pitfall] = []
    named: set[tuple[str, str]] = set()
    for check in _CHECKS:
        for pitfall in check(view):
            if (pitfall.id, pitfall.message) not in named:
                named.add((pitfall.id, pitfall.message))
                found.append(pitfall)
    return found


class _Seen:
    """What the checks read: the trace, with its hops (each once: ECMP paths share their
    first hops) and the subnets it crossed listed once for all checks."""

    __slots__ = (
        "all_hops",
        "ctx",
        "flow",
        "forward_hops",
        "paths",
        "positions",
        "replies",
        "verdict",
    )

    def __init__(
        self,
        ctx: TrafficContext,
        flow: Flow,
        paths: list[TracePath],
        replies: list[TracePath],
        verdict: Verdict,
    ) -> None:
        self.ctx, self.flow, self.verdict = ctx, flow, verdict
        self.paths, self.replies = paths, replies
        self.forward_hops = _unique(paths)
        self.all_hops = self.forward_hops + _unique(replies) if replies else self.forward_hops
        positions: dict[Position, None] = {}
        for hop in self.all_hops:
            if hop.position is not None:
                positions.setdefault(hop.position)
        self.positions = list(positions)


def _unique(paths: list[TracePath]) -> list[Hop]:
    """The hops of ``paths``, each hop object once, in order."""
    if len(paths) == 1:
        return list(paths[0].hops)
    found: dict[int, Hop] = {}
    for path in paths:
        for hop in path.hops:
            found.setdefault(id(hop), hop)
    return list(found.values())


_Check = Callable[[_Seen], Iterable[Pitfall]]


def _p1_asymmetric(seen: _Seen) -> Iterable[Pitfall]:
    """P1 [ER-ASYM][FW-LB][AAC-NVA-HA]: the reply misses a stateful hop of the request."""
    if seen.verdict is Verdict.ASYMMETRIC:
        forward = {n for p in seen.paths for n in p.stateful}
        backward = {n for p in seen.replies for n in p.stateful}
        for name in sorted(forward ^ backward):
            yield Pitfall(
                id="P1",
                hop=name,
                message=f"{name} is stateful and sees one direction only: replies are dropped; "
                "route both directions through it (UDRs on both sides) or SNAT",
            )


_GATEWAY_HOPS = frozenset({HopType.VIRTUAL_NETWORK_GATEWAY, HopType.EXPRESS_ROUTE_CIRCUIT})


def _p1c_gateway_bypass(seen: _Seen) -> Iterable[Pitfall]:
    """P1c [FW-HYBRID]: between on-prem and a VNet, the direction that leaves Azure
    crosses an appliance while the one coming in from the gateway does not: the gateway's
    subnet (GatewaySubnet) lacks the UDRs sending the VNet's prefixes to the appliance."""
    if seen.verdict is not Verdict.ASYMMETRIC:
        return
    for inbound, outbound in ((seen.paths, seen.replies), (seen.replies, seen.paths)):
        entering = [p for p in inbound if p.hops and p.hops[0].position is None]
        if not entering or not any(h.type in _GATEWAY_HOPS for p in entering for h in p.hops):
            continue
        missed = {n for p in outbound for n in p.stateful} - {
            n for p in entering for n in p.stateful
        }
        gateways = sorted(
            {h.name for p in entering for h in p.hops if h.type is HopType.VIRTUAL_NETWORK_GATEWAY}
        )
        for name in sorted(missed):
            yield Pitfall(
                id="P1c",
                hop=name,
                message=f"traffic from on-prem enters through {', '.join(gateways) or 'a gateway'} "
                f"and bypasses {name}, which the other direction crosses: add UDRs on "
                "GatewaySubnet sending the VNet prefixes to it",
            )


def _p1a_stateful_ecmp(seen: _Seen) -> Iterable[Pitfall]:
    """P1a [AAC-NVA-HA]: a route spreads flows over several stateful appliances; without
    SNAT on them a reply may come back through another one."""
    for hop in seen.all_hops:
        route = hop.route
        if route is None or len(route.next_hops) < 2:
            continue
        stateful = [
            address
            for address in route.next_hops
            if (owner := seen.ctx.owner(seen.ctx.key(address))) is not None
            and owner.kind in (OwnerKind.NVA, OwnerKind.FIREWALL, OwnerKind.INTERFACE)
        ]
        if len(stateful) > 1:
            yield Pitfall(
                id="P1a",
                hop=hop.name,
                message=f"route {route.prefix} spreads flows over the stateful appliances "
                f"{', '.join(stateful)} (ECMP): the reply of a flow may reach another one; "
                "SNAT on the appliances keeps both directions on one",
            )


def _p2_er_vpn(seen: _Seen) -> Iterable[Pitfall]:
    """P2 [ER-COEX]: one direction crosses ExpressRoute, the other a VPN gateway."""

    def links(group: list[TracePath]) -> set[str]:
        found: set[str] = set()
        for hop in _unique(group):
            if hop.type is HopType.EXPRESS_ROUTE_CIRCUIT:
                found.add("ExpressRoute")
            elif hop.type is HopType.VIRTUAL_NETWORK_GATEWAY:
                owner = seen.ctx.owner(seen.ctx.key(hop.address))
                if owner is not None and owner.kind is OwnerKind.VPN_GATEWAY:
                    found.add("VPN")
        return found

    if not seen.replies:
        return
    forward = links(seen.paths)
    backward = links(seen.replies) if forward else set()
    if seen.replies and forward and backward and forward != backward:
        yield Pitfall(
            id="P2",
            message=f"the request crosses {' and '.join(sorted(forward))}, the reply "
            f"{' and '.join(sorted(backward))}: Azure prefers ExpressRoute for a prefix "
            "learned both ways, so on-prem must prefer it too (LOCAL_PREF) or a stateful "
            "edge drops the replies",
        )


def _p3_forwarding(seen: _Seen) -> Iterable[Pitfall]:
    """P3 [NIC-IPFWD][NVA-TS]: a UDR to an appliance whose NIC does not forward."""
    for path in (*seen.paths, *seen.replies):
        if path.verdict is Verdict.IP_FORWARDING_OFF:
            hop = path.hops[-1]
            yield Pitfall(
                id="P3",
                hop=hop.name,
                message=f"next hop {hop.address} ({hop.name}) has IP forwarding off: enable it "
                "on the interface (and in the guest OS)",
            )


def _p3a_unreachable_next_hop(seen: _Seen) -> Iterable[Pitfall]:
    """P3a [UDR]: a VirtualAppliance next hop that resolves through a gateway route."""
    for hop in seen.all_hops:
        route, position = hop.route, hop.position
        if (
            route is None
            or position is None
            or route.next_hop_type != NextHopType.VIRTUAL_APPLIANCE
        ):
            continue
        for next_hop in route.next_hops:
            via = seen.ctx.lookup(position, seen.ctx.key(next_hop))
            if via is not None and via.next_hop_type == NextHopType.VIRTUAL_NETWORK_GATEWAY:
                yield Pitfall(
                    id="P3a",
                    hop=hop.name,
                    message=f"UDR next hop {next_hop} is reached only through a gateway route "
                    f"({via.prefix}): Azure treats such a route as invalid",
                )


def _p4_default_routes(seen: _Seen) -> Iterable[Pitfall]:
    """P4 [UDR][FW-HYBRID][FW-FT][ARS-TS]: 0/0 on GatewaySubnet, or AzureFirewallSubnet's
    0/0 not to the Internet, on a subnet the trace crosses; or an appliance whose own
    subnet routes the packet back to itself (an NVA advertising 0/0 through Route Server
    gets it on its own subnet and loops)."""
    for hop in seen.all_hops:
        route = hop.route
        if hop.stateful and route is not None and hop.address in route.next_hops:
            yield Pitfall(
                id="P4",
                hop=hop.name,
                message=f"{hop.name}'s own subnet sends {route.prefix} back to it "
                f"({route.source} route): it loops; add a UDR {route.prefix} -> Internet (or "
                "the right next hop) on the appliance's subnet",
            )
    for position in seen.positions:
        subnet = position[1]
        if subnet not in ("GatewaySubnet", "AzureFirewallSubnet"):
            continue
        default = next((r for r in seen.ctx.routes(position) if r.prefix == "0.0.0.0/0"), None)
        if default is None:
            continue
        if subnet == "GatewaySubnet" and default.source == "User":
            yield Pitfall(
                id="P4",
                hop=f"{position[0]}/{subnet}",
                message="a 0.0.0.0/0 UDR on GatewaySubnet breaks the gateway",
            )
        if subnet == "AzureFirewallSubnet" and default.next_hop_type != NextHopType.INTERNET:
            yield Pitfall(
                id="P4",
                hop=f"{position[0]}/{subnet}",
                message=f"AzureFirewallSubnet's 0.0.0.0/0 goes to {default.next_hop_type}: "
                "override it with 0.0.0.0/0 -> Internet unless forced tunnelling is set up",
            )


def _p4a_widened_tag(seen: _Seen) -> Iterable[Pitfall]:
    """P4a [ISSUE-22178]: a 0/0 in the subnet's effective routes widens VirtualNetwork to
    everything, so a default AllowVnet rule admits the flow.  The 0/0 is a UDR's, or one
    the subnet learns by BGP (a gateway, or Route Server from an NVA: source
    VirtualNetworkGateway), as decision §9.1 puts both in the tag
    (:func:`~bgpemu.azure.traffic.tags.service_tags`, read here through the subnet's
    expansion)."""
    for hop in seen.forward_hops:
        for check in hop.checks:
            if check.access != "Allow" or "AllowVnet" not in check.rule_name:
                continue
            position = hop.position
            if position is None or "0.0.0.0/0" not in seen.ctx.tags(position).expansion(
                "VirtualNetwork"
            ):
                continue
            default = next((r for r in seen.ctx.routes(position) if r.prefix == "0.0.0.0/0"), None)
            what = (
                "0.0.0.0/0 UDR"
                if default is None or default.source == "User"
                else f"0.0.0.0/0 learned by BGP ({default.source}, next hop "
                f"{', '.join(default.next_hops) or default.next_hop_type})"
            )
            where = f"{position[0]}/{position[1]}" if position[1] else position[0]
            yield Pitfall(
                id="P4a",
                hop=hop.name,
                message=f"{check.rule_name} admits this flow because the {what} of "
                f"{where} widens VirtualNetwork to every address",
            )


def _p5_restricted_nsg(seen: _Seen) -> Iterable[Pitfall]:
    """P5 [GW-SETTINGS][ARS-FAQ][FW-FAQ]: an NSG on a restricted subnet on the path."""
    for position in seen.positions:
        subnet = seen.ctx.subnet(position)
        if subnet is not None and subnet.network_security_group is not None:
            why = RESTRICTED_SUBNETS.get(subnet.name)
            if why is not None:
                yield Pitfall(
                    id="P5",
                    hop=f"{position[0]}/{subnet.name}",
                    message=f"NSG {subnet.network_security_group} on {subnet.name}: {why}",
                )


def _p6_no_transit(seen: _Seen) -> Iterable[Pitfall]:
    """P6 [PEER][PEER-MGMT]: a flow to another VNet falls on a None route (spokes sharing
    a hub, or VNets not peered at all)."""
    ends = [(p, seen.flow.destination_key) for p in seen.paths]
    ends.extend((p, seen.flow.source_key) for p in seen.replies)
    for path, toward in ends:
        if path.verdict is not Verdict.DROPPED_NONE_ROUTE:
            continue
        at = next((h for h in reversed(path.hops) if h.position is not None), None)
        found = seen.ctx.position_of(toward)
        if at is None or at.position is None or found is None:
            continue
        source_vnet, target = at.position[0], found[0]
        if target == source_vnet:
            continue
        hubs = sorted(_peers(seen.ctx, source_vnet) & _peers(seen.ctx, target))
        shared = f"peered only with {', '.join(hubs)}" if hubs else "not peered"
        yield Pitfall(
            id="P6",
            hop=at.name,
            message=f"{source_vnet} and {target} are {shared}: no route leads from one to the "
            "other (peering is not transitive); peer them, or route through an NVA/firewall "
            "in a hub (UDRs and allowForwardedTraffic), a VPN gateway, or Virtual WAN",
        )


def _p6a_forwarded(seen: _Seen) -> Iterable[Pitfall]:
    """P6a [PEER-MGMT]: forwarded traffic refused by a peering's allowForwardedTraffic."""
    for hop in seen.all_hops:
        for check in hop.checks:
            if check.kind == "VirtualNetworkPeering" and check.rule_name == "allowForwardedTraffic":
                yield Pitfall(
                    id="P6a",
                    hop=hop.name,
                    message=f"peering {check.resource} has allowForwardedTraffic off: traffic an "
                    "appliance forwards is dropped entering the VNet",
                )


def _p7_peering_bypass(seen: _Seen) -> Iterable[Pitfall]:
    """P7 [FW-HYBRID]: a 0/0 UDR to an appliance, but a more specific peering route wins."""
    for hop in seen.all_hops:
        route, position = hop.route, hop.position
        if route is None or position is None or route.next_hop_type != NextHopType.VNET_PEERING:
            continue
        table = seen.ctx.route_table(position)
        if table is None:
            continue
        for udr in table.routes:
            if (
                udr.address_prefix == "0.0.0.0/0"
                and udr.next_hop_type == NextHopType.VIRTUAL_APPLIANCE
                # traffic to or from the appliance itself bypasses nothing
                and udr.next_hop_ip_address not in (seen.flow.destination, seen.flow.source)
            ):
                yield Pitfall(
                    id="P7",
                    hop=hop.name,
                    message=f"the VNetPeering route {route.prefix} beats the 0.0.0.0/0 UDR to "
                    f"{udr.next_hop_ip_address}: the peer is reached directly, bypassing the "
                    "appliance; add UDRs for the peer's exact prefixes on both sides",
                )


def _p8_both_levels(seen: _Seen) -> Iterable[Pitfall]:
    """P8 [NSG-HOW][NSG-DIAG]: one NSG level allows what the other denies."""
    for hop in seen.forward_hops:
        by_direction: dict[str, set[tuple[str, str]]] = {}
        for check in hop.checks:
            if check.kind == "NetworkSecurityGroup":
                by_direction.setdefault(check.direction, set()).add(
                    (check.association, check.access)
                )
        for direction, levels in by_direction.items():
            accesses = {access for _, access in levels}
            if len({association for association, _ in levels}) > 1 and accesses == {
                "Allow",
                "Deny",
            }:
                yield Pitfall(
                    id="P8",
                    hop=hop.name,
                    message=f"{direction}: one NSG level allows the flow and the other denies "
                    "it; both the subnet's and the interface's NSG must allow",
                )


def _p9_private_outside(seen: _Seen) -> Iterable[Pitfall]:
    """P9 [NW-IPFV-CLI][NW-NH-CLI]: a private destination outside every VNet, peer and
    on-prem range falls on a None route (and in neither VirtualNetwork nor Internet)."""
    key = seen.flow.destination_key
    if not any(key >> (32 - length) == net >> (32 - length) for net, length in _PRIVATE):
        return
    if seen.ctx.position_of(key) is not None or seen.ctx.host_router(key) is not None:
        return
    if any(p.verdict is Verdict.DROPPED_NONE_ROUTE for p in seen.paths):
        yield Pitfall(
            id="P9",
            message=f"{seen.flow.destination} is a private address outside every VNet, peer and "
            "on-prem range: the default None route drops it and no default rule allows it",
        )


def _p10_propagation_off(seen: _Seen) -> Iterable[Pitfall]:
    """P10 [UDR][FW-HYBRID]: gateway routes suppressed on a subnet that needed one."""
    ends = [
        (p, seen.flow.destination_key) for p in seen.paths if p.verdict is not Verdict.REACHABLE
    ]
    ends.extend((p, seen.flow.source_key) for p in seen.replies)
    for path, target in ends:
        for hop in path.hops:
            position = hop.position
            if position is None or position[1] is None:
                continue
            if hop.route is not None and hop.route.source == "User":
                continue
            table = seen.ctx.route_table(position)
            if table is None or not table.disable_bgp_route_propagation:
                continue
            wide = seen.ctx.lookup((position[0], None), target)
            if wide is not None and wide.source == "VirtualNetworkGateway":
                yield Pitfall(
                    id="P10",
                    hop=hop.name,
                    message=f"{position[0]}/{position[1]} has 'propagate gateway routes' off "
                    f"and no UDR covering the gateway's {wide.prefix}",
                )


def _peers(ctx: TrafficContext, vnet: str) -> set[str]:
    node = ctx.vnet(vnet)
    found: set[str] = set()
    for peering in node.peerings:
        remote = ctx.network.node(peering.remote_virtual_network)
        if isinstance(remote, VNet) and any(
            p.remote_virtual_network == vnet for p in remote.peerings
        ):
            found.add(remote.name)
    return found


_CHECKS: tuple[_Check, ...] = (
    _p1_asymmetric,
    _p1a_stateful_ecmp,
    _p1c_gateway_bypass,
    _p2_er_vpn,
    _p3_forwarding,
    _p3a_unreachable_next_hop,
    _p4_default_routes,
    _p4a_widened_tag,
    _p5_restricted_nsg,
    _p6_no_transit,
    _p6a_forwarded,
    _p7_peering_bypass,
    _p8_both_levels,
    _p9_private_outside,
    _p10_propagation_off,
)
