"""Engine conformance: every operation of :class:`bgpemu.lab.engine.Engine`, the same
scenario and the same expected tables and session states on the fabric and the TCP lab.

The expected results are engine-independent: either the tables of a fresh convergence
of the (possibly changed) topology (:func:`bgpemu.azure.converge.solve`, what an
operation that is undone must return to), or facts written from the topology
(s2s-transit: SiteA AS 65001 and SiteB AS 65002 behind the VPN gateway HubGW, AS 65515).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.model import Network
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.lab.engine import Engine
from bgpemu.lab.errors import LabInputError
from bgpemu.router.config import OriginatedRoute
from bgpemu.topology.edit import apply_edit
from bgpemu.types import IPV4_UNICAST
from tests.conformance.conftest import HOLD, KEEPALIVE, SETTLE

Snapshots = Mapping[str, RouterSnapshot]

SITE_B = "10.2.0.0/16"
NEW = "10.99.0.0/16"


def tables(snapshots: Snapshots) -> dict[str, Any]:
    """Loc-RIB, Adj-RIBs-In and Adj-RIBs-Out of every speaker."""
    return {
        name: (snap.loc_rib, dict(snap.adj_rib_in), dict(snap.adj_rib_out))
        for name, snap in snapshots.items()
    }


def reference(network: Network) -> dict[str, Any]:
    """The tables of a fresh convergence of ``network``."""
    return tables(solve(network).snapshots)


def best(snapshots: Snapshots, speaker: str) -> dict[str, tuple[int, ...]]:
    """AS_PATH of each best route of ``speaker``, by prefix."""
    return {r.prefix: r.as_path for r in snapshots[speaker].loc_rib if r.best}


def state(snapshots: Snapshots, speaker: str, peer: str) -> str:
    """RFC 4271 state of ``speaker``'s session with ``peer``."""
    return next(p.state for p in snapshots[speaker].peers if p.peer == peer)


def established_at(snapshots: Snapshots, speaker: str, peer: str) -> float | None:
    return next(p.established_at for p in snapshots[speaker].peers if p.peer == peer)


def everyone_established(snapshots: Snapshots) -> bool:
    return all(p.state == "Established" for snap in snapshots.values() for p in snap.peers)


async def test_start_settles_to_the_tables_of_a_fresh_convergence(
    engine: Engine, network: Network
) -> None:
    got = await engine.snapshots()
    assert sorted(got) == sorted(spec.name for spec in engine.plan.speakers)
    assert tables(got) == reference(network)
    assert everyone_established(got)
    totals = engine.update_totals()
    assert all(totals[speaker] > 0 for speaker in ("SiteA", "SiteB", "HubGW"))


async def test_clean_cut_then_restore(engine: Engine, network: Network) -> None:
    await engine.fail_link("HubGW", "SiteB")
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    # Stopped on purpose (ManualStop, RFC 4271 §8.2.2): Idle, no automatic restart.
    assert state(got, "HubGW", "SiteB") == "Idle"
    assert state(got, "SiteB", "HubGW") == "Idle"
    assert state(got, "HubGW", "SiteA") == "Established"
    assert SITE_B not in best(got, "SiteA")
    assert best(got, "SiteB") == {SITE_B: ()}
    await engine.restore_link("SiteB", "HubGW")
    await engine.settle(SETTLE)
    assert tables(await engine.snapshots()) == reference(network)


async def test_silent_cut_is_found_by_the_hold_timer(engine: Engine, network: Network) -> None:
    started = engine.clock()
    await engine.fail_link("HubGW", "SiteB", silent=True)
    got = await engine.snapshots()
    assert state(got, "HubGW", "SiteB") == "Established"  # nobody was told
    assert best(got, "SiteA")[SITE_B] == (65515, 65002)
    ended = await engine.settle(SETTLE)
    assert ended - started >= HOLD - KEEPALIVE - 0.5  # the hold timer, not a NOTIFICATION
    got = await engine.snapshots()
    assert state(got, "HubGW", "SiteB") != "Established"
    assert SITE_B not in best(got, "SiteA")
    await engine.restore_link("HubGW", "SiteB")
    await engine.settle(SETTLE)
    assert tables(await engine.snapshots()) == reference(network)


async def test_reset_session_comes_back_at_once(engine: Engine, network: Network) -> None:
    before = established_at(await engine.snapshots(), "HubGW", "SiteB")
    await engine.reset_session("HubGW", "SiteB")
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    after = established_at(got, "HubGW", "SiteB")
    assert before is not None
    assert after is not None
    assert after > before  # re-established
    assert everyone_established(got)
    assert tables(got) == reference(network)


async def test_crash_then_restart(engine: Engine, network: Network) -> None:
    engine.check_crash(("SiteB",))  # one process per speaker: SiteB dies alone
    await engine.crash(("SiteB",))
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert "SiteB" not in got
    assert state(got, "HubGW", "SiteB") != "Established"
    assert SITE_B not in best(got, "SiteA")
    assert "SiteB" not in engine.update_totals()
    await engine.restart(("SiteB",))
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert everyone_established(got)
    assert tables(got) == reference(network)


async def test_announce_then_withdraw(engine: Engine, network: Network) -> None:
    sent = engine.update_totals()["SiteB"]
    route = OriginatedRoute(prefix=NEW, family=IPV4_UNICAST, as_path_prepend=2)
    await engine.announce("SiteB", route)
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    # SiteB's two extra copies, the one eBGP adds (RFC 4271 §5.1.2), then HubGW's.
    assert best(got, "SiteA")[NEW] == (65515, 65002, 65002, 65002)
    assert best(got, "HubGW")[NEW] == (65002, 65002, 65002)
    assert engine.update_totals()["SiteB"] > sent
    await engine.withdraw("SiteB", IPV4_UNICAST, NEW)
    await engine.settle(SETTLE)
    assert tables(await engine.snapshots()) == reference(network)


async def test_prepend_changes_policy_with_the_sessions_up(
    engine: Engine, network: Network
) -> None:
    with pytest.raises(LabInputError, match="no speaker 'Nope' runs in this lab"):
        await engine.prepend("Nope", "HubGW", 1)
    up = established_at(await engine.snapshots(), "HubGW", "SiteA")
    configured = engine.neighbor_policy("HubGW", "SiteA")
    await engine.prepend("HubGW", "SiteA", 2)
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert best(got, "SiteA")[SITE_B] == (65515, 65515, 65515, 65002)
    assert best(got, "SiteB")["10.1.0.0/16"] == (65515, 65001)  # toward SiteB: unchanged
    assert engine.neighbor_policy("HubGW", "SiteA") != configured
    await engine.prepend("HubGW", "SiteA", 3)  # replaces the previous count
    await engine.settle(SETTLE)
    assert best(await engine.snapshots(), "SiteA")[SITE_B] == (65515,) * 4 + (65002,)
    await engine.prepend("HubGW", "SiteA", 0)  # the configured export policy again
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert engine.neighbor_policy("HubGW", "SiteA") == configured
    assert established_at(got, "HubGW", "SiteA") == up  # soft reconfiguration: no reset
    assert tables(got) == reference(network)


async def test_set_neighbor_policy_survives_a_restart(engine: Engine, network: Network) -> None:
    await engine.prepend("SiteB", "HubGW", 1)
    await engine.settle(SETTLE)
    changed = engine.neighbor_policy("SiteB", "HubGW")
    await engine.crash(("SiteB",))
    await engine.settle(SETTLE)
    await engine.restart(("SiteB",))
    await engine.settle(SETTLE)
    assert engine.neighbor_policy("SiteB", "HubGW") == changed
    assert best(await engine.snapshots(), "SiteA")[SITE_B] == (65515, 65002, 65002)


async def test_advance_lets_the_engine_clock_run(engine: Engine) -> None:
    await engine.fail_link("HubGW", "SiteB", silent=True)
    started = engine.clock()
    await engine.advance(HOLD + 2)  # no settle: the timers fire as the clock runs
    assert engine.clock() - started >= HOLD + 2
    got = await engine.snapshots()
    assert state(got, "HubGW", "SiteB") != "Established"  # its hold timer expired
    assert state(got, "SiteB", "HubGW") != "Established"
    assert state(got, "HubGW", "SiteA") == "Established"  # KEEPALIVEs held it past HOLD
    assert state(got, "SiteA", "HubGW") == "Established"


async def test_apply_a_plan_change_and_back(engine: Engine, network: Network) -> None:
    without_b = apply_edit(network, "remove_connection", {"type": "site_to_site", "site": "SiteB"})
    up = established_at(await engine.snapshots(), "HubGW", "SiteA")
    change = engine.plan_change(without_b)
    assert [item.speaker for item in change.speakers] == ["HubGW", "SiteB"]
    await engine.apply(change, network=without_b)
    assert engine.plan is change.new
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert tables(got) == reference(without_b)
    assert SITE_B not in best(got, "SiteA")
    assert established_at(got, "HubGW", "SiteA") == up  # no other session dropped
    await engine.apply(engine.plan_change(network), network=network)
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert tables(got) == reference(network)
    assert established_at(got, "HubGW", "SiteA") == up


async def test_apply_adds_a_speaker_and_removes_it(engine: Engine, network: Network) -> None:
    site_d = {"role": "onprem", "asn": 65004, "bgpPeeringAddress": "172.16.4.1"}
    with_d = apply_edit(
        network, "add_node", {"name": "SiteD", **site_d, "prefixes": ["10.4.0.0/16"]}
    )
    with_d = apply_edit(
        with_d,
        "add_connection",
        {"type": "site_to_site", "gateway": "HubGW", "site": "SiteD", "enableBgp": True},
    )
    change = engine.plan_change(with_d)
    assert [spec.name for spec in change.add_speakers] == ["SiteD"]
    await engine.apply(change, network=with_d)
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert tables(got) == reference(with_d)
    assert best(got, "SiteA")["10.4.0.0/16"] == (65515, 65004)
    assert state(got, "SiteD", "HubGW") == "Established"
    await engine.apply(engine.plan_change(network), network=network)
    await engine.settle(SETTLE)
    got = await engine.snapshots()
    assert "SiteD" not in got
    assert tables(got) == reference(network)
