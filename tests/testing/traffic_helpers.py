"""Shared by the traffic tests of the testing API: the scenario topologies, a lab per engine
with short timers, and golden answers under tests/data/traffic/."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bgpemu.testing import Lab, start_lab
from tests.testing.helpers import TOPOLOGIES

__all__ = ["DATA", "SCENARIOS", "check_golden", "lab_of"]

SCENARIOS = TOPOLOGIES / "traffic"
"""The reference topologies of azure-traffic.md §8 (topologies/traffic/)."""
DATA = Path(__file__).resolve().parents[1] / "data" / "traffic"
"""Golden answers and the failure tests' topologies (tests/data/traffic/)."""


async def lab_of(topology: str | Path, engine: str, *, processes: int | None = 1) -> Lab:
    """A started lab of ``topology`` (a file name under topologies/traffic/ or a path) in
    ``engine`` with the lab's short timers (3 s / 9 s), not yet converged.  The TCP lab
    runs its speakers in ``processes`` worker processes (None: one per speaker, for a
    crash that must hit one speaker only)."""
    path = topology if isinstance(topology, Path) else SCENARIOS / topology
    return await start_lab(path, engine, timers="lab", processes=processes)


def check_golden(name: str, document: Any) -> None:
    """``document`` equals tests/data/traffic/<name>.json (BGPEMU_UPDATE_GOLDEN=1 rewrites
    it; both engines compare with the same file)."""
    path = DATA / f"{name}.json"
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"no golden {path}: run once with BGPEMU_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"{name}: the answer differs from {path}"
