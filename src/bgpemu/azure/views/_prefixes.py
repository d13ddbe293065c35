"""Prefix and address helpers of the Azure views: containment and address sort keys.

The prefix sort key is :func:`bgpemu.types.prefix_key`, shared with the feed and snapshots.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["address_key", "covered_by_any", "covers"]

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _net(prefix: str) -> _Net:
    return ipaddress.ip_network(prefix, strict=False)


def address_key(address: str | None) -> tuple[int, int, str]:
    """Numeric sort key of an address (None and non-addresses last, by text)."""
    if address is None:
        return (9, 0, "")
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return (8, 0, address)
    return (parsed.version, int(parsed), "")


def covers(outer: str, inner: str) -> bool:
    """Is ``inner`` equal to or more specific than ``outer`` (same family)?"""
    a, b = _net(outer), _net(inner)
    if a.version != b.version:
        return False
    return b.prefixlen >= a.prefixlen and b.supernet(new_prefix=a.prefixlen) == a


def covered_by_any(prefix: str, outers: Iterable[str]) -> bool:
    """Is ``prefix`` equal to or inside one of ``outers``?"""
    return any(covers(outer, prefix) for outer in outers)
