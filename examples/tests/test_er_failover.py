"""Example: when the ExpressRoute private peering fails, does Azure reach on-prem over the
VPN, how fast, and does everything come back?  (topologies/er-vpn-backup.yaml)

Runs in both engines: the in-memory fabric (virtual time) and real speakers over TCP.
"""

from pathlib import Path

import pytest

from bgpemu.testing import ENGINES, Lab
from bgpemu.testing.plugin import LabFactory

TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "er-vpn-backup.yaml"
ON_PREM = "10.1.11.0/25"


def next_hops(lab: Lab, subnet: str, prefix: str) -> list[str]:
    """The next hops Azure programs in ``subnet`` for ``prefix``."""
    for route in lab.effective_routes(subnet)["value"]:
        if prefix in route["addressPrefix"] and route["state"] == "Active":
            return sorted(route["nextHopIpAddress"])
    return []


@pytest.mark.parametrize("engine", ENGINES)
async def test_er_private_peering_failover_to_vpn(bgpemu_lab: LabFactory, engine: str) -> None:
    lab = await bgpemu_lab(TOPOLOGY, engine=engine, processes=2)
    await lab.converged()
    before = lab.snapshot()
    assert next_hops(lab, "Spoke/App", ON_PREM) == ["192.168.11.18", "192.168.11.22"]  # MSEEs

    await lab.er_private_peering_down("Circuit")
    failover = await lab.converged(timeout=120)
    print(f"failover: {failover}")
    assert next_hops(lab, "Spoke/App", ON_PREM) == ["10.17.11.76", "10.17.11.77"]  # VPN GW
    changes = lab.diff(before, lab.snapshot())
    assert changes.changed(ON_PREM, node="Spoke"), changes

    await lab.er_private_peering_up("Circuit")
    await lab.converged(timeout=120)
    after = lab.snapshot()
    assert not lab.diff(before, after), lab.diff(before, after)
