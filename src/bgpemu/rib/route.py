"""The one route record of bgpemu and its one JSON shape.

A :class:`RibRoute` is one path to one prefix as everything outside the RIBs sees it:
the Azure views (through :class:`~bgpemu.azure.snapshot.RouterSnapshot`), the MQTT
table documents (``bgpemu/v1/rib-loc``, ``rib-in``, ``rib-out``, ``schema/mqtt``), the
JSON of ``bgpemu solve`` and the speaker dump, and :mod:`bgpemu.testing.diff`.

* :func:`attribute_doc` is the only conversion from wire attributes (RFC 4271 §4.3,
  RFC 1997 communities as ``asn:value``, RFC 8092 large communities as ``a:b:c``,
  ORIGIN by name) to the record's attribute fields, as JSON values (in the order of
  the Loc-RIB JSON of ``bgpemu solve`` and the speaker dump, MED before LOCAL_PREF);
* :func:`route_of` makes the record from wire attributes with it (and
  :func:`route_record`, from values already converted, in a fraction of the time);
* :func:`route_doc` is the only encoder of the record to its JSON object (field names
  and order of the MQTT ``route`` schema).

Hot paths encode straight from the attributes with :func:`attribute_doc` and cache the
result per attributes object (the router shares one among the prefixes of an UPDATE):
the feed's JSON fragments (:mod:`bgpemu.observe.tables`, in the record's order), the
snapshot's converter, and :func:`bgpemu.router.table.path_json` (as they come, plus the
peer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, cast

from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = [
    "ATTRIBUTE_FIELDS",
    "AttributeValues",
    "RibRoute",
    "as_path_text",
    "attribute_doc",
    "attribute_values",
    "route_doc",
    "route_from_doc",
    "route_of",
    "route_record",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RibRoute:
    """One path to one prefix, with the flags the views need."""

    prefix: str
    family: str
    next_hop: str | None
    as_path: tuple[int, ...] = ()
    origin: str | None = None
    local_pref: int | None = None
    med: int | None = None
    communities: tuple[str, ...] = ()
    large_communities: tuple[str, ...] = ()
    weight: int = 0
    peer: str | None = None
    """The neighbour (speaker name) it came from or goes to; None = locally originated."""
    best: bool = False
    multipath: bool = False
    """In the ECMP set (the best path is in it too)."""
    reason: str | None = None
    """Loc-RIB only, on the best path: the decision step that settled it."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as the arguments of :func:`route_record` (a snapshot crosses a pipe
        between the processes of ``solve --jobs 2`` and of the TCP lab): the dataclass's
        own state is restored with one ``object.__setattr__`` per field, which made
        unpickling a vWAN hub's 40,000 routes take 0.09 s instead of 0.02 s."""
        return route_record, (
            self.prefix,
            self.family,
            attribute_values(self),
            self.peer,
            self.weight,
            self.best,
            self.multipath,
            self.reason,
        )


ATTRIBUTE_FIELDS = (
    "next_hop",
    "as_path",
    "origin",
    "local_pref",
    "med",
    "communities",
    "large_communities",
)
"""The :class:`RibRoute` fields taken from the path attributes, in the record's order."""

AttributeValues = tuple[
    str | None,
    tuple[int, ...],
    str | None,
    int | None,
    int | None,
    tuple[str, ...],
    tuple[str, ...],
]
"""The values of :data:`ATTRIBUTE_FIELDS`, in that order."""

attribute_values = cast("Callable[[RibRoute], AttributeValues]", attrgetter(*ATTRIBUTE_FIELDS))
"""``attribute_values(route)``: the values of :data:`ATTRIBUTE_FIELDS` of ``route``, in
that order (what :func:`route_record` takes)."""


# Hot-path constructor, as rib.path.received_path: a frozen dataclass __init__ goes
# through object.__setattr__ once per field, and the keyword arguments of the
# fourteen fields are a dict each time (about 2.3 us a record; a vWAN hub's snapshot
# makes 40,000 at 2 x 50 x 200).  :class:`_BuiltRoute` has exactly RibRoute's slots and
# no __setattr__ of its own: its __init__ fills them with plain stores, then turns the
# object into a RibRoute (``__class__`` assignment; CPython raises TypeError if the
# layouts differ: ``tests/unit/rib/test_route_record.py`` checks that the slots agree).
# The result is the very record the dataclass builds (equal, hashable, frozen after).
class _BuiltRoute:
    """RibRoute's layout, writable while it is built (see the comment above)."""

    __slots__ = (
        "as_path",
        "best",
        "communities",
        "family",
        "large_communities",
        "local_pref",
        "med",
        "multipath",
        "next_hop",
        "origin",
        "peer",
        "prefix",
        "reason",
        "weight",
    )

    def __init__(
        self,
        prefix: str,
        family: str,
        values: AttributeValues,
        peer: str | None,
        weight: int,
        best: bool,
        multipath: bool,
        reason: str | None,
    ) -> None:
        self.prefix = prefix
        self.family = family
        (
            self.next_hop,
            self.as_path,
            self.origin,
            self.local_pref,
            self.med,
            self.communities,
            self.large_communities,
        ) = values
        self.weight = weight
        self.peer = peer
        self.best = best
        self.multipath = multipath
        self.reason = reason
        self.__class__ = RibRoute  # type: ignore[assignment]


route_record = cast(
    "Callable[[str, str, AttributeValues, str | None, int, bool, bool, str | None], RibRoute]",
    _BuiltRoute,
)
"""``route_record(prefix, family, values, peer, weight, best, multipath, reason)``: the
:class:`RibRoute` of those fields, ``values`` being the :data:`ATTRIBUTE_FIELDS`'
(:data:`AttributeValues`, e.g. another record's); what ``RibRoute(...)`` gives, about
ten times faster (for converters of whole RIBs: :mod:`bgpemu.azure.snapshot`)."""


def attribute_doc(attributes: PathAttributes) -> dict[str, Any]:
    """The :data:`ATTRIBUTE_FIELDS` of ``attributes`` as JSON values: AS_PATH segments
    flattened, ORIGIN by its lower-case name, communities as text (RFC 1997
    ``asn:value``, RFC 8092 ``a:b:c``).

    A new dict on every call, in the order of the Loc-RIB JSON (MED before LOCAL_PREF,
    as in ``bgpemu solve``'s golden files), so that :func:`bgpemu.router.table.path_json`
    needs no second dict; the record's order is :data:`ATTRIBUTE_FIELDS`."""
    origin = attributes.origin
    return {
        "next_hop": attributes.next_hop,
        "as_path": list(attributes.as_path_asns()),
        "origin": None if origin is None else origin.name.lower(),
        "med": attributes.med,
        "local_pref": attributes.local_pref,
        "communities": [f"{c >> 16}:{c & 0xFFFF}" for c in attributes.communities],
        "large_communities": [f"{a}:{b}:{c}" for a, b, c in attributes.large_communities],
    }


def route_of(
    family: Family,
    prefix: str,
    attributes: PathAttributes,
    *,
    peer: str | None,
    weight: int = 0,
    best: bool = False,
    multipath: bool = False,
    reason: str | None = None,
) -> RibRoute:
    """A :class:`RibRoute` from wire attributes (converted by :func:`attribute_doc`)."""
    doc = attribute_doc(attributes)
    return RibRoute(
        prefix=prefix,
        family=str(family),
        next_hop=doc["next_hop"],
        as_path=tuple(doc["as_path"]),
        origin=doc["origin"],
        local_pref=doc["local_pref"],
        med=doc["med"],
        communities=tuple(doc["communities"]),
        large_communities=tuple(doc["large_communities"]),
        weight=weight,
        peer=peer,
        best=best,
        multipath=multipath,
        reason=reason,
    )


def route_doc(route: RibRoute) -> dict[str, Any]:
    """One route as JSON (the :class:`RibRoute` fields in their order, lists for tuples)."""
    return {
        "prefix": route.prefix,
        "family": route.family,
        "next_hop": route.next_hop,
        "as_path": list(route.as_path),
        "origin": route.origin,
        "local_pref": route.local_pref,
        "med": route.med,
        "communities": list(route.communities),
        "large_communities": list(route.large_communities),
        "weight": route.weight,
        "peer": route.peer,
        "best": route.best,
        "multipath": route.multipath,
        "reason": route.reason,
    }


def route_from_doc(doc: Mapping[str, Any]) -> RibRoute:
    """The inverse of :func:`route_doc` (tuples for lists)."""
    values = dict(doc)
    for key in ("as_path", "communities", "large_communities"):
        values[key] = tuple(values[key])
    return RibRoute(**values)


def as_path_text(as_path: Iterable[int], separator: str = "-") -> str:
    """``65520-65520-65002`` (Azure CLI style) or with another separator ("" if empty)."""
    return separator.join(str(asn) for asn in as_path)
