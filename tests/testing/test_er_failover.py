"""Must show: ExpressRoute private peering down in er-vpn-backup moves both sides to the VPN,
and back when it is restored; convergence time measured (recorded, never asserted) in both
engines."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bgpemu.testing import ENGINES, start_lab
from tests.testing.helpers import TOPOLOGIES, effective_hops, node_hops

ER_MSEES = ["192.168.11.18", "192.168.11.22"]
VPN_INSTANCES = ["10.17.11.76", "10.17.11.77"]
ONPREM = "10.1.11.0/25"
AZURE = ("10.17.11.0/25", "10.17.11.128/26")
SUBNETS = ("Hub/Workload", "Spoke/App")


@pytest.mark.parametrize("engine", ENGINES)
async def test_er_private_peering_down_moves_to_vpn_and_back(
    engine: str, record_property: Callable[[str, object], None]
) -> None:
    lab = await start_lab(TOPOLOGIES / "er-vpn-backup.yaml", engine, processes=2)
    async with lab:
        await lab.converged()
        before = lab.snapshot()
        for subnet in SUBNETS:
            assert effective_hops(lab, subnet, ONPREM) == ER_MSEES
        for prefix in AZURE:
            assert node_hops(lab, "Firewall", prefix) == ["192.168.11.18"]  # via CE, over ER
            assert node_hops(lab, "CE", prefix) == ER_MSEES

        await lab.er_private_peering_down("Circuit")
        down = await lab.converged()
        failed = lab.snapshot()
        for subnet in SUBNETS:
            assert effective_hops(lab, subnet, ONPREM) == VPN_INSTANCES
        for prefix in AZURE:
            assert node_hops(lab, "Firewall", prefix) == VPN_INSTANCES
            assert node_hops(lab, "CE", prefix) == ["10.17.11.76"]  # through Firewall (iBGP)
        changes = lab.diff(before, failed)
        assert {c.where for c in changes.changed(ONPREM, kind="effectiveRoutes")} == set(SUBNETS)
        assert "effective routes Hub/Workload 10.1.11.0/25: 192.168.11.18" in str(changes)
        assert down.best_path_changes >= len(AZURE) * 2 + len(SUBNETS)
        assert down.updates > 0
        assert down.prefixes == 3

        await lab.er_private_peering_up("Circuit")
        up = await lab.converged()
        assert not lab.diff(before, lab.snapshot()), lab.diff(before, lab.snapshot())

    for name, report in (("down", down), ("up", up)):
        record_property(f"{engine}_{name}_convergence_s", report.duration_s)
        print(f"er-vpn-backup private peering {name} [{engine}]: {report}")
