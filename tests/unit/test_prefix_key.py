"""types.prefix_key: the numeric sort key of a prefix, the same as ``ipaddress`` gives
(its fast path for dotted IPv4 must agree with it on every string, valid or not)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.types import canonical_prefix, prefix_key, prefix_version


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


def _canonical_reference(text: str) -> str:
    """``types.canonical_prefix`` as it was before its dotted fast path: ``ipaddress``."""
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"ValueError: {text!r} is not a valid prefix"
    return f"ValueError: {text!r} has host bits set (the prefix is {loose})"


def _canonical(text: str) -> str:
    try:
        return canonical_prefix(text)
    except ValueError as exc:
        return f"ValueError: {exc}"


@settings(max_examples=2000, deadline=None)
@given(
    octets=st.lists(_OCTET, min_size=3, max_size=5),
    length=_LENGTH,
    slash=st.sampled_from(["/", "", "//"]),
    tail=st.sampled_from(["", "\n", " ", "\x00"]),
)
def test_canonical_prefix_agrees_with_ipaddress(
    octets: list[str], length: str, slash: str, tail: str
) -> None:
    text = ".".join(octets) + slash + length + tail
    assert _canonical(text) == _canonical_reference(text)


@settings(max_examples=500, deadline=None)
@given(address=st.integers(0, 2**32 - 1), length=st.integers(0, 32))
def test_canonical_prefix_of_every_ipv4_prefix(address: int, length: int) -> None:
    text = f"{ipaddress.IPv4Address(address)}/{length}"
    assert _canonical(text) == _canonical_reference(text)
    network = str(ipaddress.ip_network(text, strict=False))
    assert canonical_prefix(network) == network


@pytest.mark.parametrize(
    "text", ["10.0.0.0/8", "10.1.0.0/8", "010.0.0.0/8", "10.0.0.0/08", "2001:DB8::/32", "x"]
)
def test_canonical_prefix_examples(text: str) -> None:
    assert _canonical(text) == _canonical_reference(text)


def _version(prefix: str) -> int | None:
    try:
        return prefix_version(prefix)
    except ValueError:
        return None


@settings(max_examples=2000, deadline=None)
@given(
    octets=st.lists(_OCTET, min_size=3, max_size=5),
    length=_LENGTH,
    slash=st.sampled_from(["/", "", "//"]),
    tail=st.sampled_from(["", "\n", " ", "\x00"]),
)
def test_prefix_version_agrees_with_ipaddress(
    octets: list[str], length: str, slash: str, tail: str
) -> None:
    prefix = ".".join(octets) + slash + length + tail
    reference = _reference(prefix)
    assert _version(prefix) == (None if reference is None else reference[0])


@pytest.mark.parametrize(
    ("prefix", "version"),
    [("10.0.0.0/8", 4), ("10.0.0.1", 4), ("2001:db8::/32", 6), ("::ffff:10.0.0.0/104", 6)],
)
def test_prefix_version_examples(prefix: str, version: int) -> None:
    assert prefix_version(prefix) == version
