"""The observer commands: read a running lab's tables from its MQTT broker.

``bgpemu routes NODE``, ``effective-routes VNET[/SUBNET]``, ``learned-routes GATEWAY``,
``hub-routes HUB[/TABLE]``, ``sessions [NODE]`` and ``watch [NODE]`` work from any
machine that reaches the broker: they never talk to the lab itself.

Theory of operation.  A command checks the broker (``--mqtt``, exit status 2 with the URL
when it does not answer), picks the lab (``--lab``, else the only lab with a retained
``state`` on the broker), subscribes to ``bgpemu/v1/<lab>/#`` with an
:class:`~bgpemu.observe.mqtt.Observer` and waits for the retained documents (docs/mqtt.md).
MQTT has no end-of-retained marker, so the wait ends as soon as the documents the command
needs are there, or else once no message arrived for :data:`QUIET` seconds (the broker
sends every retained document right after the subscription): what is missing then does not
exist, and the error names it and lists what does.  Every wait is bounded by ``--timeout``.

The JSON is that of ``bgpemu solve``: an Azure view is the ``data`` of its retained
document (exactly ``solve --effective-routes ... -o json``); ``routes`` is
``{speaker: routes}`` with the ``routes`` list of the ``rib/loc`` document (``solve --node``
prints the same), or ``{speaker: {peer: routes}}`` for ``--rib in|out``; ``sessions`` is
``{speaker: sessions}``.  ``--query`` (JMESPath) applies to that JSON before ``-o``.
``watch`` prints the lab state (or the node's status) first, then one line per change:
deltas, status and lab state changes, and the lab's events; with ``-o json`` each is its
MQTT payload on one line.  There ``--query`` is applied to each payload: an item whose
result is JMESPath-false (null, false, empty) is not shown, and ``-o json|yaml`` print the
result (``-o table`` the readable line of the item).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bgpemu.observe.mqtt import Observer

__all__ = ["DEFAULT_MQTT", "QUIET", "add_parsers", "render_rib"]

DEFAULT_MQTT = "mqtt://127.0.0.1:1883"
QUIET = 0.3
"""Seconds without a message after which the broker has sent every retained document."""
_RIBS = {"loc": "rib/loc", "in": "rib/in", "out": "rib/out"}
_SHOWN_ITEMS = 6
"""Changes shown on one ``watch`` line before ``(+N more)``."""


class _UsageError(Exception):
    """A user-facing error: printed as ``error: ...``, exit status 2."""


# --- argument parsing ------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mqtt", metavar="URL", default=DEFAULT_MQTT, help=f"the broker (default {DEFAULT_MQTT})"
    )
    parser.add_argument(
        "--lab", help="lab name (default: the only lab with a retained state on the broker)"
    )
    parser.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    parser.add_argument("--query", metavar="JMESPATH", help="JMESPath query applied to the JSON")
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for the broker and the retained documents (default 5)",
    )


def add_parsers(commands: Any) -> None:
    """Register ``routes``, ``effective-routes``, ``learned-routes``, ``hub-routes``,
    ``sessions`` and ``watch``."""
    routes = commands.add_parser(
        "routes", help="a node's Loc-RIB, Adj-RIB-In or Adj-RIB-Out in a running lab (MQTT)"
    )
    routes.add_argument("node", metavar="NODE", help="topology node (all its speakers) or speaker")
    routes.add_argument("--rib", choices=sorted(_RIBS), default="loc", help="default: loc")
    routes.add_argument("--peer", metavar="PEER", help="only the routes of this neighbour")
    _common(routes)
    routes.set_defaults(func=_run, action=_routes)
    for name, metavar, what, action in (
        ("effective-routes", "VNET[/SUBNET]", "effective routes of a subnet", _effective),
        ("learned-routes", "GATEWAY", "routes a VPN/ER gateway learned", _learned),
        ("hub-routes", "HUB[/TABLE]", "effective routes of a vWAN hub route table", _hub),
    ):
        parser = commands.add_parser(name, help=f"{what} in a running lab (MQTT)")
        parser.add_argument("target", metavar=metavar)
        _common(parser)
        parser.set_defaults(func=_run, action=action)
    sessions = commands.add_parser("sessions", help="BGP sessions in a running lab (MQTT)")
    sessions.add_argument("node", metavar="NODE", nargs="?", help="default: every speaker")
    _common(sessions)
    sessions.set_defaults(func=_run, action=_sessions)
    watch = commands.add_parser("watch", help="live changes of a running lab (MQTT), until ^C")
    watch.add_argument("node", metavar="NODE", nargs="?", help="default: the whole lab")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N lines")
    _common(watch)
    watch.set_defaults(func=_run, action=_watch)


def _run(args: argparse.Namespace) -> int:
    try:
        status: int = asyncio.run(args.action(args))
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return status


# --- the lab's documents ---------------------------------------------------------------


class _Tap:
    """An :class:`Observer` plus what the commands need: message arrival and a raw queue."""

    def __init__(self, url: str, lab: str, keep: bool) -> None:
        from bgpemu.observe.mqtt import Observer

        tap = self

        class _Observer(Observer):
            def receive(self, topic: str, payload: bytes) -> None:
                super().receive(topic, payload)
                tap.received += 1
                if tap.queue is not None:
                    tap.queue.put_nowait((topic, payload))

        self.lab = lab
        self.received = 0
        self.queue: asyncio.Queue[tuple[str, bytes]] | None = asyncio.Queue() if keep else None
        self.observer: Observer = _Observer(url, lab=lab)

    def _arrival(self) -> Callable[[], bool]:
        """A predicate that holds once another message has arrived."""
        seen = self.received
        return lambda: self.received != seen

    def view(self) -> _Docs:
        return _Docs.of(self.lab, self.observer.documents)

    async def settle(self, want: Callable[[_Docs], bool], timeout: float) -> _Docs:
        """Wait until ``want`` holds, or until no message for :data:`QUIET` s, or ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            docs = self.view()
            if want(docs):
                return docs
            window = min(QUIET, deadline - loop.time())
            if window <= 0:
                return docs
            try:
                await self.observer.wait_for(self._arrival(), timeout=window)
            except TimeoutError:
                return self.view()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Docs:
    """The retained documents of one lab: the lab ``state`` and every node's, by suffix."""

    lab: str
    state: dict[str, Any] | None
    nodes: dict[str, dict[str, dict[str, Any]]]

    @classmethod
    def of(cls, lab: str, documents: Mapping[str, dict[str, Any]]) -> _Docs:
        from bgpemu.observe.topics import parse_topic

        state: dict[str, Any] | None = None
        nodes: dict[str, dict[str, dict[str, Any]]] = {}
        for topic, doc in documents.items():
            ref = parse_topic(topic)
            if ref is None:
                continue
            if ref.node is None:
                if ref.kind == "state":
                    state = doc
                continue
            suffix = f"azure/{ref.view}" if ref.view is not None else str(ref.kind)
            nodes.setdefault(ref.node, {})[suffix] = doc
        return cls(lab=lab, state=state, nodes=nodes)

    @property
    def speakers(self) -> list[str]:
        """The lab's speakers: those in the state, and every node with a table or status."""
        names = set(self.state.get("nodes", []) if self.state else [])
        names.update(
            node
            for node, docs in self.nodes.items()
            if docs.keys() & {"status", "info", "sessions", "rib/loc"}
        )
        return sorted(names)

    def speakers_of(self, node: str) -> list[str]:
        """The speakers of topology node ``node`` (``VpnGW`` -> ``VpnGW.0``, ``VpnGW.1``), or
        ``[node]`` when it is a speaker itself."""
        speakers = self.speakers
        if node in speakers:
            return [node]
        return [s for s in speakers if s.startswith(node + ".")]

    def expected_of(self, node: str) -> list[str]:
        """:meth:`speakers_of` among the speakers the lab state lists."""
        listed = self.state.get("nodes", []) if self.state else []
        return [s for s in listed if s == node or s.startswith(node + ".")]

    def has(self, speakers: Sequence[str], suffix: str) -> bool:
        return bool(speakers) and all(suffix in self.nodes.get(s, {}) for s in speakers)

    def views(self, kind: str) -> dict[str, dict[str, Any]]:
        """``node -> {detail: data}`` of the Azure views ``kind`` or ``kind.detail``."""
        out: dict[str, dict[str, Any]] = {}
        for node, docs in self.nodes.items():
            for suffix, doc in docs.items():
                view = suffix.removeprefix("azure/")
                if view == suffix:
                    continue
                if view == kind or view.startswith(kind + "."):
                    detail = view[len(kind) + 1 :]
                    out.setdefault(node, {})[detail] = doc.get("data")
        return out

    def not_converged_hint(self) -> str:
        if self.state is None or self.state.get("converged"):
            return ""
        return " (the lab has not converged yet: views are published once it has)"


def _names(names: Sequence[str]) -> str:
    return ", ".join(sorted(names)) or "none"


async def _open(args: argparse.Namespace, keep: bool = False) -> _Tap:
    """Check the broker, pick the lab, and return a tap ready to enter."""
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import check_broker, retained_labs

    try:
        await check_broker(args.mqtt, args.timeout)
        lab = args.lab
        if lab is None:
            labs = await retained_labs(args.mqtt, args.timeout, QUIET)
            if not labs:
                raise _UsageError(
                    f"no lab on the MQTT broker at {args.mqtt} (no retained "
                    "bgpemu/v1/<lab>/state): is a lab up there?"
                )
            if len(labs) > 1:
                raise _UsageError(
                    f"several labs on the MQTT broker at {args.mqtt} ({_names(list(labs))}): "
                    "give --lab"
                )
            lab = next(iter(labs))
        return _Tap(args.mqtt, lab, keep)
    except ObserveError as exc:
        raise _UsageError(str(exc)) from None


async def _missing_lab(args: argparse.Namespace, lab: str) -> _UsageError:
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import retained_labs

    try:
        labs = await retained_labs(args.mqtt, args.timeout, QUIET)
    except ObserveError as exc:
        return _UsageError(str(exc))
    return _UsageError(
        f"no lab {lab!r} on the MQTT broker at {args.mqtt} (labs: {_names(list(labs))})"
    )


async def _subscribe(args: argparse.Namespace, tap: _Tap, stack: contextlib.AsyncExitStack) -> None:
    """Enter the observer (subscribed) within ``--timeout``."""
    try:
        async with asyncio.timeout(args.timeout):
            await stack.enter_async_context(tap.observer)
    except TimeoutError:
        raise _UsageError(
            f"the MQTT broker at {args.mqtt} did not accept a subscription within "
            f"{args.timeout:g} s"
        ) from None


async def _collect(
    args: argparse.Namespace, want: Callable[[_Docs], bool], build: Callable[[_Docs], Any]
) -> Any:
    """Subscribe, wait for the retained documents, and return ``build(documents)``."""
    tap = await _open(args)
    async with contextlib.AsyncExitStack() as stack:
        await _subscribe(args, tap, stack)
        docs = await tap.settle(want, args.timeout)
    if docs.state is None and not docs.nodes:
        raise await _missing_lab(args, tap.lab)
    return build(docs)


# --- output ----------------------------------------------------------------------------


def _query(args: argparse.Namespace, data: Any) -> Any:
    if args.query is None:
        return data
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.search(args.query, data)
    except JMESPathError as exc:
        raise _UsageError(f"invalid --query {args.query!r}: {exc}") from None


def _emit(args: argparse.Namespace, data: Any, table: Callable[[Any], str]) -> int:
    result = _query(args, data)
    if args.output == "json":
        print(json.dumps(result, indent=2))
    elif args.output == "yaml":
        import yaml

        print(yaml.safe_dump(result, sort_keys=False, allow_unicode=True), end="")
    elif args.query is not None:
        print(_generic_table(result).rstrip("\n"))
    else:
        print(table(result).rstrip("\n"))
    return 0


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list) or all(
        not isinstance(item, dict | list) for item in value
    )


def _generic_table(value: Any) -> str:
    """``-o table`` of a query result, like az: a list of objects is one row each."""
    from bgpemu.azure.views.render import cell, format_table

    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return cell(value)
    if not all(isinstance(item, dict) for item in value):
        return "\n".join(cell(item) if _scalar(item) else json.dumps(item) for item in value)
    columns: list[str] = []
    for item in value:
        columns.extend(k for k, v in item.items() if k not in columns and _scalar(v))
    if not columns:
        return ""
    return format_table(columns, [[item.get(c) for c in columns] for item in value])


def _as_path(route: Mapping[str, Any]) -> str:
    return " ".join(str(asn) for asn in route.get("as_path", [])) or "(local)"


def render_rib(tables: Mapping[str, Any]) -> str:
    """``-o table`` of ``routes`` (and ``solve --node``): one line per route.

    ``tables`` is ``{speaker: routes}`` (Loc-RIB) or ``{speaker: {peer: routes}}``
    (Adj-RIB-In/Out).
    """
    from bgpemu.azure.views.render import format_table

    loc_rows: list[list[object]] = []
    adj_rows: list[list[object]] = []
    for speaker in sorted(tables):
        value = tables[speaker]
        if isinstance(value, dict):
            for peer in sorted(value):
                adj_rows.extend(
                    [
                        speaker,
                        peer,
                        r["prefix"],
                        r["next_hop"],
                        _as_path(r),
                        r["origin"],
                        r["local_pref"],
                        r["med"],
                    ]
                    for r in value[peer]
                )
            continue
        loc_rows.extend(
            [
                speaker,
                r["prefix"],
                r["next_hop"] or "-",
                _as_path(r),
                r["peer"] or "local",
                "*" if r["best"] else "",
                "=" if r["multipath"] else "",
                r["reason"],
            ]
            for r in value
        )
    parts = []
    if loc_rows or not adj_rows:
        headers = ["Speaker", "Prefix", "NextHop", "AsPath", "From", "Best", "Ecmp", "Reason"]
        parts.append(format_table(headers, loc_rows))
    if adj_rows:
        headers = ["Speaker", "Peer", "Prefix", "NextHop", "AsPath", "Origin", "LocPrf", "Med"]
        parts.append(format_table(headers, adj_rows))
    return "\n".join(part.rstrip("\n") for part in parts)


def _render_sessions(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    from bgpemu.azure.views.render import format_table

    headers = ["Speaker", "Peer", "State", "Uptime", "Received", "Accepted", "Sent"]
    headers += ["MsgRcvd", "MsgSent"]
    rows = [
        [
            speaker,
            s["peer"],
            s["state"],
            s["uptime"],
            s["routes_received"],
            s["routes_accepted"],
            s["routes_sent"],
            s["messages_received"],
            s["messages_sent"],
        ]
        for speaker in sorted(tables)
        for s in tables[speaker]
    ]
    return format_table(headers, rows)


def _render_view(view: Any) -> str:
    from bgpemu.azure.views import render_table

    return render_table(view)


# --- routes and sessions ---------------------------------------------------------------


def _matches(name: str | None, wanted: str) -> bool:
    return name is not None and (name == wanted or name.startswith(wanted + "."))


def _speakers(docs: _Docs, node: str) -> list[str]:
    speakers = docs.speakers_of(node)
    if not speakers:
        raise _UsageError(
            f"no node {node!r} in lab {docs.lab!r} (speakers: {_names(docs.speakers)})"
        )
    return speakers


def _table_of(docs: _Docs, speaker: str, suffix: str) -> dict[str, Any]:
    doc = docs.nodes.get(speaker, {}).get(suffix)
    if doc is None:
        raise _UsageError(f"no {suffix} document of {speaker!r} in lab {docs.lab!r} yet")
    return doc


def _peers_of(docs: _Docs, speaker: str) -> set[str]:
    found: set[str] = set()
    for suffix in ("rib/in", "rib/out"):
        found.update(docs.nodes.get(speaker, {}).get(suffix, {}).get("peers", {}))
    found.update(
        s["peer"] for s in docs.nodes.get(speaker, {}).get("sessions", {}).get("sessions", [])
    )
    return found


async def _routes(args: argparse.Namespace) -> int:
    suffix = _RIBS[args.rib]

    def want(docs: _Docs) -> bool:
        return docs.has(docs.expected_of(args.node), suffix)

    def build(docs: _Docs) -> dict[str, Any]:
        speakers = _speakers(docs, args.node)
        if args.peer is not None:
            known = set().union(*(_peers_of(docs, s) for s in speakers))
            if not any(_matches(p, args.peer) for p in known):
                raise _UsageError(
                    f"{args.node!r} has no peer {args.peer!r} in lab {docs.lab!r} "
                    f"(peers: {_names(list(known))})"
                )
        out: dict[str, Any] = {}
        for speaker in speakers:
            doc = _table_of(docs, speaker, suffix)
            if args.rib == "loc":
                out[speaker] = [
                    r
                    for r in doc.get("routes", [])
                    if args.peer is None or _matches(r.get("peer"), args.peer)
                ]
            else:
                out[speaker] = {
                    peer: routes
                    for peer, routes in doc.get("peers", {}).items()
                    if args.peer is None or _matches(peer, args.peer)
                }
        return out

    return _emit(args, await _collect(args, want, build), render_rib)


async def _sessions(args: argparse.Namespace) -> int:
    def want(docs: _Docs) -> bool:
        if args.node is None:
            expected = list(docs.state.get("nodes", [])) if docs.state else []
        else:
            expected = docs.expected_of(args.node)
        return docs.has(expected, "sessions")

    def build(docs: _Docs) -> dict[str, Any]:
        speakers = docs.speakers if args.node is None else _speakers(docs, args.node)
        return {s: _table_of(docs, s, "sessions").get("sessions", []) for s in speakers}

    return _emit(args, await _collect(args, want, build), _render_sessions)


# --- Azure views -----------------------------------------------------------------------


def _pick_view(
    docs: _Docs, kind: str, what: str, node: str, detail: str | None, detail_what: str
) -> Any:
    """The ``data`` of view ``kind[.detail]`` of ``node``, or a :class:`_UsageError` listing."""
    views = docs.views(kind)
    if node not in views:
        raise _UsageError(
            f"no {what} {node!r} with {kind} in lab {docs.lab!r} "
            f"({what}s: {_names(list(views))}){docs.not_converged_hint()}"
        )
    details = views[node]
    if detail is None:
        if len(details) != 1:
            raise _UsageError(
                f"{what} {node!r} has several {detail_what}s: give {node}/{detail_what.upper()} "
                f"({detail_what}s: {_names(list(details))})"
            )
        return next(iter(details.values()))
    if detail not in details:
        raise _UsageError(
            f"{what} {node!r} has no {detail_what} {detail!r} in lab {docs.lab!r} "
            f"({detail_what}s: {_names(list(details))})"
        )
    return details[detail]


async def _view(
    args: argparse.Namespace, kind: str, what: str, detail: str | None, detail_what: str = ""
) -> int:
    node = args.target.partition("/")[0] if detail_what else args.target
    view = f"{kind}.{detail}" if detail else kind

    def want(docs: _Docs) -> bool:
        return (detail is not None or not detail_what) and f"azure/{view}" in docs.nodes.get(
            node, {}
        )

    def build(docs: _Docs) -> Any:
        return _pick_view(docs, kind, what, node, detail, detail_what)

    return _emit(args, await _collect(args, want, build), _render_view)


async def _effective(args: argparse.Namespace) -> int:
    subnet = args.target.partition("/")[2] or None
    return await _view(args, "effective-routes", "VNet", subnet, "subnet")


async def _learned(args: argparse.Namespace) -> int:
    return await _view(args, "learned-routes", "gateway", None)


async def _hub(args: argparse.Namespace) -> int:
    table = args.target.partition("/")[2] or "defaultRouteTable"
    return await _view(args, "hub-routes", "hub", table, "table")


# --- watch -----------------------------------------------------------------------------


def _route_text(entry: Mapping[str, Any]) -> str:
    routes = entry.get("routes") or [{}]
    best = routes[0]
    path = " ".join(str(asn) for asn in best.get("as_path", [])) or "local"
    text = f"+{entry['prefix']} via {best.get('next_hop') or '-'} path {path}"
    if len(routes) > 1:
        text += f" +{len(routes) - 1} path(s)"
    return text


def _where(entry: Mapping[str, Any]) -> str:
    table = entry.get("table")
    if table == "rib/in":
        return f"in from {entry.get('peer')} "
    if table == "rib/out":
        return f"out to {entry.get('peer')} "
    return "loc "


def _delta_line(doc: Mapping[str, Any], states: dict[tuple[str, str], str]) -> str:
    """One line for a delta; ``states`` (node, peer) -> session state, kept up to date:
    a session entry whose state did not change (only its counters) is left out."""
    node = str(doc.get("node"))
    items = [_where(e) + _route_text(e) for e in doc.get("announce", [])]
    items += [f"{_where(e)}-{e['prefix']}" for e in doc.get("withdraw", [])]
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
    sessions = f"{doc.get('sessions_established')}/{doc.get('sessions_expected')} sessions up"
    speakers = f"{len(doc.get('nodes', []))} speakers"
    if doc.get("converged"):
        took = doc.get("convergence_time")
        after = f" in {took} s" if took is not None else ""
        return f"lab {doc.get('lab')}: converged{after}, {speakers}, {sessions}"
    return f"lab {doc.get('lab')}: not converged, {speakers}, {sessions}"


def _lab_event_line(doc: Mapping[str, Any]) -> str:
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
    return _delta_line(doc, states)


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
        result = _query(self.args, doc)
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
    from bgpemu.observe.topics import parse_topic

    ref = parse_topic(topic)
    if ref is None or ref.lab != lab or not payload:
        return None
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if ref.node is None:
        if speakers is not None or ref.kind not in ("state", "events"):
            return None
        return ("state" if ref.kind == "state" else "lab-event"), doc
    if speakers is not None and ref.node not in speakers:
        return None
    if ref.kind in ("status", "events"):
        return ("status" if ref.kind == "status" else "delta"), doc
    return None


async def _watch(args: argparse.Namespace) -> int:
    if args.count is not None and args.count <= 0:
        return 0
    tap = await _open(args, keep=True)
    async with contextlib.AsyncExitStack() as stack:
        await _subscribe(args, tap, stack)
        try:
            return await _stream(args, tap)
        except _UsageError as exc:
            failure = exc  # raised outside the observer's TaskGroup (no ExceptionGroup)
    raise failure


async def _stream(args: argparse.Namespace, tap: _Tap) -> int:
    from bgpemu.observe.topics import LabTopics

    topics = LabTopics(lab=tap.lab)

    def want(docs: _Docs) -> bool:
        if args.node is None:
            return docs.state is not None
        return docs.has(docs.expected_of(args.node), "status")

    docs = await tap.settle(want, args.timeout)
    if docs.state is None and not docs.nodes:
        raise await _missing_lab(args, tap.lab)
    printer = _Printer(args)
    for node, documents in docs.nodes.items():  # the retained statuses are no changes
        if "status" in documents:
            printer.last[topics.node(node).status] = dict(documents["status"])
        for session in documents.get("sessions", {}).get("sessions", []):
            printer.sessions[node, str(session["peer"])] = session["state"]
    speakers: set[str] | None = None
    if args.node is None:
        if docs.state is not None:
            printer.show(topics.state, "state", docs.state)
    else:
        speakers = set(_speakers(docs, args.node))
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
