"""Example: active/passive NVAs behind Azure Route Server.  nva1 is active, nva2 announces
10.200.0.0/16 with a longer AS path.  When nva1 dies, the spoke must move to nva2; in the
fabric this waits for the 180 s BGP hold timer in virtual time (no wall time); over TCP the
closed connection tells Route Server at once.  (topologies/nva-ha-route-server.yaml)
"""

from pathlib import Path

import pytest

from bgpemu.testing import ENGINES, Lab
from bgpemu.testing.plugin import LabFactory

TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "nva-ha-route-server.yaml"
PREFIX = "10.200.0.0/16"


def next_hops(lab: Lab, subnet: str, prefix: str) -> list[str]:
    for route in lab.effective_routes(subnet)["value"]:
        if prefix in route["addressPrefix"] and route["state"] == "Active":
            return sorted(route["nextHopIpAddress"])
    return []


@pytest.mark.parametrize("engine", ENGINES)
async def test_passive_nva_takes_over(bgpemu_lab: LabFactory, engine: str) -> None:
    lab = await bgpemu_lab(TOPOLOGY, engine=engine)
    await lab.converged()
    assert next_hops(lab, "Spoke/app", PREFIX) == ["10.0.1.4"]

    await lab.crash("nva1")
    takeover = await lab.converged(timeout=300)
    print(f"takeover: {takeover}")
    assert next_hops(lab, "Spoke/app", PREFIX) == ["10.0.1.5"]
    if engine == "fabric":
        assert takeover.duration_s <= 180.1  # the hold timer, in virtual seconds

    await lab.restart("nva1")
    await lab.converged(timeout=120)
    assert next_hops(lab, "Spoke/app", PREFIX) == ["10.0.1.4"]
