"""A lab name is taken by one running lab at a time (issue 12, item 6): state files,
the version that only moves when routing does, and how observers show a stopped lab."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bgpemu.cli._observe_watch import _state_line
from bgpemu.lab.convergence import PeerCounters, SpeakerReport
from bgpemu.lab.state_files import claim_state, read_state, remove_state, write_state
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.payloads import lab_state_payload
from bgpemu.topology import load_topology

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGPEMU_STATE_DIR", str(tmp_path / "state"))


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_name_in_use_is_refused_with_the_running_labs_state() -> None:
    mine = {"name": "demo", "id": "a", "pid": os.getpid(), "mqtt": "mqtt://h:1883"}
    assert claim_state("demo", mine) is None
    assert claim_state("demo", {"name": "demo", "id": "b", "pid": os.getpid()}) == mine
    assert [s["id"] for s in read_state("demo")] == ["a"]


def test_a_dead_labs_name_is_taken_over() -> None:
    write_state("demo", {"name": "demo", "id": "dead", "pid": _dead_pid()})
    assert claim_state("demo", {"name": "demo", "id": "new", "pid": os.getpid()}) is None
    assert [s["id"] for s in read_state("demo")] == ["new"]


def test_a_lab_removes_only_its_own_state() -> None:
    assert claim_state("demo", {"name": "demo", "id": "a", "pid": os.getpid()}) is None
    remove_state("demo", "b")
    assert [s["id"] for s in read_state("demo")] == ["a"]
    remove_state("demo", "a")
    assert read_state("demo") == []


def _report(state: str, sent: int = 0) -> SpeakerReport:
    return SpeakerReport(
        name="HubGW",
        peers={"OnPrem": PeerCounters(state=state, updates_sent=sent, updates_received=0)},
        busy=False,
        updates_sent_total=sent,
        best_routes=1,
    )


def test_the_version_moves_with_routing_not_with_every_redial() -> None:
    """A neighbour that stays unreachable flips between Connect and Active at every
    retry: the lab's version (what makes it recompute and republish) stays put."""
    lab = TcpLab(load_topology(TOPOLOGIES / "hub-spoke-transit.yaml"))
    lab._store({"HubGW": _report("Active")})
    version = lab.version
    lab._store({"HubGW": _report("Connect")})
    lab._store({"HubGW": _report("Active")})
    assert lab.version == version
    lab._store({"HubGW": _report("Established")})
    assert lab.version == version + 1
    lab._store({"HubGW": _report("Established", sent=2)})
    assert lab.version == version + 2


@pytest.mark.parametrize(
    ("status", "line"),
    [
        ("stopped", "lab demo: stopped"),
        ("offline", "lab demo: offline (gone without stopping: killed, or its host lost)"),
        ("running", "lab demo: converged in 0.5 s, 1 speaker, 1/1 session Established"),
    ],
)
def test_watch_says_when_a_lab_has_stopped(status: str, line: str) -> None:
    doc = lab_state_payload(
        "demo",
        converged=status == "running",
        nodes=["a"],
        convergence_time=0.5,
        sessions_established=1,
        sessions_expected=1,
        status=status,
    )
    assert _state_line(doc) == line


@pytest.mark.parametrize(
    "text",
    ['["not", "a", "mapping"]', '{"pid": "many"}', '{"pid": 99999999999999999999}', '"x"'],
)
def test_a_state_file_that_is_not_a_labs_is_passed_over(text: str) -> None:
    """A state file of another shape (hand-edited, another program's) made read_state
    raise AttributeError, ValueError or OverflowError out of every lab and observer
    command that lists the labs; it is passed over like an unreadable one."""
    mine = {"name": "demo", "id": "a", "pid": os.getpid()}
    write_state("demo", mine)
    (Path(os.environ["BGPEMU_STATE_DIR"]) / "other.json").write_text(text)
    assert read_state() == [mine]
    assert read_state("other") == []


def test_a_state_file_nested_too_deeply_is_passed_over() -> None:
    """json.loads raised RecursionError (not ValueError) out of read_state."""
    mine = {"name": "demo", "id": "a", "pid": os.getpid()}
    write_state("demo", mine)
    (Path(os.environ["BGPEMU_STATE_DIR"]) / "deep.json").write_text("[" * 100_000)
    assert read_state() == [mine]
    remove_state("deep", "some-id")  # its id cannot be read: left alone, no error
