"""``bgpemu solve``'s phases: converging (the TCP lab's work) apart from writing the report.

Usage::

    PYTHONPATH=src .venv/bin/python bench/bench_solve.py TOPOLOGY.yaml [--report FILE] [--jobs 2]

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
end (``ru_maxrss``: this process only).  ``--jobs 2`` converges and writes the report as
``solve --jobs 2`` does (two processes, :mod:`bgpemu.cli._solve_split`): the report's
members are then not timed one by one, the other process writing some of them.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

STARTED = (time.perf_counter(), time.process_time())


def _since(mark: tuple[float, float]) -> str:
    return f"{time.perf_counter() - mark[0]:.2f} s wall, {time.process_time() - mark[1]:.2f} s CPU"


def _timed(members: Iterator[Any], figures: list[str]) -> Iterator[tuple[str, Any]]:
    """``members`` (``(key, value)`` pairs: one process, no handoff) as they are, each
    one's CPU time appended to ``figures`` once it is written (the writer asks for the
    next member when it has written the previous)."""
    for key, value in members:
        start = time.process_time()
        yield key, value
        figures.append(f"{key} {time.process_time() - start:.2f} s")


def _report_to_stdout(report: str) -> None:
    """Point standard output (file descriptor 1) at ``report`` before the fork, as a shell
    redirection does for ``solve --jobs 2 -o json > FILE``: the other process writes its
    nodes there too.  This script's own lines go to standard error then."""
    sys.stdout.flush()
    target = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(target, 1)
    os.close(target)


def _write_split(solution: Any) -> None:
    """The report as ``solve --jobs 2 -o json`` writes it, to standard output."""
    from bgpemu.cli.solve import _write_json, report_json_members

    mark = (time.perf_counter(), time.process_time())
    _write_json(report_json_members(solution, direct=True))
    sys.stdout.flush()
    _say(f"report written (two processes): {_since(mark)}; from start: {_since(STARTED)}")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology")
    parser.add_argument("--report", metavar="FILE", help="also write solve -o json's report")
    parser.add_argument(
        "--jobs",
        type=int,
        choices=[1, 2],
        default=1,
        help="2: converge on two cores and write the report as solve --jobs 2 does",
    )
    args = parser.parse_args()
    if args.jobs == 2 and args.report:
        _report_to_stdout(args.report)

    from bgpemu.runtime.daemon_gc import batch_gc, converging

    with batch_gc():
        from bgpemu.azure.converge import solve
        from bgpemu.topology import load_topology

        network = load_topology(args.topology)
        _say(f"imported and loaded: {_since(STARTED)}")
        mark = (time.perf_counter(), time.process_time())
        from bgpemu.cli._solve_split import converge_split

        split = converge_split if args.jobs == 2 else None
        with converging():
            solution = solve(network, split=split)
        fabric = solution.fabric
        here = [name for name in fabric.nodes() if name not in fabric.elsewhere]
        routes = sum(fabric.router(name).loc_rib.count() for name in here)
        _say(
            f"compiled and converged ({routes} best routes in this process): {_since(mark)}; "
            f"from start: {_since(STARTED)}"
        )
        if args.report and args.jobs == 2:
            _write_split(solution)
        elif args.report:
            from bgpemu.cli._json_stream import json_chunks
            from bgpemu.cli.solve import report_json_members

            mark = (time.perf_counter(), time.process_time())
            members: list[str] = []
            with open(args.report, "w") as out:
                for chunk in json_chunks(_timed(report_json_members(solution), members)):
                    out.write(chunk)
                out.write("\n")
            _say(f"report written: {_since(mark)}; from start: {_since(STARTED)}")
            _say(f"  by member (CPU): {', '.join(members)}")
    if solution.elsewhere is not None:
        solution.elsewhere.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    _say(f"peak RSS {rss} MB")


if __name__ == "__main__":
    main()
