"""The walk behind a trace: every path of one direction of a flow, hop by hop (§5.1, §5.2
of ``shared/azure-traffic.md``); :func:`bgpemu.azure.traffic.trace.trace` runs it for the
request and for the reply and judges the result (see that module for the theory of
operation).  Section numbers (§) refer to ``shared/azure-traffic.md``.

:class:`Walker` is the driver: it sends, follows routes and arrives hop by hop; the rules
checked at a hop (NSGs, a firewall, a peering) are :mod:`~bgpemu.azure.traffic.hop_checks`,
the gateway and vWAN hub hops :mod:`~bgpemu.azure.traffic.gateway_hops`.
"""

from __future__ import annotations

from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.gateway_hops import er_gateway, hub_targets, ingress_table, vpn_instances
from bgpemu.azure.traffic.hop_checks import firewall_check, nsg_checks, peering_check, rule_issue
from bgpemu.azure.traffic.hops import Hop, HopType, Issue, RouteUsed, RuleCheck, TracePath, Verdict
from bgpemu.azure.traffic.index import EffectiveRoute, Position, TrafficContext
from bgpemu.azure.traffic.owners import Owner, OwnerKind
from bgpemu.errors import BgpEmuError

__all__ = ["MAX_HOPS", "UnknownAddressError", "Walker"]

MAX_HOPS = 64
"""A path longer than this is a loop (a TTL guard, §5.1 step 4)."""

_APPLIANCES = frozenset({OwnerKind.INTERFACE, OwnerKind.NVA, OwnerKind.FIREWALL})
_SPEAKER_HOPS = {
    OwnerKind.VPN_GATEWAY: HopType.VIRTUAL_NETWORK_GATEWAY,
    OwnerKind.EXPRESSROUTE_GATEWAY: HopType.VIRTUAL_NETWORK_GATEWAY,
    OwnerKind.MSEE: HopType.EXPRESS_ROUTE_CIRCUIT,
    OwnerKind.HUB_ROUTER: HopType.VIRTUAL_HUB,
    OwnerKind.ROUTE_SERVER: HopType.VIRTUAL_NETWORK_GATEWAY,
    OwnerKind.ONPREM: HopType.ON_PREMISES,
}
_DELIVERY = {
    "VnetLocal": HopType.VNET_LOCAL,
    "VNetPeering": HopType.VNET_PEERING,
    "VirtualAppliance": HopType.VIRTUAL_APPLIANCE,
    "VirtualNetworkGateway": HopType.VIRTUAL_NETWORK_GATEWAY,
}


class UnknownAddressError(BgpEmuError, ValueError):
    """A trace from an address no interface, appliance, gateway or on-prem range holds;
    the message names the address and why."""


class Walker:
    """One direction of a trace: every path from the flow's source (§5.1)."""

    def __init__(self, ctx: TrafficContext, flow: Flow, *, reply: bool) -> None:
        self.ctx = ctx
        self.flow = flow
        self.reply = reply
        self.destination = flow.destination_key
        self.paths: list[TracePath] = []
        self.translated: Flow | None = None
        """Set on the walker that goes on after a DNAT rule: the flow as translated."""

    # ------------------------------------------------------------------ start

    def start(self) -> list[TracePath]:
        ctx, flow = self.ctx, self.flow
        owner = ctx.owner(flow.source_key)
        if owner is None:
            router = ctx.host_router(flow.source_key)
            if router is None:
                raise UnknownAddressError(
                    f"source {flow.source} is held by no interface, appliance, firewall or "
                    f"gateway, and lies in no on-prem router's announced ranges in network "
                    f"{ctx.network.name!r}"
                )
            source = Hop(type=HopType.SOURCE, name=f"host behind {router}", address=flow.source)
            self._to(self._router(router), (source,), via="OnPremises", from_vnet=None)
            return self.paths
        source = Hop(
            type=HopType.SOURCE,
            name=owner.name,
            address=flow.source,
            resource_id=owner.resource_id,
            position=ctx.position(owner),
        )
        if owner.kind in _APPLIANCES:
            if not owner.running:
                self._end((source,), Verdict.NO_ROUTE, f"source {owner.name} is not running")
            else:
                self._send(owner, source, (), forwarded=False)
        else:
            self._at_speaker(owner, source, (), forwarded=False)
        return self.paths

    def _router(self, name: str) -> str:
        """The address of on-prem router ``name`` (its plan endpoint)."""
        for endpoint in self.ctx.plan.of_node(name):
            return endpoint.azure_address
        raise UnknownAddressError(f"on-prem router {name!r} has no endpoint in the plan")

    # ------------------------------------------------------------------ ends

    def _end(self, hops: tuple[Hop, ...], verdict: Verdict, reason: str) -> None:
        self.paths.append(
            TracePath(hops=hops, verdict=verdict, reason=reason, translated=self.translated)
        )

    def _unknown(self, address: str) -> Hop:
        return Hop(type=HopType.DESTINATION, name="Destination", address=address)

    # ------------------------------------------------------------------ sending

    def _send(self, owner: Owner, hop: Hop, path: tuple[Hop, ...], *, forwarded: bool) -> None:
        """``owner`` sends the packet: outbound NSGs, then its subnet's lookup (§5.1)."""
        position = self.ctx.position(owner)
        denied: RuleCheck | None = None
        if not self.reply and owner.kind is not OwnerKind.FIREWALL:
            checks, denied = nsg_checks(self.ctx, self.flow, owner, Direction.OUTBOUND)
            hop = hop.but(checks=checks)
        if position is None:
            self._end((*path, hop), Verdict.NO_ROUTE, f"{owner.name} is in no VNet")
            return
        route = self.ctx.lookup(position, self.destination)
        if denied is not None:
            hop = hop.but(issues=(rule_issue(denied),))
            if route is None or route.next_hop_type == "None":
                # Decision: a packet no route carries is reported as dropped by the
                # route (§8 S3: "dropped before any NSG"); the NSG's Deny stays listed.
                self._follow(route, position, hop, path, forwarded=forwarded)
                return
            ahead = self._ahead(route)
            self._end(
                (*path, hop, ahead),
                Verdict.DENIED,
                f"{denied.rule_name} of {denied.resource} denies it outbound at {hop.name}",
            )
            return
        self._follow(route, position, hop, path, forwarded=forwarded)

    def _ahead(self, route: EffectiveRoute | None) -> Hop:
        """The hop a denied packet would have reached (listed, as [NW-CT-CLI] does)."""
        if route is not None and route.next_hops:
            address = route.next_hops[0]
            owner = self.ctx.owner(self.ctx.key(address))
            hop_type = _DELIVERY.get(route.next_hop_type, HopType.DESTINATION)
            if owner is not None:
                return Hop(
                    type=hop_type, name=owner.name, address=address, resource_id=owner.resource_id
                )
        owner = self.ctx.owner(self.destination)
        if route is not None and owner is not None:
            return Hop(
                type=_DELIVERY.get(route.next_hop_type, HopType.DESTINATION),
                name=owner.name,
                address=self.flow.destination,
                resource_id=owner.resource_id,
            )
        return self._unknown(self.flow.destination)

    def _follow(
        self,
        route: EffectiveRoute | None,
        position: Position,
        hop: Hop,
        path: tuple[Hop, ...],
        *,
        forwarded: bool,
    ) -> None:
        """Act on the next hop type of ``route`` (§5.2)."""
        where = f"{position[0]}/{position[1]}" if position[1] else position[0]
        destination = self.flow.destination
        if route is None:
            self._end(
                (*path, hop, self._unknown(destination)),
                Verdict.NO_ROUTE,
                f"no route to {destination} in the effective routes of {where}",
            )
            return
        hop = hop.but(position=position, route=self.ctx.route_used(position, route))
        kind = route.next_hop_type
        if kind == "None":
            issue = Issue(
                origin="Outbound",
                severity="Error",
                type="UserDefinedRoute",
                context=(("RouteType", "User" if route.source == "User" else "System"),),
            )
            self._end(
                (*path, hop.but(issues=(issue,)), self._unknown(destination)),
                Verdict.DROPPED_NONE_ROUTE,
                f"route {route.prefix} ({route.source}) of {where} has next hop None",
            )
        elif kind == "Internet":
            self._end(
                (*path, hop, Hop(type=HopType.INTERNET, name="Internet", address=destination)),
                Verdict.REACHABLE,
                f"leaves Azure to the Internet by route {route.prefix} of {where}",
            )
        elif kind in ("VnetLocal", "VNetPeering"):
            self._to(
                destination, (*path, hop), via=kind, from_vnet=position[0], forwarded=forwarded
            )
        else:
            next_hops = route.next_hops
            if not next_hops and kind == "VirtualNetworkGateway":
                next_hops = vpn_instances(self.ctx, position[0])
            if not next_hops:
                what = (
                    f"no VPN gateway serves VNet {position[0]}"
                    if kind == "VirtualNetworkGateway"
                    else "it has no next hop address"
                )
                self._end(
                    (*path, hop, self._unknown(destination)),
                    Verdict.NO_ROUTE,
                    f"route {route.prefix} ({route.source}) of {where} sends to the "
                    f"{'virtual network gateway' if kind == 'VirtualNetworkGateway' else kind}"
                    f", but {what}",
                )
                return
            for next_hop in next_hops:
                self._to(
                    next_hop, (*path, hop), via=kind, from_vnet=position[0], forwarded=forwarded
                )

    # ------------------------------------------------------------------ arriving

    def _to(
        self,
        address: str,
        path: tuple[Hop, ...],
        *,
        via: str,
        from_vnet: str | None,
        forwarded: bool = False,
    ) -> None:
        """The packet arrives at ``address`` (a next hop, or the destination)."""
        ctx = self.ctx
        key = ctx.key(address)
        owner = ctx.owner(key)
        final = key == self.destination
        if owner is None:
            if final and ctx.host_router(key) is not None and via == "OnPremises":
                self._end(path, Verdict.REACHABLE, f"delivered to {address}")
                return
            what = "destination" if final else "next hop"
            self._end(
                (*path, self._unknown(address)),
                Verdict.NO_ROUTE,
                f"{what} {address} is held by no interface, appliance or gateway"
                + (f" in VNet {from_vnet}" if from_vnet and final else ""),
            )
            return
        if owner.kind is OwnerKind.MSEE and from_vnet is not None:
            path = (*path, *er_gateway(self.ctx, from_vnet, owner.name))
        hop_type = _DELIVERY.get(via, HopType.DESTINATION)
        if owner.kind in _APPLIANCES and not final:
            # an NVA is an appliance whichever route led to it (a UDR, or a Route Server
            # route of type VirtualNetworkGateway, §5.5 [ARS-FAQ])
            hop_type = HopType.VIRTUAL_APPLIANCE
        elif owner.kind in _SPEAKER_HOPS and not final:
            hop_type = _SPEAKER_HOPS[owner.kind]
        hop = Hop(
            type=hop_type,
            name=owner.name,
            address=address,
            resource_id=owner.resource_id,
            stateful=not final and owner.kind in _APPLIANCES,
        )
        if any(h.key == hop.key for h in path):
            self._end((*path, hop), Verdict.LOOP, f"{owner.name} ({address}) visited twice")
            return
        if len(path) >= MAX_HOPS:
            self._end(
                (*path, hop),
                Verdict.LOOP,
                f"the path is longer than {MAX_HOPS} hops (a loop or TTL guard)",
            )
            return
        if from_vnet is not None and owner.vnet is not None and owner.vnet != from_vnet:
            blocked = peering_check(self.ctx, self.flow, from_vnet, owner.vnet, forwarded=forwarded)
            if blocked is not None:
                check, verdict, reason = blocked
                self._end((*path, hop.but(checks=(check,))), verdict, reason)
                return
        if owner.kind in _APPLIANCES:
            self._at_appliance(owner, hop, path, final=final, forwarded=forwarded)
        elif final:
            self._end((*path, hop), Verdict.REACHABLE, f"delivered to {owner.name}")
        else:
            self._at_speaker(owner, hop, path, forwarded=forwarded)

    def _at_appliance(
        self, owner: Owner, hop: Hop, path: tuple[Hop, ...], *, final: bool, forwarded: bool
    ) -> None:
        """At an interface, NVA or firewall: inbound rules, then deliver or forward (§5.3)."""
        if not self.reply:
            if owner.kind is OwnerKind.FIREWALL:
                hop, dropped, onward = firewall_check(self.ctx, self.flow, owner, hop)
                if dropped is not None:
                    self._end((*path, hop), *dropped)
                    return
                if onward != self.flow:
                    self._translate(owner, hop, path, onward)
                    return
            else:
                checks, rule = nsg_checks(self.ctx, self.flow, owner, Direction.INBOUND)
                hop = hop.but(checks=checks)
                if rule is not None:
                    hop = hop.but(issues=(rule_issue(rule),))
                    self._end(
                        (*path, hop),
                        Verdict.DENIED,
                        f"{rule.rule_name} of {rule.resource} denies it inbound at {owner.name}",
                    )
                    return
        if final:
            if not owner.running:
                self._end((*path, hop), Verdict.NO_ROUTE, f"{owner.name} is not running")
            else:
                self._end((*path, hop), Verdict.REACHABLE, f"delivered to {owner.name}")
            return
        if not owner.forwarding:
            issue = Issue(
                origin="Local",
                severity="Error",
                type="IpForwarding",
                context=(("EnableIPForwarding", "false"),),
            )
            self._end(
                (*path, hop.but(issues=(issue,))),
                Verdict.IP_FORWARDING_OFF,
                f"{owner.name} ({owner.address}) has IP forwarding off: it drops packets "
                "not addressed to it (P3)",
            )
            return
        self._send(owner, hop, path, forwarded=True)

    def _at_speaker(
        self, owner: Owner, hop: Hop, path: tuple[Hop, ...], *, forwarded: bool
    ) -> None:
        """At a gateway instance, MSEE, hub router or on-prem router: its own best paths
        (§5.2; decision §9.12 for on-prem routers).  A vWAN hub router: :meth:`_at_hub`."""
        if owner.kind is OwnerKind.HUB_ROUTER:
            self._at_hub(owner, hop, path, forwarded=forwarded)
            return
        ctx = self.ctx
        speaker = owner.speaker or owner.name
        routes = ctx.forwarding(speaker, self.destination)
        destination = self.flow.destination
        if not routes:
            self._end(
                (*path, hop, self._unknown(destination)),
                Verdict.NO_ROUTE,
                f"{speaker} has no route to {destination}",
            )
            return
        best = routes[0]
        hop = hop.but(
            route=RouteUsed(
                table=f"{speaker} Loc-RIB",
                prefix=best.prefix,
                next_hop_type="BGP",
                next_hops=tuple(r.next_hop or r.peer or "local" for r in routes),
                source="BGP",
                why=f"best path ({best.reason or 'only path'})"
                + (f", ECMP over {len(routes)} paths" if len(routes) > 1 else ""),
            ),
        )
        here = (*path, hop)
        for route in routes:
            if route.peer is not None:
                endpoint = ctx.plan.endpoints.get(route.peer)
                if endpoint is None:
                    self._end(
                        (*here, self._unknown(destination)),
                        Verdict.NO_ROUTE,
                        f"{speaker}'s best path comes from {route.peer}, which the plan lacks",
                    )
                    continue
                self._to(
                    endpoint.azure_address, here, via="BGP", from_vnet=None, forwarded=forwarded
                )
            elif owner.kind is OwnerKind.ONPREM:
                self._end(
                    here,
                    Verdict.REACHABLE,
                    f"delivered to {destination}, a host in {owner.name}'s range {best.prefix}",
                )
            elif owner.kind in (OwnerKind.VPN_GATEWAY, OwnerKind.EXPRESSROUTE_GATEWAY):
                position = ctx.position(owner)
                assert position is not None
                self._follow(
                    ctx.lookup(position, self.destination),
                    position,
                    hop,
                    path,
                    forwarded=forwarded,
                )
            else:
                self._end(
                    (*here, self._unknown(destination)),
                    Verdict.NO_ROUTE,
                    f"{speaker} originates {best.prefix} but forwards no traffic",
                )

    def _at_hub(self, owner: Owner, hop: Hop, path: tuple[Hop, ...], *, forwarded: bool) -> None:
        """At a vWAN hub router: the longest match in the route table associated with the
        connection the packet came in by (§5.4 [VWAN-ROUTING]: a VNet connection's
        associated table; a branch's, Default; from a remote hub, Default), as
        :func:`bgpemu.azure.views.hub.hub_routes` selects it, then on to the connection
        of its next hop: into a connected VNet (to the NVA its connection's static route
        names, when the destination lies beyond it), to a VPN site's router, to an
        ExpressRoute circuit's MSEEs, to a remote hub, or to a BGP-peered NVA.  Routing
        intent (hub firewalls) is not modelled (§9.10)."""
        ctx = self.ctx
        table = ingress_table(ctx, owner.name, path)
        destination = self.flow.destination
        found = ctx.hub_route(owner.name, table, self.destination)
        if found is None:
            self._end(
                (*path, hop, self._unknown(destination)),
                Verdict.NO_ROUTE,
                f"hub {owner.name}'s route table {table} has no route to {destination}",
            )
            return
        prefix, item = found
        hop = hop.but(
            route=RouteUsed(
                table=f"{owner.name}/{table}",
                prefix=prefix,
                next_hop_type=item["nextHopType"],
                next_hops=tuple(item["nextHops"]),
                source="VirtualHub",
                why=f"longest prefix match in {table}, the table associated with the "
                "connection the packet came in by",
            )
        )
        here = (*path, hop)
        for next_hop in item["nextHops"]:
            targets = hub_targets(ctx, self.flow, owner.name, next_hop, item["routeOrigin"])
            if targets is None:
                self._end(
                    (*here, self._unknown(destination)),
                    Verdict.NO_ROUTE,
                    f"hub {owner.name}: next hop {next_hop} is not modelled",
                )
                continue
            for address, via in targets:
                self._to(address, here, via=via, from_vnet=None, forwarded=forwarded)

    # ------------------------------------------------------------------ translating

    def _translate(self, owner: Owner, hop: Hop, path: tuple[Hop, ...], onward: Flow) -> None:
        """After a DNAT rule of firewall ``owner`` (§7.1, decision §9.8): the packet goes
        on to the translated destination, from the firewall's subnet, as forwarded
        traffic; the firewall is a stateful transit hop even when the request was
        addressed to it.  The paths that follow carry ``onward`` (:attr:`TracePath
        .translated`): their reply is traced from the translated destination."""
        if hop.type is not HopType.VIRTUAL_APPLIANCE or not hop.stateful:
            hop = Hop(
                type=HopType.VIRTUAL_APPLIANCE,
                name=hop.name,
                address=hop.address,
                resource_id=hop.resource_id,
                route=hop.route,
                checks=hop.checks,
                issues=hop.issues,
                stateful=True,
                position=hop.position,
            )
        onward_walker = Walker(self.ctx, onward, reply=self.reply)
        onward_walker.paths = self.paths
        onward_walker.translated = onward
        onward_walker._send(owner, hop, path, forwarded=True)
