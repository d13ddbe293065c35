"""``bgpemu solve``: the fabric's converged tables, printed as golden JSON and as a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.cli import main

ROOT = Path(__file__).parents[2]
TRIANGLE = [str(ROOT / "examples" / "triangle" / f"r{i}.yaml") for i in (1, 2, 3)]


def _args(*extra: str) -> list[str]:
    return ["solve", *(a for path in TRIANGLE for a in ("--config", path)), *extra]


def test_triangle_json_matches_the_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args("-o", "json")) == 0
    produced = json.loads(capsys.readouterr().out)
    golden = json.loads((ROOT / "tests" / "data" / "solve" / "triangle.json").read_text())
    assert produced == golden


def test_triangle_prefers_the_unprepended_path_and_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(_args("-o", "json")) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    r3 = {entry["prefix"]: entry for entry in nodes["r3"]}
    assert r3["10.1.0.0/24"]["best"]["as_path"] == [65002, 65001]
    assert r3["10.1.0.0/24"]["best"]["peer"] == "r2"
    assert r3["10.1.0.0/24"]["reason"] == "shorter AS_PATH"


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args()) == 0
    out = capsys.readouterr().out
    row = ["r3", "10.1.0.0/24", "192.0.2.12", "65002", "65001", "r2", "1", "shorter", "AS_PATH"]
    assert row in [line.split() for line in out.splitlines()]  # the style: test_table_style
    assert "converged after" in out


def test_bad_config_is_reported_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bad = ROOT / "tests" / "data" / "config" / "bad-speaker.yaml"
    assert main(["solve", "--config", str(bad)]) == 2
    assert "nothing was started" in capsys.readouterr().err
