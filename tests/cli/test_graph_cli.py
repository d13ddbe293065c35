"""``bgpemu graph``: golden dot and Mermaid of every reference topology, Graphviz or its
absence, ``-O FILE``.

``tests/data/graph/<name>.dot`` and ``<name>.mmd`` are the outputs for
``topologies/<name>.yaml``.  After an intended change, regenerate them with
``BGPEMU_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_graph_cli.py -p no:cacheprovider``
and review the diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bgpemu.cli import main
from tests.integration._daemon_base import require_binary

ROOT = Path(__file__).parents[2]
TOPOLOGIES = ROOT / "topologies"
GOLDEN = ROOT / "tests" / "data" / "graph"
NAMES = sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))
FORMATS = {"dot": "dot", "mermaid": "mmd"}


def test_every_reference_topology_has_golden_pictures() -> None:
    assert NAMES, "no reference topologies found"
    expected = sorted(f"{name}.{ext}" for name in NAMES for ext in FORMATS.values())
    assert sorted(p.name for p in GOLDEN.iterdir()) == expected


@pytest.mark.parametrize("output", sorted(FORMATS))
@pytest.mark.parametrize("name", NAMES)
def test_reference_topology_matches_its_golden_picture(
    name: str, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", str(TOPOLOGIES / f"{name}.yaml"), "-o", output]) == 0
    text = capsys.readouterr().out
    path = GOLDEN / f"{name}.{FORMATS[output]}"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_a_shipped_name_draws_as_its_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "vwan-basic", "-o", "mermaid"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "vwan-basic.mmd").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_graphviz_parses_the_dot_output(name: str) -> None:
    dot = require_binary("dot")
    text = (GOLDEN / f"{name}.dot").read_text()
    done = subprocess.run([dot, "-Tsvg"], input=text.encode(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b"", done.stderr.decode()  # no warning either
    assert b"<svg" in done.stdout


@pytest.mark.parametrize(("output", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_svg_and_png_go_through_graphviz_to_a_file(
    output: str, magic: bytes, tmp_path: Path
) -> None:
    require_binary("dot")
    target = tmp_path / f"picture.{output}"
    assert main(["graph", "er-vpn-backup", "-o", output, "-O", str(target)]) == 0
    assert magic in target.read_bytes()[:400]


def test_svg_without_graphviz_exits_2_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no dot on it
    assert shutil.which("dot") is None
    assert main(["graph", "er-vpn-backup", "-o", "svg"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "apt-get install graphviz" in err
    assert "Traceback" not in err


def test_dot_and_mermaid_need_no_graphviz(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", "er-vpn-backup", "-o", "dot"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "er-vpn-backup.dot").read_text()


def test_output_file_is_written_and_stdout_left_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.mmd"
    assert main(["graph", "vwan-basic", "-o", "mermaid", "-O", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text() == (GOLDEN / "vwan-basic.mmd").read_text()


def test_an_unwritable_output_file_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "g.dot"
    assert main(["graph", "vwan-basic", "-O", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err
    assert "Traceback" not in err


def test_a_bad_topology_exits_2_with_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnodes:\n  a: {role: router}\n")
    assert main(["graph", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err
    assert "problem" in err


def test_the_docs_example_is_the_golden_mermaid() -> None:
    page = (ROOT / "docs" / "graph.md").read_text()
    block = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == (GOLDEN / "er-vpn-backup.mmd").read_text()


def _fake_dot(directory: Path, body: str) -> None:
    script = directory / "dot"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)


def test_a_failing_graphviz_is_reported_with_its_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_dot(tmp_path, "cat >/dev/null; echo 'syntax error in line 3' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    target = tmp_path / "out.svg"
    assert main(["graph", "vwan-basic", "-o", "svg", "-O", str(target)]) == 1
    err = capsys.readouterr().err
    assert "Graphviz dot failed (1): syntax error in line 3" in err
    assert not target.exists()


def test_a_graphviz_that_hangs_is_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_dot(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setattr("bgpemu.cli.graph.GRAPHVIZ_TIMEOUT", 0.5)
    assert main(["graph", "vwan-basic", "-o", "png"]) == 1
    assert "ran 0.5 s; stopped" in capsys.readouterr().err
