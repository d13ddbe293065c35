"""A node's route tables as the MQTT feed reads them: cheap copies, changes, JSON text (pure).

Theory of operation.  The feed publishes one retained document per table of a node:
``rib/loc``, and per neighbour ``rib/in/<peer>`` and ``rib/out/<peer>`` (the Adj-RIBs of
RFC 4271 §3.2).  A vWAN hub holds a million routes in its Adj-RIBs-Out, so reading and
encoding must cost next to nothing per route:

* :func:`read_tables` copies the router's own maps (prefix -> the stored, immutable
  Loc-RIB entry, accepted :class:`~bgpemu.rib.path.Path` or advertised
  :class:`~bgpemu.wire.messages.PathAttributes`) with ``dict()``: a C-speed shallow copy
  that shares every route object with the router.  Nothing is converted yet.
* The router's own outputs name the prefixes that may have changed since the last
  read (:mod:`bgpemu.observe.journal`): only those are compared with the last read
  (:func:`changed_among`), so the cost follows the change, not the table.  A table
  whose router object was replaced (:attr:`NodeTables.sources`), or a read without the
  router's changes, is compared whole (:func:`changed_prefixes`, identity first, in C).
* :class:`RouteEncoder` writes the JSON text of routes directly.  The attribute part of
  a route (next hop to peer) is encoded once per attributes object and cached (the
  router shares one attributes object among the prefixes of an UPDATE); a route is
  then one string formatting.  The fragment is :func:`~bgpemu.rib.route.attribute_doc`
  with the weight and the peer; the text equals ``json.dumps`` of
  :func:`~bgpemu.rib.route.route_doc` with compact separators, field for field
  (tests/observe/test_tables.py checks it against that reference).

Canonical order, as in every table document: family, then address, then prefix
length; the routes of one prefix stay together (best path first in the Loc-RIB).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.snapshot import PeerStatus, peer_status
from bgpemu.observe.payloads import table_schema
from bgpemu.observe.topics import NodeTopic, table_key, table_of_key
from bgpemu.rib.decision import Decision
from bgpemu.rib.path import Path
from bgpemu.rib.route import ATTRIBUTE_FIELDS, attribute_doc
from bgpemu.router.core import Router
from bgpemu.session import Session
from bgpemu.types import Family, prefix_key
from bgpemu.wire.messages import PathAttributes

__all__ = [
    "WHOLE_SHARE",
    "NodeTables",
    "RouteEncoder",
    "Table",
    "changed_among",
    "changed_prefixes",
    "read_sessions",
    "read_tables",
]

Table = dict[Family, dict[str, Any]]
"""One table: per family, prefix -> what the router stores for it (see the module doc)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeTables:
    """What :func:`read_tables` took from one node: its route tables and sessions."""

    name: str
    tables: dict[str, Table]
    """By :func:`table_key`."""
    sessions: tuple[PeerStatus, ...] = ()
    sources: dict[str, object] = field(default_factory=dict)
    """The router object each table was copied from, by key (the Loc-RIB, a peer's
    Adj-RIB-In or -Out): a table whose object was replaced since the last read (the
    session went down and up again) is re-diffed whole, not from the router's changes."""


def _accepted(live: Mapping[Any, Path]) -> dict[str, Any]:
    """An Adj-RIB-In map by prefix: one Path, or the tuple of a prefix's ADD-PATH paths."""
    copy = dict(live)
    if not any(type(key) is tuple for key in copy):
        return copy
    grouped: dict[str, Any] = {}
    for path in copy.values():
        held = grouped.get(path.prefix)
        grouped[path.prefix] = path if held is None else (*_paths(held), path)
    return grouped


def _paths(held: Any) -> tuple[Path, ...]:
    return held if type(held) is tuple else (held,)


def read_tables(
    name: str, router: Router, sessions: Mapping[str, Session] | None = None
) -> NodeTables:
    """Copy ``router``'s tables (and its ``sessions``' status, by neighbour name).

    Runs on the speaker's event loop: the copies are shallow (no route is converted),
    so a table of 20,000 routes takes a fraction of a millisecond.
    """
    loc = router.loc_rib
    key = str(NodeTopic.RIB_LOC)
    tables: dict[str, Table] = {key: {f: dict(loc.stored(f)) for f in loc.families()}}
    sources: dict[str, object] = {key: loc}
    for peer in router.peers():
        rib_in = router.adj_rib_in(peer)
        if rib_in is not None:
            key = table_key(NodeTopic.RIB_IN, peer)
            tables[key] = {f: _accepted(rib_in.accepted(f)) for f in rib_in.families()}
            sources[key] = rib_in
        rib_out = router.adj_rib_out(peer)
        if rib_out is not None:
            key = table_key(NodeTopic.RIB_OUT, peer)
            tables[key] = {f: dict(rib_out.advertised_map(f)) for f in rib_out.families()}
            sources[key] = rib_out
    status = read_sessions(router, sessions or {})
    return NodeTables(name=name, tables=tables, sessions=status, sources=sources)


def read_sessions(router: Router, sessions: Mapping[str, Session]) -> tuple[PeerStatus, ...]:
    """The status of ``sessions`` (by neighbour name), sorted by name: what
    :func:`read_tables` puts in :attr:`NodeTables.sessions`, read alone (the feed's
    fast path for a session state change, :mod:`bgpemu.observe.speaker_feed`)."""
    return tuple(peer_status(peer, session, router) for peer, session in sorted(sessions.items()))


_Pairs = list[tuple[Family, str]]


def changed_prefixes(old: Table, new: Table) -> tuple[_Pairs, _Pairs]:
    """(announced or changed, withdrawn) (family, prefix) pairs from ``old`` to ``new``."""
    changed: _Pairs = []
    gone: _Pairs = []
    for family in old.keys() | new.keys():
        _compare(family, old.get(family, {}), new.get(family, {}), changed, gone)
    return changed, gone


def _compare(
    family: Family, before: dict[str, Any], after: dict[str, Any], changed: _Pairs, gone: _Pairs
) -> None:
    """One family of :func:`changed_prefixes`: equality first (in C), then per prefix."""
    if before is after or before == after:
        return
    get = before.get
    changed.extend(
        (family, prefix)
        for prefix, value in after.items()
        if (held := get(prefix)) is not value and held != value
    )
    gone.extend((family, prefix) for prefix in before if prefix not in after)


_ABSENT = object()

WHOLE_SHARE = 0.25
"""Marks (counted with repeats) per prefix of a family, old and new, from which
:func:`changed_among` compares the family whole: a set of that many prefixes and a
lookup of each cost more than the C-speed equality of two mostly equal dicts."""


def changed_among(
    old: Table, new: Table, marks: Mapping[Family, Sequence[Collection[str]]]
) -> tuple[_Pairs, _Pairs]:
    """:func:`changed_prefixes` looking only at the marked prefixes of each family.

    ``marks``: per family, batches of prefixes that may have changed (the router's
    changes, :mod:`bgpemu.observe.journal`: a superset of those that differ, so the
    result is :func:`changed_prefixes`'s).  Costs per marked prefix instead of per
    table; a family where the batches name :data:`WHOLE_SHARE` of its prefixes or more
    (a session's initial table, a peer gone) is compared whole, which is cheaper then.
    """
    changed: _Pairs = []
    gone: _Pairs = []
    for family, batches in marks.items():
        before = old.get(family, {})
        after = new.get(family, {})
        if sum(map(len, batches)) >= WHOLE_SHARE * (len(before) + len(after)):
            _compare(family, before, after, changed, gone)
            continue
        get_before = before.get
        get_after = after.get
        for prefix in set().union(*batches):
            value = get_after(prefix, _ABSENT)
            held = get_before(prefix, _ABSENT)
            if value is _ABSENT:
                if held is not _ABSENT:
                    gone.append((family, prefix))
            elif held is not value and held != value:
                changed.append((family, prefix))
    return changed, gone


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""``json.dumps(..., separators=(",", ":"), ensure_ascii=False)`` without making an
encoder per call (a third of the cost of a fragment); it holds no state."""


def _text(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


_PLAIN = '"best":false,"multipath":false,"reason":null}'
_MEMBER = '"best":false,"multipath":true,"reason":null}'


class RouteEncoder:
    """JSON text of routes and table documents, with the caches of one node's feed.

    Holds no clock and no I/O; its caches are bounded (cleared when full).
    """

    def __init__(self, *, max_cached: int = 200_000) -> None:
        self.max_cached = max_cached
        self._fragments: dict[tuple[int, int, str | None], tuple[PathAttributes, str]] = {}
        self._order: dict[str, tuple[int, int, int, str]] = {}
        self._families: dict[Family, str] = {}
        self._best: dict[str, str] = {}

    # --- one route ---------------------------------------------------------------

    def _fragment(self, attributes: PathAttributes, weight: int, peer: str | None) -> str:
        """``"next_hop":...,"peer":...,`` of a route (cached per attributes object)."""
        key = (id(attributes), weight, peer)
        hit = self._fragments.get(key)
        if hit is not None and hit[0] is attributes:
            return hit[1]
        values = attribute_doc(attributes)
        doc = {name: values[name] for name in ATTRIBUTE_FIELDS}  # the record's order
        doc["weight"] = weight
        doc["peer"] = peer
        text = _COMPACT.encode(doc)
        fragment = text[1:-1] + ","
        if len(self._fragments) >= self.max_cached:
            self._fragments.clear()
        self._fragments[key] = (attributes, fragment)
        return fragment

    def _family(self, family: Family) -> str:
        text = self._families.get(family)
        if text is None:
            text = self._families[family] = str(family)
        return text

    def _best_tail(self, reason: str) -> str:
        tail = self._best.get(reason)
        if tail is None:
            tail = self._best[reason] = f'"best":true,"multipath":true,"reason":{_text(reason)}}}'
        return tail

    def _path(self, head: str, path: Path, tail: str) -> str:
        peer = None if path.local else path.source.name
        return head + self._fragment(path.attributes, path.weight, peer) + tail

    def group(
        self, kind: NodeTopic, family: Family, prefix: str, value: Any, peer: str | None
    ) -> str:
        """The routes of one prefix of a ``kind`` table, as comma-separated JSON objects."""
        # Prefixes come from the codec or from validated topology files: always plain
        # address text, so they need no JSON escaping.
        head = f'{{"prefix":"{prefix}","family":"{self._family(family)}",'
        if kind is NodeTopic.RIB_OUT:
            return head + self._fragment(value, 0, peer) + _PLAIN
        if kind is NodeTopic.RIB_IN:
            if type(value) is tuple:
                return ",".join(self._path(head, path, _PLAIN) for path in value)
            return self._path(head, value, _PLAIN)
        if type(value) is Decision:
            best = value.best
            assert best is not None
            texts = [self._path(head, best, self._best_tail(value.reason.value))]
            texts.extend(self._path(head, p, _MEMBER) for p in value.multipath if p is not best)
            return ",".join(texts)
        return self._path(head, value, self._best_tail("only path"))

    # --- order and documents -----------------------------------------------------

    def _key(self, prefix: str) -> tuple[int, int, int, str]:
        """:func:`~bgpemu.types.prefix_key`, cached (a table is sorted at every publication)."""
        key = self._order.get(prefix)
        if key is None:
            key = (*prefix_key(prefix), prefix)
            if len(self._order) >= self.max_cached:
                self._order.clear()
            self._order[prefix] = key
        return key

    def ordered(self, pairs: Iterable[tuple[Family, str]]) -> list[tuple[Family, str]]:
        """(family, prefix) pairs in the canonical order of a table document."""
        return sorted(pairs, key=lambda pair: (self._family(pair[0]), self._key(pair[1])))

    def routes(self, kind: NodeTopic, table: Table, peer: str | None) -> str:
        """Every route of ``table`` as the inside of a JSON array, in canonical order."""
        texts: list[str] = []
        for family in sorted(table, key=self._family):
            values = table[family]
            group = self.group
            texts.extend(
                group(kind, family, prefix, values[prefix], peer)
                for prefix in sorted(values, key=self._key)
            )
        return ",".join(texts)

    def document(self, key: str, node: str, table: Table, seq: int) -> str:
        """The retained document of table ``key`` of ``node`` at ``seq`` (JSON text)."""
        kind, peer = table_of_key(key)
        schema = table_schema(kind)
        routes = self.routes(kind, table, peer)
        if peer is None:
            return f'{{"schema":"{schema}","node":{_text(node)},"seq":{seq},"routes":[{routes}]}}'
        return (
            f'{{"schema":"{schema}","node":{_text(node)},"peer":{_text(peer)},'
            f'"seq":{seq},"routes":[{routes}]}}'
        )
