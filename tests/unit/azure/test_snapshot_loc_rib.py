"""A snapshot's Loc-RIB routes say what each prefix's Decision says.

``azure.snapshot.snapshot`` reads the Loc-RIB as stored (a sole path stands for its
ONLY_PATH Decision, which is no longer built per route); every route must still carry
the Decision's reason, best flag and multipath set (``LocRib.get`` builds the Decision).
"""

from __future__ import annotations

import pytest

from bgpemu.azure.snapshot import snapshot
from bgpemu.rib.decision import Step
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from tests.scenarios.conftest import solved


@pytest.mark.parametrize("name", ["vwan-standard-any-to-any", "er-vpn-backup"])
def test_snapshot_routes_follow_each_decision(name: str) -> None:
    fabric = solved(name).fabric
    reasons: set[str] = set()
    for speaker in fabric.nodes():
        loc_rib = fabric.router(speaker).loc_rib
        routes = snapshot(speaker, fabric.router(speaker), adj_rib_out=False).loc_rib
        families = {str(IPV4_UNICAST): IPV4_UNICAST, str(IPV6_UNICAST): IPV6_UNICAST}
        seen = 0
        for route in routes:
            decision = loc_rib.get(families[route.family], route.prefix)
            assert decision is not None
            assert decision.best is not None
            if route.best:
                seen += 1
                assert route.reason == decision.reason.value
                assert route.peer == (None if decision.best.local else decision.best.source.name)
                reasons.add(route.reason)
            else:
                assert route.reason is None
            assert route.multipath
        assert seen == loc_rib.count()
        assert len(routes) == sum(len(d.multipath) for _, _, d in loc_rib.entries())
    assert Step.ONLY_PATH.value in reasons
