"""``bgpemu solve``'s phases: converging (the TCP lab's work) apart from writing the report.

Usage::

    PYTHONPATH=src .venv/bin/python bench/bench_solve.py TOPOLOGY.yaml [--report FILE]

Does what ``bgpemu solve TOPOLOGY -o json`` does, in the same order and with the same
garbage-collector handling (``runtime.daemon_gc``: ``batch_gc``, ``converging``), and
prints the wall and CPU time of each phase since the interpreter started: importing
bgpemu and loading the topology, compiling and converging it in the fabric (then
counting the best routes, as the lab's summary does), and, with ``--report``, writing
the ``-o json`` report to FILE
(``/dev/null`` to leave the disk out), with the CPU time of each of its members
(``nodes``: every Loc-RIB; then each view category).  The first two are what ``lab up
--exit-after-converged --no-mqtt`` does before its summary line; the report (every
node's full Loc-RIB, hundreds of MB) has no counterpart in the lab.  Peak RSS at the
end (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator
from typing import Any

STARTED = (time.perf_counter(), time.process_time())


def _since(mark: tuple[float, float]) -> str:
    return f"{time.perf_counter() - mark[0]:.2f} s wall, {time.process_time() - mark[1]:.2f} s CPU"


def _timed(members: Iterator[tuple[str, Any]], figures: list[str]) -> Iterator[tuple[str, Any]]:
    """``members`` as they are, each one's CPU time appended to ``figures`` once it is
    written (the writer asks for the next member when it has written the previous)."""
    for key, value in members:
        start = time.process_time()
        yield key, value
        figures.append(f"{key} {time.process_time() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology")
    parser.add_argument("--report", metavar="FILE", help="also write solve -o json's report")
    args = parser.parse_args()

    from bgpemu.runtime.daemon_gc import batch_gc, converging

    with batch_gc():
        from bgpemu.azure.converge import solve
        from bgpemu.topology import load_topology

        network = load_topology(args.topology)
        print(f"imported and loaded: {_since(STARTED)}", flush=True)
        mark = (time.perf_counter(), time.process_time())
        with converging():
            solution = solve(network)
        fabric = solution.fabric
        routes = sum(fabric.router(name).loc_rib.count() for name in fabric.nodes())
        print(
            f"compiled and converged ({routes} best routes): {_since(mark)}; "
            f"from start: {_since(STARTED)}",
            flush=True,
        )
        if args.report:
            from bgpemu.cli._json_stream import json_chunks
            from bgpemu.cli.solve import report_json_members

            mark = (time.perf_counter(), time.process_time())
            members: list[str] = []
            with open(args.report, "w") as out:
                for chunk in json_chunks(_timed(report_json_members(solution), members)):
                    out.write(chunk)
                out.write("\n")
            print(f"report written: {_since(mark)}; from start: {_since(STARTED)}", flush=True)
            print(f"  by member (CPU): {', '.join(members)}", flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS {rss} MB")


if __name__ == "__main__":
    main()
