"""Match conditions of a route policy: prefix lists, AS-path regex, communities, combinators.

Every match is a frozen dataclass with ``matches(path, context) -> bool`` and
``describe() -> str``, so policies built from them are hashable, comparable and
printable.  Invalid arguments (a bad prefix, ge/le out of range, a bad regex) raise
ValueError when the match is built, never while routes flow.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar, Protocol, TypeVar

from bgpemu.policy.aspath import as_path_string
from bgpemu.policy.base import NO_PREFIXES, PolicyContext, sensitive_union
from bgpemu.policy.communities import (
    format_community,
    format_large_community,
    parse_community,
    parse_large_community,
)
from bgpemu.rib.path import Path
from bgpemu.types import Family

__all__ = [
    "DENY",
    "PERMIT",
    "And",
    "AsPathRegex",
    "CommunityMatch",
    "FamilyMatch",
    "LargeCommunityMatch",
    "ListAction",
    "Match",
    "Not",
    "Or",
    "PeerMatch",
    "PrefixList",
    "PrefixListEntry",
    "SourcePeerMatch",
]


class Match(Protocol):
    """A condition on a path (and the session it is crossing)."""

    def matches(self, path: Path, context: PolicyContext, /) -> bool: ...

    def describe(self) -> str: ...


class ListAction(Enum):
    """What a prefix-list entry does with a prefix it matches."""

    PERMIT = "permit"
    DENY = "deny"


PERMIT = ListAction.PERMIT
DENY = ListAction.DENY


def _parse_prefix(text: str) -> tuple[int, int, int]:
    """(IP version, network as int, prefix length) of a canonical prefix string."""
    net = ipaddress.ip_network(text, strict=True)
    return net.version, int(net.network_address), net.prefixlen


@dataclass(frozen=True, slots=True)
class PrefixListEntry:
    """One line of a prefix list, with the ge/le semantics of common router CLIs.

    A route matches when its first ``len(prefix)`` bits equal ``prefix`` and its
    length is in range: exactly ``len(prefix)`` when neither ``ge`` nor ``le`` is
    given; ``ge..max`` with only ``ge``; ``len(prefix)..le`` with only ``le``;
    ``ge..le`` with both (max is 32 for IPv4, 128 for IPv6).  An entry needs
    ``len(prefix) <= ge <= le <= max``.  IPv4 entries never match IPv6 routes, and
    the other way round.
    """

    prefix: str
    ge: int | None = None
    le: int | None = None
    action: ListAction = ListAction.PERMIT
    _version: int = field(init=False, repr=False, compare=False)
    _network: int = field(init=False, repr=False, compare=False)
    _length: int = field(init=False, repr=False, compare=False)
    _low: int = field(init=False, repr=False, compare=False)
    _high: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            version, network, length = _parse_prefix(self.prefix)
        except ValueError as exc:
            raise ValueError(f"prefix-list entry {self.prefix!r}: {exc}") from None
        maximum = 32 if version == 4 else 128
        low = length if self.ge is None else self.ge
        high = (maximum if self.ge is not None else length) if self.le is None else self.le
        if not length <= low <= high <= maximum:
            raise ValueError(
                f"prefix-list entry {self.describe()}: need {length} <= ge <= le <= {maximum}"
            )
        object.__setattr__(self, "_version", version)
        object.__setattr__(self, "_network", network)
        object.__setattr__(self, "_length", length)
        object.__setattr__(self, "_low", low)
        object.__setattr__(self, "_high", high)

    def covers(self, version: int, network: int, length: int) -> bool:
        """True when the route ``network/length`` of IP ``version`` matches this entry."""
        if version != self._version or not self._low <= length <= self._high:
            return False
        shift = (32 if version == 4 else 128) - self._length
        return (network >> shift) == (self._network >> shift)

    def describe(self) -> str:
        """``permit 10.0.0.0/8 ge 16 le 24``."""
        text = f"{self.action.value} {self.prefix}"
        if self.ge is not None:
            text += f" ge {self.ge}"
        if self.le is not None:
            text += f" le {self.le}"
        return text


@dataclass(frozen=True, slots=True)
class PrefixList:
    """An ordered prefix list: the first matching entry decides, implicit deny at the end.

    ``matches`` is True when the first entry covering the route is PERMIT.  An empty
    list matches nothing (some CLIs treat an empty list as "permit all"; bgpemu does
    not).
    """

    entries: tuple[PrefixListEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """The listed prefixes when every entry is exact (no ``ge``/``le``): any other
        prefix is covered by no entry, so denied alike; None otherwise."""
        if any(entry.ge is not None or entry.le is not None for entry in self.entries):
            return None
        return frozenset(str(ipaddress.ip_network(entry.prefix)) for entry in self.entries)

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """First match wins; no match is a deny."""
        return self.permits(path.prefix)

    def permits(self, prefix: str) -> bool:
        """The verdict for a prefix string alone."""
        version, network, length = _parse_prefix(prefix)
        for entry in self.entries:
            if entry.covers(version, network, length):
                return entry.action is ListAction.PERMIT
        return False

    def describe(self) -> str:
        """``prefix-list [permit 10.0.0.0/8 le 24, deny ::/0 le 128]``."""
        return "prefix-list [" + ", ".join(entry.describe() for entry in self.entries) + "]"

    def __str__(self) -> str:
        return self.describe()


_BOUNDARY = r"(?:^|$|[ {}(),])"


def _translate(pattern: str) -> str:
    """Replace each unescaped ``_`` by the boundary class; ``\\_`` stays a literal."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "_":
            out.append(_BOUNDARY)
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class AsPathRegex:
    """A regular expression searched in the AS_PATH rendered as text (Cisco style).

    The AS_PATH is rendered as space-separated ASNs, AS_SET as ``{a,b}`` and
    confederation segments in parentheses (see :func:`~bgpemu.policy.aspath.as_path_string`);
    an empty path renders as ``""``, so ``^$`` matches routes of the local AS.  The
    expression is *searched* (not anchored): use ``^`` and ``$``.  ``_`` matches a
    boundary between ASNs, as in Cisco and Juniper regexes: the start or end of the
    path, a space, or one of ``{ } ( ) ,``; it is translated to ``(?:^|$|[ {}(),])``.
    So ``_65001_`` matches 65001 anywhere but not 165001, and ``^65001_`` matches
    paths learned from a neighbour in AS 65001.  Every unescaped ``_`` is translated,
    even inside ``[...]``; write ``\\_`` for a literal underscore (never needed in an
    AS_PATH).  Python ``re`` syntax otherwise.
    Juniper's token-based regex flavour (where ``.`` stands for one ASN) is not
    supported.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    pattern: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            compiled = re.compile(_translate(self.pattern))
        except re.error as exc:
            raise ValueError(f"AS-path regex {self.pattern!r}: {exc}") from None
        object.__setattr__(self, "_compiled", compiled)

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when the expression occurs in the rendered AS_PATH."""
        return self.search(as_path_string(path.attributes.as_path))

    def search(self, rendered: str) -> bool:
        """The verdict for an already rendered AS_PATH string."""
        return self._compiled.search(rendered) is not None

    def describe(self) -> str:
        """``as-path ~ /^65001_/``."""
        return f"as-path ~ /{self.pattern}/"

    def __str__(self) -> str:
        return self.describe()


T = TypeVar("T")


def _any_all(have: Sequence[T], any_of: Sequence[T], all_of: Sequence[T]) -> bool:
    """One of ``any_of`` (when given) and every one of ``all_of`` is in ``have``."""
    if any_of and not any(value in have for value in any_of):
        return False
    return all(value in have for value in all_of)


def _describe_sets(
    label: str, any_of: Sequence[T], all_of: Sequence[T], show: Callable[[T], str]
) -> str:
    """``label any-of [...] all-of [...]`` with the values shown by ``show``."""
    parts = []
    if any_of:
        parts.append("any-of [" + ", ".join(map(show, any_of)) + "]")
    if all_of:
        parts.append("all-of [" + ", ".join(map(show, all_of)) + "]")
    return f"{label} " + " ".join(parts)


@dataclass(frozen=True, slots=True)
class CommunityMatch:
    """Communities (RFC 1997) of the path: any of ``any_of`` and all of ``all_of``.

    Values are 32-bit ints or text (``"65001:100"``, ``"no-export"``), normalised to
    ints.  With both sets given, both conditions must hold; at least one is needed.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    any_of: tuple[int, ...] = ()
    all_of: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        any_of = tuple(parse_community(v) for v in self.any_of)
        all_of = tuple(parse_community(v) for v in self.all_of)
        if not any_of and not all_of:
            raise ValueError("CommunityMatch needs any_of or all_of")
        object.__setattr__(self, "any_of", any_of)
        object.__setattr__(self, "all_of", all_of)

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when the path carries one of ``any_of`` and every one of ``all_of``."""
        return _any_all(path.attributes.communities, self.any_of, self.all_of)

    def describe(self) -> str:
        """``community any-of [no-export] all-of [65001:1]``."""
        return _describe_sets("community", self.any_of, self.all_of, format_community)

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class LargeCommunityMatch:
    """Large communities (RFC 8092) of the path: any of ``any_of`` and all of ``all_of``.

    Values are ``(a, b, c)`` triples or ``"a:b:c"`` text.  At least one set is needed.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    any_of: tuple[tuple[int, int, int], ...] = ()
    all_of: tuple[tuple[int, int, int], ...] = ()

    def __post_init__(self) -> None:
        any_of = tuple(parse_large_community(v) for v in self.any_of)
        all_of = tuple(parse_large_community(v) for v in self.all_of)
        if not any_of and not all_of:
            raise ValueError("LargeCommunityMatch needs any_of or all_of")
        object.__setattr__(self, "any_of", any_of)
        object.__setattr__(self, "all_of", all_of)

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when the path carries one of ``any_of`` and every one of ``all_of``."""
        return _any_all(path.attributes.large_communities, self.any_of, self.all_of)

    def describe(self) -> str:
        """``large-community any-of [65001:1:2]``."""
        return _describe_sets("large-community", self.any_of, self.all_of, format_large_community)

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True, init=False)
class FamilyMatch:
    """The path's address family is one of ``families``: ``FamilyMatch(IPV6_UNICAST)``."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    families: tuple[Family, ...]

    def __init__(self, *families: Family) -> None:
        object.__setattr__(self, "families", tuple(families))

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True for a path of one of the families."""
        return path.family in self.families

    def describe(self) -> str:
        """``family in [ipv4-unicast]``."""
        return "family in [" + ", ".join(str(family) for family in self.families) + "]"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True, init=False)
class PeerMatch:
    """The session's peer (``context.peer``) is one of ``names``.

    On import that is the neighbour the path came from; on export, the neighbour it
    is going to.  To match where a path came from on export, use :class:`SourcePeerMatch`.
    """

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", tuple(names))

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when the session's peer is named."""
        return context.peer.name in self.names

    def describe(self) -> str:
        """``peer in [b, c]``."""
        return "peer in [" + ", ".join(self.names) + "]"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True, init=False)
class SourcePeerMatch:
    """The path was learned from one of ``names`` (``path.source.name``; ``""`` is local)."""

    sensitive_prefixes: ClassVar[frozenset[str]] = NO_PREFIXES
    """Never looks at the prefix (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", tuple(names))

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when the path's source peer is named."""
        return path.source.name in self.names

    def describe(self) -> str:
        """``learned from [b]``."""
        return "learned from [" + ", ".join(name or "<local>" for name in self.names) + "]"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of ``match``."""

    match: Match

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """Those of the combined matches (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
        return sensitive_union((self.match,))

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when ``match`` does not match."""
        return not self.match.matches(path, context)

    def describe(self) -> str:
        """``not (...)``."""
        return f"not ({self.match.describe()})"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True, init=False)
class _Combined:
    """Matches combined by :class:`And` or :class:`Or` (given positionally)."""

    conditions: tuple[Match, ...]

    def __init__(self, *conditions: Match) -> None:
        object.__setattr__(self, "conditions", tuple(conditions))

    @property
    def sensitive_prefixes(self) -> frozenset[str] | None:
        """Those of the combined matches (:func:`~bgpemu.policy.base.sensitive_prefixes`)."""
        return sensitive_union(self.conditions)

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True, init=False)
class And(_Combined):
    """Every one of ``matches`` (True when empty): ``And(m1, m2)``."""

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when all conditions hold (evaluated in order, stopping at the first miss)."""
        return all(condition.matches(path, context) for condition in self.conditions)

    def describe(self) -> str:
        """``(a) and (b)``."""
        if not self.conditions:
            return "always"
        return " and ".join(f"({c.describe()})" for c in self.conditions)


@dataclass(frozen=True, slots=True, init=False)
class Or(_Combined):
    """Any one of ``matches`` (False when empty): ``Or(m1, m2)``."""

    def matches(self, path: Path, context: PolicyContext, /) -> bool:
        """True when a condition holds (evaluated in order, stopping at the first hit)."""
        return any(condition.matches(path, context) for condition in self.conditions)

    def describe(self) -> str:
        """``(a) or (b)``."""
        if not self.conditions:
            return "never"
        return " or ".join(f"({c.describe()})" for c in self.conditions)
