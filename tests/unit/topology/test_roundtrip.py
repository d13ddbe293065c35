"""Property: a generated hub-and-spoke network written as YAML loads back to the same Network."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure import model as m
from bgpemu.topology import parse_topology

ASNS = st.integers(64512, 65514) | st.integers(65521, 65534)


@st.composite
def networks(draw: st.DrawFn) -> tuple[dict[str, Any], m.Network]:
    spokes = draw(st.integers(0, 4))
    aa = draw(st.booleans())
    sites = draw(st.lists(ASNS, min_size=1, max_size=3, unique=True))
    transit = draw(st.lists(st.booleans(), min_size=spokes, max_size=spokes))
    raw: dict[str, Any] = {
        "hub": {
            "role": "vnet",
            "addressSpace": ["10.0.0.0/16"],
            "subnets": [{"name": "GatewaySubnet", "addressPrefix": "10.0.255.0/27"}],
            "peerings": [
                {"remoteVirtualNetwork": f"s{i}", "allowGatewayTransit": True}
                for i in range(spokes)
            ],
        },
        "gw": {"role": "vpn_gateway", "vnet": "hub", "activeActive": aa},
    }
    nodes: list[m.Node] = [
        m.VNet(
            name="hub",
            address_space=("10.0.0.0/16",),
            subnets=(m.Subnet(name="GatewaySubnet", address_prefix="10.0.255.0/27"),),
            peerings=tuple(
                m.Peering(remote_virtual_network=f"s{i}", allow_gateway_transit=True)
                for i in range(spokes)
            ),
        ),
        m.VpnGateway(
            name="gw",
            vnet="hub",
            active_active=aa,
            bgp_peering_addresses=("10.0.255.4", "10.0.255.5") if aa else ("10.0.255.4",),
        ),
    ]
    for i, use in enumerate(transit):
        space = f"10.{i + 1}.0.0/16"
        raw[f"s{i}"] = {
            "role": "vnet",
            "addressSpace": [space],
            "peerings": [{"remoteVirtualNetwork": "hub", "useRemoteGateways": use}],
        }
        peering = m.Peering(remote_virtual_network="hub", use_remote_gateways=use)
        nodes.append(m.VNet(name=f"s{i}", address_space=(space,), peerings=(peering,)))
    connections: list[dict[str, Any]] = []
    expected: list[m.Connection] = []
    for i, asn in enumerate(sites):
        address = f"172.16.{i}.1"
        raw[f"site{i}"] = {"role": "onprem", "asn": asn, "bgpPeeringAddress": address}
        nodes.append(
            m.OnPrem(name=f"site{i}", asn=asn, bgp_peering_address=address, router_id=address)
        )
        connections.append({"type": "site_to_site", "gateway": "gw", "site": f"site{i}"})
        expected.append(m.SiteToSite(name=f"gw-site{i}", gateway="gw", site=f"site{i}"))
    document = {"name": "generated", "nodes": raw, "connections": connections}
    network = m.Network(name="generated", nodes=tuple(nodes), connections=tuple(expected))
    return document, network


@settings(max_examples=50, deadline=None)
@given(networks())
def test_generated_networks_round_trip(case: tuple[dict[str, Any], m.Network]) -> None:
    document, network = case
    assert parse_topology(yaml.safe_dump(document, sort_keys=False)) == network
