"""JSON-ready views of Loc-RIB entries: the ``loc_rib`` of ``bgpemu solve`` and the speaker
dump (docs/speaker.md), one entry per prefix with its best path and multipath set.

A path's fields are those of the route record (:func:`bgpemu.rib.route.attribute_doc`,
whose order is this shape's: MED before LOCAL_PREF, and the peer), without the record's
flags and weight.
"""

from __future__ import annotations

from typing import Any

from bgpemu.rib.decision import Decision
from bgpemu.rib.path import Path
from bgpemu.rib.route import attribute_doc
from bgpemu.types import Family

__all__ = ["decision_json", "path_json"]


def path_json(path: Path) -> dict[str, Any]:
    """One path: next hop, AS_PATH, ORIGIN, MED, LOCAL_PREF, communities, source peer."""
    doc = attribute_doc(path.attributes)  # a new dict, in this shape's order
    doc["peer"] = None if path.local else path.source.name
    return doc


def decision_json(family: Family, prefix: str, decision: Decision) -> dict[str, Any]:
    """One Loc-RIB entry: the best path, the multipath set and the reason (Step text)."""
    best = decision.best
    return {
        "prefix": prefix,
        "family": str(family),
        "best": None if best is None else path_json(best),
        "multipath": [path_json(p) for p in decision.multipath],
        "reason": decision.reason.value,
    }
