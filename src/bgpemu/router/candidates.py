"""The candidates of the decision process, per family and prefix (RFC 4271 §9.1.2).

Bulk fast paths (the common case: no ADD-PATH, no import policy, no max-prefix):
a prefix's single candidate is kept only by the Loc-RIB (:class:`CandidateTable`),
and a prefix that had no candidate is installed at once as its ONLY_PATH entry on
import, remembered in :data:`Touched` (see :meth:`Router._import
<bgpemu.router.core.Router._import>`).  ``tests/unit/router/test_fast_paths.py`` checks
these against the general path.
"""

from __future__ import annotations

from typing import Literal

from bgpemu.rib.loc_rib import Entry
from bgpemu.rib.path import Path
from bgpemu.types import Family

__all__ = ["CandidateTable", "Candidates", "Key", "Slot", "Touched", "touch"]

Key = tuple[Family, str]
"""(family, prefix): one Loc-RIB entry."""
Candidates = dict[tuple[str, int], Path]
"""(source peer name, path id) -> accepted path; the local path has key ("", 0)."""
Slot = Path | Candidates
"""A prefix's candidates: most prefixes have one, stored alone (keyed by its own
``(source.name, path_id)``); two or more (or one whose key differs from its own) are
kept in a :data:`Candidates` dict.  Saves a dict per prefix (memory and time)."""
Touched = dict[Family, dict[str, Path | Literal[False] | None]]
"""The prefixes to recompute, per family (visited in (family, prefix) order; a dict
rather than a set because sorting its mostly-ordered keys is several times faster).
The value is None (recompute), the path already installed as the prefix's ONLY_PATH
entry when it had no entry before (see ``Router._import``), or False when such a
prefix changed again afterwards (recompute; the entry before the call was none)."""


def touch(changed: dict[str, Path | Literal[False] | None], prefix: str) -> None:
    """Mark ``prefix`` for recomputation, remembering a decision made on import."""
    changed[prefix] = None if changed.get(prefix) is None else False


class CandidateTable:
    """The candidates of every prefix of one family (RFC 4271 §9.1.2: the routes the
    decision process compares), sharing storage with the Loc-RIB.

    Most prefixes have one candidate, and it is what the Loc-RIB stores for them (a
    sole reachable path is stored as itself, see :class:`~bgpemu.rib.loc_rib.LocRib`).
    Such a prefix has no entry of its own here: its candidate is read from the
    Loc-RIB (:meth:`get`).  Only the others are in :attr:`explicit`: a path the
    Loc-RIB does not hold alone (unreachable next hop, keyed differently), a
    :data:`Candidates` dict for two or more, or an empty dict for "none left"
    while the Loc-RIB still holds the previous state.  :meth:`settle` drops an
    explicit entry once the Loc-RIB says the same.  Saves a dict entry per route.
    """

    __slots__ = ("explicit", "loc")

    def __init__(self, loc: dict[str, Entry]) -> None:
        self.explicit: dict[str, Slot] = {}
        self.loc = loc

    def get(self, prefix: str) -> Slot | None:
        """The candidates of ``prefix``: a path, a dict (possibly empty), or None."""
        entry = self.explicit.get(prefix)
        if entry is None:
            stored = self.loc.get(prefix)
            return stored if type(stored) is Path else None
        return entry

    def paths(self, prefix: str) -> tuple[Path, ...]:
        entry = self.get(prefix)
        if entry is None:
            return ()
        if type(entry) is dict:
            return tuple(entry.values())
        assert isinstance(entry, Path)
        return (entry,)

    def settle(self, prefix: str) -> None:
        """After the Loc-RIB recomputed ``prefix``: keep only what it does not imply."""
        explicit = self.explicit
        entry = explicit.get(prefix)
        if entry is None:
            return
        if type(entry) is dict:
            if not entry:
                del explicit[prefix]
        elif entry is self.loc.get(prefix):
            del explicit[prefix]

    def put(self, prefix: str, name: str, path_id: int, path: Path) -> None:
        """Make ``path`` the candidate of ``prefix`` keyed (``name``, ``path_id``)."""
        entry = self.get(prefix)
        own = path.path_id == path_id and path.source.name == name
        explicit = self.explicit
        if entry is None:
            explicit[prefix] = path if own else {(name, path_id): path}
        elif type(entry) is dict:
            if entry or not own:
                entry[(name, path_id)] = path  # a dict is always explicit
            else:
                explicit[prefix] = path
        else:
            assert isinstance(entry, Path)
            if own and entry.path_id == path_id and entry.source.name == name:
                explicit[prefix] = path
            else:
                explicit[prefix] = {
                    (entry.source.name, entry.path_id): entry,
                    (name, path_id): path,
                }

    def _shrink(self, prefix: str, entry: Candidates) -> None:
        """Store a candidates dict left with one path in its compact form."""
        if len(entry) == 1:
            ((name, path_id), path), *_ = entry.items()
            if path.path_id == path_id and path.source.name == name:
                self.explicit[prefix] = path

    def drop(self, prefix: str, name: str, path_id: int) -> None:
        """Forget the candidate of ``prefix`` keyed (``name``, ``path_id``), if any."""
        entry = self.get(prefix)
        if entry is None:
            return
        if type(entry) is dict:
            if entry.pop((name, path_id), None) is not None:
                self._shrink(prefix, entry)
        else:
            assert isinstance(entry, Path)
            if entry.path_id == path_id and entry.source.name == name:
                self.explicit[prefix] = {}

    def drop_source(self, prefix: str, name: str) -> None:
        """Forget every candidate of ``prefix`` learned from peer ``name``."""
        entry = self.get(prefix)
        if entry is None:
            return
        if type(entry) is dict:
            for key in [k for k in entry if k[0] == name]:
                del entry[key]
            self._shrink(prefix, entry)
        else:
            assert isinstance(entry, Path)
            if entry.source.name == name:
                self.explicit[prefix] = {}
