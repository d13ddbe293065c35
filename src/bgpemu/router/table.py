"""JSON-ready views of Loc-RIB entries: the ``loc_rib`` of ``bgpemu solve`` and the speaker
dump (docs/speaker.md), one entry per prefix with its best path and multipath set.

A path's fields are those of the route record (:func:`bgpemu.rib.route.attribute_doc`,
whose order is this shape's: MED before LOCAL_PREF, and the peer), without the record's
flags and weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bgpemu.rib.decision import Decision
from bgpemu.rib.path import Path
from bgpemu.rib.route import attribute_doc
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["decision_json", "loc_rib_json", "path_json"]


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
