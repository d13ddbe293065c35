"""Service tags per subnet (§3 of azure-traffic.md; decisions §9.1, §9.2)."""

from __future__ import annotations

import pytest

from bgpemu.azure.model import Network, NextHopType, RouteTable, Subnet, UserRoute
from bgpemu.azure.traffic.flow import address_value
from bgpemu.azure.traffic.tags import ServiceTags, service_tags
from tests.unit.azure.traffic.builders import tags_of, vnet


def _peered(both_sides: bool = True) -> Network:
    a = vnet("a", "10.0.0.0/16", Subnet(name="s", address_prefix="10.0.0.0/24"), peers=("b",))
    b = vnet(
        "b",
        "10.1.0.0/16",
        Subnet(name="s", address_prefix="10.1.0.0/24"),
        peers=("a",) if both_sides else (),
    )
    return Network(name="lab", nodes=(a, b))


def test_virtual_network_holds_the_vnet_the_host_ip_and_connected_peers() -> None:
    """S3 [NSG-TS-PS][OBS]: the peer's range widens the tag, 168.63.129.16/32 is in it."""
    tags = tags_of(_peered(), "a", "s")
    assert tags.expansion("VirtualNetwork") == ["10.0.0.0/16", "168.63.129.16/32", "10.1.0.0/16"]
    assert address_value("10.1.0.4") in tags.of("VirtualNetwork")


def test_a_peering_not_connected_does_not_widen_the_tag() -> None:
    tags = tags_of(_peered(both_sides=False), "a", "s")
    assert tags.expansion("VirtualNetwork") == ["10.0.0.0/16", "168.63.129.16/32"]


def _with_udrs(*routes: UserRoute) -> Network:
    a = vnet(
        "a",
        "10.0.0.0/16",
        Subnet(name="app", address_prefix="10.0.0.0/24", route_table="rt"),
        Subnet(name="nva", address_prefix="10.0.1.0/24"),
        route_tables=(RouteTable(name="rt", routes=routes),),
    )
    return Network(name="lab", nodes=(a,))


def _udr(prefix: str) -> UserRoute:
    return UserRoute(
        name=f"to-{prefix}",
        address_prefix=prefix,
        next_hop_type=NextHopType.VIRTUAL_APPLIANCE,
        next_hop_ip_address="10.0.1.4",
    )


def test_udr_prefixes_widen_only_their_own_subnet() -> None:
    """[ISSUE-124192]: the NVA's subnet, without the route table, does not get them."""
    network = _with_udrs(_udr("10.2.0.0/16"))
    assert tags_of(network, "a", "app").expansion("VirtualNetwork") == [
        "10.0.0.0/16",
        "168.63.129.16/32",
        "10.2.0.0/16",
    ]
    assert tags_of(network, "a", "nva").expansion("VirtualNetwork") == [
        "10.0.0.0/16",
        "168.63.129.16/32",
    ]


def test_default_udr_collapses_virtual_network_and_empties_internet() -> None:
    """[ISSUE-22178][OBS] (pitfall P4a)."""
    tags = tags_of(_with_udrs(_udr("0.0.0.0/0"), _udr("10.2.0.0/16")), "a", "app")
    assert tags.expansion("VirtualNetwork") == ["0.0.0.0/0"]
    assert tags.expansion("Internet") == []
    assert address_value("13.107.21.200") in tags.of("VirtualNetwork")


def test_gateway_routes_widen_the_tag_and_leave_internet() -> None:
    """Decision §9.1: every gateway-sourced prefix of the subnet, a BGP 0/0 included."""
    rows = [
        {"source": "Default", "nextHopType": "VnetLocal", "addressPrefix": ["10.0.0.0/16"]},
        {"source": "Default", "nextHopType": "None", "addressPrefix": ["10.0.0.0/8"]},
        {"source": "Default", "nextHopType": "Internet", "addressPrefix": ["0.0.0.0/0"]},
        {
            "source": "VirtualNetworkGateway",
            "nextHopType": "VirtualNetworkGateway",
            "addressPrefix": ["192.168.10.0/24"],
        },
        {
            "source": "VirtualNetworkGateway",
            "nextHopType": "VirtualNetworkGateway",
            "addressPrefix": ["20.1.0.0/16"],
        },
    ]
    tags = service_tags({"value": rows})
    assert tags.expansion("VirtualNetwork") == [
        "10.0.0.0/16",
        "168.63.129.16/32",
        "192.168.10.0/24",
        "20.1.0.0/16",
    ]
    assert address_value("20.1.2.3") not in tags.of("Internet")
    assert address_value("20.2.2.3") in tags.of("Internet")
    default_route = {
        "source": "VirtualNetworkGateway",
        "nextHopType": "VirtualNetworkGateway",
        "addressPrefix": ["0.0.0.0/0"],
    }
    forced = [*rows, default_route]
    assert service_tags(forced).expansion("VirtualNetwork") == ["0.0.0.0/0"]


def test_internet_is_public_unicast_outside_virtual_network() -> None:
    """Decision §9.2; [NW-IPFV-CLI]: 172.31.0.100 is in neither tag (pitfall P9)."""
    tags = tags_of(_peered(), "a", "s")
    internet = tags.of("Internet")
    assert tags.expansion("Internet")[:6] == [
        "1.0.0.0/8",
        "2.0.0.0/7",
        "4.0.0.0/6",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
    ]
    assert address_value("13.107.21.200") in internet
    outside = ("172.31.0.100", "10.9.0.1", "100.64.0.1", "127.0.0.1", "224.0.0.5", "::1")
    for address in outside:
        assert address_value(address) not in internet, address
    assert address_value("172.31.0.100") not in tags.of("VirtualNetwork")
    assert address_value("168.63.129.16") not in internet


def test_azure_load_balancer_and_spellings() -> None:
    tags = tags_of(_peered(), "a", "s")
    assert tags.expansion("AzureLoadBalancer") == ["168.63.129.16/32"]
    assert tags.expansion("AZURE_LOADBALANCER") == ["168.63.129.16/32"]
    assert tags.expansion("VIRTUAL_NETWORK") == tags.expansion("VirtualNetwork")
    with pytest.raises(KeyError, match="'Storage' is not a service tag"):
        tags.of("Storage")


def test_equal_routes_make_equal_tags() -> None:
    """Tags are values (the NSG evaluator caches compiled rules per tags)."""
    network = _peered()
    assert tags_of(network, "a", "s") == tags_of(network, "a", "s")
    assert hash(tags_of(network, "a", "s")) == hash(tags_of(network, "a", "s"))
    assert tags_of(network, "a", "s") != tags_of(network, "b", "s")


def test_the_address_sets_are_those_of_the_printed_expansions() -> None:
    """service_tags builds the sets from the routes' intervals directly (fast path); they
    must be the sets of the expansions it prints."""
    network = _with_udrs(_udr("10.2.0.0/16"), _udr("10.2.3.0/24"), _udr("10.0.5.0/24"))
    tags = tags_of(network, "a", "app")
    assert tags.expansion("VirtualNetwork") == ["10.0.0.0/16", "168.63.129.16/32", "10.2.0.0/16"]
    assert dict(ServiceTags(tags.expansions).addresses) == dict(tags.addresses)


def test_a_tag_name_is_read_in_one_place() -> None:
    """One concept, one name: the spelling of a tag is azure.security.service_tag's; the
    traffic package keeps no alias of it (firewall.py imports it from there)."""
    from bgpemu.azure.security import service_tag
    from bgpemu.azure.traffic import firewall, tags

    assert not hasattr(tags, "canonical_tag")
    assert vars(firewall)["service_tag"] is service_tag
