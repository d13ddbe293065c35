"""RouterSnapshot.adj_rib_out: converted to routes only when a neighbour's is read, yet
the state at snapshot time (azure/snapshot.py).

A vWAN hub's Adj-RIBs-Out toward its branches are most of its snapshot (250,000 routes
per hub on vWAN 2 x 25 x 200) and no hub view reads them: converting them cost ``bgpemu
solve`` about 2 s per hub.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from bgpemu.azure import snapshot as snapshot_module
from bgpemu.azure.converge import solve
from bgpemu.azure.snapshot import RouterSnapshot, snapshot
from bgpemu.rib.route import RibRoute, route_of
from bgpemu.topology import load_topology
from bgpemu.types import prefix_key

TOPOLOGIES = Path(__file__).parents[3] / "topologies"


def _eager(name: str, solution: object) -> dict[str, tuple[RibRoute, ...]]:
    """The Adj-RIBs-Out as the snapshot held them before (every route made at once)."""
    router = solution.fabric.router(name)  # type: ignore[attr-defined]
    result: dict[str, tuple[RibRoute, ...]] = {}
    for peer in sorted(router.peers()):
        rib_out = router.adj_rib_out(peer)
        if rib_out is None:
            continue
        routes = [
            route_of(family, prefix, attributes, peer=peer)
            for family in rib_out.families()
            for prefix, attributes in rib_out.advertised(family)
        ]
        result[peer] = tuple(sorted(routes, key=lambda r: (r.family, *prefix_key(r.prefix))))
    return result


def test_routes_made_when_read_and_equal_to_the_eager_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    solution = solve(load_topology(TOPOLOGIES / "vwan-standard-any-to-any.yaml"))
    hub = next(n for n, e in solution.plan.endpoints.items() if e.role == "vwan_hub")
    fabric = solution.fabric
    made: list[str] = []
    real = snapshot_module._Converter.route

    def counting(self: object, *args: object, **kwargs: object) -> RibRoute:
        made.append("route")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshot_module._Converter, "route", counting)
    snap = snapshot(hub, fabric.router(hub), fabric.sessions(hub))
    taken = len(made)
    assert taken == len(snap.loc_rib) + sum(map(len, snap.adj_rib_in.values()))
    expected = _eager(hub, solution)
    assert sum(map(len, expected.values())) > 0
    assert list(snap.adj_rib_out) == list(expected)
    assert len(made) == taken, "the Adj-RIBs-Out were converted before being read"
    first = next(iter(expected))
    assert snap.adj_rib_out[first] == expected[first]
    assert len(made) == taken + len(expected[first])
    assert dict(snap.adj_rib_out) == expected
    assert snap.adj_rib_out == expected
    assert expected == snap.adj_rib_out
    assert snap.adj_rib_out.get("no such peer") is None
    with pytest.raises(KeyError):
        snap.adj_rib_out["no such peer"]


def test_state_at_snapshot_time_round_trips_and_pickles() -> None:
    solution = solve(load_topology(TOPOLOGIES / "vwan-standard-any-to-any.yaml"))
    hub = next(n for n, e in solution.plan.endpoints.items() if e.role == "vwan_hub")
    fabric = solution.fabric
    router = fabric.router(hub)
    snap = snapshot(hub, router, fabric.sessions(hub))
    expected = _eager(hub, solution)
    # The router's Adj-RIBs-Out change after the snapshot (a session goes down): the
    # snapshot still shows what they held when it was taken.
    for peer in list(router.peers()):
        rib_out = router.adj_rib_out(peer)
        assert rib_out is not None
        rib_out.clear()
    assert dict(snap.adj_rib_out) == expected
    assert RouterSnapshot.from_json(snap.to_json()) == snap
    assert pickle.loads(pickle.dumps(snap)) == snap
    assert repr(dict(snap.adj_rib_out)) == repr(snap.adj_rib_out)
