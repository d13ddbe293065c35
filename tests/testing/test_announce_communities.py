"""Lab.announce reads communities with the topology file's parser
(bgpemu.policy.communities.parse_community): ASN:VALUE or a well-known name (RFC 1997)."""

from __future__ import annotations

import pytest

from bgpemu.testing import LabInputError, start_lab
from tests.testing.helpers import TOPOLOGIES


async def test_a_well_known_community_is_accepted_and_honoured() -> None:
    async with await start_lab(TOPOLOGIES / "s2s-transit.yaml") as lab:
        await lab.converged()
        await lab.announce("SiteB", "10.98.0.0/16", communities=["65002:7", "NO_EXPORT"])
        await lab.announce("SiteB", "10.97.0.0/16", communities=["65002:7"])
        await lab.converged()
        own = {r["prefix"]: r["communities"] for r in lab.routes("SiteB")["SiteB"]}
        assert own["10.98.0.0/16"] == ["65002:7", "65535:65281"]
        learned = {r["prefix"] for r in lab.routes("SiteA")["SiteA"]}
        assert "10.97.0.0/16" in learned
        assert "10.98.0.0/16" not in learned  # NO_EXPORT: not sent to an eBGP peer


async def test_a_bad_community_is_refused_with_the_lab_untouched() -> None:
    async with await start_lab(TOPOLOGIES / "s2s-transit.yaml") as lab:
        await lab.converged()
        before = lab.snapshot()
        with pytest.raises(LabInputError, match=r"community '65536:1'"):
            await lab.announce("SiteB", "10.98.0.0/16", communities=["65536:1"])
        assert lab.snapshot() is before
