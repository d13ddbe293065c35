"""Value types shared by every layer (L0): address families, prefixes, ASNs.

Prefixes are canonical strings (``"10.0.0.0/24"``, ``"2001:db8::/32"``): host bits
are always zero, IPv6 is in compressed form.  Strings keep the codec fast (no
``ipaddress`` object per prefix, see ``shared/perf.md`` §3.3) and are what every
output format shows.
"""

from __future__ import annotations

import ipaddress
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
    "Safi",
    "prefix_key",
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


def prefix_key(prefix: str) -> tuple[int, int, int]:
    """The numeric sort key of a prefix: IP version, network address, length (the order of
    every table bgpemu prints).  ValueError if ``prefix`` is not one."""
    net = ipaddress.ip_network(prefix, strict=False)
    return (net.version, int(net.network_address), net.prefixlen)
