"""Topology loading: ``parse_topology`` on the generated benchmark topologies, and the
hostile corpus through the bounded YAML reader (issue 12).

Not a test.  Run: ``.venv/bin/python bench/bench_topology_load.py [--src DIR] [--repeats N]``.
``--src DIR`` loads bgpemu from another checkout's ``src`` (to compare a revision with
``git archive REV src | tar -x -C DIR``); the hostile cases are timed only for a
bgpemu that has ``bgpemu.config.safe_yaml``.  Each figure is the median (and minimum)
of N runs of ``time.perf_counter``, and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(func: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, min) seconds of ``repeats`` calls of ``func``."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), min(runs)


def main() -> None:
    """Print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="load bgpemu from this directory instead")
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, args.src)
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from _lab.generators import vwan_standard

    import bgpemu
    from bgpemu.errors import ConfigError
    from bgpemu.topology import parse_topology

    print(f"bgpemu from {Path(bgpemu.__file__).parent}")
    for hubs, branches, prefixes in ((2, 50, 200), (2, 64, 512)):
        text = vwan_standard(hubs=hubs, branches=branches, prefixes=prefixes)
        median, low = timed(partial(parse_topology, text, "bench.yaml"), args.repeats)
        print(
            f"parse_topology vwan-{hubs}x{branches}x{prefixes} ({len(text):,} bytes): "
            f"median {median:.3f} s, min {low:.3f} s (n={args.repeats})"
        )
    try:
        from tests.unit.topology.hostile import hostile_files
    except ImportError:
        return
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        for path in hostile_files(Path(directory)):
            text = path.read_bytes().decode("utf-8", "replace")

            def load(text: str = text, name: str = path.name) -> None:
                with contextlib.suppress(ConfigError):
                    parse_topology(text, name)

            median, low = timed(load, 3)
            print(f"hostile {path.stem:16} ({len(text):>10,} chars): median {median:.3f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS {peak} MB")


if __name__ == "__main__":
    main()
