"""The route as the RIBs, the decision process and the policies see it (L3).

A :class:`Path` is one way to reach a prefix: the attributes as received (or set by
import policy), where it came from, and the local-only values the decision process
reads (weight, IGP cost, next-hop reachability, arrival order).  Paths are frozen and
hashable; policies derive new ones with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["LOCAL", "Path", "PeerInfo", "received_path"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerInfo:
    """The neighbour a path was learned from (RFC 4271 §9.1.2.2 reads these)."""

    name: str
    asn: int
    router_id: str
    address: str
    local_asn: int
    """Our own AS on that session (for eBGP/iBGP: ``asn != local_asn`` means eBGP)."""

    @property
    def ibgp(self) -> bool:
        """True for an internal peer (same AS, RFC 4271 §3)."""
        return self.asn == self.local_asn


LOCAL = PeerInfo(name="", asn=0, router_id="0.0.0.0", address="", local_asn=0)
"""The source of locally originated paths."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """One path to ``prefix`` of ``family``.

    ``attributes.next_hop`` is the next hop whatever the family (for IPv6 the codec
    carries it in MP_REACH_NLRI).  ``source`` is :data:`LOCAL` for routes this router
    originates.  ``arrival`` is a per-router sequence number, not a clock: it orders
    paths for the "oldest eBGP path" step (RFC 5004) deterministically.
    """

    family: Family
    prefix: str
    attributes: PathAttributes
    source: PeerInfo = LOCAL
    path_id: int = 0
    weight: int = 0
    igp_cost: int = 0
    next_hop_reachable: bool = True
    arrival: int = 0

    @property
    def local(self) -> bool:
        """Locally originated (RFC 4271 §9.1.2.2 prefers these, after LOCAL_PREF)."""
        return self.source is LOCAL or self.source == LOCAL

    @property
    def key(self) -> tuple[str, int]:
        """(source peer name, path id): identifies the path among a prefix's candidates."""
        return (self.source.name, self.path_id)


# Hot-path constructor (see ``decision._decision``): a frozen dataclass __init__ goes
# through object.__setattr__ once per field (~2 us for the nine fields of a Path);
# writing the slots through their member descriptors builds the very same object
# (equal, hashable, immutable afterwards) several times faster.  The router builds
# one Path per received prefix, so this is on the per-route path.
_new_object = object.__new__
_SETTERS: tuple[Callable[[Path, Any], None], ...] = tuple(
    Path.__dict__[name].__set__
    for name in (
        "family",
        "prefix",
        "attributes",
        "source",
        "path_id",
        "weight",
        "igp_cost",
        "next_hop_reachable",
        "arrival",
    )
)
(
    _SET_FAMILY,
    _SET_PREFIX,
    _SET_ATTRIBUTES,
    _SET_SOURCE,
    _SET_PATH_ID,
    _SET_WEIGHT,
    _SET_IGP_COST,
    _SET_REACHABLE,
    _SET_ARRIVAL,
) = _SETTERS


def received_path(
    family: Family,
    prefix: str,
    attributes: PathAttributes,
    source: PeerInfo,
    path_id: int,
    arrival: int,
) -> Path:
    """``Path(family=..., prefix=..., attributes=..., source=..., path_id=..., arrival=...)``.

    The other fields take their defaults (weight 0, IGP cost 0, next hop reachable);
    the result is equal to, and as immutable as, the one the dataclass would build.
    """
    path: Path = _new_object(Path)
    _SET_FAMILY(path, family)
    _SET_PREFIX(path, prefix)
    _SET_ATTRIBUTES(path, attributes)
    _SET_SOURCE(path, source)
    _SET_PATH_ID(path, path_id)
    _SET_WEIGHT(path, 0)
    _SET_IGP_COST(path, 0)
    _SET_REACHABLE(path, True)
    _SET_ARRIVAL(path, arrival)
    return path
