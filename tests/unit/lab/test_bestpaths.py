"""Best-path digests count the same changes as full snapshots (lab/bestpaths.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.lab.bestpaths import best_path_changes, best_paths
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.core import Router
from tests.unit.router.steps import apply_step, steps
from tests.unit.router.test_core import make_router


def _reference(
    before: Mapping[str, RouterSnapshot], after: Mapping[str, RouterSnapshot]
) -> tuple[int, int]:
    """The count over full snapshots (what the lab's control handler compared before)."""

    def best(snaps: Mapping[str, RouterSnapshot]) -> dict[tuple[str, str], Any]:
        return {
            (name, r.prefix): (r.next_hop, r.as_path)
            for name, snap in snaps.items()
            for r in snap.loc_rib
            if r.best
        }

    old, new = best(before), best(after)
    changed = [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
    return len(changed), len({prefix for _speaker, prefix in changed})


def _router() -> Router:
    return make_router(decision=DecisionConfig(max_paths=2, multipath_relax=True))


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(steps, max_size=6),
    second=st.lists(steps, max_size=6),
    crash=st.booleans(),
)
def test_digests_count_what_snapshots_count(
    first: list[tuple[Any, ...]], second: list[tuple[Any, ...]], crash: bool
) -> None:
    """Two speakers; between the two looks one changes and the other may crash (leave)."""
    r1, r2 = _router(), _router()
    for now, step in enumerate(first, start=1):
        apply_step(r1, step, float(now))
        apply_step(r2, step, float(now))
    before = {"r1": snapshot("r1", r1), "r2": snapshot("r2", r2)}
    digests = {"r1": best_paths(r1), "r2": best_paths(r2)}
    for now, step in enumerate(second, start=100):
        apply_step(r1, step, float(now))
    after = {"r1": snapshot("r1", r1)} | ({} if crash else {"r2": snapshot("r2", r2)})
    later = {"r1": best_paths(r1)} | ({} if crash else {"r2": best_paths(r2)})
    assert best_path_changes(digests, later) == _reference(before, after)
    assert best_path_changes(digests, digests) == (0, 0)


def test_a_new_as_path_through_the_same_next_hop_is_a_change() -> None:
    router = _router()
    apply_step(router, ("announce", "e1", [], None, ["10.1.0.0/24", "10.2.0.0/24"]), 1.0)
    before = {"r1": best_paths(router)}
    apply_step(router, ("announce", "e2", [], None, ["10.1.0.0/24"]), 2.0)
    apply_step(router, ("withdraw", "e1", ["10.1.0.0/24"]), 3.0)
    after = {"r1": best_paths(router)}
    assert after["r1"]["ipv4-unicast"]["10.1.0.0/24"] == ("192.0.2.200", (65002,))
    assert best_path_changes(before, after) == (1, 1)
    assert best_path_changes(before, {}) == (2, 2)  # the speaker crashed: both left
