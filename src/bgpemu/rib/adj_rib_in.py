"""Adj-RIB-In: the routes one peer advertised, before and after import policy.

RFC 4271 §3.2: the Adj-RIBs-In hold the unprocessed routes received from a peer;
the decision process reads the routes that survive import policy (RFC 4271 §9.1.1).
:class:`AdjRibIn` keeps both views.  To stay near the per-route memory budget
(``shared/perf.md`` §4.5) a path accepted unchanged by policy is stored once: the
pre-policy view only has its own entry when policy modified or rejected the path.
Keys are the prefix string (path id 0) or ``(prefix, path_id)`` with ADD-PATH
(RFC 7911 §3: a path is identified by prefix and path identifier).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from bgpemu.rib.path import Path, PeerInfo, received_path
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["AdjRibIn"]

_Key = str | tuple[str, int]


def _key(prefix: str, path_id: int) -> _Key:
    return prefix if path_id == 0 else (prefix, path_id)


class _Table:
    """One family: accepted paths, pre-policy versions of modified ones, rejected ones."""

    __slots__ = ("modified", "post", "rejected")

    def __init__(self) -> None:
        self.post: dict[_Key, Path] = {}
        self.modified: dict[_Key, Path] = {}
        self.rejected: dict[_Key, Path] = {}


class AdjRibIn:
    """The Adj-RIB-In of one peer (RFC 4271 §3.2), pre and post import policy."""

    __slots__ = ("_tables", "peer")

    def __init__(self, peer: PeerInfo) -> None:
        self.peer = peer
        self._tables: dict[Family, _Table] = {}

    def _table(self, family: Family) -> _Table:
        table = self._tables.get(family)
        if table is None:
            table = self._tables[family] = _Table()
        return table

    def set(self, path_pre: Path, path_post: Path | None) -> None:
        """Store a received path as received (``path_pre``) and after import policy.

        ``path_post`` is None when import policy rejected the path; it must have the
        same family, prefix and path id as ``path_pre`` (the key comes from
        ``path_pre``).  Passing the very same object for both stores it once.
        """
        table = self._table(path_pre.family)
        key = _key(path_pre.prefix, path_pre.path_id)
        if path_post is None:
            table.post.pop(key, None)
            table.modified.pop(key, None)
            table.rejected[key] = path_pre
            return
        table.post[key] = path_post
        if table.rejected:
            table.rejected.pop(key, None)
        if path_post is path_pre:
            if table.modified:
                table.modified.pop(key, None)
        else:
            table.modified[key] = path_pre

    def receive(
        self, family: Family, attributes: PathAttributes, prefixes: Sequence[str], arrival: int
    ) -> list[Path]:
        """Store ``attributes`` for ``prefixes`` (path id 0), accepted unchanged.

        The bulk form of :meth:`set` for a session without import policy: a prefix
        whose received path already has equal attributes is skipped (RFC 4271 §9:
        only changes are processed); every other one gets a new :class:`Path` from
        :attr:`peer` with arrival number ``arrival``, stored as both the pre- and
        post-policy view.  Returns the new paths, in order.

        One arrival number serves the whole batch: its paths are for distinct
        prefixes, so no two of them are ever compared (and one int object is shared
        instead of one per route).
        """
        table = self._table(family)
        post = table.post
        modified = table.modified
        rejected = table.rejected
        peer = self.peer
        new: list[Path] = []
        append = new.append
        if modified or rejected:
            for prefix in prefixes:
                old = modified.get(prefix) if modified else None
                if old is None:
                    old = post.get(prefix)
                    if old is None and rejected:
                        old = rejected.get(prefix)
                if old is not None and (
                    old.attributes is attributes or old.attributes == attributes
                ):
                    continue  # the same route again: nothing changes
                path = received_path(family, prefix, attributes, peer, 0, arrival)
                post[prefix] = path
                if modified:
                    modified.pop(prefix, None)
                if rejected:
                    rejected.pop(prefix, None)
                append(path)
            return new
        # Only accepted, unmodified paths so far (no import policy): the same as above
        # without the modified and rejected views.
        if not post or post.keys().isdisjoint(prefixes):
            # None of the prefixes held yet (a fresh session's UPDATEs): every one gets
            # a new path, stored in one dict update instead of a lookup per prefix.
            new = [
                received_path(family, prefix, attributes, peer, 0, arrival) for prefix in prefixes
            ]
            held = len(post)
            post.update(zip(prefixes, new, strict=True))
            if len(post) - held == len(new):
                return new
            # A prefix twice in the batch: the first path stays, a later one is the
            # same route again (as in the loop below); the keys kept their first place.
            first: dict[str, Path] = {}
            for path in new:
                first.setdefault(path.prefix, path)
            post.update(first)
            return list(first.values())
        keep = post.setdefault
        for prefix in prefixes:
            path = received_path(family, prefix, attributes, peer, 0, arrival)
            old = keep(prefix, path)
            if old is not path:
                if old.attributes is attributes or old.attributes == attributes:
                    continue  # the same route again: nothing changes
                post[prefix] = path
            append(path)
        return new

    def remove(self, family: Family, prefix: str, path_id: int = 0) -> bool:
        """Forget the path (a withdrawal, RFC 4271 §3.1); True if there was one."""
        table = self._tables.get(family)
        if table is None:
            return False
        key = _key(prefix, path_id)
        found = table.post.pop(key, None) is not None
        if table.modified:
            table.modified.pop(key, None)
        if table.rejected and table.rejected.pop(key, None) is not None:
            found = True
        return found

    def pre(self, family: Family, prefix: str, path_id: int = 0) -> Path | None:
        """The path as received, whether or not import policy accepted it."""
        table = self._tables.get(family)
        if table is None:
            return None
        key = _key(prefix, path_id)
        path = table.modified.get(key) or table.post.get(key)
        return path if path is not None else table.rejected.get(key)

    def post(self, family: Family, prefix: str, path_id: int = 0) -> Path | None:
        """The path as accepted (and possibly modified) by import policy, or None."""
        table = self._tables.get(family)
        return None if table is None else table.post.get(_key(prefix, path_id))

    def prefixes(self, family: Family) -> Iterator[str]:
        """Every prefix with a received path (accepted or not), each once."""
        table = self._tables.get(family)
        if table is None:
            return iter(())
        seen = dict.fromkeys(p.prefix for p in table.post.values())
        seen.update(dict.fromkeys(p.prefix for p in table.rejected.values()))
        return iter(seen)

    def paths_pre(self, family: Family) -> Iterator[Path]:
        """Every received path as received (accepted ones first, then rejected ones)."""
        table = self._tables.get(family)
        if table is None:
            return
        modified = table.modified
        if modified:
            for key, path in table.post.items():
                yield modified.get(key, path)
        else:
            yield from table.post.values()
        yield from table.rejected.values()

    def accepted(self, family: Family) -> Mapping[_Key, Path]:
        """The live map of ``family``'s accepted paths (read only): the key is the prefix,
        or (prefix, path id) for a non-zero ADD-PATH identifier (RFC 7911 §3)."""
        table = self._tables.get(family)
        return {} if table is None else table.post

    def paths_post(self, family: Family) -> Iterator[Path]:
        """Every path import policy accepted, as modified by it."""
        table = self._tables.get(family)
        return iter(()) if table is None else iter(table.post.values())

    def count(self, family: Family | None = None, post: bool = False) -> int:
        """Number of paths received (``post=False``) or accepted (``post=True``)."""
        tables = (
            list(self._tables.values())
            if family is None
            else [t for t in (self._tables.get(family),) if t is not None]
        )
        if post:
            return sum(len(t.post) for t in tables)
        return sum(len(t.post) + len(t.rejected) for t in tables)

    def families(self) -> list[Family]:
        """The families with at least one path, sorted."""
        return sorted(f for f, t in self._tables.items() if t.post or t.rejected)

    def clear(self) -> list[tuple[Family, str]]:
        """Forget everything (session down, RFC 4271 §8.2.2); return the prefixes that had paths.

        Each (family, prefix) appears once, families sorted, prefixes in arrival
        order; accepted and rejected paths both count.
        """
        result: list[tuple[Family, str]] = []
        for family in sorted(self._tables):
            result.extend((family, prefix) for prefix in self.prefixes(family))
        self._tables.clear()
        return result
