"""The route as the RIBs, the decision process and the policies see it (L3).

A :class:`Path` is one way to reach a prefix: the attributes as received (or set by
import policy), where it came from, and the local-only values the decision process
reads (weight, IGP cost, next-hop reachability, arrival order).  Paths are frozen and
hashable; policies derive new ones with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

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


# Hot-path constructor.  A frozen dataclass __init__ goes through object.__setattr__
# once per field (~2 us for the nine fields of a Path); the router builds one Path per
# received prefix (2 million to converge vwan-2x50x200), so this is on the per-route
# path.  :class:`_ReceivedPath` has exactly Path's slots and no __setattr__ of its own:
# its __init__ fills them with plain attribute stores, then turns the object into a
# Path (``__class__`` assignment: CPython allows it between classes of the same
# layout, and raises TypeError otherwise: ``tests/unit/rib/test_fast_paths.py`` checks
# that the slots agree).  The result is the very object the
# dataclass would build (its type is Path; equal, hashable, frozen afterwards), in
# about half the time of writing the slots through their member descriptors.
class _ReceivedPath:
    """Path's layout, writable while it is built (see the comment above)."""

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
    "Callable[[Family, str, PathAttributes, PeerInfo, int, int], Path]", _ReceivedPath
)
"""``received_path(family, prefix, attributes, source, path_id, arrival)``: the same as
``Path(family=..., prefix=..., attributes=..., source=..., path_id=..., arrival=...)``.

The other fields take their defaults (weight 0, IGP cost 0, next hop reachable); the
result is a :class:`Path`, equal to, and as immutable as, the one the dataclass builds.
"""
