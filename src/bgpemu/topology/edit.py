"""Edits of a topology document: the runtime topology changes of a running lab (issue 6).

The document edited is the model of record a loaded Network carries
(:mod:`bgpemu.topology.source`: the file as written).  :func:`edit_document` makes one
operation on a document and returns a new one (the input is never changed);
:func:`apply_edit` makes it on a Network's document and compiles the result through
the loader (:func:`~bgpemu.topology.loader.parse_topology`, with the file's own key
sources), so an edit is held to every rule a file is, and returns the new Network,
which carries the new document.  Problems are raised together as a
:class:`~bgpemu.errors.ConfigError`, each labelled with the operation
(``add_peering Spoke3->Hub: nodes.Spoke3.peerings[0].remoteVirtualNetwork: ...``).
A Network built in code has no document: its edits are refused
(:func:`~bgpemu.topology.source.source_of`).

Arguments use the topology file's keys (``remoteVirtualNetwork``,
``useRemoteGateways``); Python-style ``snake_case`` spellings are accepted too.

==================  ====================================================================
operation           arguments
==================  ====================================================================
add_peering         ``vnet``, ``remoteVirtualNetwork`` and the other peering fields
remove_peering      ``vnet``, ``remoteVirtualNetwork``
add_connection      a connection exactly as in ``connections:`` (``type`` and its fields)
remove_connection   ``type`` plus identifying fields (``name`` or its ends): one must match
add_node            ``name`` plus the node mapping (``role`` and its fields)
remove_node         ``name``; refused while a connection, peering or node refers to it
add_route           ``vnet``, ``routeTable`` and the UDR's fields (``name``,
                    ``addressPrefix``, ``nextHopType``, ``nextHopIpAddress``)
remove_route        ``vnet``, ``routeTable``, ``name``
add_security_rule   ``networkSecurityGroup`` and the rule's fields (``name``, ``priority``,
                    ``direction``...)
remove_security_rule ``networkSecurityGroup``, ``name``
==================  ====================================================================

Route and security rule edits change no BGP session (a UDR and an NSG rule are not
advertised): they change the effective routes and the traffic answers (issue 14: a UDR
removed so that a return path bypasses a firewall, a deny rule added).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pydantic.alias_generators import to_camel

from bgpemu.azure.model import Network
from bgpemu.config.keys import KeySources
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.text import counted
from bgpemu.topology.connections import CONNECTION_MODELS
from bgpemu.topology.loader import parse_topology
from bgpemu.topology.source import Document, source_of

__all__ = ["EDIT_OPS", "Document", "apply_edit", "check_document", "describe", "edit_document"]

_NODE_REFERENCES = ("vnet", "peer", "vwan")
"""Node fields that name another node (a gateway's VNet, a circuit's peer, a hub's WAN)."""


def _keys(args: Mapping[str, Any]) -> dict[str, Any]:
    return {(to_camel(k) if "_" in str(k) else str(k)): v for k, v in args.items()}


def _ends(kind: str) -> list[str]:
    """The file keys of the two ends of connection type ``kind``."""
    model = CONNECTION_MODELS[kind]
    return [to_camel(attr) for attr, _ in model.ENDS]


def describe(op: str, args: Mapping[str, Any]) -> str:
    """A short label of one edit, for messages (``add_peering Spoke3->Hub``)."""
    a = _keys(args)
    if op in ("add_peering", "remove_peering"):
        return f"{op} {a.get('vnet')}->{a.get('remoteVirtualNetwork')}"
    if op in ("add_route", "remove_route"):
        return f"{op} {a.get('vnet')}/{a.get('routeTable')}/{a.get('name')}"
    if op in ("add_security_rule", "remove_security_rule"):
        return f"{op} {a.get('networkSecurityGroup')}/{a.get('name')}"
    if op in ("add_connection", "remove_connection"):
        kind = a.get("type")
        if kind in CONNECTION_MODELS:
            ends = "-".join(str(a[k]) for k in _ends(str(kind)) if k in a)
            return f"{op} {kind} {a.get('name') or ends}".strip()
        return f"{op} {kind}"
    return f"{op} {a.get('name')}"


def _fail(label: str, message: str, hint: str = "") -> ConfigError:
    return ConfigError([ConfigProblem(label, "", message, hint)])


def _nodes(document: Document) -> dict[str, Any]:
    nodes = document.get("nodes")
    return nodes if isinstance(nodes, dict) else {}


def _vnet(document: Document, name: Any, label: str) -> dict[str, Any]:
    node = _nodes(document).get(name)
    if not isinstance(node, dict) or node.get("role") != "vnet":
        vnets = sorted(n for n, v in _nodes(document).items() if _role(v) == "vnet")
        raise _fail(label, f"no VNet {name!r} (VNets: {', '.join(vnets) or 'none'})")
    return node


def _role(node: Any) -> Any:
    return node.get("role") if isinstance(node, dict) else None


def _add_peering(document: Document, args: dict[str, Any], label: str) -> None:
    vnet = _vnet(document, args.pop("vnet", None), label)
    if "remoteVirtualNetwork" not in args:
        raise _fail(label, "remoteVirtualNetwork is missing")
    vnet["peerings"] = [*vnet.get("peerings", []), args]


def _remove_peering(document: Document, args: dict[str, Any], label: str) -> None:
    vnet = _vnet(document, args.pop("vnet", None), label)
    remote = args.pop("remoteVirtualNetwork", None)
    if args:
        raise _fail(
            label, f"unknown field(s) {', '.join(sorted(args))} (vnet, remoteVirtualNetwork)"
        )
    peerings = vnet.get("peerings", [])
    kept = [
        p for p in peerings if not (isinstance(p, dict) and p.get("remoteVirtualNetwork") == remote)
    ]
    if len(kept) == len(peerings):
        have = [str(p.get("remoteVirtualNetwork")) for p in peerings if isinstance(p, dict)]
        raise _fail(
            label, f"no peering to {remote!r} (it peers with: {', '.join(have) or 'nothing'})"
        )
    vnet["peerings"] = kept


def _connections(document: Document) -> list[Any]:
    found = document.get("connections")
    return found if isinstance(found, list) else []


def _add_connection(document: Document, args: dict[str, Any], label: str) -> None:
    if "type" not in args:
        raise _fail(label, "type is missing", f"one of {', '.join(CONNECTION_MODELS)}")
    document["connections"] = [*_connections(document), args]


def _connection_name(item: Mapping[str, Any]) -> str:
    if isinstance(item.get("name"), str):
        return str(item["name"])
    kind = item.get("type")
    ends = _ends(str(kind)) if kind in CONNECTION_MODELS else []
    return "-".join(str(item.get(k)) for k in ends)


def _remove_connection(document: Document, args: dict[str, Any], label: str) -> None:
    kind = args.pop("type", None)
    if kind not in CONNECTION_MODELS:
        raise _fail(
            label, f"type {kind!r} is not a connection type ({', '.join(CONNECTION_MODELS)})"
        )
    allowed = ["name", *_ends(str(kind))]
    unknown = sorted(set(args) - set(allowed))
    if unknown or not args:
        raise _fail(
            label,
            f"identify the {kind} connection by {', '.join(allowed)}"
            + (f", not {', '.join(unknown)}" if unknown else ""),
        )

    def matches(item: Any) -> bool:
        if not isinstance(item, dict) or item.get("type") != kind:
            return False
        for key, value in args.items():
            have = _connection_name(item) if key == "name" else item.get(key)
            if have != value:
                return False
        return True

    connections = _connections(document)
    found = [i for i, item in enumerate(connections) if matches(item)]
    if len(found) != 1:
        same = [
            _connection_name(c)
            for c in connections
            if isinstance(c, dict) and c.get("type") == kind
        ]
        which = ", ".join(_connection_name(connections[i]) for i in found)
        match = "matches" if len(found) == 1 else "match"
        what = f"no {kind} connections" if not found else counted(len(found), f"{kind} connection")
        raise _fail(
            label,
            f"{what} {match}{': ' + which if found else ''}",
            f"{kind} connections: {', '.join(same) or 'none'}",
        )
    document["connections"] = [c for i, c in enumerate(connections) if i != found[0]]


def _add_node(document: Document, args: dict[str, Any], label: str) -> None:
    name = args.pop("name", None)
    if not isinstance(name, str) or not name:
        raise _fail(label, "name is missing")
    nodes = _nodes(document)
    if name in nodes:
        raise _fail(label, f"a node is already called {name!r} (a {_role(nodes[name])})")
    document["nodes"] = {**nodes, name: args}


def references(document: Document, name: str) -> list[str]:
    """Where ``document`` refers to node ``name``: connections, peerings, other nodes."""
    found = []
    for item in _connections(document):
        if not isinstance(item, dict) or item.get("type") not in CONNECTION_MODELS:
            continue
        if name in (item.get(k) for k in _ends(str(item["type"]))):
            found.append(f"connection {_connection_name(item)}")
    for other, node in _nodes(document).items():
        if not isinstance(node, dict) or other == name:
            continue
        for peering in node.get("peerings", []) or []:
            if isinstance(peering, dict) and peering.get("remoteVirtualNetwork") == name:
                found.append(f"peering {other}->{name}")
        found.extend(f"node {other} ({key})" for key in _NODE_REFERENCES if node.get(key) == name)
    return found


def _remove_node(document: Document, args: dict[str, Any], label: str) -> None:
    name = args.pop("name", None)
    nodes = _nodes(document)
    if name not in nodes:
        raise _fail(label, f"no node {name!r} (nodes: {', '.join(sorted(nodes))})")
    used = references(document, str(name))
    if used:
        raise _fail(
            label,
            f"{name!r} is still referred to by: {', '.join(used)}",
            "remove those first",
        )
    document["nodes"] = {k: v for k, v in nodes.items() if k != name}


def _named_list(owner: dict[str, Any], key: str, label: str) -> list[Any]:
    """``owner[key]``, a list of named mappings (empty when absent)."""
    found = owner.get(key, [])
    if not isinstance(found, list):
        raise _fail(label, f"{key} is not a list")
    return found


def _route_table(document: Document, args: dict[str, Any], label: str) -> dict[str, Any]:
    vnet_name = args.pop("vnet", None)
    vnet = _vnet(document, vnet_name, label)
    table_name = args.pop("routeTable", None)
    tables = _named_list(vnet, "routeTables", label)
    for table in tables:
        if isinstance(table, dict) and table.get("name") == table_name:
            return table
    have = [str(t.get("name")) for t in tables if isinstance(t, dict)]
    raise _fail(
        label,
        f"{vnet_name} has no route table {table_name!r} (tables: {', '.join(have) or 'none'})",
    )


def _add_route(document: Document, args: dict[str, Any], label: str) -> None:
    table = _route_table(document, args, label)
    table["routes"] = [*_named_list(table, "routes", label), args]


def _remove_named(
    owner: dict[str, Any], key: str, args: dict[str, Any], what: str, label: str
) -> None:
    name = args.pop("name", None)
    if args:
        raise _fail(label, f"unknown field(s) {', '.join(sorted(args))}")
    items = _named_list(owner, key, label)
    kept = [i for i in items if not (isinstance(i, dict) and i.get("name") == name)]
    if len(kept) == len(items):
        have = [str(i.get("name")) for i in items if isinstance(i, dict)]
        raise _fail(label, f"no {what} {name!r} ({what}s: {', '.join(have) or 'none'})")
    owner[key] = kept


def _remove_route(document: Document, args: dict[str, Any], label: str) -> None:
    _remove_named(_route_table(document, args, label), "routes", args, "route", label)


def _nsg(document: Document, args: dict[str, Any], label: str) -> dict[str, Any]:
    name = args.pop("networkSecurityGroup", None)
    nsgs = document.get("networkSecurityGroups")
    nsg = nsgs.get(name) if isinstance(nsgs, dict) else None
    if not isinstance(nsg, dict):
        known = sorted(str(n) for n in nsgs) if isinstance(nsgs, dict) else []
        raise _fail(
            label, f"no network security group {name!r} (NSGs: {', '.join(known) or 'none'})"
        )
    return nsg


def _add_security_rule(document: Document, args: dict[str, Any], label: str) -> None:
    nsg = _nsg(document, args, label)
    nsg["securityRules"] = [*_named_list(nsg, "securityRules", label), args]


def _remove_security_rule(document: Document, args: dict[str, Any], label: str) -> None:
    _remove_named(_nsg(document, args, label), "securityRules", args, "security rule", label)


_OPS: dict[str, Callable[[Document, dict[str, Any], str], None]] = {
    "add_peering": _add_peering,
    "remove_peering": _remove_peering,
    "add_connection": _add_connection,
    "remove_connection": _remove_connection,
    "add_node": _add_node,
    "remove_node": _remove_node,
    "add_route": _add_route,
    "remove_route": _remove_route,
    "add_security_rule": _add_security_rule,
    "remove_security_rule": _remove_security_rule,
}
EDIT_OPS = tuple(_OPS)
"""Every topology edit operation."""


def edit_document(document: Mapping[str, Any], op: str, args: Mapping[str, Any]) -> Document:
    """A copy of ``document`` with edit ``op`` made (ConfigError if it cannot be made).

    Only the edit itself is checked here (the VNet, peering, connection or node it
    names exists; a removed node is no longer referred to): :func:`apply_edit` also
    validates the result.
    """
    if op not in _OPS:
        raise _fail(op, f"unknown topology edit (one of: {', '.join(EDIT_OPS)})")
    if not isinstance(args, Mapping):
        raise _fail(op, f"expects a mapping of fields, not {args!r}")
    label = describe(op, args)
    new = copy.deepcopy(dict(document))
    _OPS[op](new, copy.deepcopy(_keys(args)), label)
    return new


def check_document(
    document: Mapping[str, Any], label: str, keys: KeySources | None = None
) -> Network:
    """The Network of ``document`` (carrying it as its source), compiled by the loader;
    ConfigError with every problem, each labelled ``label`` instead of a file and line."""
    text = yaml.safe_dump(dict(document), sort_keys=False)
    try:
        return parse_topology(text, label, keys)
    except ConfigError as exc:
        raise ConfigError(
            [ConfigProblem(label, p.location, p.message, p.hint) for p in exc.problems]
            or [ConfigProblem(label, "", "the topology is not valid")]
        ) from None


def apply_edit(network: Network, op: str, args: Mapping[str, Any]) -> Network:
    """Make edit ``op`` on ``network``'s document and compile the whole result: the new
    Network, which carries the new document.

    ConfigError lists every problem (the edit's own, then the loader's on the new
    document), each labelled with :func:`describe`; ``network`` is left unchanged.
    """
    label = describe(op, args) if isinstance(args, Mapping) else op
    source = source_of(network, label)
    new = edit_document(source.document, op, args)
    return check_document(new, label, source.keys)
