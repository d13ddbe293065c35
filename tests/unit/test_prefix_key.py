"""types.prefix_key: the numeric sort key of a prefix, the same as ``ipaddress`` gives
(its fast path for dotted IPv4 must agree with it on every string, valid or not)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.types import prefix_key


def _reference(prefix: str) -> tuple[int, int, int] | None:
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None
    return (net.version, int(net.network_address), net.prefixlen)


def _key(prefix: str) -> tuple[int, int, int] | None:
    try:
        return prefix_key(prefix)
    except ValueError:
        return None


_OCTET = st.integers(0, 300).map(str) | st.sampled_from(["00", "01", "007", "", "1a", "٣", "+1"])
_LENGTH = st.integers(0, 40).map(str) | st.sampled_from(["08", "032", "", "255.255.0.0", " 8"])


@settings(max_examples=2000, deadline=None)
@given(
    octets=st.lists(_OCTET, min_size=3, max_size=5),
    length=_LENGTH,
    slash=st.sampled_from(["/", "", "//"]),
    tail=st.sampled_from(["", "\n", " ", "\x00"]),
)
def test_dotted_strings_agree_with_ipaddress(
    octets: list[str], length: str, slash: str, tail: str
) -> None:
    prefix = ".".join(octets) + slash + length + tail
    assert _key(prefix) == _reference(prefix)


@settings(max_examples=500, deadline=None)
@given(address=st.integers(0, 2**32 - 1), length=st.integers(0, 32))
def test_every_ipv4_prefix_with_host_bits(address: int, length: int) -> None:
    prefix = f"{ipaddress.IPv4Address(address)}/{length}"
    assert prefix_key(prefix) == _reference(prefix)


@pytest.mark.parametrize(
    "prefix", ["2001:db8::/32", "::/0", "2001:db8::1/64", "::ffff:10.0.0.0/120", "10.0.0.0/8"]
)
def test_ipv6_and_others(prefix: str) -> None:
    assert prefix_key(prefix) == _reference(prefix)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=24))
def test_any_text_agrees_with_ipaddress(text: str) -> None:
    assert _key(text) == _reference(text)
