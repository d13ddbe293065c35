"""A flow (the 5-tuple a traffic question is about) and the integer sets rules match it with.

Section numbers (§) refer to ``shared/azure-traffic.md``.  A flow is (protocol, source
address, source port, destination address, destination port) (conventions); NSG rules
(§1.1) and Azure Firewall rules (§7.1) match it with address sets and port sets.

Both sets are sorted, disjoint, closed integer intervals, so matching is a binary search
with no :mod:`ipaddress` object in the hot loop.  An address is one integer per family:
``version << 128 | address`` (``version`` 4 or 6), so IPv4 and IPv6 intervals share one
list and never overlap.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bgpemu.types import prefix_key

__all__ = [
    "EVERY_ADDRESS",
    "EVERY_PORT",
    "FLOW_PROTOCOLS",
    "AddressSet",
    "Flow",
    "PortSet",
    "address_value",
    "prefix_interval",
]

FLOW_PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "Ah")
"""The protocols of a flow, spelled as NSG rules spell them (§1.1)."""

_PROTOCOL_SPELLING = {name.lower(): name for name in FLOW_PROTOCOLS}
_FAMILY_BITS = {4: 32, 6: 128}
_VERSION_SHIFT = 128
_MAX_PORT = 65535
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
"""A dotted IPv4 address exactly as :mod:`ipaddress` takes one (no leading zero)."""
_V4 = 4 << 128


def address_value(address: str) -> int:
    """The set key of one address (``version << 128 | address``); ValueError naming the
    text when it is not an IPv4 or IPv6 address.

    A dotted IPv4 address is read without :mod:`ipaddress` (about 5 times faster: every
    flow a matrix traces reads two, its reply two more); anything else goes through it.
    """
    match = _DOTTED.fullmatch(address) if isinstance(address, str) else None
    if match is not None:
        a, b, c, d = match.groups()
        return _V4 | int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"{address!r} is not an IPv4 or IPv6 address") from None
    return parsed.version << _VERSION_SHIFT | int(parsed)


def prefix_interval(prefix: str) -> tuple[int, int]:
    """The closed interval of set keys a CIDR (or a bare address) covers; ValueError
    naming the text when it is neither."""
    try:
        version, network, length = prefix_key(prefix)
    except ValueError:
        raise ValueError(f"{prefix!r} is not an address or a CIDR prefix") from None
    host_bits = _FAMILY_BITS[version] - length
    start = version << _VERSION_SHIFT | network
    return start, start + (1 << host_bits) - 1


def _merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint, non-adjacent intervals covering the same integers."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _difference(
    left: tuple[tuple[int, int], ...], right: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    """The integers of ``left`` not in ``right`` (both merged)."""
    result: list[tuple[int, int]] = []
    index = 0
    for start, end in left:
        while index < len(right) and right[index][1] < start:
            index += 1
        probe = index
        while probe < len(right) and right[probe][0] <= end:
            cut_start, cut_end = right[probe]
            if cut_start > start:
                result.append((start, cut_start - 1))
            start = max(start, cut_end + 1)
            probe += 1
        if start <= end:
            result.append((start, end))
    return tuple(result)


def _starts(intervals: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    return tuple(start for start, _ in intervals)


@dataclass(frozen=True, slots=True)
class AddressSet:
    """A set of IPv4 and IPv6 addresses as sorted disjoint intervals of set keys.

    Built from CIDRs and addresses with :meth:`of`; ``*`` is every address of both
    families (§1.1: ``*`` = ``0.0.0.0/0``; IPv6 ``::/0`` alike).
    """

    intervals: tuple[tuple[int, int], ...] = ()
    _starts: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", _starts(self.intervals))

    @classmethod
    def of(cls, prefixes: Iterable[str]) -> AddressSet:
        """The union of ``prefixes`` (CIDRs, addresses or ``*``); ValueError naming the
        first one that is none of these."""
        intervals: list[tuple[int, int]] = []
        for prefix in prefixes:
            if prefix == "*":
                intervals.extend((prefix_interval("0.0.0.0/0"), prefix_interval("::/0")))
            else:
                intervals.append(prefix_interval(prefix))
        return cls(_merge(intervals))

    @classmethod
    def of_intervals(cls, intervals: Iterable[tuple[int, int]]) -> AddressSet:
        """The union of closed intervals of set keys (:func:`prefix_interval`'s)."""
        return cls(_merge(intervals))

    def __contains__(self, key: object) -> bool:
        """Is the address with set key ``key`` (:func:`address_value`) in the set?"""
        if not isinstance(key, int):
            return False
        index = bisect_right(self._starts, key) - 1
        return index >= 0 and key <= self.intervals[index][1]

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def union(self, other: AddressSet) -> AddressSet:
        """The addresses in either set."""
        return AddressSet(_merge(self.intervals + other.intervals))

    def difference(self, other: AddressSet) -> AddressSet:
        """The addresses of this set not in ``other``."""
        return AddressSet(_difference(self.intervals, other.intervals))

    def intersects(self, other: AddressSet) -> bool:
        """Do the two sets share an address?"""
        return self.difference(other) != self

    def prefixes(self) -> list[str]:
        """The fewest CIDRs covering exactly this set, IPv4 first, each in address order
        (how effective security rules print an expanded tag, §3.5)."""
        return list(self._cidrs())

    def _cidrs(self) -> Iterator[str]:
        for start, end in self.intervals:
            version = start >> _VERSION_SHIFT
            bits = _FAMILY_BITS[version]
            base = version << _VERSION_SHIFT
            low, high = start - base, end - base
            while low <= high:
                size = (low & -low).bit_length() - 1 if low else bits
                while (1 << size) - 1 > high - low:
                    size -= 1
                address = ipaddress.IPv4Address(low) if version == 4 else ipaddress.IPv6Address(low)
                yield f"{address}/{bits - size}"
                low += 1 << size


EVERY_ADDRESS = AddressSet.of(("*",))


def _port_interval(text: str) -> tuple[int, int]:
    """``*``, ``80`` or ``1000-2000`` as a closed interval; ValueError naming the text."""
    if text == "*":
        return (0, _MAX_PORT)
    low, dash, high = text.strip().partition("-")
    try:
        start = int(low)
        end = int(high) if dash else start
    except ValueError:
        raise ValueError(f"{text!r} is not a port, a port range a-b or '*'") from None
    if not 0 <= start <= end <= _MAX_PORT:
        raise ValueError(f"port range {text!r} is not within 0-{_MAX_PORT} with start <= end")
    return (start, end)


@dataclass(frozen=True, slots=True)
class PortSet:
    """A set of ports (0-65535) as sorted disjoint intervals (§1.1 port ranges)."""

    intervals: tuple[tuple[int, int], ...] = ()
    _starts: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", _starts(self.intervals))

    @classmethod
    def of(cls, ranges: Iterable[str]) -> PortSet:
        """The union of ``ranges`` (``*``, ``80``, ``1000-2000``, or comma lists of
        these); ValueError naming the first bad one."""
        intervals = [
            _port_interval(part) for text in ranges for part in str(text).split(",") if part
        ]
        return cls(_merge(intervals))

    def __contains__(self, port: object) -> bool:
        if not isinstance(port, int):
            return False
        index = bisect_right(self._starts, port) - 1
        return index >= 0 and port <= self.intervals[index][1]

    def ranges(self) -> list[str]:
        """The ranges as the effective-rules API prints them: ``"80-80"``, ``"0-65535"``
        (§4.1)."""
        return [f"{start}-{end}" for start, end in self.intervals]


EVERY_PORT = PortSet.of(("*",))


def _normal_address(address: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(str(address).strip()))
    except ValueError:
        raise ValueError(f"{what} {address!r} is not an IPv4 or IPv6 address") from None


def _port(value: int | str, what: str) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a port number") from None
    if not 0 <= port <= _MAX_PORT:
        raise ValueError(f"{what} {port} is not within 0-{_MAX_PORT}")
    return port


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow: (protocol, source, source port, destination, destination port).

    ``protocol`` is one of :data:`FLOW_PROTOCOLS`; addresses are text in
    :mod:`ipaddress`'s normal form.  Build one from user input with :meth:`parse`; the
    constructor checks the values too (ValueError).  ``source_key`` and
    ``destination_key`` are the addresses' :func:`address_value`, computed once.
    """

    protocol: str
    source: str
    source_port: int
    destination: str
    destination_port: int
    source_key: int = field(default=0, init=False, repr=False, compare=False)
    destination_key: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.protocol not in FLOW_PROTOCOLS:
            raise ValueError(
                f"protocol {self.protocol!r} is not one of {', '.join(FLOW_PROTOCOLS)}"
            )
        for what, port in (
            ("source port", self.source_port),
            ("destination port", self.destination_port),
        ):
            if not isinstance(port, int) or not 0 <= port <= _MAX_PORT:
                raise ValueError(f"{what} {port!r} is not within 0-{_MAX_PORT}")
        source = address_value(self.source)
        destination = address_value(self.destination)
        if source >> _VERSION_SHIFT != destination >> _VERSION_SHIFT:
            raise ValueError(
                f"source {self.source} and destination {self.destination} are not of one IP version"
            )
        object.__setattr__(self, "source_key", source)
        object.__setattr__(self, "destination_key", destination)

    @classmethod
    def parse(
        cls,
        protocol: str,
        source: str,
        source_port: int | str,
        destination: str,
        destination_port: int | str,
    ) -> Flow:
        """A flow from user text: protocol in any case (``tcp``, ``TCP``), addresses
        normalised, ports as numbers or digits; ValueError naming the field at fault."""
        spelled = _PROTOCOL_SPELLING.get(str(protocol).strip().lower())
        if spelled is None:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(FLOW_PROTOCOLS)}")
        return cls(
            spelled,
            _normal_address(source, "source"),
            _port(source_port, "source port"),
            _normal_address(destination, "destination"),
            _port(destination_port, "destination port"),
        )

    def reply(self) -> Flow:
        """The reply's flow: source and destination (addresses and ports) swapped."""
        return Flow(
            self.protocol, self.destination, self.destination_port, self.source, self.source_port
        )
