"""``bgpemu solve`` takes ``-o yaml`` and ``--query`` as the observers do (issue 15), with
the observers' renderer (cli/_observe_render.py's ``emit``)."""

from __future__ import annotations

import json
from pathlib import Path

import jmespath
import pytest
import yaml

from bgpemu.cli import main

ROOT = Path(__file__).parents[2]
TRIANGLE = [str(ROOT / "examples" / "triangle" / f"r{i}.yaml") for i in (1, 2, 3)]
TOPOLOGY = str(ROOT / "topologies" / "er-vpn-backup.yaml")


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["solve", *argv]) == 0
    return capsys.readouterr().out


def _configs(*extra: str) -> list[str]:
    return [*(a for path in TRIANGLE for a in ("--config", path)), *extra]


def test_the_report_as_yaml_and_queried(capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(_out(capsys, *_configs("-o", "json")))
    assert yaml.safe_load(_out(capsys, *_configs("-o", "yaml"))) == report
    query = "nodes.r1[].prefix"
    queried = json.loads(_out(capsys, *_configs("--query", query, "-o", "json")))
    assert queried == jmespath.search(query, report)
    assert queried  # the query selects something


def test_a_view_as_yaml_queried_and_as_a_table_of_the_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = json.loads(_out(capsys, TOPOLOGY, "--learned-routes", "VpnGW", "-o", "json"))
    as_yaml = _out(capsys, TOPOLOGY, "--learned-routes", "VpnGW", "-o", "yaml")
    assert yaml.safe_load(as_yaml) == view
    query = "value[].network"
    got = _out(capsys, TOPOLOGY, "--learned-routes", "VpnGW", "--query", query, "-o", "yaml")
    assert yaml.safe_load(got) == jmespath.search(query, view)
    table = _out(capsys, TOPOLOGY, "--learned-routes", "VpnGW", "--query", query)
    assert set(table.split()) == set(jmespath.search(query, view))


def test_an_invalid_query_is_refused_with_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", *_configs("--query", "nodes[")]) == 2
    err = capsys.readouterr().err
    assert "invalid --query 'nodes['" in err
    assert "Traceback" not in err
