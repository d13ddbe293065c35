"""The BGP-4 message model: frozen dataclasses that every layer above ``wire`` sees.

No scapy object ever leaves ``bgpemu.wire``; these classes are the boundary.  ASNs
are always the real 4-octet values: the codec turns them into AS_TRANS + AS4_PATH
for a peer without the 4-octet AS capability (RFC 6793 §4.2.2) and back again on
receipt (RFC 6793 §4.2.3), so no other layer ever sees AS_TRANS or AS4_PATH.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, cast

from bgpemu.types import AS_TRANS, IPV4_UNICAST, Family
from bgpemu.wire.constants import MessageType

_KEEP: Any = object()
"""The default of :meth:`PathAttributes.but`'s fields: keep the current value."""
_new_object = object.__new__

__all__ = [
    "AddPathMode",
    "Aggregator",
    "AsPathSegment",
    "Capabilities",
    "GracefulRestart",
    "Keepalive",
    "Message",
    "MpReach",
    "MpUnreach",
    "Notification",
    "Open",
    "Origin",
    "PathAttributes",
    "RouteRefresh",
    "RouteRefreshSubtype",
    "SegmentType",
    "UnknownAttribute",
    "Update",
    "UpdateIssue",
    "UpdateIssueAction",
]


class Origin(IntEnum):
    """ORIGIN values (RFC 4271 §4.3 b, §5.1.1)."""

    IGP = 0
    EGP = 1
    INCOMPLETE = 2


class SegmentType(IntEnum):
    """AS_PATH segment types (RFC 4271 §4.3 b; RFC 5065 §3 for confederations)."""

    AS_SET = 1
    AS_SEQUENCE = 2
    AS_CONFED_SEQUENCE = 3
    AS_CONFED_SET = 4


class AddPathMode(IntEnum):
    """The Send/Receive field of the ADD-PATH capability (RFC 7911 §4)."""

    RECEIVE = 1
    SEND = 2
    BOTH = 3


class RouteRefreshSubtype(IntEnum):
    """The ROUTE-REFRESH message subtype (RFC 7313 §3; 0 is plain RFC 2918)."""

    NORMAL = 0
    BEGIN_OF_RIB = 1
    END_OF_RIB = 2


@dataclass(frozen=True, slots=True)
class AsPathSegment:
    """One AS_PATH segment with 4-octet ASNs."""

    type: SegmentType
    asns: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Aggregator:
    """AGGREGATOR (RFC 4271 §4.3 g) with a 4-octet ASN."""

    asn: int
    address: str


@dataclass(frozen=True, slots=True)
class UnknownAttribute:
    """An optional attribute bgpemu does not interpret, kept byte for byte.

    RFC 4271 §5: an unrecognized optional transitive attribute is passed on with the
    Partial bit set; an unrecognized optional non-transitive one is quietly ignored
    (the codec drops it on receipt, so it never appears here).
    """

    flags: int
    type_code: int
    value: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PathAttributes:
    """The path attributes of an UPDATE, except MP_REACH_NLRI / MP_UNREACH_NLRI.

    ``next_hop`` is the NEXT_HOP attribute (IPv4 unicast in the classic NLRI field).
    For other families the next hop travels in :class:`MpReach`.  Instances are
    hashable so that identical attribute sets can be interned and packed together.
    """

    origin: Origin | None = None
    as_path: tuple[AsPathSegment, ...] = ()
    next_hop: str | None = None
    med: int | None = None
    local_pref: int | None = None
    atomic_aggregate: bool = False
    aggregator: Aggregator | None = None
    communities: tuple[int, ...] = ()
    originator_id: str | None = None
    cluster_list: tuple[str, ...] = ()
    extended_communities: tuple[bytes, ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()
    unknown: tuple[UnknownAttribute, ...] = ()

    def as_path_asns(self) -> tuple[int, ...]:
        """Every ASN of the AS_PATH in order, all segment types flattened."""
        return tuple(asn for segment in self.as_path for asn in segment.asns)

    def but(
        self,
        *,
        origin: Origin | None = _KEEP,
        as_path: tuple[AsPathSegment, ...] = _KEEP,
        next_hop: str | None = _KEEP,
        med: int | None = _KEEP,
        local_pref: int | None = _KEEP,
        atomic_aggregate: bool = _KEEP,
        aggregator: Aggregator | None = _KEEP,
        communities: tuple[int, ...] = _KEEP,
        originator_id: str | None = _KEEP,
        cluster_list: tuple[str, ...] = _KEEP,
        extended_communities: tuple[bytes, ...] = _KEEP,
        large_communities: tuple[tuple[int, int, int], ...] = _KEEP,
        unknown: tuple[UnknownAttribute, ...] = _KEEP,
    ) -> PathAttributes:
        """These attributes with the given fields changed: ``dataclasses.replace(self,
        ...)``, about ten times faster (the router rewrites attributes for every peer
        it exports to, RFC 4271 §5.1; see :class:`_AttributesLayout`)."""
        new = _new_object(_AttributesLayout)
        new.origin = self.origin if origin is _KEEP else origin
        new.as_path = self.as_path if as_path is _KEEP else as_path
        new.next_hop = self.next_hop if next_hop is _KEEP else next_hop
        new.med = self.med if med is _KEEP else med
        new.local_pref = self.local_pref if local_pref is _KEEP else local_pref
        new.atomic_aggregate = (
            self.atomic_aggregate if atomic_aggregate is _KEEP else atomic_aggregate
        )
        new.aggregator = self.aggregator if aggregator is _KEEP else aggregator
        new.communities = self.communities if communities is _KEEP else communities
        new.originator_id = self.originator_id if originator_id is _KEEP else originator_id
        new.cluster_list = self.cluster_list if cluster_list is _KEEP else cluster_list
        new.extended_communities = (
            self.extended_communities if extended_communities is _KEEP else extended_communities
        )
        new.large_communities = (
            self.large_communities if large_communities is _KEEP else large_communities
        )
        new.unknown = self.unknown if unknown is _KEEP else unknown
        new.__class__ = PathAttributes  # type: ignore[assignment]
        return cast(PathAttributes, new)


class _AttributesLayout:
    """PathAttributes' layout, writable while :meth:`PathAttributes.but` fills it.

    A frozen dataclass is built through ``object.__setattr__`` once per field (about
    2 us for the 13 of PathAttributes, by ``dataclasses.replace`` or the
    constructor); this class has exactly PathAttributes' slots and no
    ``__setattr__`` of its own, so ``but`` fills them with plain attribute stores and
    then makes the object a PathAttributes (``__class__`` assignment: CPython allows
    it between classes of the same layout, and raises TypeError otherwise;
    ``tests/unit/wire/test_attributes_but.py`` checks that the slots agree).  The result is
    the object the dataclass would build: equal, hashable, frozen.
    """

    __slots__ = (
        "aggregator",
        "as_path",
        "atomic_aggregate",
        "cluster_list",
        "communities",
        "extended_communities",
        "large_communities",
        "local_pref",
        "med",
        "next_hop",
        "origin",
        "originator_id",
        "unknown",
    )
    origin: Origin | None
    as_path: tuple[AsPathSegment, ...]
    next_hop: str | None
    med: int | None
    local_pref: int | None
    atomic_aggregate: bool
    aggregator: Aggregator | None
    communities: tuple[int, ...]
    originator_id: str | None
    cluster_list: tuple[str, ...]
    extended_communities: tuple[bytes, ...]
    large_communities: tuple[tuple[int, int, int], ...]
    unknown: tuple[UnknownAttribute, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MpReach:
    """MP_REACH_NLRI (RFC 4760 §3) of one family; IPv6 may carry a link-local next hop."""

    family: Family
    next_hop: str
    link_local_next_hop: str | None = None
    nlri: tuple[str, ...] = ()
    path_ids: tuple[int, ...] | None = None
    """RFC 7911 path identifiers, one per NLRI, when ADD-PATH is negotiated."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MpUnreach:
    """MP_UNREACH_NLRI (RFC 4760 §4) of one family."""

    family: Family
    withdrawn: tuple[str, ...] = ()
    path_ids: tuple[int, ...] | None = None


class UpdateIssueAction(IntEnum):
    """The RFC 7606 §2 outcome of a malformed attribute that does not reset the session."""

    TREAT_AS_WITHDRAW = 1
    ATTRIBUTE_DISCARD = 2


@dataclass(frozen=True, slots=True)
class UpdateIssue:
    """A malformed attribute handled by RFC 7606 instead of a session reset."""

    action: UpdateIssueAction
    type_code: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Open:
    """OPEN (RFC 4271 §4.2).

    ``my_as`` is the 2-octet "My Autonomous System" field as on the wire; the real
    ASN is :attr:`asn` (the 4-octet AS capability when present, RFC 6793 §4.1).
    Use :meth:`for_asn` to build one with AS_TRANS filled in when needed.
    """

    version: int = 4
    my_as: int
    hold_time: int
    bgp_identifier: str
    capabilities: Capabilities
    type: ClassVar[MessageType] = MessageType.OPEN

    @classmethod
    def for_asn(
        cls, asn: int, hold_time: int, bgp_identifier: str, capabilities: Capabilities
    ) -> Open:
        """An OPEN for ``asn``: AS_TRANS in ``my_as`` when it does not fit in 2 octets."""
        return cls(
            my_as=asn if asn <= 0xFFFF else AS_TRANS,
            hold_time=hold_time,
            bgp_identifier=bgp_identifier,
            capabilities=capabilities,
        )

    @property
    def asn(self) -> int:
        """The sender's real ASN (RFC 6793 §4.1)."""
        four = self.capabilities.four_octet_as
        return four if four is not None else self.my_as


@dataclass(frozen=True, slots=True, kw_only=True)
class GracefulRestart:
    """The Graceful Restart capability (RFC 4724 §3)."""

    restart_state: bool = False
    restart_time: int = 120
    families: tuple[tuple[Family, bool], ...] = ()
    """(family, forwarding state preserved) pairs."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """Every capability of an OPEN, however the sender packed them into parameters."""

    multiprotocol: tuple[Family, ...] = ()
    route_refresh: bool = False
    enhanced_route_refresh: bool = False
    four_octet_as: int | None = None
    graceful_restart: GracefulRestart | None = None
    add_path: tuple[tuple[Family, AddPathMode], ...] = ()
    extended_message: bool = False
    unknown: tuple[tuple[int, bytes], ...] = ()
    """Capabilities bgpemu does not interpret: (code, value), kept for display."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    """UPDATE (RFC 4271 §4.3) with MP_REACH/MP_UNREACH lifted out of the attributes.

    ``withdrawn`` and ``nlri`` are the classic IPv4 unicast fields.  ``issues`` lists
    the malformed attributes the decoder handled per RFC 7606; when any of them is
    TREAT_AS_WITHDRAW the decoder has already moved every NLRI of the message into
    the withdrawn lists and cleared the attributes, so a consumer cannot get it wrong.
    """

    withdrawn: tuple[str, ...] = ()
    withdrawn_path_ids: tuple[int, ...] | None = None
    attributes: PathAttributes = field(default_factory=PathAttributes)
    nlri: tuple[str, ...] = ()
    nlri_path_ids: tuple[int, ...] | None = None
    mp_reach: MpReach | None = None
    mp_unreach: MpUnreach | None = None
    issues: tuple[UpdateIssue, ...] = ()
    raw: bytes = field(default=b"", compare=False, repr=False)
    """The whole message as received when ``issues`` is not empty, for the log RFC 7606
    §6 asks for ("containing the entire malformed UPDATE message"); empty otherwise."""
    type: ClassVar[MessageType] = MessageType.UPDATE

    @classmethod
    def end_of_rib(cls, family: Family) -> Update:
        """The End-of-RIB marker of ``family`` (RFC 4724 §2)."""
        if family == IPV4_UNICAST:
            return cls()
        return cls(mp_unreach=MpUnreach(family=family))

    @property
    def end_of_rib_family(self) -> Family | None:
        """The family this UPDATE marks End-of-RIB for, or None (RFC 4724 §2)."""
        if self.withdrawn or self.nlri or self.mp_reach is not None or self.issues:
            return None
        if self.mp_unreach is None:
            return IPV4_UNICAST if self.attributes == PathAttributes() else None
        if self.mp_unreach.withdrawn or self.attributes != PathAttributes():
            return None
        return self.mp_unreach.family


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """NOTIFICATION (RFC 4271 §4.5)."""

    code: int
    subcode: int
    data: bytes = b""
    type: ClassVar[MessageType] = MessageType.NOTIFICATION


@dataclass(frozen=True, slots=True)
class Keepalive:
    """KEEPALIVE (RFC 4271 §4.4): a header and nothing else."""

    type: ClassVar[MessageType] = MessageType.KEEPALIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRefresh:
    """ROUTE-REFRESH (RFC 2918 §3, subtypes from RFC 7313 §3)."""

    family: Family
    subtype: RouteRefreshSubtype = RouteRefreshSubtype.NORMAL
    type: ClassVar[MessageType] = MessageType.ROUTE_REFRESH


Message = Open | Update | Notification | Keepalive | RouteRefresh
