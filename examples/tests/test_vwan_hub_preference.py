"""Example: Virtual WAN hub routing preference.  The hub learns the on-prem prefix over
ExpressRoute (AS path 12076-65020) and over a VPN (65020).  Which one does it use, for each
preference, and what happens when the ExpressRoute private peering fails?
(examples/tests/vwan-hub-preference.yaml)
"""

from pathlib import Path

import pytest

from bgpemu.azure.model import Network
from bgpemu.testing import ENGINES, Lab
from bgpemu.testing.plugin import LabFactory
from bgpemu.topology import parse_topology

TOPOLOGY = Path(__file__).with_name("vwan-hub-preference.yaml")
ON_PREM = "10.100.0.0/16"


def hub_next_hop_type(lab: Lab, prefix: str) -> str | None:
    for route in lab.hub_routes("Hub1")["value"]:
        if prefix in route["addressPrefixes"]:
            return str(route["nextHopType"])
    return None


def topology(preference: str) -> Network:
    text = TOPOLOGY.read_text()
    text = text.replace("hubRoutingPreference: ExpressRoute", f"hubRoutingPreference: {preference}")
    return parse_topology(text, str(TOPOLOGY))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("preference", "chosen"),
    [
        ("ExpressRoute", "ExpressRouteGateway"),
        ("VpnGateway", "VPN_S2S_Gateway"),
        ("ASPath", "VPN_S2S_Gateway"),  # 65020 is shorter than 12076-65020
    ],
)
async def test_hub_routing_preference(
    bgpemu_lab: LabFactory, engine: str, preference: str, chosen: str
) -> None:
    lab = await bgpemu_lab(topology(preference), engine=engine, processes=2)
    await lab.converged()
    assert hub_next_hop_type(lab, ON_PREM) == chosen

    await lab.er_private_peering_down("Circuit")
    await lab.converged()
    assert hub_next_hop_type(lab, ON_PREM) == "VPN_S2S_Gateway"

    await lab.er_private_peering_up("Circuit")
    await lab.converged()
    assert hub_next_hop_type(lab, ON_PREM) == chosen
