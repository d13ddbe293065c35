"""Value types shared by every layer (L0): address families, prefixes, ASNs.

Prefixes are canonical strings (``"10.0.0.0/24"``, ``"2001:db8::/32"``): host bits
are always zero, IPv6 is in compressed form.  Strings keep the codec fast (no
``ipaddress`` object per prefix, see ``shared/perf.md`` §3.3) and are what every
output format shows.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple, NewType

__all__ = [
    "AS_TRANS",
    "IPV4_UNICAST",
    "IPV6_UNICAST",
    "Afi",
    "Asn",
    "Family",
    "Prefix",
    "PrefixKey",
    "PrefixKeys",
    "Safi",
    "TcpMd5Key",
    "canonical_prefix",
    "prefix_key",
    "prefix_version",
]

Asn = NewType("Asn", int)
"""A 4-octet autonomous system number (RFC 6793)."""

Prefix = NewType("Prefix", str)
"""A canonical IPv4 or IPv6 prefix string."""

AS_TRANS = 23456
"""RFC 6793 §9: the 2-octet ASN that stands in for a 4-octet one."""


class Afi(IntEnum):
    """Address Family Identifier (IANA; RFC 4760 §3)."""

    IPV4 = 1
    IPV6 = 2


class Safi(IntEnum):
    """Subsequent Address Family Identifier (IANA; RFC 4760 §6)."""

    UNICAST = 1


class Family(NamedTuple):
    """An (AFI, SAFI) pair."""

    afi: Afi
    safi: Safi

    def __str__(self) -> str:
        return f"{self.afi.name.lower()}-{self.safi.name.lower()}"


IPV4_UNICAST = Family(Afi.IPV4, Safi.UNICAST)
IPV6_UNICAST = Family(Afi.IPV6, Safi.UNICAST)


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_PREFIX = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}/([0-9]|[12][0-9]|3[0-2])")
"""``a.b.c.d/n`` as ``ipaddress`` reads it (decimal octets without leading zeros)."""


def prefix_key(prefix: str) -> tuple[int, int, int]:
    """The numeric sort key of a prefix: IP version, network address, length (the order of
    every table bgpemu prints).  ValueError if ``prefix`` is not one.

    ``ipaddress.ip_network(prefix, strict=False)``'s values; a dotted IPv4 prefix is read
    without it (about 4 times faster: the Azure views sort and compare hundreds of
    thousands of prefixes), anything else goes through it."""
    match = _DOTTED_PREFIX.fullmatch(prefix)
    if match is None:
        net = ipaddress.ip_network(prefix, strict=False)
        return (net.version, int(net.network_address), net.prefixlen)
    a, b, c, d, length = match.groups()
    host_bits = 32 - int(length)
    address = int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
    return (4, address >> host_bits << host_bits, 32 - host_bits)


PrefixKey = tuple[int, int, int]
""":func:`prefix_key`'s value."""


class PrefixKeys(dict[str, PrefixKey]):
    """Prefix -> :func:`prefix_key`, each computed when first asked.

    Whatever sorts or compares the same prefixes again and again keeps one: the views of
    one report (vWAN 2 x 50 x 200: 20,000 prefixes, 320,000 keys, in each hub table and
    the effective routes of each of its VNets), a snapshot's converter, a traffic
    context.  No module state: the owner creates it and drops it.  ``keys[p]`` is the
    key of ``p``; ValueError if ``p`` is not a prefix."""

    __slots__ = ()

    def __missing__(self, prefix: str) -> PrefixKey:
        key = self[prefix] = prefix_key(prefix)
        return key


def prefix_version(prefix: str) -> int:
    """``ipaddress.ip_network(prefix, strict=False).version``: 4 or 6, ValueError if
    ``prefix`` is not a prefix.  A dotted IPv4 prefix is recognised without it."""
    if _DOTTED_PREFIX.fullmatch(prefix) is not None:
        return 4
    return ipaddress.ip_network(prefix, strict=False).version


def canonical_prefix(text: str) -> str:
    """``text`` as a canonical :data:`Prefix` (``2001:DB8::/32`` becomes ``2001:db8::/32``).

    ValueError naming ``text`` if it is not a prefix, or names an address inside one (host
    bits set: the message gives the prefix meant).  The one reader of a prefix in a file
    the user writes (the speaker file's routes, the topology's prefixes).

    A dotted IPv4 prefix without host bits is its own canonical form (``ipaddress`` writes
    decimal octets without leading zeros, as :data:`_DOTTED_PREFIX` reads them): it is
    checked without ``ipaddress`` (a vWAN of 100 branches has 20,000 of them).
    """
    match = _DOTTED_PREFIX.fullmatch(text)
    if match is not None:
        a, b, c, d, length = match.groups()
        host_bits = 32 - int(length)
        address = int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
        if address & ((1 << host_bits) - 1) == 0:
            return text
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid prefix") from None
    raise ValueError(f"{text!r} has host bits set (the prefix is {loose})")


TCP_MD5_MAX_KEY_LENGTH = 80
"""Linux's TCP_MD5SIG_MAXKEYLEN: the longest RFC 2385 key the kernel takes, in octets."""


@dataclass(frozen=True, slots=True)
class TcpMd5Key:
    """The secret of an RFC 2385 TCP-MD5 signature (1 to 80 octets), never shown.

    ``repr`` and ``str`` print ``<redacted>``, so a key that reaches a log line, an
    error message or a dump of a spec does not give itself away.  ValueError (which
    does not quote the key) if the length is out of range.
    """

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 1 <= len(self.secret) <= TCP_MD5_MAX_KEY_LENGTH:
            raise ValueError(
                f"a TCP-MD5 key must be 1 to {TCP_MD5_MAX_KEY_LENGTH} octets long"
                f" (this one has {len(self.secret)})"
            )

    def __repr__(self) -> str:
        return "TcpMd5Key(<redacted>)"

    def __str__(self) -> str:
        return "<redacted>"
