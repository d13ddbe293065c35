"""A lab's trace answer drawn on the page's graph (issue 16): the element of every hop.

Pure.  The lab answers a ``trace`` question (docs/mqtt.md, "Traffic questions") with the
paths of :func:`bgpemu.azure.traffic.trace.trace`: hops named the way Network Watcher
names them (``shared/azure-traffic.md`` §4.4, decision §9.6): an interface (``Source``,
``VnetLocal``, ``VNetPeering``), a gateway, circuit, hub or on-prem router by its topology
node and the address of the instance that forwarded, an NVA or firewall
(``VirtualAppliance``), ``host behind SITE`` for an on-prem source, ``Internet``, or the
``Destination`` a dropped path would have reached.  The page draws the topology graph
(:mod:`bgpemu.web.elements`, from :func:`bgpemu.azure.graph.topology_graph`): speakers
by speaker name, VNets, firewalls.  :func:`trace_on_graph` finds each hop's element:

1. the speaker whose Loc-RIB the hop forwarded by (its route's table, ``HubGW Loc-RIB``);
2. the instance of the hop's topology node that holds the hop's address (an ExpressRoute
   hop names the circuit; the MSEE that forwarded has the address), else the node's
   first instance;
3. a firewall, or an NVA without a speaker, by name;
4. an interface's VNet; an on-prem host's router (the on-prem node announcing a range
   that holds the address);
5. nothing for ``Internet`` and ``Destination`` (no element stands for them).

The highlight is every forward path's elements and the edges between two consecutive
ones (a session, a connection or a peering; none when the two share no edge, e.g. a VM
and the gateway of its own VNet).  ``hops`` lists every hop, forward paths then the
reply's, with its element (null when none), its route and the rules that admitted or
dropped it, as text for the page.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure import model as m
from bgpemu.azure.plan import Plan

__all__ = ["ElementIndex", "trace_on_graph"]

_LOC_RIB = " Loc-RIB"


@dataclass(frozen=True, slots=True)
class ElementIndex:
    """The page's graph elements, looked up by what a hop names."""

    nodes: frozenset[str]
    """Ids of the nodes (groups excluded)."""
    by_name: Mapping[str, str]
    """A node's name (the first line of its label: a speaker, VNet or firewall name) to
    its id; a speaker's own id wins."""
    names: Mapping[str, str] = field(default_factory=dict)
    """A node's id to its name."""
    edges: Mapping[frozenset[str], tuple[str, ...]] = field(default_factory=dict)
    """The edges between two nodes, by their two ids."""

    @classmethod
    def of(cls, elements: Iterable[Mapping[str, Any]]) -> ElementIndex:
        """The index of cytoscape ``elements`` (``{"data": {...}}``, docs/web.md)."""
        nodes: set[str] = set()
        by_name: dict[str, str] = {}
        names: dict[str, str] = {}
        edges: dict[frozenset[str], list[str]] = {}
        for element in elements:
            data = element.get("data") if isinstance(element, Mapping) else None
            if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
                continue
            ident = data["id"]
            source, target = data.get("source"), data.get("target")
            if isinstance(source, str) and isinstance(target, str):
                edges.setdefault(frozenset((source, target)), []).append(ident)
                continue
            role = data.get("role")
            if isinstance(role, str) and role.startswith("group"):
                continue
            nodes.add(ident)
            label = data.get("label")
            name = label.split("\n", 1)[0] if isinstance(label, str) else ident
            by_name.setdefault(name, ident)
            names[ident] = name
        for ident in nodes:
            by_name[ident] = ident
        return cls(
            nodes=frozenset(nodes),
            by_name=by_name,
            names=names,
            edges={pair: tuple(ids) for pair, ids in edges.items()},
        )


@dataclass(frozen=True, slots=True)
class _Places:
    """What the network says about names and addresses a hop may carry."""

    instances: Mapping[str, tuple[tuple[str, str], ...]]
    """Topology node -> its speakers' (speaker, Azure address), by instance."""
    interfaces: Mapping[str, str]
    """Interface name -> its VNet."""
    onprem: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]
    """(announced range, on-prem node)."""
    vnets: Mapping[str, str]
    """A speaker, VNet or firewall name -> the VNet it lives in."""

    @classmethod
    def of(cls, network: m.Network | None, plan: Plan | None) -> _Places:
        if network is None or plan is None:
            return cls(instances={}, interfaces={}, onprem=(), vnets={})
        instances: dict[str, list[tuple[str, str]]] = {}
        for endpoint in sorted(plan.endpoints.values(), key=lambda e: (e.instance, e.speaker)):
            instances.setdefault(endpoint.node, []).append(
                (endpoint.speaker, endpoint.azure_address)
            )
        interfaces: dict[str, str] = {}
        for vnet in network.of_type(m.VNet):
            for subnet in vnet.subnets:
                for nic in subnet.network_interfaces:
                    interfaces.setdefault(nic.name, vnet.name)
        vnets: dict[str, str] = {v.name: v.name for v in network.of_type(m.VNet)}
        for firewall in network.firewalls:
            vnets[firewall.name] = firewall.vnet
        for node in network.nodes:
            if isinstance(node, m.VpnGateway | m.ExpressRouteGateway | m.RouteServer | m.Nva):
                for speaker, _ in instances.get(node.name, ()):
                    vnets[speaker] = node.vnet
        onprem = []
        for site in network.of_type(m.OnPrem):
            for announcement in site.prefixes:
                try:
                    onprem.append(
                        (ipaddress.ip_network(announcement.prefix, strict=False), site.name)
                    )
                except ValueError:
                    continue
        return cls(
            instances={node: tuple(found) for node, found in instances.items()},
            interfaces=interfaces,
            onprem=tuple(onprem),
            vnets=vnets,
        )


def _address(text: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _element(hop: Mapping[str, Any], places: _Places, index: ElementIndex) -> str | None:
    """The id of the element that stands for ``hop`` (module docstring), or None."""
    kind, name, address = hop.get("type"), hop.get("name"), hop.get("address")
    if kind in ("Internet", "Destination") or not isinstance(name, str):
        return None
    route = hop.get("route")
    table = route.get("table") if isinstance(route, Mapping) else None
    if isinstance(table, str) and table.endswith(_LOC_RIB):
        speaker = table[: -len(_LOC_RIB)]
        if speaker in index.nodes:
            return speaker
    instances = places.instances.get(name, ())
    for speaker, azure_address in instances:
        if azure_address == address and speaker in index.nodes:
            return speaker
    for speaker, _ in instances:
        if speaker in index.nodes:
            return speaker
    vnet = places.interfaces.get(name)
    if vnet is not None:
        return index.by_name.get(vnet)
    if name in index.by_name and kind == "VirtualAppliance":
        return index.by_name[name]  # a firewall, an NVA
    host = _address(address)
    if kind == "Source" and host is not None:  # an on-prem host: its router
        for prefix, site in places.onprem:
            if host.version == prefix.version and host in prefix:
                return _element({"type": "OnPremises", "name": site}, places, index)
    return None


def _route_text(route: object) -> str:
    """``10.2.0.0/16 -> VirtualNetworkGateway 10.0.255.4 (Hub/Workload: why)``."""
    if not isinstance(route, Mapping):
        return ""
    hops = route.get("nextHopIpAddress")
    via = " ".join(str(h) for h in hops) if isinstance(hops, list) else ""
    target = f"{route.get('nextHopType')}{' ' + via if via else ''}"
    return f"{route.get('addressPrefix')} -> {target} ({route.get('table')}: {route.get('why')})"


def _rules_text(rules: object) -> str:
    """``NetworkSecurityGroup App-nsg Outbound Allow AllowVnetOutBound; ...``."""
    if not isinstance(rules, list):
        return ""
    parts = []
    for rule in rules:
        if isinstance(rule, Mapping):
            words = (rule.get(k) for k in ("kind", "resource", "direction", "access", "ruleName"))
            parts.append(" ".join(str(w) for w in words if w))
    return "; ".join(parts)


def _paths(trace: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    paths = trace.get(key)
    return [p for p in paths if isinstance(p, Mapping)] if isinstance(paths, list) else []


def _hops(path: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    hops = path.get("hops")
    return [h for h in hops if isinstance(h, Mapping)] if isinstance(hops, list) else []


def _edges_between(a: str, b: str, places: _Places, index: ElementIndex) -> tuple[str, ...]:
    """The edges between elements ``a`` and ``b``; when they share none and live in two
    VNets, the edges between those VNets (the peering the packet crossed, §2)."""
    direct = index.edges.get(frozenset((a, b)), ())
    if direct:
        return direct
    vnet_a, vnet_b = (places.vnets.get(index.names.get(x, x)) for x in (a, b))
    if vnet_a is None or vnet_b is None or vnet_a == vnet_b:
        return ()
    end_a, end_b = index.by_name.get(vnet_a), index.by_name.get(vnet_b)
    if end_a is None or end_b is None:
        return ()
    return index.edges.get(frozenset((end_a, end_b)), ())


def trace_on_graph(
    trace: Mapping[str, Any],
    network: m.Network | None,
    plan: Plan | None,
    elements: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """``{"highlight": {"nodes": [...], "edges": [...]}, "hops": [...]}`` for the trace
    document ``trace`` (the ``trace`` of a lab's answer: ``Trace.to_json``) on the page's
    ``elements`` drawn from ``network`` and ``plan`` (module docstring; without them,
    e.g. before the lab's topology document arrived, only the speakers whose Loc-RIB a
    hop used and the elements named like a hop are found).  Ids are in path order, each
    once."""
    places = _Places.of(network, plan)
    index = ElementIndex.of(elements)
    nodes: dict[str, None] = {}
    edges: dict[str, None] = {}
    hops: list[dict[str, Any]] = []
    for direction, key in (("forward", "paths"), ("reply", "replyPaths")):
        for number, path in enumerate(_paths(trace, key)):
            previous: str | None = None
            for hop in _hops(path):
                element = _element(hop, places, index)
                hops.append(
                    {
                        "direction": direction,
                        "path": number,
                        "verdict": path.get("verdict"),
                        "node": element,
                        "type": hop.get("type"),
                        "label": f"{hop.get('name')} ({hop.get('type')}, {hop.get('address')})",
                        "route": _route_text(hop.get("route")),
                        "rule": _rules_text(hop.get("rules")),
                    }
                )
                if direction != "forward" or element is None:
                    continue
                nodes[element] = None
                if previous is not None and previous != element:
                    for edge in _edges_between(previous, element, places, index):
                        edges[edge] = None
                previous = element
    return {"highlight": {"nodes": list(nodes), "edges": list(edges)}, "hops": hops}
