"""The route as the RIBs, the decision process and the policies see it (L3).

A :class:`Path` is one way to reach a prefix: the attributes as received (or set by
import policy), where it came from, and the local-only values the decision process
reads (weight, IGP cost, next-hop reachability, arrival order).  Paths are frozen and
hashable; policies derive new ones with :meth:`Path.but`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["LOCAL", "Path", "PeerInfo", "received_path"]

_KEEP: Any = object()
"""The default of :meth:`Path.but`'s fields: keep the current value."""
_new_object = object.__new__


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

    def but(
        self,
        *,
        attributes: PathAttributes = _KEEP,
        prefix: str = _KEEP,
        path_id: int = _KEEP,
        weight: int = _KEEP,
        igp_cost: int = _KEEP,
        next_hop_reachable: bool = _KEEP,
        arrival: int = _KEEP,
    ) -> Path:
        """This path with the given fields changed (its family and source stay):
        ``dataclasses.replace(self, ...)``, about ten times faster (policies and the
        router derive paths per route and per peer; see :class:`_PathLayout`)."""
        new = _new_object(_PathLayout)
        new.family = self.family
        new.prefix = self.prefix if prefix is _KEEP else prefix
        new.attributes = self.attributes if attributes is _KEEP else attributes
        new.source = self.source
        new.path_id = self.path_id if path_id is _KEEP else path_id
        new.weight = self.weight if weight is _KEEP else weight
        new.igp_cost = self.igp_cost if igp_cost is _KEEP else igp_cost
        new.next_hop_reachable = (
            self.next_hop_reachable if next_hop_reachable is _KEEP else next_hop_reachable
        )
        new.arrival = self.arrival if arrival is _KEEP else arrival
        new.__class__ = Path  # type: ignore[assignment]
        return cast(Path, new)


# Hot-path constructor.  A frozen dataclass __init__ goes through object.__setattr__
# once per field (~2 us for the nine fields of a Path); the router builds one Path per
# received prefix (2 million to converge vwan-2x50x200), so this is on the per-route
# path.  :class:`_PathLayout` has exactly Path's slots and no __setattr__ of its own:
# its __init__ fills them with plain attribute stores, then turns the object into a
# Path (``__class__`` assignment: CPython allows it between classes of the same
# layout, and raises TypeError otherwise: ``tests/unit/rib/test_fast_paths.py`` checks
# that the slots agree).  The result is the very object the
# dataclass would build (its type is Path; equal, hashable, frozen afterwards), in
# about half the time of writing the slots through their member descriptors.
class _PathLayout:
    """Path's layout, writable while it is built (see the comment above); also what
    :meth:`Path.but` fills."""

    __slots__ = (
        "arrival",
        "attributes",
        "family",
        "igp_cost",
        "next_hop_reachable",
        "path_id",
        "prefix",
        "source",
        "weight",
    )

    def __init__(
        self,
        family: Family,
        prefix: str,
        attributes: PathAttributes,
        source: PeerInfo,
        path_id: int,
        arrival: int,
    ) -> None:
        self.family = family
        self.prefix = prefix
        self.attributes = attributes
        self.source = source
        self.path_id = path_id
        self.weight = 0
        self.igp_cost = 0
        self.next_hop_reachable = True
        self.arrival = arrival
        self.__class__ = Path  # type: ignore[assignment]


received_path = cast(
    "Callable[[Family, str, PathAttributes, PeerInfo, int, int], Path]", _PathLayout
)
"""``received_path(family, prefix, attributes, source, path_id, arrival)``: the same as
``Path(family=..., prefix=..., attributes=..., source=..., path_id=..., arrival=...)``.

The other fields take their defaults (weight 0, IGP cost 0, next hop reachable); the
result is a :class:`Path`, equal to, and as immutable as, the one the dataclass builds.
"""
