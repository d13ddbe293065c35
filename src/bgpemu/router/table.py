"""JSON-ready views of Loc-RIB entries (field names as in ``ReceivedRoute.to_json``)."""

from __future__ import annotations

from typing import Any

from bgpemu.rib.decision import Decision
from bgpemu.rib.path import Path
from bgpemu.types import Family

__all__ = ["decision_json", "path_json"]


def path_json(path: Path) -> dict[str, Any]:
    """One path: next hop, AS_PATH, ORIGIN, MED, LOCAL_PREF, communities, source peer."""
    attrs = path.attributes
    return {
        "next_hop": attrs.next_hop,
        "as_path": list(attrs.as_path_asns()),
        "origin": attrs.origin.name.lower() if attrs.origin is not None else None,
        "med": attrs.med,
        "local_pref": attrs.local_pref,
        "communities": [f"{c >> 16}:{c & 0xFFFF}" for c in attrs.communities],
        "large_communities": [f"{a}:{b}:{c}" for a, b, c in attrs.large_communities],
        "peer": None if path.local else path.source.name,
    }


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
