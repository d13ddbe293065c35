"""Longest-prefix match over the integer address keys of
:func:`bgpemu.azure.traffic.flow.address_value` (§5.1 step 2 of ``shared/azure-traffic.md``:
LPM): the table behind every lookup of :class:`~bgpemu.azure.traffic.index.TrafficContext`
(subnets, VNets, on-prem ranges, effective routes, Loc-RIBs, vWAN hub tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from bgpemu.types import prefix_key

__all__ = ["PrefixTable"]

_T = TypeVar("_T")

_LOW_128 = (1 << 128) - 1


class PrefixTable(Generic[_T]):
    """Longest-prefix match over integer prefixes (§5.1 step 2: LPM).

    One dict per (version, length), probed from the longest length down: a lookup costs
    one shift and one dict probe per distinct length, with no object made.
    """

    __slots__ = ("_lengths", "_tables")

    def __init__(self) -> None:
        self._tables: dict[tuple[int, int], dict[int, _T]] = {}
        self._lengths: dict[int, list[int]] = {4: [], 6: []}

    def add(self, prefix: str, value: _T) -> None:
        """Add ``value`` under ``prefix`` (the first value added under a prefix is kept)."""
        self.add_key(prefix_key(prefix), value)

    def add_key(self, key: tuple[int, int, int], value: _T) -> None:
        """:meth:`add` with the prefix read already (:func:`bgpemu.types.prefix_key`)."""
        version, network, length = key
        bits = 32 if version == 4 else 128
        table = self._tables.get((version, length))
        if table is None:
            table = self._tables[(version, length)] = {}
            self._lengths[version] = sorted([*self._lengths[version], length], reverse=True)
        table.setdefault(network >> (bits - length), value)

    def lookup(self, address: int) -> tuple[int, _T] | None:
        """``(length, value)`` of the longest prefix holding ``address`` (an
        :func:`~bgpemu.azure.traffic.flow.address_value` key); None if none does."""
        version = address >> 128
        value = address & _LOW_128
        bits = 32 if version == 4 else 128
        tables = self._tables
        for length in self._lengths.get(version, ()):
            found = tables[(version, length)].get(value >> (bits - length))
            if found is not None:
                return length, found
        return None

    def lookup_all(self, addresses: Sequence[int]) -> list[_T | None]:
        """The value of the longest prefix holding each of ``addresses`` (None where none
        does): :meth:`lookup`'s values for many addresses, the loop kept inside."""
        probes = {
            version: [
                ((32 if version == 4 else 128) - length, self._tables[(version, length)])
                for length in lengths
            ]
            for version, lengths in self._lengths.items()
        }
        found: list[_T | None] = []
        for address in addresses:
            value = address & _LOW_128
            hit = None
            for shift, table in probes.get(address >> 128, ()):
                hit = table.get(value >> shift)
                if hit is not None:
                    break
            found.append(hit)
        return found
