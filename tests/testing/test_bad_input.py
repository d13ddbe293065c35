"""Bad input: names that do not exist, wrong states, bad prefixes; a clear LabInputError
naming what is wrong and what exists, and the lab untouched."""

from __future__ import annotations

import pytest

from bgpemu.errors import BgpEmuError, ConfigError
from bgpemu.testing import Lab, LabInputError, LabStateError, start_lab
from tests.testing.helpers import TOPOLOGIES


async def _lab() -> Lab:
    lab = await start_lab(TOPOLOGIES / "er-vpn-backup.yaml")
    await lab.converged()
    return lab


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda lab: lab.fail_link("CE", "Nope"),
            r"no node or speaker 'Nope' .*nodes: CE, Circuit",
        ),
        (lambda lab: lab.fail_link("Hub", "CE"), r"no node or speaker 'Hub'"),
        (lambda lab: lab.fail_link("CE", "VpnGW"), r"no BGP session between 'CE' and 'VpnGW'"),
        (lambda lab: lab.restore_link("CE", "Firewall"), r"the link CE-Firewall is not down"),
        (lambda lab: lab.crash("Nope"), r"no node or speaker 'Nope'"),
        (lambda lab: lab.restart("CE"), r"'CE' has not crashed"),
        (lambda lab: lab.reset_session("CE", "ErGW"), r"no BGP session between 'CE' and 'ErGW'"),
        (lambda lab: lab.announce("CE", "10.1.2.3/8"), r"'10.1.2.3/8' is not an IP prefix"),
        (lambda lab: lab.announce("CE", "10.9.0.0/16", as_path_prepend=300), r"0..255"),
        (lambda lab: lab.announce("CE", "10.9.0.0/16", communities=["x"]), r"ASN:VALUE"),
        (lambda lab: lab.withdraw("CE", "10.9.0.0/16"), r"'CE' does not originate 10.9.0.0/16"),
        (lambda lab: lab.instance_down("ErGW", 0), r"not a VPN gateway or a Route Server"),
        (lambda lab: lab.instance_down("VpnGW", 2), r"instances 0 and 1, not 2"),
        (lambda lab: lab.instance_up("VpnGW", 1), r"instance 1 of 'VpnGW' is not down"),
        (lambda lab: lab.er_private_peering_down("ErGW"), r"not a circuit.*circuits: Circuit"),
        (lambda lab: lab.er_private_peering_up("Circuit"), r"is not down"),
        (lambda lab: lab.advance(-1), r"cannot advance"),
    ],
)
async def test_bad_injections_name_the_problem_and_leave_the_lab_untouched(
    call: object, message: str
) -> None:
    async with await _lab() as lab:
        before = lab.snapshot()
        now = lab.fabric.now
        with pytest.raises(LabInputError, match=message):
            await call(lab)  # type: ignore[operator]
        assert lab.snapshot() is before  # not even marked as changed
        assert lab.fabric.now == now
        report = await lab.converged()
        assert report.best_path_changes == 0
        assert not lab.diff(before, lab.snapshot())


async def test_bad_queries_and_states() -> None:
    async with await _lab() as lab:
        with pytest.raises(LabInputError, match=r"no subnet 'Hub/Nope' .*Hub/Workload"):
            lab.effective_routes("Hub/Nope")
        with pytest.raises(LabInputError, match=r"no VPN or ExpressRoute gateway 'CE'"):
            lab.learned_routes("CE")
        with pytest.raises(LabInputError, match=r"no hub route table 'Hub/defaultRouteTable'"):
            lab.hub_routes("Hub")
        with pytest.raises(LabInputError, match="no node or speaker 'Nope'"):
            lab.routes("Nope")
        await lab.crash("CE")
        with pytest.raises(LabStateError, match=r"await lab.converged\(\) first"):
            lab.routes("Firewall")
        with pytest.raises(LabInputError, match="CE crashed: restart it first"):
            await lab.fail_link("CE", "Firewall")
        with pytest.raises(LabInputError, match="CE crashed"):
            await lab.announce("CE", "10.9.0.0/16")
        await lab.converged(timeout=300)
        assert lab.routes("CE") == {"CE": []}
    with pytest.raises(LabStateError, match="stopped"):
        await lab.converged()


async def test_bad_topology_and_options() -> None:
    with pytest.raises(ConfigError):
        await start_lab(TOPOLOGIES.parent / "pyproject.toml")
    with pytest.raises(LabInputError, match="engine must be one of fabric, tcp"):
        await start_lab(TOPOLOGIES / "er-vpn-backup.yaml", "docker")
    with pytest.raises(LabInputError, match="timers must be one of azure, lab"):
        await start_lab(TOPOLOGIES / "er-vpn-backup.yaml", timers="fast")
    assert issubclass(LabInputError, BgpEmuError)


async def test_tcp_crash_sharing_a_process_is_refused_before_anything_happens() -> None:
    lab = await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml", "tcp", processes=2)
    async with lab:
        await lab.converged()
        with pytest.raises(LabInputError, match=r"would also kill .* \(same worker process\)"):
            await lab.crash("nva1")
        assert lab.tcp_lab.verdict().converged
        assert lab.tcp_lab.worker_count == 2
