"""A policy change in a running lab (soft reconfiguration): the active/passive NVA pair behind
Route Server swaps roles when the active one prepends toward the Route Server, and no session
drops, in both engines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bgpemu.policy import (
    Chain,
    PrefixList,
    PrefixListEntry,
    Result,
    RoutePolicy,
    SetLocalPref,
    Statement,
)
from bgpemu.testing import ENGINES, LabInputError, LabSnapshot, start_lab
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.constants import MessageType
from tests.testing.helpers import TOPOLOGIES, effective_hops

PREFIX = "10.200.0.0/16"
SUBNETS = ("Hub/workload", "Spoke/app")


def _sessions(snap: LabSnapshot) -> dict[tuple[str, str], tuple[str, float | None]]:
    """(speaker, peer) -> (state, when the current Established began)."""
    return {
        (name, p.peer): (p.state, p.established_at)
        for name, router in snap.routers.items()
        for p in router.peers
    }


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_prepend_toward_the_route_server_swaps_the_active_and_passive_nva(
    engine: str,
) -> None:
    async with await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml", engine) as lab:
        await lab.converged()
        for subnet in SUBNETS:
            assert effective_hops(lab, subnet, PREFIX) == ["10.0.1.4"]
        before = lab.snapshot()
        sessions = _sessions(before)
        assert sessions
        assert {state for state, _ in sessions.values()} == {"Established"}
        transitions = (
            {
                (name, peer): s.counters.established_transitions
                for name in lab.fabric.nodes()
                for peer, s in lab.fabric.sessions(name).items()
            }
            if engine == "fabric"
            else {}
        )

        await lab.prepend("nva1", "ars", 3)
        report = await lab.converged()
        for subnet in SUBNETS:
            assert effective_hops(lab, subnet, PREFIX) == ["10.0.1.5"]
        learned = lab.route_server_routes("ars", "nva1")["RouteServiceRole_IN_0"]
        assert any(
            r["network"] == PREFIX and r["asPath"] == "65001-65001-65001-65001" for r in learned
        )
        assert _sessions(lab.snapshot()) == sessions  # no session dropped or restarted
        if engine == "fabric":
            for (name, peer), count in transitions.items():
                assert lab.fabric.sessions(name)[peer].counters.established_transitions == count
        assert report.best_path_changes > 0
        assert report.updates > 0
        changes = lab.diff(before, lab.snapshot()).changed(PREFIX, node="ars", kind="node")
        assert changes
        assert all(c.new_next_hops == ("10.0.1.5",) for c in changes), changes

        await lab.prepend("nva1", "ars", 0)
        await lab.converged()
        for subnet in SUBNETS:
            assert effective_hops(lab, subnet, PREFIX) == ["10.0.1.4"]
        assert _sessions(lab.snapshot()) == sessions
        assert not lab.diff(before, lab.snapshot())


async def test_a_prepend_with_bad_input_leaves_the_lab_untouched() -> None:
    async with await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml") as lab:
        await lab.converged()
        for node, peer, count, message in (
            ("nva9", "ars", 1, "no node or speaker 'nva9'"),
            ("nva1", "Nope", 1, "no node or speaker 'Nope'"),
            ("nva1", "nva2", 1, "no BGP session between 'nva1' and 'nva2'"),
            ("nva1", "ars", -1, "prepend count must be an integer 0..255"),
            ("nva1", "ars", 256, "prepend count must be an integer 0..255"),
        ):
            with pytest.raises(LabInputError, match=message):
                await lab.prepend(node, peer, count)
        lab.snapshot()  # still converged: nothing was done


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_restarted_node_keeps_its_changed_policy(engine: str) -> None:
    async with await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml", engine) as lab:
        await lab.prepend("nva1", "ars", 3)
        await lab.converged()
        assert effective_hops(lab, "Hub/workload", PREFIX) == ["10.0.1.5"]
        await lab.crash("nva1")
        await lab.converged(timeout=300)
        await lab.restart("nva1")
        await lab.converged()
        assert effective_hops(lab, "Hub/workload", PREFIX) == ["10.0.1.5"]


async def test_an_import_policy_change_asks_the_peer_for_a_route_refresh() -> None:
    async with await start_lab(TOPOLOGIES / "nva-ha-route-server.yaml") as lab:
        await lab.converged()
        fabric = lab.fabric
        session = fabric.sessions("ars.0")["nva2"]
        refreshes = session.counters.messages_sent[MessageType.ROUTE_REFRESH]
        transitions = session.counters.established_transitions
        current = fabric.router("ars.0").config.neighbor("nva2")
        assert current.import_policy is not None  # ars-keep-own, ignore MED, weight 1
        only = PrefixList((PrefixListEntry(PREFIX),))
        higher = Statement(match=only, actions=(SetLocalPref(200),))
        prefer = Chain(current.import_policy, RoutePolicy((higher,), default=Result.ACCEPT))
        fabric.set_neighbor_policy("ars.0", replace(current, import_policy=prefer))
        await lab.converged()
        assert session.counters.messages_sent[MessageType.ROUTE_REFRESH] == refreshes + 1
        assert session.counters.established_transitions == transitions
        best = fabric.router("ars.0").loc_rib.best(IPV4_UNICAST, PREFIX)
        assert best is not None
        assert best.source.name == "nva2"  # local preference beats the shorter AS path
        assert fabric.router("ars.0").config.neighbor("nva2").import_policy == prefer
