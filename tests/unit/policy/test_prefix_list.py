"""Prefix lists: ge/le semantics for IPv4 and IPv6, first match wins, implicit deny."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.policy import DENY, PERMIT, PrefixList, PrefixListEntry

from .helpers import context, path

# (entry prefix, ge, le, route, matches)
CASES = [
    # exact match when neither ge nor le is given
    ("10.0.0.0/8", None, None, "10.0.0.0/8", True),
    ("10.0.0.0/8", None, None, "10.0.0.0/9", False),
    ("10.0.0.0/8", None, None, "11.0.0.0/8", False),
    # le only: len(prefix)..le
    ("10.0.0.0/8", None, 24, "10.0.0.0/8", True),
    ("10.0.0.0/8", None, 24, "10.20.30.0/24", True),
    ("10.0.0.0/8", None, 24, "10.20.30.0/25", False),
    ("10.0.0.0/8", None, 24, "0.0.0.0/0", False),
    # ge only: ge..32
    ("10.0.0.0/8", 16, None, "10.0.0.0/8", False),
    ("10.0.0.0/8", 16, None, "10.1.0.0/16", True),
    ("10.0.0.0/8", 16, None, "10.1.2.3/32", True),
    ("10.0.0.0/8", 16, None, "11.1.0.0/16", False),
    # both: ge..le
    ("10.0.0.0/8", 16, 24, "10.2.0.0/15", False),
    ("10.0.0.0/8", 16, 24, "10.1.0.0/16", True),
    ("10.0.0.0/8", 16, 24, "10.1.1.0/24", True),
    ("10.0.0.0/8", 16, 24, "10.1.1.0/25", False),
    # ge equal to the prefix length is allowed
    ("10.0.0.0/8", 8, 8, "10.0.0.0/8", True),
    # default route and "any"
    ("0.0.0.0/0", None, None, "0.0.0.0/0", True),
    ("0.0.0.0/0", None, None, "10.0.0.0/8", False),
    ("0.0.0.0/0", None, 32, "192.0.2.1/32", True),
    # IPv6
    ("2001:db8::/32", None, None, "2001:db8::/32", True),
    ("2001:db8::/32", None, 48, "2001:db8:1::/48", True),
    ("2001:db8::/32", None, 48, "2001:db8:1::/64", False),
    ("2001:db8::/32", 64, None, "2001:db8:1:2::/64", True),
    ("2001:db8::/32", 64, None, "2001:db8:1:2::1/128", True),
    ("2001:db8::/32", 64, None, "2001:db9::/64", False),
    ("::/0", None, 128, "2001:db8::/32", True),
    # families never cross
    ("0.0.0.0/0", None, 32, "2001:db8::/32", False),
    ("::/0", None, 128, "10.0.0.0/8", False),
]


@pytest.mark.parametrize(("prefix", "ge", "le", "route", "expected"), CASES)
def test_prefix_list_entry_ge_le(
    prefix: str, ge: int | None, le: int | None, route: str, expected: bool
) -> None:
    plist = PrefixList((PrefixListEntry(prefix, ge=ge, le=le),))
    assert plist.matches(path(route), context()) is expected


def test_prefix_list_first_match_wins() -> None:
    plist = PrefixList(
        (
            PrefixListEntry("10.1.0.0/16", le=32, action=DENY),
            PrefixListEntry("10.0.0.0/8", le=32, action=PERMIT),
        )
    )
    assert not plist.permits("10.1.2.0/24")
    assert plist.permits("10.2.0.0/24")


def test_prefix_list_implicit_deny_and_empty_list() -> None:
    plist = PrefixList((PrefixListEntry("10.0.0.0/8"),))
    assert not plist.permits("192.0.2.0/24")
    assert not PrefixList(()).permits("10.0.0.0/8")


def test_prefix_list_accepts_a_list_and_stays_hashable() -> None:
    entries = [PrefixListEntry("10.0.0.0/8", le=24)]
    plist = PrefixList(entries)  # type: ignore[arg-type]
    assert plist == PrefixList((PrefixListEntry("10.0.0.0/8", le=24),))
    assert hash(plist) == hash(PrefixList((PrefixListEntry("10.0.0.0/8", le=24),)))


@pytest.mark.parametrize(
    ("prefix", "ge", "le"),
    [
        ("10.0.0.0/8", 4, None),  # ge below the prefix length
        ("10.0.0.0/8", None, 4),  # le below the prefix length
        ("10.0.0.0/8", 24, 16),  # ge above le
        ("10.0.0.0/8", None, 33),  # le beyond 32
        ("2001:db8::/32", 129, None),  # ge beyond 128
        ("10.0.0.1/8", None, None),  # host bits set
        ("not-a-prefix", None, None),
    ],
)
def test_prefix_list_entry_rejects_bad_bounds(prefix: str, ge: int | None, le: int | None) -> None:
    with pytest.raises(ValueError, match="prefix-list entry"):
        PrefixListEntry(prefix, ge=ge, le=le)


def test_prefix_list_describe() -> None:
    plist = PrefixList(
        (
            PrefixListEntry("10.0.0.0/8", ge=16, le=24),
            PrefixListEntry("2001:db8::/32", action=DENY),
        )
    )
    assert str(plist) == "prefix-list [permit 10.0.0.0/8 ge 16 le 24, deny 2001:db8::/32]"


def _naive(entry: ipaddress.IPv4Network, ge: int | None, le: int | None, route: str) -> bool:
    net = ipaddress.ip_network(route)
    if net.version != 4 or not net.subnet_of(entry):
        return False
    low = entry.prefixlen if ge is None else ge
    high = (32 if ge is not None else entry.prefixlen) if le is None else le
    return low <= net.prefixlen <= high


@given(
    entry_bits=st.integers(0, 2**32 - 1),
    entry_len=st.integers(0, 32),
    route_bits=st.integers(0, 2**32 - 1),
    route_len=st.integers(0, 32),
    ge_offset=st.none() | st.integers(0, 32),
    le_offset=st.none() | st.integers(0, 32),
    same_top=st.booleans(),
)
def test_prefix_list_agrees_with_a_naive_model(
    entry_bits: int,
    entry_len: int,
    route_bits: int,
    route_len: int,
    ge_offset: int | None,
    le_offset: int | None,
    same_top: bool,
) -> None:
    entry = ipaddress.ip_network((entry_bits, entry_len), strict=False)
    if same_top:  # make covered routes common, not a 2**-len accident
        mask = (2**32 - 1) ^ ((1 << (32 - entry_len)) - 1)
        route_bits = (int(entry.network_address) & mask) | (route_bits & ~mask & (2**32 - 1))
    route = str(ipaddress.ip_network((route_bits, route_len), strict=False))
    ge = None if ge_offset is None else min(32, entry_len + ge_offset)
    le = None if le_offset is None else min(32, (ge or entry_len) + le_offset)
    plist = PrefixList((PrefixListEntry(str(entry), ge=ge, le=le),))
    assert isinstance(entry, ipaddress.IPv4Network)
    assert plist.permits(route) is _naive(entry, ge, le, route)
