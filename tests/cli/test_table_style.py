"""One table style for every command (issue 15): solve's summary, the observers' tables,
the Azure views and the traffic tables all come from azure.views.render.format_table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure.views.render import format_table
from bgpemu.cli import main
from bgpemu.cli.solve import render_table

ROOT = Path(__file__).parents[2]
TRIANGLE = [str(ROOT / "examples" / "triangle" / f"r{i}.yaml") for i in (1, 2, 3)]


def test_solve_prints_its_tables_in_the_one_style(capsys: pytest.CaptureFixture[str]) -> None:
    tables = {
        "r1": [
            {
                "prefix": "10.0.0.0/24",
                "best": {"next_hop": "192.0.2.2", "as_path": [], "peer": "r2"},
                "multipath": [{}, {}],
                "reason": "as_path",
            }
        ]
    }
    expected = format_table(
        ["Node", "Prefix", "NextHop", "AsPath", "From", "Ecmp", "Reason"],
        [["r1", "10.0.0.0/24", "192.0.2.2", "(local)", "r2", "2", "as_path"]],
    )
    assert render_table(tables) == expected.rstrip("\n")
    assert main(["solve", *(a for p in TRIANGLE for a in ("--config", p))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["Node", "Prefix", "NextHop", "AsPath", "From", "Ecmp", "Reason"]
    assert set(lines[1]) == {"-", " "}  # az's rule under the header
