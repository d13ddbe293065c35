"""``bgpemu watch``: the lab state (or the node's status) first, then one line per change.

Changes are the deltas, status and lab state changes, and the lab's events; with
``-o json`` each is its MQTT payload on one line.  ``--query`` is applied to each payload:
an item whose result is JMESPath-false (null, false, empty) is not shown.  It subscribes to
the lab ``state`` and ``events`` and to every node's ``status``, ``sessions`` and
``events``, never to the route tables' documents.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Mapping
from typing import Any

from bgpemu.cli._observe_mqtt import (
    SESSIONS,
    Docs,
    Tap,
    UsageError,
    known_lab,
    lab_filter,
    lab_status,
    node_filter,
    open_lab,
    split_topic,
    subscribe,
)
from bgpemu.cli._observe_render import query
from bgpemu.cli._observe_verbs import node_speakers
from bgpemu.observe.jsontext import loads
from bgpemu.rib.route import as_path_text
from bgpemu.text import counted

__all__ = ["delta_line", "run_watch", "table_text", "watch_filters"]

_SHOWN_ITEMS = 6
"""Changes shown on one ``watch`` line before ``(+N more)``."""


def _route_text(entry: Mapping[str, Any]) -> str:
    routes = entry.get("routes") or [{}]
    best = routes[0]
    path = as_path_text(best.get("as_path", []), " ") or "local"
    text = f"+{entry['prefix']} via {best.get('next_hop') or '-'} path {path}"
    if len(routes) > 1:
        text += f" +{counted(len(routes) - 1, 'path')}"
    return text


def table_text(table: str) -> str:
    """A table key as ``watch`` reads it: ``loc``, ``in from PEER``, ``out to PEER``."""
    if table == "rib/loc":
        return "loc"
    kind, _, peer = table.removeprefix("rib/").partition("/")
    if kind == "in" and peer:
        return f"in from {peer}"
    if kind == "out" and peer:
        return f"out to {peer}"
    return table


def _resync_text(base: Mapping[str, Any]) -> str:
    """``resync loc, out to B1, ...``: the route tables whose documents carry the change."""
    tables = sorted((t for t in base if t != SESSIONS), key=lambda t: (t != "rib/loc", t))
    text = ", ".join(table_text(t) for t in tables[:_SHOWN_ITEMS])
    if len(tables) > _SHOWN_ITEMS:
        text += f" (+{counted(len(tables) - _SHOWN_ITEMS, 'table')})"
    return f"resync {text}".rstrip()


def delta_line(doc: Mapping[str, Any], states: dict[tuple[str, str], str]) -> str:
    """One line for a delta; ``states`` (node, peer) -> session state, kept up to date:
    a session entry whose state did not change (only its counters) is left out."""
    node = str(doc.get("node"))
    items = [f"{table_text(str(e['table']))} {_route_text(e)}" for e in doc.get("announce", [])]
    items += [f"{table_text(str(e['table']))} -{e['prefix']}" for e in doc.get("withdraw", [])]
    if doc.get("resync"):
        items.insert(0, _resync_text(doc.get("base", {})))
    counters = False
    for session in doc.get("sessions", []):
        key = (node, str(session["peer"]))
        if states.get(key) == session["state"]:
            counters = True
            continue
        states[key] = session["state"]
        items.append(f"session {session['peer']} {session['state']}")
    for peer in doc.get("sessions_removed", []):
        states.pop((node, str(peer)), None)
        items.append(f"session {peer} removed")
    shown = "; ".join(items[:_SHOWN_ITEMS]) or ("session counters" if counters else "no change")
    if len(items) > _SHOWN_ITEMS:
        shown += f" (+{len(items) - _SHOWN_ITEMS} more)"
    return f"{node} #{doc.get('seq')}: {shown}"


def _state_line(doc: Mapping[str, Any]) -> str:
    status = lab_status(doc)
    if status == "stopped":
        return f"lab {doc.get('lab')}: stopped"
    if status != "running":
        return f"lab {doc.get('lab')}: {status} (gone without stopping: killed, or its host lost)"
    # States as RFC 4271 spells them, as everywhere: "9/9 sessions Established".
    expected = doc.get("sessions_expected")
    sessions = f"{doc.get('sessions_established')}/{expected} sessions Established"
    if isinstance(expected, int):
        sessions = f"{doc.get('sessions_established')}/{counted(expected, 'session')} Established"
    speakers = counted(len(doc.get("nodes", [])), "speaker")
    if doc.get("converged"):
        took = doc.get("convergence_time")
        after = f" in {took} s" if took is not None else ""
        return f"lab {doc.get('lab')}: converged{after}, {speakers}, {sessions}"
    return f"lab {doc.get('lab')}: not converged, {speakers}, {sessions}"


def _traffic_event_line(doc: Mapping[str, Any]) -> str:
    """A ``traffic-event`` (docs/mqtt.md, "Traffic"): the intents whose verdict changed,
    or which question was answered (the answer itself: ``-o json``)."""
    head = f"lab {doc.get('lab')}"
    data = doc.get("data")
    if doc.get("event") == "intents_changed" and isinstance(data, dict):
        changes = []
        for change in data.get("changed") or ():
            if isinstance(change, dict):
                after = change.get("after") or "cannot be traced"
                state = "holds" if change.get("ok") else "violated"
                changes.append(f"{change.get('name')} {change.get('before')} -> {after} ({state})")
        return f"{head}: intents changed: {', '.join(changes)}"
    return f"{head}: {doc.get('event')} {doc.get('op')} (request {doc.get('request')})"


def _lab_event_line(doc: Mapping[str, Any]) -> str:
    from bgpemu.observe.payloads import Kind, schema_id

    if doc.get("schema") == schema_id(Kind.TRAFFIC_EVENT):
        return _traffic_event_line(doc)
    head = f"lab {doc.get('lab')}: {doc.get('event')}"
    if doc.get("event") == "converged":
        return (
            f"{head} {doc.get('duration')} s after {doc.get('detail')}: "
            f"{doc.get('updates')} UPDATEs, {doc.get('best_path_changes')} best-path changes"
        )
    return f"{head}: {doc.get('detail')}"


def _line(kind: str, doc: Mapping[str, Any], states: dict[tuple[str, str], str]) -> str:
    if kind == "state":
        return _state_line(doc)
    if kind == "lab-event":
        return _lab_event_line(doc)
    if kind == "status":
        return f"{doc.get('node')}: {doc.get('status')}"
    return delta_line(doc, states)


def _truthy(value: Any) -> bool:
    """JMESPath truth: null, false and empty strings, lists and objects are false."""
    return not (
        value is None or value is False or (isinstance(value, str | list | dict) and not value)
    )


class _Printer:
    """Prints watch items (readable lines, or JSON/YAML) and counts them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.count = 0
        self.last: dict[str, Any] = {}
        """The last state or status shown (or retained at the start), by topic, without
        ``since``: a document equal to it is no change."""
        self.sessions: dict[tuple[str, str], str] = {}
        """(node, peer) -> the session's last known state (readable lines)."""

    @property
    def done(self) -> bool:
        return self.args.count is not None and self.count >= self.args.count

    def show(self, topic: str, kind: str, doc: dict[str, Any], force: bool = False) -> None:
        """Print one item; a state or status equal to the last one shown only if ``force``."""
        if self.done:
            return
        key: dict[str, Any] | None = None
        if kind in ("state", "status"):
            # The lab republishes its state (a new ``since``) after every report, even
            # one that changes nothing: only a content unlike the last shown is a change.
            key = {k: v for k, v in doc.items() if k != "since"}
            if self.last.get(topic) == key and not force:
                return
        # Rendered first: it keeps the session states current even if the query hides it.
        line = _line(kind, doc, self.sessions) if self.args.output == "table" else ""
        result = query(self.args, doc)
        if not _truthy(result):
            return
        if key is not None:
            self.last[topic] = key
        if self.args.output == "json":
            text = json.dumps(result, separators=(",", ":"))
        elif self.args.output == "yaml":
            import yaml

            text = "---\n" + yaml.safe_dump(result, sort_keys=False, allow_unicode=True).rstrip()
        else:
            text = f"{time.strftime('%H:%M:%S')} {line}"
        print(text, flush=True)
        self.count += 1


def _classify(
    lab: str, topic: str, payload: bytes, speakers: set[str] | None
) -> tuple[str, dict[str, Any]] | None:
    """(kind, document) of a message ``watch`` shows, None for the others."""
    where = split_topic(lab, topic)
    if where is None or not payload:
        return None
    node, suffix = where
    try:
        doc = loads(payload)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if node is None:
        if speakers is not None or suffix not in ("state", "events"):
            return None
        return ("state" if suffix == "state" else "lab-event"), doc
    if speakers is not None and node not in speakers:
        return None
    if suffix in ("status", "events"):
        return ("status" if suffix == "status" else "delta"), doc
    return None


def watch_filters(lab: str) -> list[str]:
    """What ``watch`` subscribes to: the lab's ``state`` and ``events``, and every node's
    ``status``, ``sessions`` (the session states a delta line compares with) and ``events``."""
    filters = [lab_filter(lab, "state"), lab_filter(lab, "events")]
    return filters + [node_filter(lab, None, suffix) for suffix in ("status", SESSIONS, "events")]


async def run_watch(args: argparse.Namespace) -> int:
    if args.count is not None and args.count <= 0:
        return 0
    lab = await open_lab(args)
    tap = Tap(args.broker, lab, watch_filters(lab), keep=True)
    async with contextlib.AsyncExitStack() as stack:
        await subscribe(args, tap, stack)
        try:
            return await _stream(args, tap)
        except UsageError as exc:
            failure = exc  # raised outside the observer's TaskGroup (no ExceptionGroup)
    raise failure


async def _stream(args: argparse.Namespace, tap: Tap) -> int:
    from bgpemu.observe.topics import LabTopics

    topics = LabTopics(lab=tap.lab)

    def want(docs: Docs) -> bool:
        if args.node is None:
            return docs.state is not None
        return docs.has(docs.expected_of(args.node), "status")

    docs = await known_lab(args, await tap.settle(want, args.timeout))
    printer = _Printer(args)
    for node, documents in docs.nodes.items():  # the retained statuses are no changes
        if "status" in documents:
            printer.last[topics.node(node).status] = dict(documents["status"])
        for session in documents.get(SESSIONS, {}).get("sessions", []):
            printer.sessions[node, str(session["peer"])] = session["state"]
    speakers: set[str] | None = None
    if args.node is None:
        if docs.state is not None:
            printer.show(topics.state, "state", docs.state)
    else:
        speakers = set(node_speakers(docs, args.node))
        for speaker in sorted(speakers):
            status = docs.nodes.get(speaker, {}).get("status")
            if status is not None:
                printer.show(topics.node(speaker).status, "status", status, force=True)
    assert tap.queue is not None
    while not printer.done:
        topic, payload = await tap.queue.get()
        item = _classify(tap.lab, topic, payload, speakers)
        if item is not None:
            printer.show(topic, *item)
    return 0
