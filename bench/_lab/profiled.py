"""``bgpemu`` under cProfile, workers included: where the time of ``lab up`` goes.

Run as ``python bench/_lab/profiled.py DIR lab up TOPOLOGY ...`` (bench_lab.py
``--profile DIR`` does).  The CLI process is profiled into ``DIR/parent.prof``; the
lab's worker processes are started with :func:`profiled_worker_main` as their target
(it replaces the supervisor's ``worker_main`` before the lab starts, nothing in
``src/`` changes), and each writes ``DIR/worker-<pid>.prof`` when it stops.
"""

from __future__ import annotations

import cProfile
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path

_ENV = "BGPEMU_BENCH_PROFILE"


def profiled_worker_main(config: object, conn: Connection) -> None:
    """The lab worker's entry point, profiled into ``$BGPEMU_BENCH_PROFILE``."""
    from bgpemu.lab.worker import WorkerConfig, worker_main

    assert isinstance(config, WorkerConfig)
    profile = cProfile.Profile()
    try:
        profile.runcall(worker_main, config, conn)
    finally:
        profile.dump_stats(Path(os.environ[_ENV]) / f"worker-{os.getpid()}.prof")


def main() -> int:
    directory = Path(sys.argv[1]).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[_ENV] = str(directory)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import bgpemu.lab.supervisor as supervisor
    from _lab.profiled import profiled_worker_main as target
    from bgpemu.cli import main as cli_main

    setattr(supervisor, "worker_main", target)  # noqa: B010 (not exported: patched here)
    profile = cProfile.Profile()
    try:
        status: int = profile.runcall(cli_main, sys.argv[2:])
    finally:
        profile.dump_stats(directory / "parent.prof")
    return status


if __name__ == "__main__":
    sys.exit(main())
