"""``bgpemu`` under cProfile, workers included: where the time of ``lab up`` goes.

Run as ``python bench/_lab/profiled.py DIR lab up TOPOLOGY ...`` (bench_lab.py
``--profile DIR`` does).  The CLI process is profiled into ``DIR/parent.prof``; the
lab's worker processes are started with :func:`profiled_worker_main` as their target
(it replaces the worker pool's ``worker_main`` before the lab starts, nothing in
``src/`` changes), and each writes ``DIR/worker-<pid>.prof`` when the lab tells it to
stop (before its speakers close: the profile covers start-up and convergence).
"""

from __future__ import annotations

import cProfile
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

_ENV = "BGPEMU_BENCH_PROFILE"


def profiled_worker_main(config: object, conn: Connection) -> None:
    """The lab worker's entry point, profiled into ``$BGPEMU_BENCH_PROFILE``."""
    import bgpemu.lab.worker as worker_module
    from bgpemu.lab.worker import WorkerConfig, worker_main

    assert isinstance(config, WorkerConfig)
    profile = cProfile.Profile()
    target = Path(os.environ[_ENV]) / f"worker-{os.getpid()}.prof"
    serve = worker_module._Worker._serve

    async def serve_then_dump(self: Any) -> None:
        # Written as soon as the lab says stop: a worker whose speakers take too long
        # to close is SIGKILLed by the lab and would otherwise leave no profile.
        await serve(self)
        profile.disable()
        profile.dump_stats(target)

    setattr(worker_module._Worker, "_serve", serve_then_dump)  # noqa: B010
    try:
        profile.runcall(worker_main, config, conn)
    finally:
        profile.dump_stats(target)


def main() -> int:
    directory = Path(sys.argv[1]).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[_ENV] = str(directory)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import bgpemu.lab.pool as pool
    from _lab.profiled import profiled_worker_main as target
    from bgpemu.cli import main as cli_main

    setattr(pool, "worker_main", target)  # noqa: B010 (not exported: patched here)
    profile = cProfile.Profile()
    try:
        status: int = profile.runcall(cli_main, sys.argv[2:])
    finally:
        profile.dump_stats(directory / "parent.prof")
    return status


if __name__ == "__main__":
    sys.exit(main())
