"""The JSON documents published on MQTT, and the deltas between two snapshots (pure).

Every payload is a JSON object whose ``schema`` field names its kind and version
(``bgpemu/v1/<kind>``); the JSON Schemas are in ``schema/mqtt/`` and
``docs/mqtt.md`` shows an example of each.

Tables and sequence numbers.  The four tables of a node (``rib/loc``, ``rib/in``,
``rib/out``, ``sessions``) each have a retained document whose ``seq`` is the node
sequence number of the last change it holds.  A delta (``event``) carries the next
node ``seq`` and, in ``base``, the ``seq`` of every table it changes as it was before
the change.  :func:`apply_delta` applies a delta to a table document when the
document is exactly at ``base`` (and raises :class:`SequenceGapError` when it is older:
the observer missed a delta and must re-read the retained document).  Routes are
grouped by (family, prefix): an ``announce`` entry replaces every route of one
prefix in one table (so a multipath set or ADD-PATH paths move as one unit) and a
``withdraw`` entry removes them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from bgpemu.azure.snapshot import PeerStatus, RibRoute, RouterSnapshot
from bgpemu.observe.errors import SequenceGapError
from bgpemu.observe.topics import TABLES, NodeTopic, validate_name

__all__ = [
    "CONTROL_OPS",
    "SCHEMA_ROOT",
    "Kind",
    "apply_delta",
    "azure_view_payload",
    "control_payload",
    "delta_payload",
    "info_payload",
    "lab_event_payload",
    "lab_state_payload",
    "rib_in_payload",
    "rib_loc_payload",
    "rib_out_payload",
    "route_doc",
    "schema_id",
    "session_doc",
    "sessions_payload",
    "status_payload",
    "table_of",
    "table_payload",
]

SCHEMA_ROOT = "bgpemu/v1"

Doc = dict[str, Any]
_Key = tuple[str, str]
"""(family, prefix)."""


class Kind(StrEnum):
    """Every payload kind; ``schema`` is ``bgpemu/v1/<kind>``."""

    STATUS = "status"
    INFO = "info"
    SESSIONS = "sessions"
    RIB_LOC = "rib-loc"
    RIB_IN = "rib-in"
    RIB_OUT = "rib-out"
    AZURE_VIEW = "azure-view"
    EVENT = "event"
    LAB_STATE = "lab-state"
    CONTROL = "control"
    LAB_EVENT = "lab-event"


_TABLE_KIND: Mapping[NodeTopic, Kind] = {
    NodeTopic.RIB_LOC: Kind.RIB_LOC,
    NodeTopic.RIB_IN: Kind.RIB_IN,
    NodeTopic.RIB_OUT: Kind.RIB_OUT,
    NodeTopic.SESSIONS: Kind.SESSIONS,
}


def schema_id(kind: Kind) -> str:
    """The ``schema`` field of a ``kind`` payload."""
    return f"{SCHEMA_ROOT}/{kind}"


def table_of(doc: Mapping[str, Any]) -> NodeTopic | None:
    """The table a document is the snapshot of, from its ``schema``; None if not a table."""
    for table, kind in _TABLE_KIND.items():
        if doc.get("schema") == schema_id(kind):
            return table
    return None


# --- simple documents -------------------------------------------------------------


def status_payload(node: str, *, online: bool) -> Doc:
    """``nodes/<node>/status``: ``online`` while connected; ``offline`` is also the will."""
    return {
        "schema": schema_id(Kind.STATUS),
        "node": validate_name(node),
        "status": "online" if online else "offline",
    }


def info_payload(
    node: str,
    *,
    role: str,
    asn: int,
    router_id: str,
    addresses: Sequence[str] = (),
    neighbors: Sequence[str] = (),
) -> Doc:
    """``nodes/<node>/info``: what the node is (its role in the Azure model) and where."""
    return {
        "schema": schema_id(Kind.INFO),
        "node": validate_name(node),
        "role": role,
        "asn": asn,
        "router_id": router_id,
        "addresses": list(addresses),
        "neighbors": list(neighbors),
    }


def azure_view_payload(node: str, view: str, data: Any) -> Doc:
    """``nodes/<node>/azure/<view>``: one Azure view of the node; ``data`` is opaque JSON."""
    return {
        "schema": schema_id(Kind.AZURE_VIEW),
        "node": validate_name(node),
        "view": validate_name(view, "view"),
        "data": data,
    }


def lab_state_payload(
    lab: str,
    *,
    converged: bool,
    nodes: Sequence[str],
    since: float | None = None,
    convergence_time: float | None = None,
    sessions_established: int | None = None,
    sessions_expected: int | None = None,
) -> Doc:
    """``state``: whether the lab has converged, since when (Unix time), and how long it took.

    ``since`` is a wall-clock timestamp the shell reads (this module reads no clock);
    ``convergence_time`` is in seconds from ``lab up``.
    """
    return {
        "schema": schema_id(Kind.LAB_STATE),
        "lab": validate_name(lab, "lab"),
        "converged": converged,
        "since": since,
        "convergence_time": convergence_time,
        "nodes": sorted(nodes),
        "sessions_established": sessions_established,
        "sessions_expected": sessions_expected,
    }


CONTROL_OPS = (
    "fail_link",
    "restore_link",
    "crash",
    "restart",
    "reset",
    "announce",
    "withdraw",
    "prepend",
    "apply",
)
"""What a ``control`` message may ask for (see :mod:`bgpemu.lab.control`)."""


def control_payload(request: str, op: str, **args: Any) -> Doc:
    """``control``: ask the running lab to inject ``op`` with ``args``; ``request`` is echoed
    in the resulting ``events`` so the sender can wait for its answer."""
    return {"schema": schema_id(Kind.CONTROL), "id": request, "op": op, "args": dict(args)}


def lab_event_payload(
    lab: str,
    *,
    event: str,
    request: str | None = None,
    op: str | None = None,
    detail: str = "",
    duration: float | None = None,
    updates: int | None = None,
    prefixes: int | None = None,
    best_path_changes: int | None = None,
) -> Doc:
    """``events`` of the lab (not retained): an injection done or refused, a convergence.

    ``event`` is ``injected``, ``rejected`` (the lab is untouched; ``detail`` says why)
    or ``converged`` (``duration`` in seconds from the injection, with the UPDATEs sent,
    the distinct prefixes whose best path changed somewhere, and the (speaker, prefix)
    best-path changes it took).
    """
    return {
        "schema": schema_id(Kind.LAB_EVENT),
        "lab": validate_name(lab, "lab"),
        "event": event,
        "request": request,
        "op": op,
        "detail": detail,
        "duration": duration,
        "updates": updates,
        "prefixes": prefixes,
        "best_path_changes": best_path_changes,
    }


# --- routes and sessions --------------------------------------------------------------


def route_doc(route: RibRoute) -> Doc:
    """One route as JSON (the :class:`RibRoute` fields, lists for tuples)."""
    return {
        "prefix": route.prefix,
        "family": route.family,
        "next_hop": route.next_hop,
        "as_path": list(route.as_path),
        "origin": route.origin,
        "local_pref": route.local_pref,
        "med": route.med,
        "communities": list(route.communities),
        "large_communities": list(route.large_communities),
        "weight": route.weight,
        "peer": route.peer,
        "best": route.best,
        "multipath": route.multipath,
        "reason": route.reason,
    }


def session_doc(status: PeerStatus, now: float | None = None) -> Doc:
    """One session; ``uptime`` (seconds, as of ``now``) is null unless Established."""
    uptime = None
    if now is not None and status.established_at is not None:
        uptime = round(max(0.0, now - status.established_at), 3)
    return {
        "peer": status.peer,
        "state": status.state,
        "uptime": uptime,
        "routes_received": status.routes_received,
        "routes_accepted": status.routes_accepted,
        "routes_sent": status.routes_sent,
        "messages_sent": status.messages_sent,
        "messages_received": status.messages_received,
    }


def _prefix_key(key: _Key) -> tuple[str, int, int, int, str]:
    family, prefix = key
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return (family, 0, -1, -1, prefix)
    return (family, net.version, int(net.network_address), net.prefixlen, prefix)


def _groups(routes: Iterable[RibRoute]) -> dict[_Key, tuple[RibRoute, ...]]:
    """Routes by (family, prefix), each group in the given order (best first)."""
    out: dict[_Key, list[RibRoute]] = {}
    for route in routes:
        out.setdefault((route.family, route.prefix), []).append(route)
    return {k: tuple(v) for k, v in out.items()}


def _route_docs(groups: Mapping[_Key, Sequence[Doc]]) -> list[Doc]:
    """The canonical order of a table: by family, then address and length; groups kept."""
    return [doc for key in sorted(groups, key=_prefix_key) for doc in groups[key]]


def _table_routes(routes: Iterable[RibRoute]) -> list[Doc]:
    return _route_docs({k: [route_doc(r) for r in group] for k, group in _groups(routes).items()})


def rib_loc_payload(snap: RouterSnapshot, *, seq: int) -> Doc:
    """``rib/loc``: best paths (with the deciding step) and the rest of their multipath sets."""
    return {
        "schema": schema_id(Kind.RIB_LOC),
        "node": snap.name,
        "seq": seq,
        "routes": _table_routes(snap.loc_rib),
    }


def _adj_payload(kind: Kind, ribs: Mapping[str, Sequence[RibRoute]], node: str, seq: int) -> Doc:
    return {
        "schema": schema_id(kind),
        "node": node,
        "seq": seq,
        "peers": {peer: _table_routes(ribs[peer]) for peer in sorted(ribs)},
    }


def rib_in_payload(snap: RouterSnapshot, *, seq: int) -> Doc:
    """``rib/in``: every neighbour's Adj-RIB-In (after import policy), one document."""
    return _adj_payload(Kind.RIB_IN, snap.adj_rib_in, snap.name, seq)


def rib_out_payload(snap: RouterSnapshot, *, seq: int) -> Doc:
    """``rib/out``: every neighbour's Adj-RIB-Out, one document."""
    return _adj_payload(Kind.RIB_OUT, snap.adj_rib_out, snap.name, seq)


def sessions_payload(snap: RouterSnapshot, *, seq: int, now: float | None = None) -> Doc:
    """``sessions``: one entry per neighbour, by name."""
    return {
        "schema": schema_id(Kind.SESSIONS),
        "node": snap.name,
        "seq": seq,
        "sessions": [session_doc(p, now) for p in sorted(snap.peers, key=lambda p: p.peer)],
    }


def table_payload(
    table: NodeTopic, snap: RouterSnapshot, *, seq: int, now: float | None = None
) -> Doc:
    """The retained document of ``table`` (one of :data:`~bgpemu.observe.topics.TABLES`)."""
    if table is NodeTopic.RIB_LOC:
        return rib_loc_payload(snap, seq=seq)
    if table is NodeTopic.RIB_IN:
        return rib_in_payload(snap, seq=seq)
    if table is NodeTopic.RIB_OUT:
        return rib_out_payload(snap, seq=seq)
    if table is NodeTopic.SESSIONS:
        return sessions_payload(snap, seq=seq, now=now)
    raise ValueError(f"{table} is not a table")


# --- deltas ---------------------------------------------------------------------------


def _diff_groups(
    table: NodeTopic,
    peer: str | None,
    old: Iterable[RibRoute],
    new: Iterable[RibRoute],
    announce: list[Doc],
    withdraw: list[Doc],
) -> None:
    before, after = _groups(old), _groups(new)
    for key in sorted(before.keys() - after.keys(), key=_prefix_key):
        withdraw.append({"table": str(table), "peer": peer, "family": key[0], "prefix": key[1]})
    for key in sorted(after, key=_prefix_key):
        routes = after[key]
        if before.get(key) != routes:
            announce.append(
                {
                    "table": str(table),
                    "peer": peer,
                    "family": key[0],
                    "prefix": key[1],
                    "routes": [route_doc(r) for r in routes],
                }
            )


def delta_payload(
    old: RouterSnapshot,
    new: RouterSnapshot,
    *,
    seq: int,
    versions: Mapping[str, int],
    now: float | None = None,
) -> Doc | None:
    """The ``event`` that turns the table documents of ``old`` into those of ``new``.

    ``seq`` is the new node sequence number; ``versions`` the current ``seq`` of each
    table document (by table name).  Returns None when nothing changed.
    """
    announce: list[Doc] = []
    withdraw: list[Doc] = []
    changed: set[NodeTopic] = set()
    if old.loc_rib != new.loc_rib:
        _diff_groups(NodeTopic.RIB_LOC, None, old.loc_rib, new.loc_rib, announce, withdraw)
        changed.add(NodeTopic.RIB_LOC)
    peers: dict[str, list[str]] = {}
    for table, before, after in (
        (NodeTopic.RIB_IN, old.adj_rib_in, new.adj_rib_in),
        (NodeTopic.RIB_OUT, old.adj_rib_out, new.adj_rib_out),
    ):
        if before.keys() != after.keys():
            peers[str(table)] = sorted(after)
            changed.add(table)
        for peer in sorted(before.keys() | after.keys()):
            was, now_routes = before.get(peer, ()), after.get(peer, ())
            if was != now_routes:
                _diff_groups(table, peer, was, now_routes, announce, withdraw)
                changed.add(table)
    old_sessions = {p.peer: p for p in old.peers}
    new_sessions = {p.peer: p for p in new.peers}
    sessions = [
        session_doc(status, now)
        for name, status in sorted(new_sessions.items())
        if old_sessions.get(name) != status
    ]
    removed = sorted(old_sessions.keys() - new_sessions.keys())
    if sessions or removed:
        changed.add(NodeTopic.SESSIONS)
    if not changed:
        return None
    return {
        "schema": schema_id(Kind.EVENT),
        "node": new.name,
        "seq": seq,
        "base": {str(t): versions.get(str(t), 0) for t in TABLES if t in changed},
        "announce": announce,
        "withdraw": withdraw,
        "sessions": sessions,
        "sessions_removed": removed,
        "peers": peers,
    }


def _apply_routes(
    routes: Sequence[Doc], table: NodeTopic, peer: str | None, delta: Mapping[str, Any]
) -> list[Doc]:
    groups: dict[_Key, list[Doc]] = {}
    for route in routes:
        groups.setdefault((route["family"], route["prefix"]), []).append(route)
    for entry in delta["withdraw"]:
        if entry["table"] == table and entry["peer"] == peer:
            groups.pop((entry["family"], entry["prefix"]), None)
    for entry in delta["announce"]:
        if entry["table"] == table and entry["peer"] == peer:
            groups[(entry["family"], entry["prefix"])] = list(entry["routes"])
    return _route_docs(groups)


def apply_delta(doc: Mapping[str, Any], delta: Mapping[str, Any]) -> Doc:
    """Apply an ``event`` to one table document; returns a new document.

    A delta that does not change this table, or that the document already holds
    (``doc.seq >= delta.seq``), leaves it as it is.  A document older than the delta's
    ``base`` for this table raises :class:`SequenceGapError`.
    """
    table = table_of(doc)
    if table is None:
        raise ValueError(f"not a table document: schema {doc.get('schema')!r}")
    base = delta["base"]
    if str(table) not in base or doc["seq"] >= delta["seq"]:
        return dict(doc)
    if doc["seq"] != base[str(table)]:
        raise SequenceGapError(str(table), doc["seq"], base[str(table)], delta["seq"])
    out = dict(doc)
    out["seq"] = delta["seq"]
    if table is NodeTopic.SESSIONS:
        by_peer = {s["peer"]: s for s in doc["sessions"]}
        for name in delta["sessions_removed"]:
            by_peer.pop(name, None)
        by_peer.update((s["peer"], s) for s in delta["sessions"])
        out["sessions"] = [by_peer[name] for name in sorted(by_peer)]
    elif table is NodeTopic.RIB_LOC:
        out["routes"] = _apply_routes(doc["routes"], table, None, delta)
    else:
        names = delta["peers"].get(str(table), list(doc["peers"]))
        out["peers"] = {
            name: _apply_routes(doc["peers"].get(name, []), table, name, delta)
            for name in sorted(names)
        }
    return out
