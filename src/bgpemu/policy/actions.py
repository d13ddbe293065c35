"""Actions of a route policy: set attributes, edit communities and the AS_PATH.

Every action is a frozen dataclass with ``apply(path, context) -> Path`` and
``describe() -> str``.  Actions never reject: rejection is a statement's result.
An action that has nothing to do returns the very same path object.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Protocol

from bgpemu.policy.aspath import (
    is_private_asn,
    prepend_as_path,
    remove_private_asns,
    replace_asn,
)
from bgpemu.policy.base import NO_PREFIXES, Direction, PolicyContext
from bgpemu.policy.communities import (
    format_community,
    format_large_community,
    parse_community,
    parse_large_community,
)
from bgpemu.rib.path import Path
from bgpemu.types import Afi
from bgpemu.wire.messages import PathAttributes

__all__ = [
    "Action",
    "AddCommunities",
    "AddLargeCommunities",
    "AsOverride",
    "Prepend",
    "PrivateAsMode",
    "RemoveCommunities",
    "RemoveLargeCommunities",
    "RemovePrivateAs",
    "SetCommunities",
    "SetLocalPref",
    "SetMed",
    "SetNextHop",
    "SetWeight",
]

_U32 = 0xFFFFFFFF


class Action(Protocol):
    """A change to a path."""

    def apply(self, path: Path, context: PolicyContext, /) -> Path: ...

    def describe(self) -> str: ...


def _with(path: Path, attributes: PathAttributes) -> Path:
    return path if attributes == path.attributes else path.but(attributes=attributes)


def _check_u32(what: str, value: int) -> None:
    if not 0 <= value <= _U32:
        raise ValueError(f"{what} {value} must be 0..{_U32}")


@dataclass(frozen=True, slots=True)
class SetLocalPref:
    """LOCAL_PREF := ``value`` (RFC 4271 §5.1.5; only sent to iBGP peers, by the router)."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    value: int

    def __post_init__(self) -> None:
        _check_u32("LOCAL_PREF", self.value)

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with LOCAL_PREF set."""
        return _with(path, path.attributes.but(local_pref=self.value))

    def describe(self) -> str:
        """``set local-pref 200``."""
        return f"set local-pref {self.value}"


@dataclass(frozen=True, slots=True)
class SetMed:
    """MULTI_EXIT_DISC := ``value`` (RFC 4271 §5.1.4); None removes the MED."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    value: int | None

    def __post_init__(self) -> None:
        if self.value is not None:
            _check_u32("MED", self.value)

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with MED set (or removed)."""
        return _with(path, path.attributes.but(med=self.value))

    def describe(self) -> str:
        """``set med 10`` / ``remove med``."""
        return "remove med" if self.value is None else f"set med {self.value}"


@dataclass(frozen=True, slots=True)
class SetWeight:
    """The local weight := ``value`` (vendor step before LOCAL_PREF; never sent)."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError(f"weight {self.value} must not be negative")

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with the weight set."""
        return path if path.weight == self.value else path.but(weight=self.value)

    def describe(self) -> str:
        """``set weight 100``."""
        return f"set weight {self.value}"


@dataclass(frozen=True, slots=True)
class SetNextHop:
    """NEXT_HOP := an address, ``"self"`` or ``"peer"`` (RFC 4271 §5.1.3).

    - an address: written on paths of its own IP version only (an IPv4 address does
      not touch IPv6 paths, so one action can serve both families next to another);
    - ``"self"``: ``context.local_next_hop_v4`` / ``local_next_hop_v6`` by the path's
      AFI; left unchanged when the context has none for that family;
    - ``"peer"``: the session's neighbour address (``context.peer.address``), when it
      has the path's IP version; else unchanged.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    next_hop: str

    def __post_init__(self) -> None:
        if self.next_hop in ("self", "peer"):
            return
        try:
            ipaddress.ip_address(self.next_hop)
        except ValueError:
            raise ValueError(
                f"next hop {self.next_hop!r}: an IP address, 'self' or 'peer' expected"
            ) from None

    def _address(self, path: Path, context: PolicyContext) -> str | None:
        ipv6 = path.family.afi == Afi.IPV6
        if self.next_hop == "self":
            return context.local_next_hop_v6 if ipv6 else context.local_next_hop_v4
        candidate = context.peer.address if self.next_hop == "peer" else self.next_hop
        try:
            version = ipaddress.ip_address(candidate).version
        except ValueError:
            return None
        return candidate if version == (6 if ipv6 else 4) else None

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with its next hop set, or unchanged (see the class docstring)."""
        address = self._address(path, context)
        if address is None:
            return path
        return _with(path, path.attributes.but(next_hop=address))

    def describe(self) -> str:
        """``set next-hop self``."""
        return f"set next-hop {self.next_hop}"


@dataclass(frozen=True, slots=True)
class Prepend:
    """``count`` copies of ``asn`` (our own ASN when None) in front of the AS_PATH.

    RFC 4271 §5.1.2 has the router prepend its own ASN once toward eBGP peers after
    export policy; these copies come on top of that one.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    asn: int | None = None
    count: int = 1

    def __post_init__(self) -> None:
        if self.asn is not None:
            _check_u32("ASN", self.asn)
        if not 1 <= self.count <= 255:
            raise ValueError(f"prepend count {self.count} must be 1..255")

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with the AS_PATH prepended."""
        asn = context.local_asn if self.asn is None else self.asn
        as_path = prepend_as_path(path.attributes.as_path, asn, self.count)
        return _with(path, path.attributes.but(as_path=as_path))

    def describe(self) -> str:
        """``prepend own-as x3``."""
        who = "own-as" if self.asn is None else str(self.asn)
        return f"prepend {who} x{self.count}"


@dataclass(frozen=True, slots=True)
class _CommunityEdit:
    """What the community actions (RFC 1997) share: ``values`` parsed from their text
    (:func:`~bgpemu.policy.communities.parse_community`) and the ``VERB communities
    [...]`` description."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
    _verb: ClassVar[str]

    values: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(parse_community(v) for v in self.values))

    def describe(self) -> str:
        """``add communities [65001:1]``."""
        return f"{self._verb} communities [" + ", ".join(map(format_community, self.values)) + "]"


@dataclass(frozen=True, slots=True)
class AddCommunities(_CommunityEdit):
    """Add communities (RFC 1997); values already present are not repeated."""

    _verb: ClassVar[str] = "add"

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with the communities appended after the existing ones."""
        have = path.attributes.communities
        new = tuple(dict.fromkeys(have + self.values))
        return _with(path, path.attributes.but(communities=new))


@dataclass(frozen=True, slots=True)
class RemoveCommunities(_CommunityEdit):
    """Remove the given communities (RFC 1997) when present."""

    _verb: ClassVar[str] = "remove"

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path without those communities."""
        kept = tuple(c for c in path.attributes.communities if c not in self.values)
        return _with(path, path.attributes.but(communities=kept))


@dataclass(frozen=True, slots=True)
class SetCommunities(_CommunityEdit):
    """Replace the communities by ``values`` (empty: remove them all); repeats are dropped."""

    _verb: ClassVar[str] = "set"

    def __post_init__(self) -> None:
        values = tuple(dict.fromkeys(parse_community(v) for v in self.values))
        object.__setattr__(self, "values", values)

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with exactly these communities."""
        return _with(path, path.attributes.but(communities=self.values))


@dataclass(frozen=True, slots=True)
class _LargeCommunityEdit:
    """What the large-community actions (RFC 8092) share: ``values`` parsed from their
    text (:func:`~bgpemu.policy.communities.parse_large_community`) and the ``VERB
    large-communities [...]`` description."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
    _verb: ClassVar[str]

    values: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        values = tuple(parse_large_community(v) for v in self.values)
        object.__setattr__(self, "values", values)

    def describe(self) -> str:
        """``add large-communities [65001:1:2]``."""
        text = ", ".join(map(format_large_community, self.values))
        return f"{self._verb} large-communities [{text}]"


@dataclass(frozen=True, slots=True)
class AddLargeCommunities(_LargeCommunityEdit):
    """Add large communities (RFC 8092); values already present are not repeated."""

    _verb: ClassVar[str] = "add"

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with the large communities appended."""
        have = path.attributes.large_communities
        new = tuple(dict.fromkeys(have + self.values))
        return _with(path, path.attributes.but(large_communities=new))


@dataclass(frozen=True, slots=True)
class RemoveLargeCommunities(_LargeCommunityEdit):
    """Remove the given large communities (RFC 8092) when present."""

    _verb: ClassVar[str] = "remove"

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path without those large communities."""
        kept = tuple(c for c in path.attributes.large_communities if c not in self.values)
        return _with(path, path.attributes.but(large_communities=kept))


class PrivateAsMode(Enum):
    """Which AS_PATHs :class:`RemovePrivateAs` edits (vendors differ; pick one).

    - ALL: drop every private ASN wherever it is (Cisco "remove-private-as all",
      Juniper "remove-private all").
    - IF_ALL_PRIVATE: only when the AS_PATH holds nothing but private ASNs, drop them
      all; a path with any public ASN is left alone (the classic Cisco default, for a
      customer network behind a private ASN).
    """

    ALL = "all"
    IF_ALL_PRIVATE = "if-all-private"


@dataclass(frozen=True, slots=True)
class RemovePrivateAs:
    """Strip private ASNs (RFC 6996 §5: 64512..65534 and 4200000000..4294967294).

    ``mode`` picks the variant (see :class:`PrivateAsMode`; ALL by default).  With
    ``replace_as=True`` each private ASN becomes our own ASN instead of disappearing
    (vendors' "replace-as"), which keeps the path length.  Confederation segments are
    not touched.  Meant for export to eBGP peers; the action itself applies wherever
    it is placed.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    mode: PrivateAsMode = PrivateAsMode.ALL
    replace_as: bool = False

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with private ASNs removed (or replaced)."""
        asns = path.attributes.as_path_asns()
        if not any(is_private_asn(asn) for asn in asns):
            return path
        if self.mode is PrivateAsMode.IF_ALL_PRIVATE and not all(map(is_private_asn, asns)):
            return path
        replacement = context.local_asn if self.replace_as else None
        as_path = remove_private_asns(path.attributes.as_path, replacement)
        return _with(path, path.attributes.but(as_path=as_path))

    def describe(self) -> str:
        """``remove-private-as all``."""
        text = f"remove-private-as {self.mode.value}"
        return text + " replace-as" if self.replace_as else text


@dataclass(frozen=True, slots=True)
class AsOverride:
    """On export, the peer's ASN in the AS_PATH becomes ours (vendors' "as-override").

    Lets two sites of one customer AS talk through a provider: the receiving site
    would otherwise drop the path as a loop (RFC 4271 §9.1.2).  The router still
    prepends its own ASN after export policy.  On import this action does nothing.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    def apply(self, path: Path, context: PolicyContext, /) -> Path:
        """The path with ``context.peer.asn`` replaced by ``context.local_asn`` (export only)."""
        if context.direction is not Direction.EXPORT:
            return path
        as_path = replace_asn(path.attributes.as_path, context.peer.asn, context.local_asn)
        return _with(path, path.attributes.but(as_path=as_path))

    def describe(self) -> str:
        """``as-override``."""
        return "as-override"
