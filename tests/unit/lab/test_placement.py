"""Worker placement: heavy speakers apart, each with its neighbours (lab/placement.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bgpemu.lab.placement import place, split


def _wan(hubs: int, branches: int) -> dict[str, list[str]]:
    """Hubs in a full mesh, each with its own branches (a Standard vWAN's sessions)."""
    graph: dict[str, list[str]] = {}
    for h in range(1, hubs + 1):
        hub = f"Hub{h}"
        graph[hub] = [f"Hub{o}" for o in range(1, hubs + 1) if o != h]
        for b in range(1, branches + 1):
            branch = f"{hub}-Branch{b:03d}"
            graph[hub].append(branch)
            graph[branch] = [hub]
    return graph


def test_each_hub_on_its_own_worker_with_its_branches() -> None:
    graph = _wan(2, 50)
    groups = place(sorted(graph), 2, graph)
    assert [len(g) for g in groups] == [51, 51]
    for group in groups:
        (hub,) = [name for name in group if "-" not in name]
        assert all(name.startswith(hub) for name in group)


def test_as_many_processes_as_speakers_puts_each_alone() -> None:
    graph = _wan(1, 3)
    assert place(sorted(graph), 4, graph) == [[n] for n in sorted(graph)]
    assert place(sorted(graph), 9, graph) == [[n] for n in sorted(graph)]


def test_without_neighbors_split_deals_round_robin() -> None:
    assert split(["d", "a", "c", "b"], 2) == [["a", "c"], ["b", "d"]]


graphs = st.integers(2, 12).flatmap(
    lambda n: st.tuples(
        st.just([f"s{i:02d}" for i in range(n)]),
        st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        st.integers(1, n + 2),
    )
)


@given(graphs)
def test_every_speaker_is_placed_once_in_at_most_processes_groups(
    case: tuple[list[str], set[tuple[int, int]], int],
) -> None:
    names, edges, processes = case
    graph: dict[str, list[str]] = {name: [] for name in names}
    for a, b in edges:
        if a != b:
            graph[names[a]].append(names[b])
            graph[names[b]].append(names[a])
    groups = place(names, processes, graph)
    assert sorted(n for g in groups for n in g) == sorted(names)
    assert 1 <= len(groups) <= processes
    assert all(g and g == sorted(g) for g in groups)
    assert place(list(reversed(names)), processes, graph) == groups  # deterministic
