"""Next hop (azure-traffic.md §4.3): S2's rows (§8), a UDR's route table id, ECMP sets."""

from __future__ import annotations

import pytest

from bgpemu.azure.traffic.nexthop import next_hop
from tests.unit.azure.traffic.networks import context, er_vpn, s2, s5

SYSTEM = "System Route"


def test_s2_internet_and_the_172_16_drop_route() -> None:
    """§8 S2 [NW-NH-CLI]: 13.107.21.200 -> Internet, 172.31.0.100 -> None (172.16/12)."""
    ctx = context(s2())
    assert next_hop(ctx, "vm1", "13.107.21.200") == {
        "nextHopType": "Internet",
        "nextHopIpAddress": None,
        "routeTableId": SYSTEM,
    }
    assert next_hop(ctx, "10.0.0.4", "172.31.0.100") == {
        "nextHopType": "None",
        "nextHopIpAddress": None,
        "routeTableId": SYSTEM,
    }


def test_s2_172_16_in_the_vnet_space_becomes_vnet_local() -> None:
    """§8 S2, last row: 172.16.0.0/12 added to the VNet space -> VnetLocal."""
    ctx = context(s2("172.16.0.0/12"))
    assert next_hop(ctx, "vm1", "172.31.0.100")["nextHopType"] == "VnetLocal"


def test_a_udr_names_its_route_table() -> None:
    """§4.3: routeTableId is the route table's id when a UDR won, else System Route."""
    ctx = context(s5())
    answer = next_hop(ctx, "vm1", "10.2.0.4")
    assert answer["nextHopType"] == "VirtualAppliance"
    assert answer["nextHopIpAddress"] == "10.0.1.4"
    assert answer["routeTableId"].endswith(
        "/resourceGroups/s5/providers/Microsoft.Network/routeTables/rt-spoke1"
    )
    assert next_hop(ctx, "vm1", "10.0.1.4") == {
        "nextHopType": "VNetPeering",
        "nextHopIpAddress": None,
        "routeTableId": SYSTEM,
    }


def test_ecmp_next_hops_are_reported_as_a_set() -> None:
    """Decision §9.11: an ECMP route's next hops are all listed (the lowest first)."""
    ctx = context(er_vpn())
    # on-prem 10.1.11.0/25: ER wins over VPN for one prefix (azure-routing §4.5), over
    # both MSEEs of the circuit (the second address of each private-peering /30, §4.1)
    assert next_hop(ctx, "spokevm", "10.1.11.10") == {
        "nextHopType": "VirtualNetworkGateway",
        "nextHopIpAddress": "192.168.11.18",
        "routeTableId": SYSTEM,
        "nextHopIpAddresses": ["192.168.11.18", "192.168.11.22"],
    }


def test_unknown_source_and_bad_destination_are_named() -> None:
    """A source nothing holds, or a destination that is no address, is refused by name."""
    ctx = context(s2())
    with pytest.raises(ValueError, match=r"10\.0\.0\.99"):
        next_hop(ctx, "10.0.0.99", "8.8.8.8")
    with pytest.raises(ValueError, match="'vm9'"):
        next_hop(ctx, "vm9", "8.8.8.8")
    with pytest.raises(ValueError, match="'nowhere'"):
        next_hop(ctx, "vm1", "nowhere")
