"""``bgpemu graph`` on the large generated topologies (issue 16): the time to build the
graph model and render it as dot and Mermaid, and Graphviz's time to lay the dot out.

Not a test.  Run: ``.venv/bin/python bench/bench_graph.py [--repeats N]``.
The topologies are issue 5's ``full`` size (bench/_lab/generators.py: vWAN 2 x 50 x 200,
hub-and-spoke 100 x 500), written to a temporary directory.  Loading and compiling are
timed once and apart (bench_topology_load.py measures loading).  Each figure is the
median (and minimum) of N runs of ``time.perf_counter``; ``dot -Tsvg`` runs once per
repeat when Graphviz is installed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab.generators import generate

from bgpemu.azure.graph import topology_graph
from bgpemu.azure.graph_render import render_dot, render_mermaid
from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.topology import load_topology


def timed(func: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, min) seconds of ``repeats`` calls of ``func``."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs)


def _steps(
    network: Network, plan: Plan, text: str, dot: str | None
) -> dict[str, Callable[[], object]]:
    steps: dict[str, Callable[[], object]] = {
        "model": lambda: topology_graph(network, plan),
        "model+dot": lambda: render_dot(topology_graph(network, plan)),
        "model+mermaid": lambda: render_mermaid(topology_graph(network, plan)),
    }
    if dot is not None:
        steps["graphviz dot -Tsvg"] = lambda: subprocess.run(
            [dot, "-Tsvg"], input=text.encode(), capture_output=True, check=True
        )
    return steps


def main() -> None:
    """Print one line per topology and step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    dot = shutil.which("dot")
    with tempfile.TemporaryDirectory() as directory:
        for path in generate("full", Path(directory)):
            start = time.perf_counter()
            network = load_topology(str(path))
            plan = compile_network(network)
            prepared = time.perf_counter() - start
            graph = topology_graph(network, plan)
            text = render_dot(graph)
            print(
                f"{path.stem}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, "
                f"{len(graph.groups)} groups; load+compile {prepared:.3f} s (once)"
            )
            steps = _steps(network, plan, text, dot)
            for name, step in steps.items():
                median, best = timed(step, args.repeats)
                print(f"  {name:20s} median {median * 1000:9.1f} ms  min {best * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
