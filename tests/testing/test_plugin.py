"""The pytest plugin: the ``bgpemu_lab`` factory fixture stops its labs, ``--bgpemu-engine``
chooses the engine.  Run in a child pytest, with the plugin named explicitly (``-p``), so
the test does not depend on the installed entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing.helpers import TOPOLOGIES

USER_TEST = """
import pytest

LABS = []


@pytest.mark.asyncio
async def test_engine(bgpemu_lab, bgpemu_engine):
    lab = await bgpemu_lab({topology!r}, processes=2)
    LABS.append(lab)
    assert lab.kind == bgpemu_engine == {engine!r}
    report = await lab.converged()
    assert report.best_path_changes > 0


def test_stopped_at_teardown():
    from bgpemu.testing import LabStateError

    with pytest.raises(LabStateError, match="stopped"):
        LABS[0].snapshot()
"""


@pytest.mark.parametrize("engine", ["fabric", "tcp"])
def test_plugin_fixture_and_option(tmp_path: Path, engine: str) -> None:
    topology = str(TOPOLOGIES / "s2s-bgp.yaml")
    (tmp_path / "test_user.py").write_text(USER_TEST.format(topology=topology, engine=engine))
    src = Path(__file__).resolve().parents[2] / "src"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:bgpemu",  # the entry point, when installed
            "-p",
            "bgpemu.testing.plugin",
            "-p",
            "no:cacheprovider",
            f"--bgpemu-engine={engine}",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
