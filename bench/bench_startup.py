"""``bgpemu solve``'s start: what runs before the fabric's first event.

Usage::

    PYTHONPATH=src .venv/bin/python bench/bench_startup.py TOPOLOGY.yaml

Does what ``bgpemu solve TOPOLOGY`` does before converging, in the same order and with
the same garbage-collector thresholds (``runtime.daemon_gc``): importing the modules
``solve`` imports, loading the topology (YAML, schema, checks, resolving), compiling it
into speaker specs (``azure.roles.compile_network``) and building the fabric's nodes
(``Fabric(plan.speakers)``); prints the CPU time of each step and the wall and CPU time
since the interpreter started, then exits without converging or tearing down.  The wall
time of the whole process (its start included) is the outer ``time``'s.

A tree whose modules are not byte-compiled (``PYTHONDONTWRITEBYTECODE=1`` and a fresh
``git archive``) compiles them on every run: about 0.1 s more; ``python -m compileall
-q src`` once measures what an installed package does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

STARTED = (time.perf_counter(), time.process_time())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topology")
    args = parser.parse_args()

    from bgpemu.runtime.daemon_gc import daemon_gc  # imports bgpemu.runtime's modules

    steps: list[str] = []
    mark = STARTED[1]

    def step(name: str) -> None:
        nonlocal mark
        now = time.process_time()
        steps.append(f"{name} {now - mark:.3f}")
        mark = now

    with daemon_gc():
        import bgpemu.cli.solve  # noqa: F401  (what `bgpemu solve` imports first)
        from bgpemu.azure.converge import solve  # noqa: F401
        from bgpemu.azure.roles import compile_network
        from bgpemu.fabric import Fabric
        from bgpemu.topology import load_topology

        step("imported")  # since the script started
        network = load_topology(args.topology)
        step("loaded")
        plan = compile_network(network)
        step("compiled")
        Fabric(plan.speakers, seed=0)
        step("fabric built")
    wall = time.perf_counter() - STARTED[0]
    cpu = time.process_time() - STARTED[1]
    print(f"{', '.join(steps)} (s CPU); from start: {wall:.3f} s wall, {cpu:.3f} s CPU")
    sys.stdout.flush()
    os._exit(0)  # nothing after the first event is measured: no teardown


if __name__ == "__main__":
    main()
