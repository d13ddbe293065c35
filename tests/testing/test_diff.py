"""The Diff of two lab snapshots: readable lines, filters, JSON, falsy when nothing changed."""

from __future__ import annotations

from bgpemu.testing import Diff, Lab, Route, start_lab
from tests.testing.helpers import TOPOLOGIES


async def test_announce_with_prepend_shows_where_and_how() -> None:
    async with await start_lab(TOPOLOGIES / "er-vpn-backup.yaml") as lab:
        await lab.converged()
        before = lab.snapshot()
        assert not Lab.diff(before, before)
        assert str(Lab.diff(before, before)) == "no change"

        await lab.announce("Firewall", "10.9.0.0/16", as_path_prepend=2, communities=["65020:7"])
        report = await lab.converged()
        after = lab.snapshot()
        changes = lab.diff(before, after)

    assert changes.prefixes() == {"10.9.0.0/16"}
    assert report.prefixes == 1
    assert report.best_path_changes == len(
        {(c.where, c.prefix) for c in changes.changed(kind="node")}
    )
    firewall = changes.changed(node="Firewall", kind="node")
    assert [str(c) for c in firewall] == [
        "node Firewall 10.9.0.0/16: no route -> 192.168.11.88 as-path (empty) (best, originated)"
    ]
    vpn = changes.changed("10.9.0.0/16", where="VpnGW.0")
    assert vpn[0].old_next_hops == ()
    assert vpn[0].new == (
        # ER wins at the gateway: CE re-advertises it to the MSEEs without the prepend
        Route(next_hop="192.168.11.18", as_path="12076 65020", detail="best, from ErGW"),
    )
    assert str(changes).startswith(f"{len(changes)} changes:\n  node ")
    spoke = changes.changed("10.9.0.0/16", node="Spoke")
    assert [c.kind for c in spoke] == ["effectiveRoutes"]
    assert spoke[0].new_next_hops == ("192.168.11.18", "192.168.11.22")
    learned = changes.changed("10.9.0.0/16", kind="learnedRoutes", where="VpnGW")[0]
    assert "192.168.11.88 as-path 65020-65020-65020 (EBgp from 192.168.11.88" in str(learned)
    as_json = changes.to_json()
    assert as_json[0]["kind"] == "node"
    assert {"next_hop", "as_path", "detail"} == set(as_json[0]["new"][0])
    assert Diff(tuple(changes)[:1]).changed(kind="hubRoutes") == []
