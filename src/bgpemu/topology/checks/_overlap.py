"""Which prefixes of a list overlap, in O(n log n) instead of comparing every pair.

Two CIDR prefixes overlap exactly when one contains the other.  So the prefixes that
overlap ``net`` are its *ancestors* (a prefix of every length up to ``net``'s, at
``net``'s address masked to that length: one dictionary look-up per prefix length in
use) and its *descendants* (the prefixes whose first address lies inside ``net``: a
window of the list sorted by first address, whose smallest list position a sparse table
answers at once).  A topology of 2,000 VNets took 6 s of pairwise ``overlaps`` calls;
hostile files may hold 250,000 prefixes (docs/topology.md, "Limits").
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from bgpemu.topology.checks._index import Network4or6

__all__ = ["Overlaps"]

_SCAN = 32
"""Windows up to this size are scanned; longer ones use the sparse table."""


class Overlaps:
    """An index of ``nets`` (list positions 0..n-1) for overlap queries."""

    def __init__(self, nets: Sequence[Network4or6]) -> None:
        self._first: dict[tuple[int, int, int], int] = {}
        """(version, prefix length, network address) -> the first position holding it."""
        self._lengths: dict[int, list[int]] = {}
        """version -> the prefix lengths in use, ascending."""
        self._starts: dict[int, list[int]] = {}
        self._positions: dict[int, list[int]] = {}
        """version -> first addresses, ascending, and the list position of each."""
        self._tables: dict[int, list[list[int]]] = {}
        lengths: dict[int, set[int]] = {}
        by_version: dict[int, list[tuple[int, int]]] = {}
        for position, net in enumerate(nets):
            key = (net.version, net.prefixlen, int(net.network_address))
            self._first.setdefault(key, position)
            lengths.setdefault(net.version, set()).add(net.prefixlen)
            by_version.setdefault(net.version, []).append((int(net.network_address), position))
        for version, items in by_version.items():
            items.sort()
            self._starts[version] = [start for start, _ in items]
            self._positions[version] = [position for _, position in items]
            self._lengths[version] = sorted(lengths[version])

    def first(self, net: Network4or6) -> int | None:
        """The smallest position of a prefix that overlaps ``net`` (None if none does)."""
        version, start = net.version, int(net.network_address)
        if version not in self._starts:
            return None
        best = self.container(net)
        starts = self._starts[version]
        low = bisect.bisect_left(starts, start)
        high = bisect.bisect_right(starts, int(net.broadcast_address))
        if low < high:
            inside = self._minimum(version, low, high)
            if best is None or inside < best:
                best = inside
        return best

    def container(self, net: Network4or6) -> int | None:
        """The smallest position of a prefix that holds all of ``net`` (None if none does)."""
        version, start = net.version, int(net.network_address)
        best: int | None = None
        for length in self._lengths.get(version, ()):
            if length > net.prefixlen:
                break
            shift = net.max_prefixlen - length
            found = self._first.get((version, length, start >> shift << shift))
            if found is not None and (best is None or found < best):
                best = found
        return best

    def first_before(self, net: Network4or6, position: int) -> int | None:
        """The smallest position below ``position`` of a prefix that overlaps ``net``."""
        found = self.first(net)
        return found if found is not None and found < position else None

    def _minimum(self, version: int, low: int, high: int) -> int:
        positions = self._positions[version]
        if high - low <= _SCAN:
            return min(positions[low:high])
        table = self._tables.get(version)
        if table is None:
            table = [positions]
            span = 1
            while span * 2 <= len(positions):
                last = table[-1]
                table.append([min(last[i], last[i + span]) for i in range(len(last) - span)])
                span *= 2
            self._tables[version] = table
        level = (high - low).bit_length() - 1
        row = table[level]
        return min(row[low], row[high - (1 << level)])
