"""Prefix and address helpers of the Azure views: containment and address sort keys.

The prefix sort key is :func:`bgpemu.types.prefix_key`, shared with the feed and snapshots;
:class:`bgpemu.types.PrefixKeys` keeps one key per prefix for the views of one report.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from bgpemu.types import PrefixKey, prefix_key

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


def covered_by(
    outers: Iterable[str], key: Callable[[str], PrefixKey] = prefix_key
) -> Callable[[str], bool]:
    """The test "is this prefix equal to or inside one of ``outers``?", with ``outers``
    read once (a view asks it of every gateway route); ``key``: :func:`prefix_key` or a
    memo of it (``PrefixKeys().__getitem__``).  ValueError if one of ``outers``, or a
    prefix tested, is not a prefix."""
    # Per outer: version, length, and its address shifted right by its host bits.
    cuts = [_cut(key(outer)) for outer in outers]

    def inside(prefix: str) -> bool:
        version, address, length = key(prefix)
        for outer_version, outer_length, host_bits, network in cuts:
            if (
                version == outer_version
                and length >= outer_length
                and address >> host_bits == network
            ):
                return True
        return False

    return inside


def _cut(outer: PrefixKey) -> tuple[int, int, int, int]:
    """What a containment test needs of ``outer``: version, length, host bits, and its
    address shifted right by them."""
    version, address, length = outer
    host_bits = (32 if version == 4 else 128) - length
    return version, length, host_bits, address >> host_bits


def _contains(outer: PrefixKey, inner: PrefixKey) -> bool:
    """On :func:`~bgpemu.types.prefix_key` numbers (host bits cleared, as ``ipaddress``
    with ``strict=False``): same version, and ``inner``'s address cut to ``outer``'s
    length is ``outer``'s."""
    version, length, host_bits, network = _cut(outer)
    return inner[0] == version and inner[2] >= length and inner[1] >> host_bits == network
