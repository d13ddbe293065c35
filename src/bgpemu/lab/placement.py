"""Which worker process runs which speaker: heavy speakers apart, neighbours together.

A worker runs its speakers on one event loop, so two busy speakers in one process
share one core while the other cores idle, and a session between two processes only
comes up once both are running and free to answer.  :func:`place` therefore deals the
speakers in order of weight (their number of sessions, a proxy for the routes they
relay: a vWAN hub with 50 branches weighs 51): the heaviest ones one per worker (e.g.
the hubs of a WAN, each on its own), then each of the others with the speakers it
talks to, unless that worker already holds its share of the total weight, else on the
least loaded worker.  Each hub thus runs with its own branches around it.

Deterministic: ties go to the lower worker index, speakers of equal weight are taken
in name order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["place", "split"]


def split(
    names: list[str], processes: int, neighbors: Mapping[str, Sequence[str]] | None = None
) -> list[list[str]]:
    """Speakers over at most ``processes`` non-empty groups: by session graph when
    ``neighbors`` is given (:func:`place`), else dealt round-robin (sorted).
    ``TcpLab.groups`` tells where a lab put them."""
    if neighbors is not None:
        return place(names, processes, neighbors)
    count = max(1, min(processes, len(names)))
    groups: list[list[str]] = [[] for _ in range(count)]
    for index, name in enumerate(sorted(names)):
        groups[index % count].append(name)
    return [g for g in groups if g]


def place(
    names: Sequence[str], processes: int, neighbors: Mapping[str, Sequence[str]]
) -> list[list[str]]:
    """``names`` in at most ``processes`` non-empty groups (each sorted), by session graph.

    ``neighbors`` maps a speaker to the speakers it has sessions with (others, and
    names not in ``names``, are ignored).  With as many processes as speakers, each
    speaker is alone.
    """
    local = set(names)
    count = max(1, min(processes, len(local)))
    if count == len(local):
        return [[name] for name in sorted(local)]
    peers = {name: [p for p in neighbors.get(name, ()) if p in local] for name in local}
    weight = {name: len(peers[name]) for name in local}
    share = sum(weight.values()) / count
    loads = [0] * count
    groups: list[list[str]] = [[] for _ in range(count)]
    where: dict[str, int] = {}
    for rank, name in enumerate(sorted(local, key=lambda n: (-weight[n], n))):
        if rank < count:  # the heaviest ones first, one per worker
            where[name] = rank
            loads[rank] += weight[name]
            groups[rank].append(name)
            continue
        near: dict[int, int] = {}
        for peer in peers[name]:
            if peer in where:
                near[where[peer]] = near.get(where[peer], 0) + 1
        fits = [i for i in near if loads[i] + weight[name] <= share]
        if fits:
            chosen = min(fits, key=lambda i: (-near[i], loads[i], i))
        else:
            chosen = min(range(count), key=lambda i: (loads[i], i))
        where[name] = chosen
        loads[chosen] += weight[name]
        groups[chosen].append(name)
    return [sorted(group) for group in groups if group]
