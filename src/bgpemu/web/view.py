"""The web view's model of one lab: fed its MQTT documents, it says what to push (pure).

Theory of operation.  The server follows a lab's light documents over MQTT: its
``state``, ``topology``, ``events``, ``traffic/<view>``, and each speaker's ``status``,
``info`` and ``sessions`` (never every route table: a vWAN lab retains millions of
routes).  It hands each message to :meth:`LabView.receive` with the time it arrived, and
pushes the page messages that returns to every open page:

* ``state`` when the lab's state document changed;
* ``elements`` (the whole graph, :mod:`bgpemu.web.elements`) when the picture changed:
  a new topology (``apply``), a speaker that appeared or left;
* ``sessions`` (the session edges of one speaker whose state changed) otherwise: a
  route change never re-sends the graph;
* ``tables`` when a table that a page has open changed (the server follows those few
  table topics on demand, :meth:`LabView.watch`; the page re-requests the open one if
  its node is among the message's ``elements``);
* ``problems`` when the topology document cannot be drawn (a bad document is reported,
  never a traceback: the graph falls back to the speakers' own documents);
* whatever the view's parts (:class:`~bgpemu.web.protocol.Part`: timeline, traffic)
  return for lab-level documents.

:meth:`LabView.snapshot` is the first message a page gets.  No clock, socket or global:
times come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.graph import Graph, topology_graph
from bgpemu.errors import BgpEmuError, ConfigError
from bgpemu.observe.jsontext import loads
from bgpemu.observe.payloads import Kind, schema_id
from bgpemu.observe.topics import NodeTopic, TopicRef, parse_topic
from bgpemu.web.elements import Element, elements, session_states
from bgpemu.web.protocol import Part, TopologyPart
from bgpemu.web.topology_doc import CompiledTopology, compile_topology

__all__ = [
    "INVALID",
    "MAX_PROBLEMS",
    "Decoded",
    "LabView",
    "Message",
    "Topology",
    "decode",
    "prepare_topology",
]

Message = dict[str, Any]

MAX_PROBLEMS = 20
"""Problems of a bad topology document shown on the page (the rest are counted)."""

_LAB_LEVEL = frozenset({"state", "topology", "events", "traffic"})
_NODE_DOCS = frozenset({NodeTopic.STATUS, NodeTopic.INFO, NodeTopic.SESSIONS})
_EVENT_SCHEMA = schema_id(Kind.EVENT)
_SESSIONS_SCHEMA = schema_id(Kind.SESSIONS)
_TABLES = frozenset({NodeTopic.RIB_LOC, NodeTopic.RIB_IN, NodeTopic.RIB_OUT, NodeTopic.AZURE})


@dataclass(frozen=True, slots=True)
class Topology:
    """A ``topology`` message made ready for :meth:`LabView.take_topology`: its document
    (None: cleared, or not a JSON object), the graph drawn from it, or why not, and its
    compilation (:class:`~bgpemu.web.topology_doc.CompiledTopology`, for the parts:
    one compilation per document for the whole view)."""

    doc: dict[str, Any] | None
    graph: Graph | None
    problems: tuple[str, ...]
    invalid: bool = False
    compiled: CompiledTopology | None = None


def prepare_topology(payload: bytes) -> Topology:
    """Decode, load and plan a ``topology`` payload, and draw its graph as ``bgpemu
    graph`` does (pure; a vWAN of a hundred speakers takes about a second, so the server
    runs it in a thread)."""
    if not payload:
        return Topology(None, None, ())
    try:
        doc = loads(payload)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return Topology(None, None, (), invalid=True)
    compiled = compile_topology(doc)
    if compiled.model is None:
        return Topology(doc, None, tuple(_problems_of(compiled.error)), compiled=compiled)
    try:
        graph = topology_graph(*compiled.model)
    except (BgpEmuError, ValueError, TypeError, RecursionError) as exc:
        return Topology(doc, None, tuple(_problems_of(exc)), compiled=compiled)
    return Topology(doc, graph, (), compiled=compiled)


class TopologyPreparer:
    """:func:`prepare_topology` of each ``topology`` payload a view receives, the last
    one kept: the same document again (the broker's retained one after a reconnect, an
    ``apply`` of the same file) is taken as it was prepared, not loaded and planned
    again (one compilation per document, docs/web.md).  Owned by its server; called
    from one thread at a time."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[bytes, Topology] | None = None

    def prepare(self, payload: bytes) -> Topology:
        """The preparation of ``payload``: the kept one when it is the last payload."""
        last = self._last
        if last is not None and last[0] == payload:
            return last[1]
        topology = prepare_topology(payload)
        self._last = payload, topology
        return topology


class _Invalid:
    """A payload that is not a JSON object."""


INVALID = _Invalid()

Decoded = dict[str, Any] | None | _Invalid
"""A decoded payload: the document, None (an empty payload: the retained document was
cleared) or :data:`INVALID`."""


def decode(payload: bytes) -> Decoded:
    """A payload's document (pure; the server runs it in a thread for a large one)."""
    if not payload:
        return None
    try:
        value = loads(payload)
    except ValueError:
        return INVALID
    return value if isinstance(value, dict) else INVALID


def _problems_of(exc: Exception | None) -> list[str]:
    if isinstance(exc, ConfigError):
        lines = [str(problem) for problem in exc.problems] or [str(exc)]
    else:
        lines = [f"topology document: {exc}"]
    if len(lines) > MAX_PROBLEMS:
        lines = [*lines[:MAX_PROBLEMS], f"... and {len(lines) - MAX_PROBLEMS} more"]
    return lines


class LabView:
    """One lab as the page sees it (see the module docstring)."""

    def __init__(self, lab: str, parts: Sequence[Part] = ()) -> None:
        self.lab = lab
        self.parts = tuple(parts)
        self.state: dict[str, Any] | None = None
        self.graph: Graph | None = None
        self.problems: list[str] = []
        self.infos: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, str] = {}
        self.tables: dict[str, dict[str, Any]] = {}
        """The table documents followed for open pages, by topic suffix after the lab
        (``nodes/<node>/rib/loc``, ``nodes/<node>/azure/<view>``)."""
        self.watched: set[str] = set()
        self.invalid = 0
        """Documents that were not JSON objects (counted, skipped)."""
        self._elements: list[Element] = []
        self._by_id: dict[str, Element] = {}
        self._states: dict[str, tuple[str, str, str]] = {}

    # --- documents in, messages out ------------------------------------------------

    def receive(self, topic: str, payload: bytes, now: float) -> list[Message]:
        """Take one MQTT message of the lab received at ``now`` (Unix time); the page
        messages it makes.  Never raises for what a payload holds."""
        ref = parse_topic(topic)
        if ref is None or ref.lab != self.lab:
            return []
        if ref.node is None and ref.kind == "topology":
            return self.take_topology(ref, prepare_topology(payload), now)
        return self.receive_decoded(topic, decode(payload), now)

    def is_table(self, topic: str) -> bool:
        """Whether ``topic`` is a route table or Azure view of the lab (the documents that
        may be large: the server decodes those in a thread, :meth:`receive_decoded`)."""
        ref = parse_topic(topic)
        return ref is not None and ref.lab == self.lab and ref.kind in _TABLES

    def receive_decoded(self, topic: str, doc: Decoded, now: float) -> list[Message]:
        """:meth:`receive` of a payload already decoded by :func:`decode`."""
        ref = parse_topic(topic)
        if ref is None or ref.lab != self.lab:
            return []
        if isinstance(doc, _Invalid):
            self.invalid += 1
            return []
        if ref.node is None:
            return self._lab_document(ref, doc, now) if ref.kind in _LAB_LEVEL else []
        if ref.kind in _NODE_DOCS:
            return self._node_document(ref, ref.node, doc)
        if ref.kind == NodeTopic.EVENTS:
            return self._node_event(ref.node, doc)
        if ref.kind in _TABLES:
            return self._table_document(ref, ref.node, doc)
        return []

    def _lab_document(self, ref: TopicRef, doc: dict[str, Any] | None, now: float) -> list[Message]:
        out: list[Message] = []
        if ref.kind == "state":
            self.state = doc
            out.append({"type": "state", "state": doc})
        for part in self.parts:
            out += part.receive(ref, doc, now)
        return out

    def take_topology(self, ref: TopicRef, topology: Topology, now: float) -> list[Message]:
        """Take a prepared ``topology`` message (:func:`prepare_topology`) received at
        ``now``: the graph changes (or its problems are reported), the parts see it."""
        if topology.invalid:
            self.invalid += 1
            return []
        self.graph = topology.graph
        out: list[Message] = []
        problems = list(topology.problems)
        if problems != self.problems:
            self.problems = problems
            out.append({"type": "problems", "problems": problems})
        out += self._rebuild()
        compiled = topology.compiled
        for part in self.parts:
            if compiled is not None and isinstance(part, TopologyPart):
                out += part.receive_topology(ref, compiled, now)
            else:
                out += part.receive(ref, topology.doc, now)
        return out

    def _node_document(self, ref: TopicRef, node: str, doc: dict[str, Any] | None) -> list[Message]:
        if ref.kind == NodeTopic.STATUS:
            status = doc.get("status") if doc is not None else None
            if isinstance(status, str):
                self.statuses[node] = status
            else:
                self.statuses.pop(node, None)
            return self._session_changes(node)
        store = self.infos if ref.kind == NodeTopic.INFO else self.sessions
        if doc is None:
            store.pop(node, None)
        else:
            store[node] = doc
        if ref.kind == NodeTopic.INFO:
            return self._rebuild()
        return self._session_changes(node)

    def _node_event(self, node: str, delta: dict[str, Any] | None) -> list[Message]:
        """The session entries of a node's ``events`` delta, taken into its sessions
        document: the delta reaches the broker before the coalesced retained document
        (docs/mqtt.md), and from the same publisher, so what arrives last is newest."""
        if delta is None or delta.get("schema") != _EVENT_SCHEMA:
            return []
        entries = delta.get("sessions")
        gone = delta.get("sessions_removed")
        changed = [
            e
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and isinstance(e.get("peer"), str)
        ]
        removed = [p for p in (gone if isinstance(gone, list) else []) if isinstance(p, str)]
        if not changed and not removed:
            return []
        current = self.sessions.get(node) or {"schema": _SESSIONS_SCHEMA, "node": node}
        held = current.get("sessions")
        by_peer = {
            e["peer"]: e
            for e in (held if isinstance(held, list) else [])
            if isinstance(e, dict) and isinstance(e.get("peer"), str)
        }
        for peer in removed:
            by_peer.pop(peer, None)
        by_peer.update((e["peer"], e) for e in changed)
        self.sessions[node] = {**current, "sessions": [by_peer[p] for p in sorted(by_peer)]}
        return self._session_changes(node)

    def _live_sessions(self) -> dict[str, dict[str, Any]]:
        """The sessions documents of the speakers not offline: a retained document
        outlives its speaker (a killed lab), whose MQTT will says ``offline``."""
        return {n: d for n, d in self.sessions.items() if self.statuses.get(n) != "offline"}

    def _session_changes(self, node: str) -> list[Message]:
        states = session_states(self._live_sessions())
        changed = [
            ident
            for ident in set(states) | set(self._states)
            if states.get(ident) != self._states.get(ident)
        ]
        if not changed:
            return []
        if any(ident not in self._by_id for ident in changed if ident in states):
            return self._rebuild()  # a session the graph does not draw yet
        self._states = states
        edges = []
        for ident in sorted(changed):
            element = self._by_id.get(ident)
            if element is None:
                continue
            known = states.get(ident)
            element["data"]["state"] = None if known is None else known[2]
            edges.append({"id": ident, "state": element["data"]["state"], **self._uptime(known)})
        return [{"type": "sessions", "node": node, "edges": edges}] if edges else []

    def _uptime(self, known: tuple[str, str, str] | None) -> dict[str, Any]:
        if known is None:
            return {"established_since": None}
        speaker, peer, _state = known
        for entry in self.sessions.get(speaker, {}).get("sessions", ()):
            if isinstance(entry, Mapping) and entry.get("peer") == peer:
                since = entry.get("established_since")
                return {"established_since": since if isinstance(since, int | float) else None}
        return {"established_since": None}

    def _rebuild(self) -> list[Message]:
        live = self._live_sessions()
        new = elements(self.graph, self.infos, live)
        self._states = session_states(live)
        if new == self._elements:
            return []
        self._elements = new
        self._by_id = {element["data"]["id"]: element for element in new}
        return [{"type": "elements", "elements": new}]

    def _table_document(
        self, ref: TopicRef, node: str, doc: dict[str, Any] | None
    ) -> list[Message]:
        key = f"nodes/{node}/{ref.suffix}"
        if not self._is_watched(key):
            return []
        known = key in self.tables
        if doc is None:
            self.tables.pop(key, None)
        else:
            self.tables[key] = doc
        if not known:  # the first document of a table just followed: no page shows it yet
            return []
        return [
            {
                "type": "tables",
                "node": node,
                "tables": [ref.suffix],
                "elements": self._shown_by(node, ref.kind == NodeTopic.AZURE),
            }
        ]

    def _shown_by(self, node: str, azure: bool) -> list[str]:
        """The elements whose tables show MQTT node ``node``'s: the speaker itself; for an
        Azure view, the VNet of that name and every speaker of that topology node."""
        if not azure:
            return [node]
        shown = [f"vnet:{node}"] if f"vnet:{node}" in self._by_id else []
        for speaker, info in sorted(self.infos.items()):
            if speaker == node or info.get("topology_node") == node:
                shown.append(speaker)
        return shown

    # --- what the page asks for -------------------------------------------------------

    def snapshot(self) -> Message:
        """The first message of a page: everything but route tables."""
        message: Message = {
            "type": "snapshot",
            "lab": self.lab,
            "state": self.state,
            "elements": self._elements,
            "timeline": [],
            "traffic": {"reachability": None, "intents": None},
            "problems": self.problems,
        }
        for part in self.parts:
            message.update(part.snapshot())
        return message

    @property
    def element_ids(self) -> frozenset[str]:
        return frozenset(self._by_id)

    def element(self, ident: str) -> Element | None:
        """The element of id ``ident`` (a speaker's name, ``vnet:NAME``...), if drawn."""
        return self._by_id.get(ident)

    # --- tables followed on demand ---------------------------------------------------

    def watch(self, keys: Iterable[str]) -> None:
        """Follow these table keys (``nodes/<node>/rib/loc``, ``nodes/<node>/azure/+``)."""
        self.watched.update(keys)

    def forget(self, key: str) -> None:
        """Stop following ``key`` and drop the documents it matched."""
        self.watched.discard(key)
        for topic in [t for t in self.tables if not self._is_watched(t)]:
            del self.tables[topic]

    def _is_watched(self, key: str) -> bool:
        if key in self.watched:
            return True
        base, _, _view = key.rpartition("/")
        return f"{base}/+" in self.watched
