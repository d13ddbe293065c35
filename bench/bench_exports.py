"""Where a router's UPDATE time goes while a topology converges, per kind of router, and
how much of a hub's Adj-RIB-Outs its peers share (issue 13: the update-group question).

Usage::

    PYTHONPATH=src .venv/bin/python bench/bench_exports.py TOPOLOGY.yaml

Converges the topology in the fabric (as ``bgpemu solve`` does, same garbage-collector
thresholds) with the router's export steps wrapped in CPU timers, then prints, for the
routers with more than five peers ("hub") and the others ("branch"): the whole of
``Router.updates_received``, the Adj-RIB-In's bulk ``receive``, ``_decide_and_export``,
and inside it the fan-out (``fanout.queue``, which computes the exports),
``AdjRibOut.set_many`` and ``Router._flush``.  The timers add their own cost (about a
microsecond a call; these steps are called per batch, not per route).

Then, for each hub: its peers, the prefixes their Adj-RIB-Outs hold in all, the bytes of
those maps (``sys.getsizeof``, the attributes objects not counted), and how many entries
equal the entry of the fullest peer for the same prefix: what one shared Adj-RIB-Out
per update group would hold once instead of once per peer.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from bgpemu.azure.roles import compile_network
from bgpemu.fabric import Fabric
from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.adj_rib_out import AdjRibOut
from bgpemu.router import core
from bgpemu.runtime.daemon_gc import DAEMON_GC_THRESHOLDS
from bgpemu.topology import load_topology

SPENT: dict[tuple[str, str], float] = defaultdict(float)
KIND = ["?"]
"""The kind of router whose ``updates_received`` is running."""


def _timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[(KIND[0], label)] += time.process_time() - start

    return timed


def _instrument() -> None:
    received = core.Router.updates_received

    def updates_received(self: core.Router, name: str, updates: Any, now: float) -> Any:
        KIND[0] = "hub" if len(self.peers()) > 5 else "branch"
        return _timed(received, "updates_received")(self, name, updates, now)

    core.Router.updates_received = updates_received  # type: ignore[method-assign]
    core.Router._decide_and_export = _timed(  # type: ignore[method-assign]
        core.Router._decide_and_export, "_decide_and_export"
    )
    core.Router._flush = _timed(core.Router._flush, "  _flush")  # type: ignore[method-assign]
    core.queue = _timed(core.queue, "  fanout.queue")  # type: ignore[attr-defined]
    AdjRibOut.set_many = _timed(  # type: ignore[method-assign]
        AdjRibOut.set_many, "  AdjRibOut.set_many"
    )
    AdjRibIn.receive = _timed(AdjRibIn.receive, "AdjRibIn.receive")  # type: ignore[method-assign]


def _shared(fabric: Fabric) -> None:
    for name in fabric.nodes():
        router = fabric.router(name)
        peers = router.peers()
        if len(peers) <= 5:
            continue
        maps: list[tuple[str, Mapping[str, object]]] = []
        size = 0
        for peer in peers:
            out = router.adj_rib_out(peer)
            assert out is not None
            for family in out.families():
                held = out.advertised_map(family)
                size += sys.getsizeof(held)
                maps.append((peer, held))
        entries = sum(len(held) for _, held in maps)
        fullest, reference = max(maps, key=lambda item: len(item[1]))
        union = set().union(*(held.keys() for _, held in maps))
        equal = sum(
            1 for _, held in maps for prefix, sent in held.items() if reference.get(prefix) == sent
        )
        print(
            f"{name}: {len(peers)} peers, {entries} Adj-RIB-Out entries ({size / 2**20:.1f} MB "
            f"of maps) over {len(union)} prefixes; {equal} equal to {fullest}'s entry"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("topology")
    args = parser.parse_args()
    gc.set_threshold(*DAEMON_GC_THRESHOLDS)
    plan = compile_network(load_topology(args.topology))
    fabric = Fabric(plan.speakers, seed=0)
    _instrument()
    start = time.process_time()
    fabric.run_until_idle(max_time=3600)
    print(f"converged: {time.process_time() - start:.2f} s CPU (timers included)")
    for kind, label in sorted(SPENT, key=lambda key: (key[0], key[1].strip() != key[1])):
        print(f"{kind:6} {label:24} {SPENT[(kind, label)]:.2f} s")
    _shared(fabric)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
