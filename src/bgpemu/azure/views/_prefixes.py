"""Prefix and address helpers of the Azure views: containment and address sort keys.

The prefix sort key is :func:`bgpemu.types.prefix_key`, shared with the feed and snapshots.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bgpemu.types import prefix_key

__all__ = ["address_key", "covered_by_any", "covers"]


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
    """Is ``inner`` equal to or more specific than ``outer`` (same family)?

    On the numeric keys of :func:`~bgpemu.types.prefix_key` (host bits cleared, as
    ``ipaddress`` with ``strict=False``): ``inner``'s address cut to ``outer``'s length
    is ``outer``'s.  ValueError if either is not a prefix."""
    version, outer_address, length = prefix_key(outer)
    inner_version, inner_address, inner_length = prefix_key(inner)
    if version != inner_version:
        return False
    host_bits = (32 if version == 4 else 128) - length
    return inner_length >= length and inner_address >> host_bits == outer_address >> host_bits


def covered_by_any(prefix: str, outers: Iterable[str]) -> bool:
    """Is ``prefix`` equal to or inside one of ``outers``?"""
    return any(covers(outer, prefix) for outer in outers)
