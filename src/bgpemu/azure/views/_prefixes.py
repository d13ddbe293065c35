"""Prefix and address helpers of the Azure views: containment and address sort keys.

The prefix sort key is :func:`bgpemu.types.prefix_key`, shared with the feed and snapshots.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from bgpemu.types import prefix_key

__all__ = ["address_key", "covered_by", "covers"]


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
    ValueError if either is not a prefix."""
    return _contains(prefix_key(outer), prefix_key(inner))


def covered_by(outers: Iterable[str]) -> Callable[[str], bool]:
    """The test "is this prefix equal to or inside one of ``outers``?", with ``outers``
    read once (a view asks it of every gateway route).  ValueError if one of ``outers``,
    or a prefix tested, is not a prefix."""
    keys = [prefix_key(outer) for outer in outers]

    def inside(prefix: str) -> bool:
        key = prefix_key(prefix)
        return any(_contains(outer, key) for outer in keys)

    return inside


def _contains(outer: tuple[int, int, int], inner: tuple[int, int, int]) -> bool:
    """On :func:`~bgpemu.types.prefix_key` numbers (host bits cleared, as ``ipaddress``
    with ``strict=False``): same version, and ``inner``'s address cut to ``outer``'s
    length is ``outer``'s."""
    version, address, length = outer
    if version != inner[0] or inner[2] < length:
        return False
    host_bits = (32 if version == 4 else 128) - length
    return inner[1] >> host_bits == address >> host_bits
