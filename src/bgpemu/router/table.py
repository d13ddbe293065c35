"""JSON-ready views of Loc-RIB entries: the ``loc_rib`` of ``bgpemu solve`` and the speaker
dump (docs/speaker.md), one entry per prefix with its best path and multipath set.

A path's fields are those of the route record (:func:`bgpemu.rib.route.attribute_doc`,
whose order is this shape's: MED before LOCAL_PREF, and the peer), without the record's
flags and weight.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from json.encoder import encode_basestring_ascii
from typing import Any

from bgpemu.rib.decision import Decision
from bgpemu.rib.loc_rib import Entry, decision_of
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.rib.route import attribute_doc
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["decision_json", "loc_rib_json", "loc_rib_text", "path_json"]


def path_json(path: Path) -> dict[str, Any]:
    """One path: next hop, AS_PATH, ORIGIN, MED, LOCAL_PREF, communities, source peer."""
    doc = attribute_doc(path.attributes)  # a new dict, in this shape's order
    doc["peer"] = None if path.local else path.source.name
    return doc


def decision_json(
    family: Family,
    prefix: str,
    decision: Decision,
    path_doc: Callable[[Path], dict[str, Any]] = path_json,
) -> dict[str, Any]:
    """One Loc-RIB entry: the best path, the multipath set and the reason (Step text)."""
    best = decision.best
    return {
        "prefix": prefix,
        "family": str(family),
        "best": None if best is None else path_doc(best),
        "multipath": [path_doc(p) for p in decision.multipath],
        "reason": decision.reason.value,
    }


def loc_rib_json(entries: Iterable[tuple[Family, str, Decision]]) -> list[dict[str, Any]]:
    """The entries that have a best path, by :func:`decision_json`; the attribute fields
    converted once per attributes object (the router shares one among the prefixes of an
    UPDATE) and copied for each path, so that no two paths share a dict or a list."""
    cache: dict[int, tuple[PathAttributes, dict[str, Any]]] = {}

    def path_doc(path: Path) -> dict[str, Any]:
        attributes = path.attributes
        hit = cache.get(id(attributes))
        if hit is None or hit[0] is not attributes:
            hit = cache[id(attributes)] = (attributes, attribute_doc(attributes))
        doc = hit[1].copy()
        doc["as_path"] = doc["as_path"].copy()
        doc["communities"] = doc["communities"].copy()
        doc["large_communities"] = doc["large_communities"].copy()
        doc["peer"] = None if path.local else path.source.name
        return doc

    return [
        decision_json(family, prefix, decision, path_doc)
        for family, prefix, decision in entries
        if decision.best is not None
    ]


_PREFIX_MARK = "\ufdd0bgpemu: the entry's prefix\ufdd1"
"""Stands for the prefix in the one encoding of a group of entries (two Unicode
noncharacters; a name holding the marker text is still written right, see below)."""


def loc_rib_text(
    entries: Iterable[tuple[Family, str, Entry]], encode: Callable[[Any], str]
) -> Iterator[str]:
    """``encode(entry)`` of each :func:`loc_rib_json` entry, in its order, with
    :func:`decision_json` and ``encode`` called once per group of entries that differ
    only in their prefix, not once per entry.

    ``entries`` are Loc-RIB entries as :meth:`LocRib.stored_entries
    <bgpemu.rib.loc_rib.LocRib.stored_entries>` gives them (a sole path stands for its
    ONLY_PATH decision, which is then never built) or as :meth:`LocRib.entries
    <bgpemu.rib.loc_rib.LocRib.entries>` does (every entry a Decision).  ``encode``
    is an ASCII JSON encoder (a string's text is ``json.dumps(string)``'s) that writes
    a value the same wherever it stands.

    A group is the family, the reason and, for the best path and each multipath path,
    its attributes object and source (the router shares one attributes object among
    the prefixes of an UPDATE, so a hub's 10,000 routes from 50 branches are about 50
    groups).  The group's entry is encoded once with a marker for its prefix and cut
    at the marker's first text; each entry is then that text with its own prefix
    encoded in between (by the C string escaper: a few hundred nanoseconds an entry).
    The prefix is :func:`decision_json`'s first member, so the first marker text is
    the prefix's even if a peer name holds the marker too.
    """
    groups: dict[Hashable, tuple[str, str, Entry]] = {}
    get = groups.get
    mark = encode(_PREFIX_MARK)
    quote = encode_basestring_ascii
    # The group of the last sole path, at hand: consecutive prefixes mostly share
    # one (85 % of the entries of vWAN 2 x 10 x 200), so no key is built for them.
    last: tuple[Family, PathAttributes, PeerInfo, str, str] | None = None
    for family, prefix, entry in entries:
        if type(entry) is Path:
            if (
                last is not None
                and entry.attributes is last[1]
                and entry.source is last[2]
                and family is last[0]
            ):
                yield last[3] + quote(prefix) + last[4]
                continue
            key: Hashable = (family, id(entry.attributes), id(entry.source))
        else:
            assert isinstance(entry, Decision)
            best = entry.best
            if best is None:
                continue
            multipath = entry.multipath
            others: tuple[int, ...] | None = None
            if len(multipath) != 1 or multipath[0] is not best:
                others = tuple(
                    number
                    for path in multipath
                    for number in (id(path.attributes), id(path.source))
                )
            key = (family, entry.reason, id(best.attributes), id(best.source), others)
        group = get(key)
        if group is None:
            # The entry is kept with the texts: it holds the objects whose ids are in
            # the key alive, so no other object can take one of those ids.
            decision = decision_of(entry)
            assert decision is not None
            text = encode(decision_json(family, _PREFIX_MARK, decision))
            before, _, after = text.partition(mark)
            group = groups[key] = (before, after, entry)
        if type(entry) is Path:
            last = (family, entry.attributes, entry.source, group[0], group[1])
        yield group[0] + quote(prefix) + group[1]
