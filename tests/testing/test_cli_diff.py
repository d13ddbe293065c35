"""``bgpemu diff TOPOLOGY --change CHANGE.yaml``: the what-if diff, and bad change files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.cli import main
from tests.testing.helpers import TOPOLOGIES

ER_VPN = str(TOPOLOGIES / "er-vpn-backup.yaml")


def _change(tmp_path: Path, text: str) -> str:
    path = tmp_path / "change.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_what_if_private_peering_down_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = _change(tmp_path, "- {er_private_peering_down: Circuit}\n")
    assert main(["diff", ER_VPN, "--change", change]) == 0
    out = capsys.readouterr().out
    assert out.startswith("er_private_peering_down Circuit: converged after ")
    assert (
        "effective routes Hub/Workload 10.1.11.0/25: 192.168.11.18 (VirtualNetworkGateway), "
        "192.168.11.22 (VirtualNetworkGateway) -> 10.17.11.76 (VirtualNetworkGateway), "
        "10.17.11.77 (VirtualNetworkGateway)"
    ) in out
    assert "node Firewall 10.17.11.0/25: 192.168.11.18 as-path 12076 (best, from CE) -> " in out


def test_what_if_json_steps_and_a_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = _change(
        tmp_path,
        "- {crash: Firewall}\n"
        "- {restart: Firewall}\n"
        "- {announce: {node: CE, prefix: 10.9.0.0/16, as_path_prepend: 1}}\n",
    )
    assert main(["diff", ER_VPN, "--change", change, "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["op"] for s in doc["steps"]] == ["crash", "restart", "announce"]
    assert doc["steps"][0]["converged_after_s"] > 100  # a silent crash: the hold timer
    assert {c["prefix"] for c in doc["changes"]} == {"10.9.0.0/16"}  # the crash came back
    vpn = [c for c in doc["changes"] if c["kind"] == "learnedRoutes" and c["where"] == "VpnGW"]
    assert vpn[0]["old"] == []
    assert vpn[0]["new"][0]["as_path"] == "12076-65020-65020"


def test_bad_change_file_lists_every_problem_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = _change(
        tmp_path,
        "- {fail_link: [CE, Nope]}\n"
        "- {crash: 3}\n"
        "- {announce: {node: CE, prefix: 10.1.2.3/8}}\n"
        "- {instance_down: [VpnGW, 5]}\n"
        "- {frobnicate: x}\n"
        "- {fail_link: {a: CE, b: Firewall, silnt: true}}\n"
        "- just text\n",
    )
    assert main(["diff", ER_VPN, "--change", change]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"error: {change}:1: [0] fail_link: b: no node or speaker 'Nope'")
    assert lines[1] == f"error: {change}:2: [1] crash: node: must be a node or speaker name, not 3"
    assert "[2] announce: prefix: '10.1.2.3/8' is not an IP prefix" in lines[2]
    assert "[3] instance_down: 'VpnGW' has instances 0 and 1, not 5" in lines[3]
    assert "[4] frobnicate: unknown operation" in lines[4]
    assert "[5] fail_link: unknown field(s) silnt (fail_link: a, b, silent)" in lines[5]
    assert f"{change}:7: [6]: one operation per item" in lines[6]
    assert lines[-1] == "7 problems found; nothing was run."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- {restore_link: [CE, Firewall]}\n",
            ":1: [0] restore_link: the link CE-Firewall is not down",
        ),
        ("[unclosed\n", "not valid YAML"),
        ("{crash: CE}\n", "a change file is a non-empty list"),
    ],
)
def test_change_file_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    assert main(["diff", ER_VPN, "--change", _change(tmp_path, text)]) == 2
    assert message in capsys.readouterr().err


def test_missing_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", ER_VPN, "--change", str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "none.yaml"), "--change", str(tmp_path / "x")]) == 2
    assert "nothing was run" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{announce: {node: CE, prefix: 10.9.0.0/16, med: x}}",
            "[0] announce: med: must be an integer 0..4294967295 (RFC 4271 §4.3), not 'x'",
        ),
        (
            "{announce: {node: CE, prefix: 10.9.0.0/16, communities: '65000:1'}}",
            "[0] announce: communities: must be a list of communities",
        ),
        (
            "{announce: {node: CE, prefix: 10.9.0.0/16, communities: ['65000:x']}}",
            "[0] announce: communities: not a community",
        ),
        ("{advance: .inf}", "[0] advance: seconds: must be a number of seconds 0..86400"),
        ("{advance: .nan}", "[0] advance: seconds: must be a number of seconds 0..86400"),
        ("{advance: 1.0e+9}", "[0] advance: seconds: must be a number of seconds 0..86400"),
    ],
)
def test_a_value_the_lab_cannot_use_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, message: str
) -> None:
    """A MED that is no integer made the fabric fail to converge (exit 1 after an hour of
    virtual time), a community list given as one string failed only after the first
    convergence, and ``advance: .inf`` never returned: each is a problem of the file."""
    change = _change(tmp_path, f"- {step}\n")
    assert main(["diff", ER_VPN, "--change", change]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"error: {change}:1: {message}" in captured.err
    assert captured.err.endswith("1 problem found; nothing was run.\n")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{apply: {topology: x}}",
            "[0] apply: apply is an operation of the control topic (bgpemu fail|restore|reset|"
            "announce|withdraw|prepend|apply), not of change files (bgpemu diff --change)",
        ),
        ("{reset: [VpnGW, Firewall]}", "here it is reset_session"),
    ],
)
def test_an_operation_of_the_control_topic_only_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], step: str, message: str
) -> None:
    change = _change(tmp_path, f"- {step}\n")
    assert main(["diff", ER_VPN, "--change", change]) == 2
    assert message in capsys.readouterr().err
