"""The reachability matrix: every subnet and on-prem range against every other, for one
protocol and port, summarised by verdict (issue 14; §5 and §8 of
``shared/azure-traffic.md``).

Theory of operation.  The matrix is built on :func:`bgpemu.azure.traffic.trace.trace`
(one trace per ordered pair of endpoints, the reply included), so its verdicts are the
traces' by construction.  An **endpoint** is

* a subnet (``VNET/SUBNET``), represented by its first running interface (or NVA): a
  trace starts from an address something holds (§5.1 step 1), so a subnet where nothing
  runs (GatewaySubnet, RouteServerSubnet, an empty subnet) is listed as skipped with the
  reason; with ``interfaces=True`` every interface and NVA is an endpoint instead;
* an on-prem router's announced ranges (decision §9.12: an address inside them is a host
  behind that router), represented by their first host address.

A large on-prem side (vWAN 2 x 50 x 200 announces 20,000 ranges) would make millions of
pairs, so the ranges of one router are **grouped**: two ranges are in one group when
every place a packet is looked up treats their first hosts alike: the same effective
route (next hop type, next hops, source, name; the prefix aside) in every subnet, the
same paths in every speaker's Loc-RIB, the same ``VirtualNetwork`` and ``Internet`` tag
membership in every subnet (§3), and the same membership in every explicit address of
an NSG or firewall rule (§1.1, §7.1).  A group is traced once per pair and counts for
every pair of its ranges (``weight``); ``group_ranges=False`` traces every range, and a
test checks that both give the same counts.

Flows go from :data:`SOURCE_PORT` to the port asked (ports 0 for ICMP, ESP and AH).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.model import OnPrem, VNet
from bgpemu.azure.traffic.flow import AddressSet, Flow, address_value
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import Position, TrafficContext
from bgpemu.azure.traffic.owners import Owner, OwnerKind
from bgpemu.azure.traffic.trace import Trace, UnknownAddressError, trace
from bgpemu.rib.route import RibRoute

__all__ = [
    "PORTLESS",
    "SOURCE_PORT",
    "Endpoint",
    "Matrix",
    "Pair",
    "endpoint_address",
    "flow_between",
    "matrix_endpoints",
    "reachability_matrix",
    "resolve_endpoint",
]

SOURCE_PORT = 50000
"""The source port of every flow the matrix (and an intent) traces: an ephemeral port."""

PORTLESS = frozenset({"Icmp", "Esp", "Ah"})
"""Protocols without ports: their flows carry port 0 both ways."""

_SENDERS = (OwnerKind.INTERFACE, OwnerKind.NVA)


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One row and column of the matrix."""

    name: str
    """``VNET/SUBNET``, an interface or NVA name, or ``ONPREM:PREFIX``."""
    kind: str
    """``subnet``, ``interface`` or ``onprem``."""
    address: str
    """The address its flows start from and go to."""
    ranges: tuple[str, ...] = ()
    """On-prem: the announced ranges it stands for (routed alike; the first is its own)."""

    @property
    def weight(self) -> int:
        """How many endpoints it stands for (its ranges; 1 for a subnet or interface)."""
        return max(1, len(self.ranges))

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        document: dict[str, Any] = {"name": self.name, "kind": self.kind, "address": self.address}
        if len(self.ranges) > 1:
            document["ranges"] = list(self.ranges)
        return document


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    """The verdict of the flow from one endpoint to another."""

    source: str
    destination: str
    verdict: Verdict
    reason: str
    weight: int = 1
    """How many (range) pairs it stands for."""

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        return {
            "source": self.source,
            "destination": self.destination,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Matrix:
    """Every ordered pair of endpoints with its verdict."""

    protocol: str
    port: int
    endpoints: tuple[Endpoint, ...]
    pairs: tuple[Pair, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    """``(VNET/SUBNET, why)`` for each subnet nothing can send from."""

    @property
    def counts(self) -> dict[str, int]:
        """Pairs per verdict (each weighted), in :class:`Verdict` order, non-zero only."""
        counter: Counter[Verdict] = Counter()
        for pair in self.pairs:
            counter[pair.verdict] += pair.weight
        return {v.value: counter[v] for v in Verdict if counter[v]}

    def verdict(self, source: str, destination: str) -> Pair:
        """The pair from endpoint ``source`` to ``destination`` (KeyError naming them)."""
        for pair in self.pairs:
            if pair.source == source and pair.destination == destination:
                return pair
        raise KeyError(f"no pair {source} -> {destination} in the matrix")

    @property
    def unreachable(self) -> tuple[Pair, ...]:
        """The pairs whose verdict is not ``reachable``, in matrix order."""
        return tuple(p for p in self.pairs if p.verdict is not Verdict.REACHABLE)

    def to_json(self) -> dict[str, Any]:
        """The summary and the non-reachable pairs with their reasons (camelCase)."""
        return {
            "protocol": self.protocol,
            "port": self.port,
            "endpoints": [e.to_json() for e in self.endpoints],
            "pairs": sum(p.weight for p in self.pairs),
            "summary": self.counts,
            "unreachable": [p.to_json() for p in self.unreachable],
            "skipped": [{"name": name, "reason": why} for name, why in self.skipped],
        }


def flow_between(protocol: str, source: str, destination: str, port: int) -> Flow:
    """The flow the matrix traces from ``source`` to ``destination`` (addresses):
    :data:`SOURCE_PORT` to ``port``, ports 0 for the portless protocols.  ``protocol``
    in any case (``tcp``, ``Tcp``); ValueError naming the field at fault."""
    flow = Flow.parse(protocol, source, SOURCE_PORT, destination, port)
    if flow.protocol in PORTLESS:
        return Flow(flow.protocol, flow.source, 0, flow.destination, 0)
    return flow


def _first_host(prefix: str) -> str:
    """The first host of ``prefix`` (the address itself for a /31, /32, /127, /128)."""
    network = ipaddress.ip_network(prefix, strict=False)
    if network.num_addresses <= 2:
        return str(network.network_address)
    return str(network.network_address + 1)


def endpoint_address(ctx: TrafficContext, text: str) -> str:
    """The address an endpoint written by a user stands for: an address as given, an
    interface / NVA / firewall name, or ``VNET/SUBNET`` (its first running interface or
    NVA).  ValueError naming ``text`` and why otherwise."""
    text = text.strip()
    try:
        address_value(text)
    except ValueError:
        pass
    else:
        return str(ipaddress.ip_address(text))
    if "/" in text:
        vnet, _, subnet = text.partition("/")
        node = next((n for n in ctx.network.of_type(VNet) if n.name == vnet), None)
        if node is None or not any(s.name == subnet for s in node.subnets):
            raise ValueError(f"{text!r}: no subnet {subnet!r} in a VNet {vnet!r}")
        owner = _sender(ctx, (vnet, subnet))
        if owner is None:
            raise ValueError(f"{text!r}: no running interface or NVA in subnet {text}")
        return owner.address
    return ctx.find(text).address


def resolve_endpoint(ctx: TrafficContext, text: str, *, role: str) -> str:
    """:func:`endpoint_address` of ``text``, checked for a trace's ``role``
    (``source`` or ``destination``); ValueError naming the address and why otherwise.

    A source must be held by an interface, appliance, firewall or gateway, or lie in an
    on-prem router's announced ranges (§5.1 step 1, decision §9.12).  A destination may
    also lie outside every VNet (the Internet, or a private address nothing routes: §8
    S2's 172.31.0.100), but not inside a VNet's address space where nothing holds it.
    """
    address = endpoint_address(ctx, text)
    key = address_value(address)
    if ctx.owner(key) is not None or ctx.host_router(key) is not None:
        return address
    named = address if address == text.strip() else f"{address} ({text.strip()})"
    if role == "source":
        raise ValueError(
            f"source {named} is held by no interface, appliance, firewall or gateway, and "
            f"lies in no on-prem router's announced ranges in network {ctx.network.name!r}"
        )
    position = ctx.position_of(key)
    if position is not None:
        where = f"{position[0]}/{position[1]}" if position[1] else f"VNet {position[0]}"
        raise ValueError(
            f"destination {named} lies in {where}, but no interface, appliance, firewall or "
            "gateway holds it"
        )
    return address


def _sender(ctx: TrafficContext, position: Position) -> Owner | None:
    """The first running interface (else NVA) of ``position``'s subnet."""
    found: Owner | None = None
    for owner in ctx.owners.values():
        if owner.kind not in _SENDERS or not owner.running:
            continue
        if (owner.vnet, owner.subnet) != position:
            continue
        if owner.kind is OwnerKind.INTERFACE:
            return owner
        found = found or owner
    return found


def matrix_endpoints(
    ctx: TrafficContext, *, interfaces: bool = False, group_ranges: bool = True
) -> tuple[list[Endpoint], list[tuple[str, str]]]:
    """The matrix's endpoints in file order (subnets or interfaces, then on-prem ranges),
    and the subnets skipped with why (module docstring)."""
    found: list[Endpoint] = []
    skipped: list[tuple[str, str]] = []
    if interfaces:
        found.extend(
            Endpoint(name=o.name, kind="interface", address=o.address)
            for o in ctx.owners.values()
            if o.kind in _SENDERS and o.running and o.vnet is not None
        )
    else:
        for vnet in ctx.network.of_type(VNet):
            for subnet in vnet.subnets:
                name = f"{vnet.name}/{subnet.name}"
                owner = _sender(ctx, (vnet.name, subnet.name))
                if owner is None:
                    skipped.append((name, "no running interface or NVA to send from"))
                else:
                    found.append(Endpoint(name=name, kind="subnet", address=owner.address))
    signature = _Signature(ctx) if group_ranges else None
    for onprem in ctx.network.of_type(OnPrem):
        groups: dict[Hashable, list[str]] = {}
        prefixes = [announcement.prefix for announcement in onprem.prefixes]
        keys: list[Hashable] = (
            list(prefixes)
            if signature is None
            else list(signature.of_all([_first_host(prefix) for prefix in prefixes]))
        )
        for prefix, key in zip(prefixes, keys, strict=True):
            groups.setdefault(key, []).append(prefix)
        for ranges in groups.values():
            found.append(
                Endpoint(
                    name=f"{onprem.name}:{ranges[0]}",
                    kind="onprem",
                    address=_first_host(ranges[0]),
                    ranges=tuple(ranges),
                )
            )
    return found, skipped


class _Signature:
    """What the places a packet is looked up make of addresses (module docstring)."""

    def __init__(self, ctx: TrafficContext) -> None:
        self.ctx = ctx
        self.positions: list[Position] = [
            (vnet.name, subnet.name)
            for vnet in ctx.network.of_type(VNet)
            for subnet in vnet.subnets
        ]
        self.speakers = sorted(ctx.snapshots)
        self.rule_sets = [AddressSet.of([p]) for p in sorted(_rule_prefixes(ctx))]
        self._entries: dict[int, tuple[tuple[RibRoute, ...] | None, int]] = {}
        """id of a forwarding entry -> (the entry, the number of its (peer, next hop)
        pairs in ``_paths``): a speaker's entry for a prefix is one tuple, read for
        every address it holds."""
        self._paths: dict[tuple[tuple[str | None, str | None], ...], int] = {}
        self._ids: dict[Hashable, int] = {}

    def of_all(self, addresses: list[str]) -> list[int]:
        """The signature of each of ``addresses``: equal for two addresses exactly when
        every subnet's effective route and tags, every speaker's forwarding paths and
        every rule address treat them alike.  Speaker by speaker, each Loc-RIB looked up
        for every address at once (vWAN 2 x 50 x 200: 20,000 addresses, 102 speakers)."""
        ctx = self.ctx
        keys = [address_value(address) for address in addresses]
        columns: list[list[int]] = []
        entries, paths = self._entries, self._paths
        for speaker in self.speakers:
            column: list[int] = []
            for entry in ctx.forwarding_table(speaker).lookup_all(keys):
                hit = entries.get(id(entry))
                if hit is None or hit[0] is not entry:
                    pairs = tuple((r.peer, r.next_hop) for r in entry or ())
                    hit = entries[id(entry)] = (entry, paths.setdefault(pairs, len(paths)))
                column.append(hit[1])
            columns.append(column)
        # A signature is a number (one per distinct signature): the tuples of each
        # address are dropped at once, so they do not pile up for the collector to walk
        # with the whole converged network (twice the time of the lookups at vWAN scale).
        ids = self._ids
        rows: Iterable[tuple[int, ...]] = (
            zip(*columns, strict=True) if columns else [()] * len(keys)
        )
        return [
            ids.setdefault((self._local(key), row), len(ids))
            for key, row in zip(keys, rows, strict=True)
        ]

    def _local(self, key: int) -> Hashable:
        """The subnets' effective routes and tags, and the rule addresses, of one address."""
        ctx = self.ctx
        routes = []
        for position in self.positions:
            route = ctx.lookup(position, key)
            tags = ctx.tags(position)
            routes.append(
                (
                    None
                    if route is None
                    else (route.next_hop_type, route.next_hops, route.source, route.name),
                    key in tags.of("VirtualNetwork"),
                    key in tags.of("Internet"),
                )
            )
        rules = tuple(key in s for s in self.rule_sets)
        return (tuple(routes), rules)


def _rule_prefixes(ctx: TrafficContext) -> set[str]:
    """Every explicit address (no tag, no ``*``) of every NSG and firewall rule."""
    found: set[str] = set()
    for nsg in ctx.network.network_security_groups:
        for rule in nsg.security_rules:
            found.update(rule.source_address_prefixes)
            found.update(rule.destination_address_prefixes)
    for firewall in ctx.network.firewalls:
        for group in firewall.rule_collection_groups:
            for collection in group.rule_collections:
                for fw_rule in collection.rules:
                    found.update(fw_rule.source_addresses)
                    found.update(fw_rule.destination_addresses)
                    if fw_rule.translated_address:
                        found.add(fw_rule.translated_address)
    return {p for p in found if _is_address(p)}


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def reachability_matrix(
    ctx: TrafficContext,
    *,
    protocol: str = "Tcp",
    port: int = 443,
    interfaces: bool = False,
    group_ranges: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Matrix:
    """Trace every ordered pair of endpoints (:func:`matrix_endpoints`) for ``protocol``
    to ``port`` and summarise by verdict.  A group of on-prem ranges against itself is
    traced from its first range to its second.  ``progress(done, total)`` is called after
    each row (a pure callback; the command line prints with it).  ValueError naming the
    protocol or port when they are not valid."""
    spelled = flow_between(protocol, "0.0.0.0", "0.0.0.0", port).protocol
    endpoints, skipped = matrix_endpoints(ctx, interfaces=interfaces, group_ranges=group_ranges)
    pairs: list[Pair] = []
    total = len(endpoints)
    for done, source in enumerate(endpoints, start=1):
        for destination in endpoints:
            pair = _pair(ctx, spelled, port, source, destination)
            if pair is not None:
                pairs.append(pair)
        if progress is not None:
            progress(done, total)
    return Matrix(
        protocol=spelled,
        port=0 if spelled in PORTLESS else port,
        endpoints=tuple(endpoints),
        pairs=tuple(pairs),
        skipped=tuple(skipped),
    )


def _pair(
    ctx: TrafficContext, protocol: str, port: int, source: Endpoint, destination: Endpoint
) -> Pair | None:
    if source is destination:
        if len(source.ranges) < 2:
            return None
        target = _first_host(source.ranges[1])
        weight = source.weight * (source.weight - 1)
    else:
        target = destination.address
        weight = source.weight * destination.weight
    # The addresses are normal already (owners', first hosts): no Flow.parse per pair.
    ports = (0, 0) if protocol in PORTLESS else (SOURCE_PORT, port)
    answer = _trace(ctx, Flow(protocol, source.address, ports[0], target, ports[1]))
    if answer is None:
        return Pair(
            source=source.name,
            destination=destination.name,
            verdict=Verdict.NO_ROUTE,
            reason=f"nothing holds source {source.address}",
            weight=weight,
        )
    return Pair(
        source=source.name,
        destination=destination.name,
        verdict=answer.verdict,
        reason=answer.reason,
        weight=weight,
    )


def _trace(ctx: TrafficContext, flow: Flow) -> Trace | None:
    """The trace of ``flow`` without its warnings (the matrix shows verdicts and reasons
    only; looking for the pitfalls of §6 was a fifth of each trace)."""
    try:
        return trace(ctx, flow, with_warnings=False)
    except UnknownAddressError:
        return None
