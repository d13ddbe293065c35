"""``bgpemu apply``: what it sends to the lab (the sending itself is tested against a
running lab in tests/lab/test_topology_change.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from bgpemu.cli import inject, main
from bgpemu.topology import parse_topology
from tests.unit.topology.test_tcp_md5 import SECRET, _text

HUB_SPOKE = Path(__file__).parents[2] / "topologies" / "hub-spoke-transit.yaml"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The control arguments ``apply`` would send, instead of sending them."""
    commands: list[dict[str, Any]] = []

    def capture(args: argparse.Namespace, command_args: dict[str, Any]) -> int:
        commands.append(command_args)
        return 0

    monkeypatch.setattr(inject, "_send", capture)
    return commands


def test_a_file_without_key_references_is_sent_as_written(sent: list[dict[str, Any]]) -> None:
    assert main(["apply", str(HUB_SPOKE)]) == 0
    assert sent == [{"topology": HUB_SPOKE.read_text(), "file": "hub-spoke-transit.yaml"}]


def test_key_references_are_resolved_here_and_sent_inline(
    sent: list[dict[str, Any]], tmp_path: Path
) -> None:
    (tmp_path / "circuit.key").write_text(SECRET + "\n")
    topology = tmp_path / "md5.yaml"
    topology.write_text(_text(circuit_key="sharedKey: {file: circuit.key}"))
    assert main(["apply", str(topology)]) == 0
    (command,) = sent
    assert "circuit.key" not in command["topology"]
    assert parse_topology(command["topology"]) == parse_topology(
        _text(circuit_key=f'sharedKey: "{SECRET}"')
    )


def test_an_invalid_file_sends_nothing(
    sent: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnodes:\n  a: {role: router}\n")
    assert main(["apply", str(bad)]) == 2
    assert sent == []
    assert "nothing was sent" in capsys.readouterr().err
