"""The lab as cytoscape.js elements: the topology graph and the speakers' sessions (pure).

The picture is :func:`bgpemu.azure.graph.topology_graph` of the topology the lab runs
(its retained ``topology`` document), the same model as ``bgpemu graph``: nodes by role,
grouped as Azure groups them (a VNet holds its gateways, Route Server and NVAs; an
active-active gateway, a Route Server or a circuit is a group of its instances; a
Virtual WAN holds its hubs; azure-routing.md §1, §3.1, §4.1, §5.1, §6.1), in tiers.
A speaker the topology does not name (an external router, or a lab whose topology is
not known) is drawn from its ``info`` document, and a session the graph lacks from the
``sessions`` documents.

Element shapes (docs/web.md): a node ``{"data": {"id", "label", "role", "parent"?,
"tier", "speaker"}}``; a group ``{"data": {"id", "label", "role": "group-..."}}``; an
edge ``{"data": {"id", "source", "target", "label", "kind", "state"}}`` whose ``state``
is the session's RFC 4271 state (null when unknown, and for edges that are no session).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bgpemu.azure.graph import EdgeKind, Graph, role_tier

__all__ = [
    "ESTABLISHED",
    "Element",
    "elements",
    "group_id",
    "session_edge_id",
    "session_states",
]

Element = dict[str, Any]

ESTABLISHED = "Established"

_ROLES = {
    "expressroute": "msee",
    "expressroute_gateway": "er_gateway",
    "vwan_hub": "hub",
    "azure_firewall": "firewall",
}
"""Page roles that differ from the topology's (docs/web.md)."""

_GROUP_ROLES = {"vnet": "group-vnet", "vwan": "group-wan"}
"""A group of any other kind holds the instances of one node: ``group-instances``."""

_EDGE_KINDS = {
    EdgeKind.SESSION: "session",
    EdgeKind.CONNECTION: "connection",
    EdgeKind.PEERING: "peering",
}

_NOT_SPEAKERS = frozenset({"vnet", "azure_firewall"})


def session_edge_id(a: str, b: str) -> str:
    """The id of the session edge between speakers ``a`` and ``b`` (either order)."""
    return "session:" + "|".join(sorted((a, b)))


def group_id(graph_group: str) -> str:
    """The element id of a graph group (a VNet's group and its VNet node share the graph
    id ``vnet:NAME``; cytoscape needs distinct ids)."""
    return f"group:{graph_group}"


def _page_role(role: str, in_instances: bool) -> str:
    if role == "vpn_gateway" and in_instances:
        return "gateway_instance"
    return _ROLES.get(role, role)


def _sessions_of(sessions: Mapping[str, Any], speaker: str) -> list[Mapping[str, Any]]:
    doc = sessions.get(speaker)
    entries = doc.get("sessions") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, Mapping) and isinstance(e.get("peer"), str)]


def session_states(sessions: Mapping[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Session edge id -> (speaker, peer, state) from the ``sessions`` documents by
    speaker.  A session both ends report is up only if both say Established: the state
    shown is the first end's that is not (in name order), else Established."""
    found: dict[str, tuple[str, str, str]] = {}
    for speaker in sorted(sessions):
        for entry in _sessions_of(sessions, speaker):
            state = entry.get("state")
            if not isinstance(state, str):
                continue
            edge = session_edge_id(speaker, entry["peer"])
            known = found.get(edge)
            if known is None or (known[2] == ESTABLISHED and state != ESTABLISHED):
                found[edge] = (speaker, entry["peer"], state)
    return found


def _info_role(info: Any) -> str:
    role = info.get("role") if isinstance(info, Mapping) else None
    return role if isinstance(role, str) else "speaker"


def elements(
    graph: Graph | None,
    infos: Mapping[str, Any],
    sessions: Mapping[str, Any],
) -> list[Element]:
    """The elements of the page's graph: groups first (parents before children), then
    nodes, then edges; ``infos`` and ``sessions`` are the speakers' documents by name."""
    out: list[Element] = []
    nodes: set[str] = set()
    instances: set[str] = set()
    if graph is not None:
        for group in graph.groups:
            data: dict[str, Any] = {
                "id": group_id(group.id),
                "label": group.label,
                "role": _GROUP_ROLES.get(group.kind, "group-instances"),
                "kind": group.kind,
            }
            if group.parent is not None:
                data["parent"] = group_id(group.parent)
            if data["role"] == "group-instances":
                instances.add(group.id)
            out.append({"group": "nodes", "data": data})
        for node in graph.nodes:
            data = {
                "id": node.id,
                "label": node.label,
                "role": _page_role(node.role, node.group in instances),
                "tier": int(node.tier),
                "speaker": None if node.role in _NOT_SPEAKERS else node.id,
            }
            if node.group is not None:
                data["parent"] = group_id(node.group)
            out.append({"group": "nodes", "data": data})
            nodes.add(node.id)
    for speaker in sorted(set(infos) - nodes):
        role = _info_role(infos[speaker])
        data = {
            "id": speaker,
            "label": speaker,
            "role": _page_role(role, False),
            "tier": int(role_tier(role)),
            "speaker": speaker,
        }
        out.append({"group": "nodes", "data": data})
        nodes.add(speaker)
    states = session_states(sessions)
    drawn: set[str] = set()
    if graph is not None:
        for edge in graph.edges:
            kind = _EDGE_KINDS[edge.kind]
            if edge.kind is EdgeKind.SESSION:
                ident = session_edge_id(edge.a, edge.b)
            else:
                ident = f"{kind}:{edge.a}|{edge.b}"
            out.append(_edge(ident, edge.a, edge.b, edge.label, kind, states))
            drawn.add(ident)
    out.extend(_extra_sessions(states, drawn, nodes))
    return out


def _edge(
    ident: str,
    source: str,
    target: str,
    label: str,
    kind: str,
    states: Mapping[str, tuple[str, str, str]],
) -> Element:
    known = states.get(ident) if kind == "session" else None
    data = {
        "id": ident,
        "source": source,
        "target": target,
        "label": label,
        "kind": kind,
        "state": None if known is None else known[2],
    }
    return {"group": "edges", "data": data}


def _extra_sessions(
    states: Mapping[str, tuple[str, str, str]], drawn: set[str], nodes: set[str]
) -> Iterable[Element]:
    """Sessions the graph does not have (external routers; no topology), between drawn
    nodes."""
    for ident in sorted(set(states) - drawn):
        speaker, peer, _state = states[ident]
        if speaker in nodes and peer in nodes:
            a, b = sorted((speaker, peer))
            yield _edge(ident, a, b, "BGP session", "session", states)
