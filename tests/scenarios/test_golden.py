"""The reference topologies converge in the fabric to their golden tables.

``topologies/golden/<name>.json`` holds every view of every node (see
``bgpemu.azure.report``).  After an intended change, regenerate with
``BGPEMU_UPDATE_GOLDEN=1 PYTHONPATH=src .venv/bin/pytest tests/scenarios/test_golden.py`` and
review the diff: the documented expectations are asserted separately in
``test_documented_scenarios.py``.
"""

from __future__ import annotations

import json
import os

import pytest

from bgpemu.azure.report import full_report
from tests.scenarios.conftest import TOPOLOGIES, solved

NAMES = sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))
GOLDEN = TOPOLOGIES / "golden"


def test_every_reference_topology_has_a_golden_file() -> None:
    assert NAMES, "no reference topologies found"
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_reference_topology_converges_to_its_golden_tables(name: str) -> None:
    report = json.loads(json.dumps(full_report(solved(name))))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    assert report == json.loads(path.read_text())


@pytest.mark.parametrize("name", NAMES)
def test_reference_topology_is_deterministic_across_seeds(name: str) -> None:
    from bgpemu.azure.converge import solve

    first = solved(name)
    other = solve(first.network, seed=7)
    assert full_report(other)["nodes"] == full_report(first)["nodes"]
