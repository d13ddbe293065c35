"""The sequence numbers of one node's tables: reads in, documents and deltas out (pure).

Theory of operation.  The shell reads a node's tables whenever its router changes
(coalescing bursts; :func:`~bgpemu.observe.tables.read_tables`) and hands them to
:meth:`NodeFeed.advance`, with the router's own changes since the last read
(:mod:`bgpemu.observe.journal`): the delta compares only the prefixes the router
changed, not whole tables.  The tables are ``rib/loc``, ``sessions`` and, per
neighbour, ``rib/in/<peer>`` and ``rib/out/<peer>`` (their topic suffixes are their
keys).  The first read yields every document at ``seq`` 0 and no delta (or, when it is
:meth:`NodeFeed.advance_sessions`, the sessions document alone: the route tables then
appear at the next read, see below).  Each later
read that differs bumps the node ``seq`` by one, gives the changed tables that ``seq``
as their version, and yields their new documents plus one ``event`` whose ``base``
lists, per changed table, the version it applies to.  A table that appears (a new
neighbour) is published at the new ``seq`` and one that disappears is cleared; neither
is in ``base``.  When more prefixes changed than ``max_delta``, the event is a
``resync``: no routes, only the versions, and the documents it names carry the change
(a hub's fifty Adj-RIBs-Out filling at once would otherwise make an event of a
million routes).  ``advance(..., full=True)`` returns every document (the shell asks
for that after it had to drop a delta, so observers who saw the gap in ``seq`` get a
fresh retained snapshot).

Everything is JSON text, written by :class:`~bgpemu.observe.tables.RouteEncoder`
without building a dict per route.  No clock is read: ``now`` (monotonic seconds, the
sessions' clock) only dates session uptimes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from bgpemu.azure.snapshot import PeerStatus
from bgpemu.observe.journal import RouterChanges
from bgpemu.observe.payloads import Kind, schema_id, session_doc, sessions_payload
from bgpemu.observe.tables import (
    NodeTables,
    RouteEncoder,
    Table,
    changed_among,
    changed_prefixes,
)
from bgpemu.observe.topics import NodeTopic, table_of_key

__all__ = ["MAX_DELTA", "NodeFeed", "Publication"]

MAX_DELTA = 20_000
"""Changed prefixes above which an event is a ``resync`` (about 5 MB of routes)."""

_SESSIONS = str(NodeTopic.SESSIONS)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Publication:
    """What to publish after one read: JSON text by table key, tables to clear, the delta."""

    documents: dict[str, bytes] = field(default_factory=dict)
    """Retained documents to (re)publish, by table key (topic suffix)."""
    cleared: tuple[str, ...] = ()
    """Tables that disappeared: clear their retained documents."""
    event: bytes | None = None
    """The delta, if a table that existed before changed."""


class NodeFeed:
    """Versions of a node's tables and the last read they describe."""

    def __init__(self, *, max_delta: int = MAX_DELTA) -> None:
        self.seq = 0
        self.max_delta = max_delta
        self.versions: dict[str, int] = {}
        """The ``seq`` of every table's current document, by table key."""
        self.encoder = RouteEncoder()
        self._last: NodeTables | None = None
        self.epoch: float | None = None
        """The wall clock minus the sessions' clock, set by the shell: sessions then carry
        ``established_since`` (:func:`~bgpemu.observe.payloads.session_doc`)."""

    @property
    def last(self) -> NodeTables | None:
        """The read the published documents describe."""
        return self._last

    def table_keys(self) -> list[str]:
        """The keys (topic suffixes) of every table document of the last read."""
        return sorted(self.versions)

    def documents(self, now: float | None = None) -> dict[str, bytes]:
        """Every table document of the last read, at the current versions."""
        if self._last is None:
            return {}
        return self._documents(self._last, self.versions, now)

    def _documents(self, tables: NodeTables, keys: Any, now: float | None) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        # The sessions document first: it is small, and a publisher sends the documents
        # in this order (a hub's route tables are megabytes each; "sessions" sorts last).
        for key in sorted(keys, key=lambda key: (key != _SESSIONS, key)):
            seq = self.versions[key]
            if key == _SESSIONS:
                text = _json(
                    sessions_payload(
                        tables.name, tables.sessions, seq=seq, now=now, epoch=self.epoch
                    )
                )
            else:
                text = self.encoder.document(key, tables.name, tables.tables[key], seq)
            out[key] = text.encode()
        return out

    def advance(
        self,
        tables: NodeTables,
        now: float | None = None,
        *,
        full: bool = False,
        changes: RouterChanges | None = None,
    ) -> Publication:
        """Documents and delta for ``tables`` (see the module docstring).

        ``changes``: what the router changed since the last read (taken from its
        :class:`~bgpemu.observe.journal.ChangeJournal` with this read); only those
        prefixes are compared.  Without it, every table is compared whole.
        """
        old, self._last = self._last, tables
        if old is None:
            self.versions = dict.fromkeys([*tables.tables, _SESSIONS], 0)
            return Publication(documents=self._documents(tables, self.versions, now))
        diffs: dict[str, tuple[list[Any], list[Any]]] = {}
        appeared: list[str] = []
        marks = changes.by_table() if changes is not None else None
        for key, table in tables.tables.items():
            before = old.tables.get(key)
            if before is None:
                appeared.append(key)
                continue
            source = tables.sources.get(key)
            if marks is not None and source is not None and old.sources.get(key) is source:
                marked = marks.get(key)
                if not marked:
                    continue  # the router changed nothing there
                changed, gone = changed_among(before, table, marked)
            else:
                changed, gone = changed_prefixes(before, table)
            if changed or gone:
                diffs[key] = (changed, gone)
        cleared = tuple(sorted(key for key in old.tables if key not in tables.tables))
        sessions, removed = _session_changes(old.sessions, tables.sessions)
        sessions_changed = bool(sessions or removed)
        if not (diffs or appeared or cleared or sessions_changed):
            documents = self._documents(tables, self.versions, now) if full else {}
            return Publication(documents=documents)
        self.seq += 1
        seq = self.seq
        base = {key: self.versions[key] for key in sorted(diffs)}
        if sessions_changed:
            base[_SESSIONS] = self.versions[_SESSIONS]
        for key in cleared:
            del self.versions[key]
        for key in (*base, *appeared):
            self.versions[key] = seq
        event = None
        if base:
            event = self._event(tables, seq, base, diffs, sessions, removed, now).encode()
        wanted = self.versions if full else (*base, *appeared)
        return Publication(
            documents=self._documents(tables, wanted, now), cleared=cleared, event=event
        )

    def advance_sessions(
        self, name: str, sessions: tuple[PeerStatus, ...], now: float | None = None
    ) -> Publication:
        """The sessions document and delta for node ``name``'s ``sessions`` alone; the
        route tables stay as the last read left them.

        A session's state change is published at once this way, while the tables (a
        hub's megabytes) are still coalesced: the change takes the next ``seq``, its
        event's ``base`` names only ``sessions``, and the next :meth:`advance` compares
        the tables with the last read as before (its sessions with these).  As the
        first read, it is the snapshot of the sessions alone (``seq`` 0, no event): the
        route tables then appear at the next :meth:`advance`, at its ``seq``, as a new
        neighbour's do.
        """
        old = self._last
        if old is None:
            self._last = tables = NodeTables(name=name, tables={}, sessions=sessions)
            self.versions = {_SESSIONS: 0}
            return Publication(documents=self._documents(tables, self.versions, now))
        changed, removed = _session_changes(old.sessions, sessions)
        if not (changed or removed):
            return Publication()
        self._last = tables = replace(old, sessions=sessions)
        self.seq += 1
        base = {_SESSIONS: self.versions[_SESSIONS]}
        self.versions[_SESSIONS] = self.seq
        event = self._event(tables, self.seq, base, {}, changed, removed, now).encode()
        return Publication(documents=self._documents(tables, base, now), event=event)

    def _event(
        self,
        tables: NodeTables,
        seq: int,
        base: dict[str, int],
        diffs: dict[str, tuple[list[Any], list[Any]]],
        sessions: list[PeerStatus],
        removed: list[str],
        now: float | None,
    ) -> str:
        """The ``event`` text: routes as the encoder writes them, the rest by ``json``."""
        resync = sum(len(c) + len(g) for c, g in diffs.values()) > self.max_delta
        announce: list[str] = []
        withdraw: list[str] = []
        if not resync:
            encoder = self.encoder
            for key in sorted(diffs):
                kind, peer = table_of_key(key)
                table: Table = tables.tables[key]
                changed, gone = diffs[key]
                head = f'{{"table":{_json(key)},"peer":{_json(peer)},'
                withdraw.extend(
                    f'{head}"family":"{family}","prefix":"{prefix}"}}'
                    for family, prefix in encoder.ordered(gone)
                )
                announce.extend(
                    f'{head}"family":"{family}","prefix":"{prefix}","routes":['
                    f"{encoder.group(kind, family, prefix, table[family][prefix], peer)}]}}"
                    for family, prefix in encoder.ordered(changed)
                )
        return (
            f'{{"schema":"{schema_id(Kind.EVENT)}","node":{_json(tables.name)},"seq":{seq},'
            f'"base":{_json(base)},"resync":{_json(resync)},'
            f'"announce":[{",".join(announce)}],"withdraw":[{",".join(withdraw)}],'
            f'"sessions":{_json([session_doc(p, now, self.epoch) for p in sessions])},'
            f'"sessions_removed":{_json(removed)}}}'
        )


def _session_changes(
    old: tuple[PeerStatus, ...], new: tuple[PeerStatus, ...]
) -> tuple[list[PeerStatus], list[str]]:
    """The sessions of ``new`` that differ from ``old`` and the peers no longer in it."""
    before = {p.peer: p for p in old}
    changed = [p for p in new if before.get(p.peer) != p]
    return changed, sorted(before.keys() - {p.peer for p in new})
