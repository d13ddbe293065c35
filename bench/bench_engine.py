"""The virtual-time engine alone: ``Fabric(plan.speakers).run_until_idle()`` on a topology.

Usage: ``python bench/bench_engine.py TOPOLOGY.yaml`` (e.g. one written by
``bench_lab.py --keep DIR``).  Compiles the topology (not timed), then times building
the fabric and converging it; prints the time, the virtual time, the best routes, the
fabric's event-log lines and the peak RSS.  Without the report of ``bgpemu solve``, so
a change to the engine (the node, the fabric) is seen alone.
"""

from __future__ import annotations

import resource
import sys
import time

from bgpemu.azure.roles import compile_network
from bgpemu.fabric import Fabric
from bgpemu.topology import load_topology


def main() -> None:
    plan = compile_network(load_topology(sys.argv[1]))
    t0 = time.perf_counter()
    fabric = Fabric(plan.speakers, seed=0)
    elapsed = fabric.run_until_idle(max_time=3600)
    t1 = time.perf_counter()
    routes = sum(fabric.router(name).loc_rib.count() for name in fabric.nodes())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"engine {t1 - t0:.2f} s, virtual {elapsed:.3f} s, {routes} best routes, "
        f"{len(fabric.events)} events, maxrss {rss} MB"
    )


if __name__ == "__main__":
    main()
