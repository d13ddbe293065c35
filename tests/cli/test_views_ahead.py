"""``solve --jobs 2``: the other process computes, ahead of their turn, the Azure views that
read only the snapshots of the nodes it converged (cli/_solve_split.py ``_Views.ahead``).

Run here in one process over a converged fabric, the other half of the nodes standing
for the parent's: each view made ahead is the very text of the one-process view, each one
left out reads a parent's node, and a question through the pipe stops the work.
"""

from __future__ import annotations

from multiprocessing.connection import Pipe

import pytest

from bgpemu.azure.converge import Snapshots, solve
from bgpemu.azure.report import view_work
from bgpemu.cli._json_stream import encoded_value
from bgpemu.cli._solve_split import _ParentsNodeError, _Views
from bgpemu.topology import load_topology


@pytest.mark.parametrize("name", ["vwan-standard-any-to-any", "er-vpn-backup", "s2s-transit"])
def test_the_views_made_ahead_are_those_of_one_process(name: str) -> None:
    network = load_topology(name)
    solution = solve(network)
    fabric, plan, now = solution.fabric, solution.plan, solution.converged_after
    parents, _ = fabric.halves()
    views = _Views(network, plan, parents)
    mine = Snapshots(fabric, views, plan.views_without_adj_rib_out())
    ours, theirs = Pipe()
    done, needed = views.ahead(mine, now, 1, ours)
    assert needed is not None  # it got to every view
    left: list[tuple[str, str]] = []
    for category, members in view_work(network, plan, solution.snapshots, now):
        for key, compute in members:
            whole = encoded_value(compute(), 1)
            if (category, key) in done:
                assert done[category, key] == whole
            else:
                left.append((category, key))
    for category, members in view_work(network, plan, mine, now):
        for key, compute in members:
            if (category, key) in left:
                with pytest.raises(_ParentsNodeError):
                    compute()  # it reads a node the parent converged
    if name == "vwan-standard-any-to-any":
        assert done, "the other hub's views"
        assert left, "this hub's views"
    theirs.send(("members", None))
    assert views.ahead(mine, now, 1, ours) == ({}, None)  # a question came: the parent does
    # the rest, reading any of this process's snapshots
