"""What a node's router changed between two reads of its tables, for the feed's deltas (pure).

Theory of operation.  Every router call returns a
:class:`~bgpemu.router.outputs.RouterOutput` that already names what it changed: the
Loc-RIB prefixes whose entry changed (:meth:`RouterOutput.changed_prefixes
<bgpemu.router.outputs.RouterOutput.changed_prefixes>`), the exports of each peer (the
prefixes whose Adj-RIB-Out entry changed, RFC 4271 §9.2) and the prefixes of a peer's
Adj-RIB-In the call may have changed (:attr:`RouterOutput.received
<bgpemu.router.outputs.RouterOutput.received>`).  The shell hands each output to
:meth:`ChangeJournal.record` as it carries it out; the feed takes the journal
(:meth:`ChangeJournal.take`) when it reads the tables, and
:class:`~bgpemu.observe.feed.NodeFeed` compares only those prefixes, coalesced per
table and prefix, instead of re-diffing whole tables.

Recording holds references to what the output already holds (no copy, no set per
prefix: the routing loop pays one list append per batch); the batches are grouped per
table by :meth:`RouterChanges.by_table`, which the feed calls in its thread.  The journal is
bounded: past ``max_batches`` it drops its batches and :meth:`ChangeJournal.take`
returns None ("unknown"), and the feed then re-diffs every table, as it does for a
table whose router object was replaced (a session that went down and came back up has
a new Adj-RIB-In and Adj-RIB-Out, whose changes no output lists).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bgpemu.observe.topics import NodeTopic, table_key
from bgpemu.rib.adj_rib_out import EndOfRib, Export
from bgpemu.router.outputs import RouterOutput
from bgpemu.types import Family

__all__ = ["MAX_BATCHES", "ChangeJournal", "Marks", "RouterChanges"]

MAX_BATCHES = 200_000
"""Batches a journal holds before it gives up and says "unknown" (re-diff everything)."""

Marks = dict[str, dict[Family, list[Collection[str]]]]
"""Per table key (topic suffix), per family, batches of prefixes that may have changed."""

_LOC = str(NodeTopic.RIB_LOC)


@dataclass(frozen=True, slots=True)
class RouterChanges:
    """The router's outputs between two reads, as recorded (see the module docstring)."""

    loc: list[tuple[Family, Collection[str]]]
    """Loc-RIB (family, prefixes) batches."""
    out: list[tuple[str, list[Export]]]
    """(peer, exports) batches: the peer's Adj-RIB-Out changes."""
    received: list[tuple[str, Mapping[Family, Collection[str]]]]
    """(peer, prefixes by family) batches: the peer's Adj-RIB-In changes, at most."""

    def by_table(self) -> Marks:
        """The batches grouped per table key and family, not merged: the feed merges
        them, or compares a family whole where they name a large share of it
        (:func:`~bgpemu.observe.tables.changed_among`)."""
        marks: Marks = {}
        if self.loc:
            loc = marks[_LOC] = {}
            for family, prefixes in self.loc:
                _batches(loc, family).append(prefixes)
        keys: dict[tuple[NodeTopic, str], str] = {}
        for peer, exports in self.out:
            table = _table(marks, keys, NodeTopic.RIB_OUT, peer)
            for export in exports:
                if not isinstance(export, EndOfRib):
                    _batches(table, export.family).append(export.prefixes)
        for peer, touched in self.received:
            table = _table(marks, keys, NodeTopic.RIB_IN, peer)
            for family, prefixes in touched.items():
                _batches(table, family).append(prefixes)
        return marks


def _batches(table: dict[Family, list[Collection[str]]], family: Family) -> list[Collection[str]]:
    held = table.get(family)
    if held is None:
        held = table[family] = []
    return held


def _table(
    marks: Marks, keys: dict[tuple[NodeTopic, str], str], kind: NodeTopic, peer: str
) -> dict[Family, list[Collection[str]]]:
    key = keys.get((kind, peer))
    if key is None:
        key = keys[kind, peer] = table_key(kind, peer)
    table = marks.get(key)
    if table is None:
        table = marks[key] = {}
    return table


class ChangeJournal:
    """The router outputs of one node since the feed last took them (bounded)."""

    def __init__(self, *, max_batches: int = MAX_BATCHES) -> None:
        self.max_batches = max_batches
        self._loc: list[tuple[Family, Collection[str]]] = []
        self._out: list[tuple[str, list[Export]]] = []
        self._received: list[tuple[str, Mapping[Family, Collection[str]]]] = []
        self._overflow = False

    def record(self, output: RouterOutput) -> None:
        """Note what ``output`` changed (references only: the output is not modified)."""
        if self._overflow:
            return
        self._loc.extend(output.changed_prefixes())
        self._out.extend(output.exports.items())
        self._received.extend(output.received)
        if len(self._loc) + len(self._out) + len(self._received) > self.max_batches:
            self._overflow = True
            self._loc, self._out, self._received = [], [], []

    def take(self) -> RouterChanges | None:
        """What was recorded since the last take, and start afresh; None if it overflowed."""
        changes = None if self._overflow else RouterChanges(self._loc, self._out, self._received)
        self._loc, self._out, self._received = [], [], []
        self._overflow = False
        return changes
