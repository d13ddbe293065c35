"""Failures and changes injected into a running TCP lab; convergence is awaited, never slept."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.lab.supervisor import LabError
from bgpemu.router.config import OriginatedRoute
from bgpemu.types import IPV4_UNICAST
from tests.lab.s2s_transit import best_paths, per_speaker_lab

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


async def test_announce_withdraw_reset_and_clean_cut() -> None:
    async with per_speaker_lab() as lab:
        await lab.converged(timeout=60)
        await lab.announce("SiteB", OriginatedRoute(prefix="10.99.0.0/16", family=IPV4_UNICAST))
        await lab.converged(timeout=30)
        assert (await best_paths(lab, "SiteA"))["10.99.0.0/16"] == (65515, 65002)
        await lab.withdraw("SiteB", IPV4_UNICAST, "10.99.0.0/16")
        await lab.converged(timeout=30)
        assert "10.99.0.0/16" not in await best_paths(lab, "SiteA")

        await lab.reset_session("HubGW", "SiteB")
        await lab.converged(timeout=30)
        assert (await best_paths(lab, "SiteA"))["10.2.0.0/16"] == (65515, 65002)

        await lab.cut_link("HubGW", "SiteB")
        await lab.converged(timeout=30)
        assert "10.2.0.0/16" not in await best_paths(lab, "SiteA")
        await lab.restore_link("SiteB", "HubGW")
        await lab.converged(timeout=30)
        assert (await best_paths(lab, "SiteA"))["10.2.0.0/16"] == (65515, 65002)


async def test_silent_cut_is_found_by_the_hold_timer_and_restored() -> None:
    async with per_speaker_lab(keepalive=1, hold=3) as lab:
        await lab.converged(timeout=60)
        started = time.monotonic()
        await lab.cut_link("HubGW", "SiteB", silent=True)
        assert not lab.verdict().converged  # both ends still think the session is up
        await lab.converged(timeout=30)
        assert time.monotonic() - started >= 2.0  # the 3 s hold timer, not a NOTIFICATION
        assert "10.2.0.0/16" not in await best_paths(lab, "SiteA")
        await lab.restore_link("HubGW", "SiteB")
        await lab.converged(timeout=30)
        assert (await best_paths(lab, "SiteA"))["10.2.0.0/16"] == (65515, 65002)


async def test_crash_and_restart_return_to_the_fabric_tables() -> None:
    async with per_speaker_lab() as lab:
        await lab.converged(timeout=60)
        lab.crash("SiteB")
        await lab.converged(timeout=30)
        assert "10.2.0.0/16" not in await best_paths(lab, "SiteA")
        await lab.restart("SiteB")
        await lab.converged(timeout=30)
        got = await lab.snapshots()
        expected = solve(lab.network).snapshots
        for speaker, snap in expected.items():
            assert got[speaker].loc_rib == snap.loc_rib, speaker


async def test_injections_naming_nothing_real_leave_the_lab_untouched() -> None:
    async with per_speaker_lab() as lab:
        await lab.converged(timeout=60)
        version = lab.version
        with pytest.raises(LabError, match="no running speaker 'Nope'"):
            lab.crash("Nope")
        with pytest.raises(LabError, match="no session between 'SiteA' and 'SiteB'"):
            await lab.cut_link("SiteA", "SiteB")
        with pytest.raises(LabError, match="is not cut"):
            await lab.restore_link("HubGW", "SiteA")
        with pytest.raises(LabError, match="has not crashed"):
            await lab.restart("SiteA")
        assert lab.version == version
        assert lab.verdict().converged
