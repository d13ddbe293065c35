"""``solve --jobs 2``: each process computes the Azure views that read only the snapshots of
the nodes it converged (cli/_split_views.py ``LocalViews.made``).

Run here in one process over a converged fabric, the nodes split in two as a split run
splits them: each view a half makes is the very text of the one-process view, each view
it leaves reads a node of the other half, every view is made by one half or reads nodes
of both, and a view of ``skip`` is left without being computed.
"""

from __future__ import annotations

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.report import view_work
from bgpemu.cli._json_stream import encoded_value
from bgpemu.cli._split_views import LocalViews, _ElsewhereNodeError
from bgpemu.topology import load_topology


@pytest.mark.parametrize(
    "name", ["vwan-standard-any-to-any", "er-vpn-backup", "s2s-transit", "nva-ha-route-server"]
)
def test_each_half_makes_the_views_of_its_nodes_as_one_process_does(name: str) -> None:
    network = load_topology(name)
    solution = solve(network)
    fabric, plan, now = solution.fabric, solution.plan, solution.converged_after
    first, second = fabric.halves()
    whole = {
        (category, key): encoded_value(compute(), 1)
        for category, members in view_work(network, plan, solution.snapshots, now)
        for key, compute in members
    }
    made: dict[tuple[str, str], list[str]] = {key: [] for key in whole}
    for half, other in (("first", second), ("second", first)):
        local = LocalViews(network, plan, other)
        snaps = local.snapshots(fabric)
        texts = local.made(snaps, now, 1)
        categories = [category for category, _ in view_work(network, plan, snaps, now)]
        seen = []
        for category, made_there in texts:
            seen.append(category)
            for key, text in made_there:
                if text is not None:
                    assert text == whole[category, key]
                    made[category, key].append(half)
        assert seen == categories  # every category, in the report's order, even empty
        for category, works in view_work(network, plan, snaps, now):
            for key, compute in works:
                if half not in made[category, key]:
                    with pytest.raises(_ElsewhereNodeError):
                        compute()  # it reads a node of the other half
    assert all(len(halves) <= 1 for halves in made.values())
    if name == "vwan-standard-any-to-any":  # a hub and its VNets on each side
        assert {h for halves in made.values() for h in halves} == {"first", "second"}


def test_a_view_to_skip_is_left_to_the_other_process() -> None:
    network = load_topology("vwan-standard-any-to-any")
    solution = solve(network)
    fabric, plan, now = solution.fabric, solution.plan, solution.converged_after
    _, second = fabric.halves()
    local = LocalViews(network, plan, second)
    everything = {
        (category, key)
        for category, members in local.made(local.snapshots(fabric), now, 1)
        for key, _ in members
    }
    texts = local.made(local.snapshots(fabric), now, 1, skip=frozenset(everything))
    assert all(text is None for _, members in texts for _, text in members)
