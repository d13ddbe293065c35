"""A runtime topology edit on the lab benchmark's topology, and what a loaded Network holds.

Not a test.  Run: ``.venv/bin/python bench/bench_topology_edit.py [--src DIR] [--repeats N]``.
``--src DIR`` loads bgpemu from another checkout's ``src`` (``git archive REV src | tar -x
-C DIR``): a bgpemu that still has ``bgpemu.topology.export`` is measured the way it
edited (``apply_edit(to_document(network), ...)``), a later one with
``apply_edit(network, ...)`` on the document the Network carries (issue 13, item 3).
Prints the memory ``parse_topology``'s result keeps allocated (tracemalloc, after a
collection) and the median and minimum of N ``add_node`` edits (each validates and
compiles the whole new topology).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NODE = {"name": "Extra", "role": "onprem", "asn": 65500, "bgpPeeringAddress": "172.31.9.1"}


def main() -> None:
    """Print one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="load bgpemu from this directory instead")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, args.src)
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from _lab.generators import vwan_standard

    import bgpemu
    from bgpemu.topology import parse_topology
    from bgpemu.topology.edit import apply_edit

    text = vwan_standard(hubs=2, branches=50, prefixes=200)
    gc.collect()
    tracemalloc.start()
    network = parse_topology(text, "bench.yaml")
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    edit: Callable[[], Any]
    try:
        from bgpemu.topology.export import to_document  # type: ignore[import-not-found]

        def edit() -> Any:
            return apply_edit(to_document(network), "add_node", NODE)

    except ImportError:

        def edit() -> Any:
            return apply_edit(network, "add_node", NODE)

    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        edit()
        runs.append(time.perf_counter() - start)
    print(f"bgpemu from {Path(bgpemu.__file__).parent}")
    print(
        f"vwan-2x50x200 ({len(text):,} bytes): the loaded network holds {held / 1e6:.1f} MB; "
        f"add_node median {statistics.median(runs):.3f} s, min {min(runs):.3f} s "
        f"(n={args.repeats})"
    )


if __name__ == "__main__":
    main()
