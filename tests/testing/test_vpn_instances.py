"""Must show: an active-active VPN gateway loses one instance: the on-prem ECMP next hops
shrink to one, and grow back when the instance returns."""

from __future__ import annotations

import pytest

from bgpemu.testing import ENGINES, start_lab
from tests.testing.helpers import TOPOLOGIES, effective_hops, node_hops

BOTH = ["10.17.11.76", "10.17.11.77"]


@pytest.mark.parametrize("engine", ENGINES)
async def test_vpn_gateway_instance_loss_shrinks_and_regrows_ecmp(engine: str) -> None:
    async with await start_lab(TOPOLOGIES / "er-vpn-backup.yaml", engine, processes=2) as lab:
        await lab.er_private_peering_down("Circuit")  # on-prem now reaches Azure over VPN
        await lab.converged()
        assert node_hops(lab, "Firewall", "10.17.11.0/25") == BOTH
        assert effective_hops(lab, "Hub/Workload", "10.1.11.0/25") == BOTH
        before = lab.snapshot()

        await lab.instance_down("VpnGW", 1)
        await lab.converged()
        assert node_hops(lab, "Firewall", "10.17.11.0/25") == ["10.17.11.76"]
        assert node_hops(lab, "Firewall", "10.17.11.128/26") == ["10.17.11.76"]
        assert effective_hops(lab, "Hub/Workload", "10.1.11.0/25") == ["10.17.11.76"]
        shrunk = lab.diff(before, lab.snapshot())
        change = shrunk.changed("10.17.11.0/25", node="Firewall", kind="node")[0]
        assert change.old_next_hops == tuple(BOTH)
        assert change.new_next_hops == ("10.17.11.76",)

        await lab.instance_up("VpnGW", 1)
        await lab.converged()
        assert node_hops(lab, "Firewall", "10.17.11.0/25") == BOTH
        assert not lab.diff(before, lab.snapshot())
