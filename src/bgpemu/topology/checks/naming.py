"""Names and references: every name well-formed and unique, every reference resolves.

A reference must name an existing node of the right role (a ``vpn_gateway``'s
``vnet`` is a ``vnet``, a ``site_to_site``'s ``site`` an ``onprem``...); names inside a
node (subnets, route tables, routes) are unique within it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pydantic.alias_generators import to_camel

from bgpemu.azure.learn import see
from bgpemu.topology._base import NAME_PATTERN
from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.firewall import AzureFirewallModel
from bgpemu.topology.nodes import (
    ExpressRouteCircuitModel,
    ExpressRouteGatewayModel,
    NvaModel,
    RouteServerModel,
    VNetModel,
    VpnGatewayModel,
    VWanHubModel,
)

__all__ = ["check_names", "check_references", "reference"]

_NAME = re.compile(NAME_PATTERN)


def _bad_name(name: str) -> tuple[str, str] | None:
    if "." in name:
        return (
            f"name {name!r} contains '.'",
            "'.' is reserved for instances (gw.0, er1.primary); use '-' or '_'",
        )
    if not _NAME.match(name):
        return f"name {name!r} is not made of letters, digits, '-' and '_'", "rename it"
    return None


def check_names(index: Index, explicit: dict[int, str]) -> Iterator[Issue]:
    """Node names, connection names (explicit ones well-formed, all unique)."""
    for name in index.roles:
        bad = _bad_name(name)
        if bad:
            yield Issue(("nodes", name), *bad)
    for position, name in explicit.items():
        bad = _bad_name(name)
        if bad:
            yield Issue(("connections", position, "name"), *bad)
    seen: dict[str, int] = {}
    for position, connection in index.connections:
        name = connection.effective_name()
        if name in seen:
            path = ("connections", position, "name" if connection.name else "type")
            yield Issue(
                path,
                f"connection name {name!r} is already used by connections[{seen[name]}]",
                "give one of them an explicit, unique 'name'",
            )
        else:
            seen[name] = position
    yield from _inner_names(index)


def _unique(path: tuple[str | int, ...], names: Iterable[str], what: str) -> Iterator[Issue]:
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            yield Issue(
                (*path, position, "name"),
                f"{what} {name!r} is already defined at {path[-1]}[{seen[name]}]",
                f"{what} names must be unique",
            )
        else:
            seen[name] = position


def _inner_names(index: Index) -> Iterator[Issue]:
    for name, vnet in index.of(VNetModel):
        base = ("nodes", name)
        yield from _unique((*base, "subnets"), (s.name for s in vnet.subnets), "subnet")
        yield from _unique((*base, "routeTables"), (t.name for t in vnet.route_tables), "table")
        for t, table in enumerate(vnet.route_tables):
            path = (*base, "routeTables", t, "routes")
            yield from _unique(path, (r.name for r in table.routes), "route")
    for name, hub in index.of(VWanHubModel):
        base = ("nodes", name)
        yield from _unique((*base, "routeTables"), (t.name for t in hub.route_tables), "table")
        yield from _unique((*base, "p2s"), (p.name for p in hub.p2s), "P2S configuration")


_SHOWN = 10
"""Node names a hint lists at most: a file with thousands of wrong references would
otherwise repeat every name in each of its thousands of problems."""


def _known(index: Index, roles: tuple[str, ...]) -> str:
    """The hint for a missing node: the nodes with one of ``roles`` (the first few)."""
    wanted = " or ".join(roles)
    known = index.names_of(roles)
    if not known:
        return f"define a {wanted} node"
    shown = ", ".join(known[:_SHOWN])
    more = f", ... ({len(known)} in all)" if len(known) > _SHOWN else ""
    return f"{wanted} nodes: {shown}{more}"


def reference(
    index: Index, path: tuple[str | int, ...], name: str, roles: tuple[str, ...]
) -> Issue | None:
    """An issue if ``name`` is not a node with one of ``roles`` (None if fine)."""
    wanted = " or ".join(roles)
    if name not in index.roles:
        return Issue(path, f"{name!r} is not a node of this topology", _known(index, roles))
    role = index.roles[name]
    if role is not None and role not in roles:
        return Issue(path, f"{name!r} is a {role}, not a {wanted}", f"name a {wanted} node")
    return None


def check_references(index: Index) -> Iterator[Issue]:
    """Node fields and connection ends that name other nodes."""
    refs: list[Issue | None] = []
    for name, node in index.nodes.items():
        base = ("nodes", name)
        if isinstance(
            node,
            VpnGatewayModel
            | ExpressRouteGatewayModel
            | RouteServerModel
            | NvaModel
            | AzureFirewallModel,
        ):
            refs.append(reference(index, (*base, "vnet"), node.vnet, ("vnet",)))
        elif isinstance(node, ExpressRouteCircuitModel):
            refs.append(reference(index, (*base, "peer"), node.peer, ("onprem",)))
        elif isinstance(node, VWanHubModel):
            refs.append(reference(index, (*base, "vwan"), node.vwan, ("vwan",)))
        elif isinstance(node, VNetModel):
            refs.extend(_vnet_references(index, name, node))
    for position, connection in index.connections:
        ends = connection.ends()
        for attr, target, roles in ends:
            path = ("connections", position, to_camel(attr))
            refs.append(reference(index, path, target, roles))
        if ends[0][1] == ends[1][1]:
            refs.append(
                Issue(
                    ("connections", position, to_camel(ends[1][0])),
                    f"both ends of the connection are {ends[0][1]}",
                    "a connection joins two different nodes",
                )
            )
    yield from (issue for issue in refs if issue is not None)


def _vnet_references(index: Index, name: str, vnet: VNetModel) -> Iterator[Issue | None]:
    base = ("nodes", name)
    tables = [t.name for t in vnet.route_tables]
    for s, subnet in enumerate(vnet.subnets):
        if subnet.route_table is not None and subnet.route_table not in tables:
            hint = f"tables of {name}: {', '.join(tables)}" if tables else "add it to routeTables"
            yield Issue(
                (*base, "subnets", s, "routeTable"),
                f"{name} has no route table {subnet.route_table!r}",
                hint,
            )
    remotes: dict[str, int] = {}
    for p, peering in enumerate(vnet.peerings):
        path = (*base, "peerings", p, "remoteVirtualNetwork")
        remote = peering.remote_virtual_network
        if remote == name:
            yield Issue(path, "a VNet cannot peer with itself", "name another vnet")
            continue
        if remote in remotes:
            yield Issue(
                path,
                f"{name} already peers with {remote} at peerings[{remotes[remote]}]",
                f"one peering per pair of VNets ({see('PEER')})",
            )
        remotes.setdefault(remote, p)
        yield reference(index, path, remote, ("vnet",))
