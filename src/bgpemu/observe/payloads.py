"""The JSON documents published on MQTT, and how a delta applies to them (pure).

Every payload is a JSON object whose ``schema`` field names its kind and version
(``bgpemu/v1/<kind>``); the JSON Schemas are in ``schema/mqtt/`` and
``docs/mqtt.md`` shows an example of each.

Tables and sequence numbers.  The tables of a node (``rib/loc``, ``sessions``, and
per neighbour ``rib/in/<peer>`` and ``rib/out/<peer>``) each have a retained document
whose ``seq`` is the node sequence number of the last change it holds.  A delta
(``event``, built by :class:`~bgpemu.observe.feed.NodeFeed`) carries the next node
``seq`` and, in ``base``, the ``seq`` of every table it changes as it was before the
change, by table key (the topic suffix).  The functions here that build table
documents from a :class:`RouterSnapshot` are the reference the feed's JSON text is
tested against, and what ``bgpemu solve`` prints.  :func:`apply_delta` applies a
delta to a table document when the document is exactly at ``base`` (and raises
:class:`SequenceGapError` when it is older: the observer missed a delta and must
re-read the retained document).  Routes are
grouped by (family, prefix): an ``announce`` entry replaces every route of one
prefix in one table (so a multipath set or ADD-PATH paths move as one unit) and a
``withdraw`` entry removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from bgpemu.azure.snapshot import PeerStatus, RouterSnapshot
from bgpemu.observe.errors import SequenceGapError, TopicError
from bgpemu.observe.topics import NodeTopic, table_key, table_of_key, validate_name
from bgpemu.rib.route import RibRoute, route_doc
from bgpemu.types import prefix_key

__all__ = [
    "CONTROL_OPS",
    "LAB_STATUSES",
    "SCHEMA_ROOT",
    "Kind",
    "adj_rib_payload",
    "apply_delta",
    "azure_view_payload",
    "control_payload",
    "info_payload",
    "lab_event_payload",
    "lab_state_payload",
    "read_uptime",
    "rib_loc_payload",
    "schema_id",
    "session_doc",
    "sessions_payload",
    "status_payload",
    "table_keys",
    "table_of",
    "table_payload",
    "table_routes",
    "table_schema",
    "topology_payload",
    "traffic_event_payload",
    "traffic_payload",
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
    TRAFFIC = "traffic"
    TRAFFIC_EVENT = "traffic-event"
    TOPOLOGY = "topology"


_TABLE_KIND: Mapping[NodeTopic, Kind] = {
    NodeTopic.RIB_LOC: Kind.RIB_LOC,
    NodeTopic.RIB_IN: Kind.RIB_IN,
    NodeTopic.RIB_OUT: Kind.RIB_OUT,
    NodeTopic.SESSIONS: Kind.SESSIONS,
}


def schema_id(kind: Kind) -> str:
    """The ``schema`` field of a ``kind`` payload."""
    return f"{SCHEMA_ROOT}/{kind}"


def table_schema(table: NodeTopic) -> str:
    """The ``schema`` field of the documents of ``table`` (``rib/loc``, ``rib/in``...)."""
    return schema_id(_TABLE_KIND[table])


def table_of(doc: Mapping[str, Any]) -> str | None:
    """The table key (topic suffix: ``rib/loc``, ``rib/in/<peer>``, ``sessions``...) a
    document is the snapshot of, from its ``schema`` (and ``peer``); None if not a table."""
    for table, kind in _TABLE_KIND.items():
        if doc.get("schema") == schema_id(kind):
            if table is NodeTopic.SESSIONS:
                return str(table)
            peer = doc.get("peer")
            try:
                return table_key(table, peer if isinstance(peer, str) else None)
            except TopicError:
                return None  # no neighbour a topic could name: not a table document
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
    topology_node: str | None = None,
    instance: int | None = None,
    port: int | None = None,
) -> Doc:
    """``nodes/<node>/info``: what the node is (its role in the Azure model) and where.

    ``topology_node``, ``instance`` and ``port`` (the topology node the speaker belongs
    to, its instance there, the TCP port it listens on: what a real router needs to peer
    with it, ``bgpemu inspect``) are optional: a document without them, from a bgpemu
    before issue 15, stays valid."""
    doc: Doc = {
        "schema": schema_id(Kind.INFO),
        "node": validate_name(node),
        "role": role,
        "asn": asn,
        "router_id": router_id,
        "addresses": list(addresses),
        "neighbors": list(neighbors),
    }
    if topology_node is not None:
        doc["topology_node"] = topology_node
    if instance is not None:
        doc["instance"] = instance
    if port is not None:
        doc["port"] = port
    return doc


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
    status: str = "running",
    lab_id: str | None = None,
    pid: int | None = None,
    host: str | None = None,
    held_down: Sequence[str] = (),
    external_waiting: Sequence[str] = (),
    external_not_connected: Sequence[str] = (),
) -> Doc:
    """``state``: whether the lab has converged, since when (Unix time), and how long it took.

    ``since`` is a wall-clock timestamp the shell reads (this module reads no clock);
    ``convergence_time`` is in seconds from ``lab up``.  ``status`` is one of
    :data:`LAB_STATUSES`: ``running``, ``stopped`` (a clean stop) or ``offline`` (the
    MQTT will: the lab's connection dropped without a DISCONNECT, e.g. it was killed);
    ``id`` tells two runs of a lab of the same name apart, and ``pid`` and ``host`` say
    where it runs.  ``held_down`` names the sessions held down on purpose,
    ``external_waiting`` the external routers convergence waits for, and
    ``external_not_connected`` those it does not wait for (``--no-wait-external``).
    """
    if status not in LAB_STATUSES:
        raise ValueError(f"lab status {status!r} is not one of {', '.join(LAB_STATUSES)}")
    return {
        "schema": schema_id(Kind.LAB_STATE),
        "lab": validate_name(lab, "lab"),
        "id": lab_id,
        "status": status,
        "pid": pid,
        "host": host,
        "converged": converged,
        "since": since,
        "convergence_time": convergence_time,
        "nodes": sorted(nodes),
        "sessions_established": sessions_established,
        "sessions_expected": sessions_expected,
        "held_down": list(held_down),
        "external_waiting": list(external_waiting),
        "external_not_connected": list(external_not_connected),
    }


def topology_payload(lab: str, *, file: str, topology: str) -> Doc:
    """``topology`` (retained): the topology the lab runs, as validated YAML text, with the
    name of the file it came from; published at start and after every ``apply`` (a web
    view or any observer draws the Azure grouping from it).  TCP-MD5 keys are never in
    it (:func:`bgpemu.topology.source.redacted_document`)."""
    return {
        "schema": schema_id(Kind.TOPOLOGY),
        "lab": validate_name(lab, "lab"),
        "file": file,
        "topology": topology,
    }


LAB_STATUSES = ("running", "stopped", "offline")
"""The ``status`` of a lab ``state``: only a ``running`` lab is alive."""


CONTROL_OPS = (
    "fail_link",
    "restore_link",
    "crash",
    "restart",
    "reset",
    "announce",
    "withdraw",
    "prepend",
    "instance_down",
    "instance_up",
    "apply",
)
"""What a ``control`` message may ask the lab to do (see :mod:`bgpemu.lab.control`); it
may also ask a traffic question (``trace``, ``next_hop``, ``ip_flow``, ``effective_nsg``,
``reachability``: :mod:`bgpemu.lab.questions`), which changes nothing."""


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
    best-path changes it took); or ``worker_exited``, ``worker_stopped`` or
    ``worker_resumed``: a worker process died, was frozen (SIGSTOP) or runs again,
    unasked (``detail`` names the worker, its process, its speakers and the cause,
    :mod:`bgpemu.lab.faults`).
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


TRAFFIC_VIEWS = ("reachability", "intents")
"""The lab's retained traffic documents (``traffic/<view>``, issue 14)."""


def traffic_payload(lab: str, view: str, data: Any) -> Doc:
    """``traffic/<view>`` (retained): the lab's traffic answers as of its last convergence:
    ``reachability`` (the matrix summary, :meth:`bgpemu.azure.traffic.matrix.Matrix.to_json`)
    or ``intents`` (each intent's verdict, ``lab up --intents``)."""
    if view not in TRAFFIC_VIEWS:
        raise TopicError(f"traffic view {view!r} is not one of {', '.join(TRAFFIC_VIEWS)}")
    return {
        "schema": schema_id(Kind.TRAFFIC),
        "lab": validate_name(lab, "lab"),
        "view": view,
        "data": data,
    }


def traffic_event_payload(
    lab: str, *, event: str, request: str | None = None, op: str | None = None, data: Any = None
) -> Doc:
    """``events`` of the lab (not retained) about traffic: ``answered`` (the answer, in
    ``data``, to the traffic question ``request`` asked with ``op``: ``trace``,
    ``next_hop``, ``ip_flow``, ``effective_nsg``, ``reachability``) or
    ``intents_changed`` (``data``: the intents whose verdict changed at this convergence,
    each with its verdict before)."""
    return {
        "schema": schema_id(Kind.TRAFFIC_EVENT),
        "lab": validate_name(lab, "lab"),
        "event": event,
        "request": request,
        "op": op,
        "data": data,
    }


# --- routes and sessions --------------------------------------------------------------


def session_doc(status: PeerStatus, now: float | None = None, epoch: float | None = None) -> Doc:
    """One session; ``uptime`` (seconds, as of ``now``) is null unless Established.

    ``established_since`` (issue 15) is when it was Established, in wall-clock epoch
    seconds: ``epoch`` is the wall clock minus the sessions' clock (``now`` and
    ``established_at``), which the shell reads; null without it.  A reader computes the
    uptime when it reads (:func:`read_uptime`) instead of trusting one frozen at the
    publication, and the value does not change from one publication to the next.
    """
    uptime = since = None
    if now is not None and status.established_at is not None:
        uptime = round(max(0.0, now - status.established_at), 3)
    if epoch is not None and status.established_at is not None:
        since = round(epoch + status.established_at, 3)
    return {
        "peer": status.peer,
        "state": status.state,
        "uptime": uptime,
        "established_since": since,
        "routes_received": status.routes_received,
        "routes_accepted": status.routes_accepted,
        "routes_sent": status.routes_sent,
        "messages_sent": status.messages_sent,
        "messages_received": status.messages_received,
        "internal_errors": status.internal_errors,
    }


def read_uptime(session: Mapping[str, Any], now: float) -> float | None:
    """Seconds a session entry has been Established as of ``now`` (wall-clock epoch
    seconds, the reader's clock): from ``established_since`` when the entry has it, else
    the ``uptime`` it was published with (an older bgpemu's document)."""
    since = session.get("established_since")
    if isinstance(since, int | float) and not isinstance(since, bool):
        return round(max(0.0, now - since), 3)
    uptime = session.get("uptime")
    return uptime if isinstance(uptime, int | float) else None


def _prefix_key(key: _Key) -> tuple[str, int, int, int, str]:
    family, prefix = key
    try:
        return (family, *prefix_key(prefix), prefix)
    except ValueError:  # a document from elsewhere: ordered, not refused
        return (family, 0, -1, -1, prefix)


def _groups(routes: Iterable[RibRoute]) -> dict[_Key, tuple[RibRoute, ...]]:
    """Routes by (family, prefix), each group in the given order (best first)."""
    out: dict[_Key, list[RibRoute]] = {}
    for route in routes:
        out.setdefault((route.family, route.prefix), []).append(route)
    return {k: tuple(v) for k, v in out.items()}


def _route_docs(groups: Mapping[_Key, Sequence[Doc]]) -> list[Doc]:
    """The canonical order of a table: by family, then address and length; groups kept."""
    return [doc for key in sorted(groups, key=_prefix_key) for doc in groups[key]]


def table_routes(routes: Iterable[RibRoute]) -> list[Doc]:
    """``routes`` as the ``routes`` of a table document: canonical order, groups kept."""
    return _route_docs({k: [route_doc(r) for r in group] for k, group in _groups(routes).items()})


def rib_loc_payload(snap: RouterSnapshot, *, seq: int) -> Doc:
    """``rib/loc``: best paths (with the deciding step) and the rest of their multipath sets."""
    return {
        "schema": schema_id(Kind.RIB_LOC),
        "node": snap.name,
        "seq": seq,
        "routes": table_routes(snap.loc_rib),
    }


def adj_rib_payload(
    table: NodeTopic, node: str, peer: str, routes: Iterable[RibRoute], *, seq: int
) -> Doc:
    """``rib/in/<peer>`` (Adj-RIB-In after import policy) or ``rib/out/<peer>``
    (Adj-RIB-Out) of one neighbour (RFC 4271 §3.2)."""
    return {
        "schema": table_schema(table),
        "node": node,
        "peer": peer,
        "seq": seq,
        "routes": table_routes(routes),
    }


def sessions_payload(
    node: str,
    peers: Iterable[PeerStatus],
    *,
    seq: int,
    now: float | None = None,
    epoch: float | None = None,
) -> Doc:
    """``sessions``: one entry per neighbour, by name (``now``, ``epoch``: :func:`session_doc`)."""
    return {
        "schema": schema_id(Kind.SESSIONS),
        "node": node,
        "seq": seq,
        "sessions": [session_doc(p, now, epoch) for p in sorted(peers, key=lambda p: p.peer)],
    }


def table_keys(snap: RouterSnapshot) -> list[str]:
    """The table keys (topic suffixes) of a snapshot's documents, sorted."""
    keys = [str(NodeTopic.RIB_LOC), str(NodeTopic.SESSIONS)]
    keys += [table_key(NodeTopic.RIB_IN, peer) for peer in snap.adj_rib_in]
    keys += [table_key(NodeTopic.RIB_OUT, peer) for peer in snap.adj_rib_out]
    return sorted(keys)


def table_payload(
    key: str,
    snap: RouterSnapshot,
    *,
    seq: int,
    now: float | None = None,
    epoch: float | None = None,
) -> Doc:
    """The retained document of table ``key`` of a snapshot: ``rib/loc``, ``sessions``,
    ``rib/in/<peer>`` or ``rib/out/<peer>`` (the reference the feed's text must equal)."""
    if key == NodeTopic.RIB_LOC:
        return rib_loc_payload(snap, seq=seq)
    if key == NodeTopic.SESSIONS:
        return sessions_payload(snap.name, snap.peers, seq=seq, now=now, epoch=epoch)
    kind, peer = table_of_key(key)
    ribs = snap.adj_rib_in if kind is NodeTopic.RIB_IN else snap.adj_rib_out
    if peer is None or peer not in ribs:
        raise ValueError(f"{key!r} is not a table of {snap.name!r}")
    return adj_rib_payload(kind, snap.name, peer, ribs[peer], seq=seq)


# --- deltas ---------------------------------------------------------------------------


def _apply_routes(routes: Sequence[Doc], table: str, delta: Mapping[str, Any]) -> list[Doc]:
    groups: dict[_Key, list[Doc]] = {}
    for route in routes:
        groups.setdefault((route["family"], route["prefix"]), []).append(route)
    for entry in delta["withdraw"]:
        if entry["table"] == table:
            groups.pop((entry["family"], entry["prefix"]), None)
    for entry in delta["announce"]:
        if entry["table"] == table:
            groups[(entry["family"], entry["prefix"])] = list(entry["routes"])
    return _route_docs(groups)


def apply_delta(doc: Mapping[str, Any], delta: Mapping[str, Any]) -> Doc:
    """Apply an ``event`` to one table document; returns a new document.

    A delta that does not change this table, or that the document already holds
    (``doc.seq >= delta.seq``), leaves it as it is.  A document older than the delta's
    ``base`` for this table raises :class:`SequenceGapError`; so does a ``resync``
    event (the change is in the retained document of that ``seq``, not in the event).
    """
    table = table_of(doc)
    if table is None:
        raise ValueError(f"not a table document: schema {doc.get('schema')!r}")
    base = delta["base"]
    if table not in base or doc["seq"] >= delta["seq"]:
        return dict(doc)
    if doc["seq"] != base[table] or delta.get("resync"):
        raise SequenceGapError(table, doc["seq"], base[table], delta["seq"])
    out = dict(doc)
    out["seq"] = delta["seq"]
    if table == NodeTopic.SESSIONS:
        by_peer = {s["peer"]: s for s in doc["sessions"]}
        for name in delta["sessions_removed"]:
            by_peer.pop(name, None)
        by_peer.update((s["peer"], s) for s in delta["sessions"])
        out["sessions"] = [by_peer[name] for name in sorted(by_peer)]
    else:
        out["routes"] = _apply_routes(doc["routes"], table, delta)
    return out
