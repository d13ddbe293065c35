"""Flows and the integer address and port sets NSG and firewall rules match them with."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.azure.traffic.flow import (
    EVERY_ADDRESS,
    EVERY_PORT,
    AddressSet,
    Flow,
    PortSet,
    address_value,
)


def test_parse_normalises_protocol_addresses_and_ports() -> None:
    flow = Flow.parse("tcp", " 10.0.0.4", "60000", "10.1.0.4 ", 443)
    assert flow == Flow("Tcp", "10.0.0.4", 60000, "10.1.0.4", 443)
    flow6 = Flow.parse("UDP", "2001:DB8::0:1", 5000, "2001:db8::2", 53)
    assert flow6 == Flow("Udp", "2001:db8::1", 5000, "2001:db8::2", 53)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gre", "10.0.0.4", 1, "10.0.0.5", 2), "protocol 'gre'"),
        (("Tcp", "10.0.0.256", 1, "10.0.0.5", 2), "source '10.0.0.256'"),
        (("Tcp", "10.0.0.4", 1, "host", 2), "destination 'host'"),
        (("Tcp", "10.0.0.4", "x", "10.0.0.5", 2), "source port 'x'"),
        (("Tcp", "10.0.0.4", 1, "10.0.0.5", 70000), "destination port 70000"),
        (("Tcp", "10.0.0.4", 1, "::1", 2), "not of one IP version"),
    ],
)
def test_parse_names_the_field_at_fault(
    args: tuple[str, str, object, str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Flow.parse(*args)  # type: ignore[arg-type]


def test_constructor_checks_too() -> None:
    with pytest.raises(ValueError, match="protocol 'tcp'"):
        Flow("tcp", "10.0.0.4", 1, "10.0.0.5", 2)
    with pytest.raises(ValueError, match="source port -1"):
        Flow("Tcp", "10.0.0.4", -1, "10.0.0.5", 2)


def test_reply_swaps_addresses_and_ports() -> None:
    flow = Flow("Udp", "10.0.0.4", 5000, "10.1.0.4", 53)
    assert flow.reply() == Flow("Udp", "10.1.0.4", 53, "10.0.0.4", 5000)
    assert flow.reply().reply() == flow
    assert flow.reply().source_key == flow.destination_key


def test_address_set_membership_by_key() -> None:
    tag = AddressSet.of(["10.0.0.0/16", "168.63.129.16", "2001:db8::/32"])
    assert address_value("10.0.255.255") in tag
    assert address_value("10.1.0.0") not in tag
    assert address_value("168.63.129.16") in tag
    assert address_value("168.63.129.17") not in tag
    assert address_value("2001:db8:ffff::1") in tag
    # IPv4 and IPv6 never alias: ::a00:1 is not 10.0.0.1
    assert address_value("::a00:1") not in tag


def test_star_is_every_address_of_both_families() -> None:
    assert address_value("0.0.0.0") in EVERY_ADDRESS
    assert address_value("255.255.255.255") in EVERY_ADDRESS
    assert address_value("::") in EVERY_ADDRESS
    assert EVERY_ADDRESS.prefixes() == ["0.0.0.0/0", "::/0"]


def test_bad_prefix_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33'"):
        AddressSet.of(["10.0.0.0/8", "10.0.0.0/33"])


def test_difference_and_prefixes() -> None:
    public = EVERY_ADDRESS.difference(AddressSet.of(["0.0.0.0/8", "10.0.0.0/8", "::/0"]))
    assert public.prefixes()[:6] == [
        "1.0.0.0/8",
        "2.0.0.0/7",
        "4.0.0.0/6",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
    ]
    assert not AddressSet.of(["10.0.0.0/8"]).difference(AddressSet.of(["*"]))
    assert AddressSet.of(["10.0.0.0/24", "10.0.1.0/24"]).prefixes() == ["10.0.0.0/23"]


def test_intersects() -> None:
    a = AddressSet.of(["10.0.0.0/16"])
    assert a.intersects(AddressSet.of(["10.0.3.0/24"]))
    assert not a.intersects(AddressSet.of(["10.1.0.0/16"]))


def test_port_sets() -> None:
    ports = PortSet.of(["80", "1000-2000,3000"])
    assert [port for port in (79, 80, 81, 999, 1500, 2000, 2001, 3000) if port in ports] == [
        80,
        1500,
        2000,
        3000,
    ]
    assert ports.ranges() == ["80-80", "1000-2000", "3000-3000"]
    assert EVERY_PORT.ranges() == ["0-65535"]
    for bad in ("2000-1000", "70000", "http"):
        with pytest.raises(ValueError, match=repr(bad)):
            PortSet.of([bad])
    assert "80" not in ports  # a port is an int


_prefixes = st.builds(
    lambda address, length: str(ipaddress.ip_network((address, length), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)


@given(st.lists(_prefixes, max_size=6), st.lists(_prefixes, max_size=6), st.integers(0, 2**32 - 1))
def test_sets_agree_with_ipaddress(left: list[str], right: list[str], probe: int) -> None:
    address = ipaddress.IPv4Address(probe)
    key = address_value(str(address))
    in_left = any(address in ipaddress.ip_network(p) for p in left)
    in_right = any(address in ipaddress.ip_network(p) for p in right)
    a, b = AddressSet.of(left), AddressSet.of(right)
    assert (key in a) == in_left
    assert (key in a.union(b)) == (in_left or in_right)
    assert (key in a.difference(b)) == (in_left and not in_right)
    assert AddressSet.of(a.prefixes()) == a


_OCTET_TEXTS = st.one_of(
    st.integers(0, 300).map(str),
    st.sampled_from(["00", "01", "010", "0255", "1a", " 1", "1 ", "+1", "-1", "", "\u0663", "1_0"]),
)


_DOTTED_TEXTS = st.one_of(
    st.lists(_OCTET_TEXTS, min_size=4, max_size=4).map(".".join),
    st.builds(
        lambda parts, dot: dot.join(parts),
        st.lists(_OCTET_TEXTS, min_size=3, max_size=5),
        st.sampled_from([".", ":", ". "]),
    ),
)


@given(_DOTTED_TEXTS)
def test_address_value_reads_dotted_text_as_ipaddress_does(text: str) -> None:
    """The fast reading of a dotted IPv4 address takes exactly what ipaddress takes (no
    leading zero, no octet above 255, ASCII digits only) and gives the same key."""
    _same_as_ipaddress(text)


@pytest.mark.parametrize(
    "text",
    [
        "256.0.0.0",
        "1.2.3.300",
        "01.2.3.4",
        "1.2.3.00",
        "1.2.3",
        "1.2.3.4.5",
        "\u0663.1.1.1",
        " 1.2.3.4",
        "1.2.3.4 ",
        "0.0.0.0",
        "199.249.255.1",
        "::1",
        "1.2.3.4/32",
    ],
)
def test_address_value_edge_cases_as_ipaddress(text: str) -> None:
    _same_as_ipaddress(text)


def _same_as_ipaddress(text: str) -> None:
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        with pytest.raises(ValueError, match="is not an IPv4 or IPv6 address"):
            address_value(text)
    else:
        assert address_value(text) == parsed.version << 128 | int(parsed)


def test_address_value_keys_of_both_families() -> None:
    assert address_value("10.1.2.3") == 4 << 128 | 0x0A010203
    assert address_value("255.255.255.255") == 4 << 128 | 0xFFFFFFFF
    assert address_value("::ffff:10.1.2.3") == 6 << 128 | 0xFFFF0A010203
