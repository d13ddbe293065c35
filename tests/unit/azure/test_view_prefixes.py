"""azure.views._prefixes.covers and covered_by: containment as ``ipaddress`` decides it
(the views ask for every gateway route whether a VNet's address space covers it)."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.views._prefixes import covered_by, covers


def _reference(outer: str, inner: str) -> bool:
    a = ipaddress.ip_network(outer, strict=False)
    b = ipaddress.ip_network(inner, strict=False)
    if a.version != b.version:
        return False
    return b.prefixlen >= a.prefixlen and b.supernet(new_prefix=a.prefixlen) == a


def _v4(address: int, length: int) -> str:
    return f"{ipaddress.IPv4Address(address)}/{length}"


def _v6(address: int, length: int) -> str:
    return f"{ipaddress.IPv6Address(address)}/{length}"


_NEAR = st.sampled_from([0x0A000000, 0x0A000100, 0x0A010000, 0xC0A80000, 0])
_PREFIXES = (
    st.builds(
        lambda b, low, n: _v4(b | low, n), _NEAR, st.integers(0, 2**16 - 1), st.integers(0, 32)
    )
    | st.builds(_v4, st.integers(0, 2**32 - 1), st.integers(0, 32))
    | st.builds(
        lambda low, n: _v6(0x20010DB8 << 96 | low, n), st.integers(0, 2**64), st.integers(0, 128)
    )
)


@settings(max_examples=1500, deadline=None)
@given(outer=_PREFIXES, inner=_PREFIXES)
def test_covers_is_ipaddress_containment(outer: str, inner: str) -> None:
    assert covers(outer, inner) is _reference(outer, inner)
    assert covers(outer, outer)
    assert covered_by([inner, outer])(inner)
    assert covered_by([outer])(inner) is _reference(outer, inner)
    assert covered_by([outer, "192.0.2.0/24"])(inner) is (
        _reference(outer, inner) or _reference("192.0.2.0/24", inner)
    )


def test_examples() -> None:
    assert covers("10.0.0.0/16", "10.0.5.0/24")
    assert covers("10.0.0.0/16", "10.0.0.0/16")
    assert not covers("10.0.0.0/24", "10.0.0.0/16")
    assert not covers("10.0.0.0/16", "10.1.0.0/24")
    assert covers("0.0.0.0/0", "192.0.2.0/24")
    assert not covers("::/0", "10.0.0.0/8")
    assert covers("10.0.0.1/16", "10.0.255.0/24")  # host bits of the outer ignored
    assert covered_by(["192.168.0.0/16", "10.1.0.0/16"])("10.1.2.0/24")
    assert not covered_by([])("10.1.2.0/24")
    assert not covered_by(["10.1.0.0/16"])("2001:db8::/32")
