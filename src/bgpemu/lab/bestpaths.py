"""Best paths as compact digests, to count what an injection changed (pure).

The lab's ``control`` handler answers each injection with the (speaker, prefix) best
paths that changed and the distinct prefixes among them (docs/lab.md).  Comparing full
snapshots of every speaker before and after cost minutes at the largest benchmark lab
(6 M routes through ``RouterSnapshot``, JSON and pickle).  A digest holds only what the
count compares: per family and prefix, the best path's (next hop, AS path) — the same
pair the testing API compares — as one tuple per attributes object, shared by the
prefixes of an UPDATE, so a worker sends a few bytes per route.
"""

from __future__ import annotations

from collections.abc import Mapping

from bgpemu.rib.loc_rib import best_of
from bgpemu.router.core import Router
from bgpemu.wire.messages import PathAttributes

__all__ = ["BestPaths", "best_path_changes", "best_paths"]

Best = tuple[str | None, tuple[int, ...]]
"""(next hop, AS path) of a best path."""

BestPaths = dict[str, dict[str, Best]]
"""Family name -> prefix -> :data:`Best`, of one speaker's Loc-RIB."""


def best_paths(router: Router) -> BestPaths:
    """The digest of ``router``'s Loc-RIB (RFC 4271 §9.1.2: the selected route of each prefix)."""
    shared: dict[int, tuple[PathAttributes, Best]] = {}
    out: BestPaths = {}
    loc = router.loc_rib
    for family in loc.families():
        table: dict[str, Best] = {}
        for prefix, entry in loc.stored(family).items():
            best = best_of(entry)
            if best is None:
                continue
            attributes = best.attributes
            hit = shared.get(id(attributes))
            if hit is None or hit[0] is not attributes:
                hit = (attributes, (attributes.next_hop, attributes.as_path_asns()))
                shared[id(attributes)] = hit
            table[prefix] = hit[1]
        out[str(family)] = table
    return out


def best_path_changes(
    before: Mapping[str, BestPaths], after: Mapping[str, BestPaths]
) -> tuple[int, int]:
    """(speaker, prefix) best paths that differ between two digests of the lab (next hop or
    AS path, or a best path that appeared or left, e.g. with a crashed speaker), and the
    distinct prefixes among them."""
    changes = 0
    prefixes: set[str] = set()
    for speaker in before.keys() | after.keys():
        old, new = before.get(speaker, {}), after.get(speaker, {})
        if old == new:
            continue
        for family in old.keys() | new.keys():
            was, now = old.get(family, {}), new.get(family, {})
            if was == now:
                continue
            for prefix in was.keys() | now.keys():
                if was.get(prefix) != now.get(prefix):
                    changes += 1
                    prefixes.add(prefix)
    return changes, len(prefixes)
