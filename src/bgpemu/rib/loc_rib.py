"""Loc-RIB: the selected route(s) of every prefix, and the changes a recomputation causes.

Theory of operation
-------------------
RFC 4271 §9.1.2 (Phase 2): for each prefix whose candidates changed, the decision
process selects the best route and installs it in the Loc-RIB.  :class:`LocRib`
holds one :class:`~bgpemu.rib.decision.Decision` per (family, prefix) and is
recomputed by the caller (the router gathers the candidates: every Adj-RIB-In's
post-policy path plus locally originated ones).  :meth:`LocRib.update` reports a
:class:`BestPathChange` only when the best path, the multipath set or the reason
changed, so the router emits observations and exports only for real changes and
applying the same candidates twice is a no-op.  A prefix with no usable candidate
(none, or none with a reachable next hop) has no entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

from bgpemu.rib.decision import Decision, DecisionConfig, Step, _decision, decide
from bgpemu.rib.path import Path
from bgpemu.types import Family

__all__ = ["BestPathChange", "LocRib"]


@dataclass(frozen=True, slots=True)
class BestPathChange:
    """The Loc-RIB entry of ``prefix`` went from ``old`` to ``new`` (None = no route)."""

    family: Family
    prefix: str
    old: Decision | None
    new: Decision | None

    @property
    def best_changed(self) -> bool:
        """True when the best path itself changed (not only the multipath set or reason)."""
        old = None if self.old is None else self.old.best
        new = None if self.new is None else self.new.best
        return old is not new and old != new


# Hot-path constructor, as ``decision._decision``: the same frozen object, built by
# writing its slots directly instead of through the frozen __init__.
_new_object = object.__new__
_SET_FAMILY: Callable[[BestPathChange, Family], None] = BestPathChange.__dict__["family"].__set__
_SET_PREFIX: Callable[[BestPathChange, str], None] = BestPathChange.__dict__["prefix"].__set__
_SET_OLD: Callable[[BestPathChange, Decision | None], None] = BestPathChange.__dict__["old"].__set__
_SET_NEW: Callable[[BestPathChange, Decision | None], None] = BestPathChange.__dict__["new"].__set__


def _change(
    family: Family, prefix: str, old: Decision | None, new: Decision | None
) -> BestPathChange:
    change: BestPathChange = _new_object(BestPathChange)
    _SET_FAMILY(change, family)
    _SET_PREFIX(change, prefix)
    _SET_OLD(change, old)
    _SET_NEW(change, new)
    return change


def _same(a: Decision, b: Decision) -> bool:
    """Decisions equal in best path, multipath set and reason (identity short-cuts first)."""
    if a.reason is not b.reason:
        return False
    if a.best is not b.best and a.best != b.best:
        return False
    return a.multipath == b.multipath


Entry = Path | Decision
"""A stored Loc-RIB entry: the sole path of an ONLY_PATH decision, or the Decision."""


def decision_of(entry: Entry | None) -> Decision | None:
    """The Decision a stored entry stands for (an ONLY_PATH one is rebuilt on demand)."""
    if entry is None or type(entry) is Decision:
        return entry
    assert isinstance(entry, Path)
    return _decision(entry, (entry,), Step.ONLY_PATH)


def _stored_decision(entry: Entry) -> Decision:
    decision = decision_of(entry)
    assert decision is not None
    return decision


def best_of(entry: Entry | None) -> Path | None:
    """The best path of a stored entry (None for no entry)."""
    if entry is None or type(entry) is Path:
        return entry
    assert isinstance(entry, Decision)
    return entry.best


class LocRib:
    """The Loc-RIB (RFC 4271 §3.2): one Decision per (family, prefix).

    Memory: most prefixes have a single candidate, whose Decision (ONLY_PATH, the
    path as best and sole multipath member) says nothing the path does not; such an
    entry is stored as the path alone and its Decision rebuilt when asked for (equal,
    not identical, from one call to the next).
    """

    __slots__ = ("_config", "_tables")

    def __init__(self, config: DecisionConfig) -> None:
        self._config = config
        self._tables: dict[Family, dict[str, Entry]] = {}

    @property
    def config(self) -> DecisionConfig:
        """The decision process settings of this Loc-RIB."""
        return self._config

    def update(
        self, family: Family, prefix: str, candidates: Iterable[Path]
    ) -> BestPathChange | None:
        """Recompute ``prefix`` from its full candidate set (RFC 4271 §9.1.2).

        Returns the change, or None when best path, multipath set and reason are
        all unchanged.
        """
        paths = candidates if isinstance(candidates, (list, tuple)) else tuple(candidates)
        result = self.recompute(family, prefix, paths)
        return None if result is None else _change(family, prefix, result[0], result[1])

    def recompute(
        self, family: Family, prefix: str, paths: Sequence[Path]
    ) -> tuple[Decision | None, Decision | None] | None:
        """:meth:`update` without the :class:`BestPathChange`: (old, new) or None."""
        result = self.change(family, prefix, paths)
        if result is None:
            return None
        return decision_of(result[0]), decision_of(result[1])

    def change(
        self, family: Family, prefix: str, paths: Sequence[Path]
    ) -> tuple[Entry | None, Entry | None] | None:
        """:meth:`recompute` with the entries as stored: (old, new) or None.

        The router's hot path: a single reachable candidate is installed without
        building a :class:`Decision` (a stored :class:`Path` stands for its ONLY_PATH
        Decision, see :func:`decision_of`), so nothing is allocated per prefix.
        """
        table = self._tables.get(family)
        if table is None:
            table = self._tables[family] = {}
        stored = table.get(prefix)
        if len(paths) == 1:
            only = paths[0]
            if only.next_hop_reachable:
                if stored is only:
                    return None  # the same sole candidate again: nothing to decide
                if type(stored) is Path and stored == only:
                    return None  # an equal sole candidate: the entry is unchanged
                table[prefix] = only
                return stored, only
        new = decide(paths, self._config)
        if new.best is None:
            if stored is None:
                return None
            del table[prefix]
            return stored, None
        if stored is not None and _same(_stored_decision(stored), new):
            return None
        entry = new.best if new.reason is Step.ONLY_PATH else new
        table[prefix] = entry
        return stored, entry

    def stored(self, family: Family) -> dict[str, Entry]:
        """The live table of ``family``, entries as stored (for the router: read only)."""
        table = self._tables.get(family)
        if table is None:
            table = self._tables[family] = {}
        return table

    def families(self) -> list[Family]:
        """The families with at least one route, sorted."""
        return sorted(f for f, table in self._tables.items() if table)

    def get(self, family: Family, prefix: str) -> Decision | None:
        """The current Decision of ``prefix``, or None when it has no route."""
        table = self._tables.get(family)
        return None if table is None else decision_of(table.get(prefix))

    def best(self, family: Family, prefix: str) -> Path | None:
        """Shortcut: the best path of ``prefix``, or None."""
        table = self._tables.get(family)
        entry = None if table is None else table.get(prefix)
        if entry is None or type(entry) is Path:
            return entry
        assert isinstance(entry, Decision)
        return entry.best

    def _walk(self, family: Family | None) -> Iterator[tuple[Family, str, Entry]]:
        """(family, prefix, stored entry) of every route, sorted by (family, prefix string).

        Made by C iterators (``zip`` of the family, the sorted prefixes and their
        entries), not a generator: a report walks a million entries (vWAN 2 x 50 x 200,
        one process's half), and resuming a generator per entry took 0.08 s of that."""
        families = sorted(self._tables) if family is None else [family]
        return chain.from_iterable(map(self._walk_table, families))

    def _walk_table(self, family: Family) -> Iterator[tuple[Family, str, Entry]]:
        table = self._tables.get(family)
        if not table:
            return iter(())
        prefixes = sorted(table)
        return zip(repeat(family), prefixes, map(table.__getitem__, prefixes))

    def stored_entries(self, family: Family | None = None) -> Iterator[tuple[Family, str, Entry]]:
        """:meth:`entries` as stored: a sole path stands for its ONLY_PATH Decision, which
        is not built (a reader that needs only the path's fields saves that per route)."""
        return self._walk(family)

    def entries(self, family: Family | None = None) -> Iterator[tuple[Family, str, Decision]]:
        """(family, prefix, decision) of every route, sorted by (family, prefix string)."""
        for fam, prefix, entry in self._walk(family):
            decision = decision_of(entry)
            assert decision is not None
            yield fam, prefix, decision

    def best_paths(self, family: Family | None = None) -> Iterator[tuple[Family, str, Path]]:
        """(family, prefix, best path) of every route, in :meth:`entries` order."""
        for fam, prefix, entry in self._walk(family):
            best = entry if type(entry) is Path else entry.best  # type: ignore[union-attr]
            assert best is not None
            yield fam, prefix, best

    def count(self, family: Family | None = None) -> int:
        """Number of prefixes with a route (in ``family``, or in all families)."""
        if family is not None:
            return len(self._tables.get(family, ()))
        return sum(len(table) for table in self._tables.values())

    def __len__(self) -> int:
        return self.count()
