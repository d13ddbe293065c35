"""Communities (RFC 1997) and large communities (RFC 8092): parsing, printing, well-known values.

A community is a 32-bit int everywhere in bgpemu (``PathAttributes.communities``);
the conventional text form is ``"<asn>:<value>"`` with two 16-bit halves.  A large
community is a ``(global admin, local data 1, local data 2)`` triple of 32-bit ints,
written ``"<a>:<b>:<c>"``.

:func:`well_known_filter` is the export check every router applies whatever the
configured policies (RFC 1997, "Well-known Communities").  Confederations (RFC 5065)
are not modelled, so NO_EXPORT and NO_EXPORT_SUBCONFED both mean "never to an eBGP
peer": with no confederation, the confederation boundary is the AS boundary.
"""

from __future__ import annotations

from bgpemu.policy.base import Direction, PolicyContext
from bgpemu.rib.path import Path

__all__ = [
    "BLACKHOLE",
    "GRACEFUL_SHUTDOWN",
    "NO_ADVERTISE",
    "NO_EXPORT",
    "NO_EXPORT_SUBCONFED",
    "WELL_KNOWN_COMMUNITIES",
    "format_community",
    "format_large_community",
    "parse_communities",
    "parse_community",
    "parse_large_communities",
    "parse_large_community",
    "well_known_filter",
]

NO_EXPORT = 0xFFFFFF01
"""RFC 1997: not advertised outside a BGP confederation boundary (here: to no eBGP peer)."""
NO_ADVERTISE = 0xFFFFFF02
"""RFC 1997: not advertised to any BGP peer."""
NO_EXPORT_SUBCONFED = 0xFFFFFF03
"""RFC 1997: not advertised to external BGP peers (confederation members included)."""
GRACEFUL_SHUTDOWN = 0xFFFF0000
"""RFC 8326 §5: the path is about to go away; receivers lower its LOCAL_PREF (by policy)."""
BLACKHOLE = 0xFFFF029A
"""RFC 7999 §5: traffic to the prefix should be discarded (by policy; no built-in effect)."""

WELL_KNOWN_COMMUNITIES: tuple[tuple[str, int], ...] = (
    ("no-export", NO_EXPORT),
    ("no-advertise", NO_ADVERTISE),
    ("no-export-subconfed", NO_EXPORT_SUBCONFED),
    ("graceful-shutdown", GRACEFUL_SHUTDOWN),
    ("blackhole", BLACKHOLE),
)
"""(name, value) of the well-known communities the text form knows by name."""

_U16 = 0xFFFF
_U32 = 0xFFFFFFFF


def _name_key(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def parse_community(text: str | int) -> int:
    """A community from ``"65001:100"``, a well-known name, or a plain 32-bit integer.

    Names are case-insensitive and ``_`` may stand for ``-`` (``"NO_EXPORT"`` works).
    Raises ValueError for anything else, including halves above 65535 (RFC 1997 §"Attribute").
    """
    if isinstance(text, int):
        if not 0 <= text <= _U32:
            raise ValueError(f"community {text} is not a 32-bit value")
        return text
    key = _name_key(text)
    for name, value in WELL_KNOWN_COMMUNITIES:
        if key == name:
            return value
    high, sep, low = key.partition(":")
    if not sep:
        if key.isdigit():
            return parse_community(int(key))
        raise ValueError(f"not a community: {text!r} (expected ASN:VALUE or a well-known name)")
    if not (high.isdigit() and low.isdigit()):
        raise ValueError(f"not a community: {text!r}")
    hi, lo = int(high), int(low)
    if hi > _U16 or lo > _U16:
        raise ValueError(f"community {text!r}: each half must be 0..65535")
    return (hi << 16) | lo


def parse_communities(*texts: str | int) -> tuple[int, ...]:
    """Several communities at once: ``parse_communities("65001:1", "no-export")``."""
    return tuple(parse_community(text) for text in texts)


def format_community(value: int) -> str:
    """The text form: a well-known name when there is one, else ``"high:low"``."""
    for name, known in WELL_KNOWN_COMMUNITIES:
        if value == known:
            return name
    return f"{value >> 16}:{value & _U16}"


def parse_large_community(text: str | tuple[int, int, int]) -> tuple[int, int, int]:
    """A large community from ``"65001:1:2"`` (RFC 8092 §3: three 32-bit fields)."""
    if isinstance(text, tuple):
        parts: tuple[int, ...] = text
    else:
        fields = text.strip().split(":")
        if len(fields) != 3 or not all(f.isdigit() for f in fields):
            raise ValueError(f"not a large community: {text!r} (expected A:B:C)")
        parts = tuple(int(f) for f in fields)
    if len(parts) != 3 or not all(0 <= p <= _U32 for p in parts):
        raise ValueError(f"large community {text!r}: three 32-bit values expected")
    return (parts[0], parts[1], parts[2])


def parse_large_communities(*texts: str | tuple[int, int, int]) -> tuple[tuple[int, int, int], ...]:
    """Several large communities at once."""
    return tuple(parse_large_community(text) for text in texts)


def format_large_community(value: tuple[int, int, int]) -> str:
    """The text form ``"a:b:c"`` (RFC 8092 §4 has no well-known values)."""
    return f"{value[0]}:{value[1]}:{value[2]}"


def well_known_filter(path: Path, context: PolicyContext, /) -> Path | None:
    """The RFC 1997 export check the router applies to every path toward every peer.

    - NO_ADVERTISE: the path goes to no peer at all.
    - NO_EXPORT: not to an eBGP peer.  RFC 1997 says "outside a BGP confederation
      boundary"; confederations are not modelled, so that boundary is the AS boundary.
    - NO_EXPORT_SUBCONFED: not to an eBGP peer (RFC 1997: "external BGP peers").

    On IMPORT it returns the path unchanged: the communities restrict propagation,
    not acceptance.  It is a :class:`~bgpemu.policy.base.Policy` like any other.
    """
    if context.direction is Direction.IMPORT:
        return path
    communities = path.attributes.communities
    if not communities:
        return path
    if NO_ADVERTISE in communities:
        return None
    if not context.peer.ibgp and (NO_EXPORT in communities or NO_EXPORT_SUBCONFED in communities):
        return None
    return path
