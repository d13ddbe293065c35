"""Every command refuses an invalid file the same way: ``error: PROBLEM`` per problem on
stderr, then the count and what was not done, exit status 2 (as docs/speaker.md shows
for config files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.cli import main
from bgpemu.cli._problems import refuse

_BAD_TOPOLOGY = "name: bad\nnodes:\n  a: {role: router}\n"


def test_refuse_prints_each_problem_then_the_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert refuse(["one", "two"], "run") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: one\nerror: two\n2 problems found; nothing was run.\n"


def test_refuse_without_an_outcome_ends_the_count_with_a_full_stop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert refuse(["only"]) == 2
    assert capsys.readouterr().err == "error: only\n1 problem found.\n"


@pytest.mark.parametrize(
    ("argv", "tail"),
    [
        (["validate"], "1 problem found."),
        (["diff", "--change", "unused.yaml"], "1 problem found; nothing was run."),
        (["apply"], "1 problem found; nothing was sent."),
    ],
)
def test_an_invalid_topology_is_refused_alike_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], tail: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_BAD_TOPOLOGY)
    assert main([argv[0], str(bad), *argv[1:]]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {bad}:3: nodes.a")
    assert lines[1] == tail


@pytest.mark.parametrize("command", [["lab", "up"], ["solve"]])
def test_an_invalid_topology_stops_lab_up_and_solve_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_BAD_TOPOLOGY)
    assert main([*command, str(bad)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"error: {bad}:3: nodes.a")
    assert lines[1] == "1 problem found; nothing was started."
    assert captured.out == ""
