"""Hostile control messages (issue 12): each one is refused with a reason, none raises."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange, replan
from bgpemu.azure.roles import compile_network
from bgpemu.lab.commands import Injection
from bgpemu.lab.control import decode_command, parse_command
from bgpemu.lab.targets import Names
from bgpemu.topology import load_topology
from tests.unit.topology.hostile import expected, hostile_files

HUB_SPOKE = Path(__file__).parents[3] / "topologies" / "hub-spoke-transit.yaml"


@pytest.fixture(scope="module")
def lab() -> tuple[Names, Any]:
    network = load_topology(HUB_SPOKE)
    plan = compile_network(network)

    def planner(new: Network) -> PlanChange:
        return replan(plan, new)

    return Names(network, plan), planner


def _apply(text: str, file: str = "x.yaml") -> dict[str, Any]:
    return {"op": "apply", "args": {"topology": text, "file": file}}


def test_a_recursive_alias_in_apply_is_rejected_with_its_reason(lab: tuple[Names, Any]) -> None:
    names, planner = lab
    assert parse_command(names, _apply("a: &a [*a]", "loop.yaml"), planner=planner) == [
        "loop.yaml:1: alias *a is inside the node &a it refers to (a recursive alias) "
        "(hint: an alias can only repeat a node that ends before it)"
    ]


def test_every_hostile_topology_in_apply_is_rejected_with_its_golden_message(
    lab: tuple[Names, Any], tmp_path: Path
) -> None:
    names, planner = lab
    for path in hostile_files(tmp_path):
        if path.stem in ("not-utf8", "many-nodes"):
            continue  # not text (a JSON string cannot carry it); slow, and shown elsewhere
        text = path.read_text(encoding="utf-8")
        problems = parse_command(names, _apply(text, str(path)), planner=planner)
        if path.stem == "huge-file":
            assert problems == [
                f"{path}: the text is longer than 4,194,304 characters, the most bgpemu reads "
                "(hint: see the limits in docs/topology.md)"
            ]
        else:
            assert problems == [expected(path)], path.name


def test_a_valid_apply_still_plans(lab: tuple[Names, Any]) -> None:
    names, planner = lab
    injection = parse_command(names, _apply(HUB_SPOKE.read_text()), planner=planner)
    assert isinstance(injection, Injection)
    assert injection.describe() == "apply x.yaml: no change"


def test_an_unexpected_error_while_checking_is_a_rejection_logged_once(
    lab: tuple[Names, Any], caplog: pytest.LogCaptureFixture
) -> None:
    names, _ = lab

    def broken(_: Network) -> PlanChange:
        raise RuntimeError("planner bug")

    with caplog.at_level(logging.ERROR, logger="bgpemu.lab.control"):
        problems = parse_command(names, _apply(HUB_SPOKE.read_text()), planner=broken)
    assert problems == ["internal error while checking the command (RuntimeError: planner bug)"]
    (record,) = caplog.records
    assert record.exc_info is not None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000, "control message is nested too deeply"),
        (
            b'{"schema": "bgpemu/v1/control", "args": ' + b"[" * 100_000,
            "control message is nested too deeply",
        ),
        (b"\xff\xfe", "control message is not JSON"),
        (b"{", "control message is not JSON"),
        (b'{"a": ' + b"9" * 5_000 + b"}", "control message is not JSON"),
        (b"[]", "not a bgpemu/v1/control message"),
        (b'{"schema": "bgpemu/v1/state"}', "not a bgpemu/v1/control message"),
        (b" " * (9 * 1024 * 1024), "control message of 9,437,184 bytes; at most"),
    ],
)
def test_decode_command_refuses_what_is_not_a_control_message(raw: bytes, reason: str) -> None:
    refused = decode_command(raw)
    assert isinstance(refused, str)
    assert refused.startswith(reason)


def test_decode_command_returns_the_message() -> None:
    raw = b'{"schema": "bgpemu/v1/control", "id": "r1", "op": "crash", "args": {"node": "A"}}'
    assert decode_command(raw) == {
        "schema": "bgpemu/v1/control",
        "id": "r1",
        "op": "crash",
        "args": {"node": "A"},
    }


async def test_the_control_topic_answers_rejected_to_whatever_it_receives(
    lab: tuple[Names, Any],
) -> None:
    """The lab's control handler (lab.publish) answers every hostile message ``rejected``
    with its reason; before, 100,000 ``[`` or a recursive alias in ``apply`` raised
    RecursionError out of it and took the whole lab down."""
    import json
    from types import SimpleNamespace

    from bgpemu.lab.publish import _Control

    names, planner = lab
    events: list[dict[str, Any]] = []

    class Publisher:
        def event(self, payload: dict[str, Any], topic: str) -> None:
            events.append(payload)

    stub = SimpleNamespace(
        name="hub-spoke-transit", network=names.network, plan=names.plan, plan_change=planner
    )
    control = _Control(stub, Publisher())  # type: ignore[arg-type]
    recursive = {"schema": "bgpemu/v1/control", "id": "r1", **_apply("a: &a [*a]", "loop.yaml")}
    for raw in (b"[" * 100_000, b"\xff", b"[]", json.dumps(recursive).encode()):
        await control.handle(raw)
    assert [(e["event"], e["request"]) for e in events] == [("rejected", None)] * 3 + [
        ("rejected", "r1")
    ]
    assert [e["detail"].split(" (")[0] for e in events] == [
        "control message is nested too deeply",
        "control message is not JSON",
        "not a bgpemu/v1/control message",
        "loop.yaml:1: alias *a is inside the node &a it refers to",
    ]


def test_apply_refuses_key_references_the_lab_would_read_for_a_remote_client(
    lab: tuple[Names, Any],
) -> None:
    """A control client may not make the lab read one of its files (or its environment)
    as a TCP-MD5 key (config/keys.py: references are resolved by ``bgpemu apply``)."""
    names, planner = lab
    text = HUB_SPOKE.read_text().replace(
        "connections:\n",
        "connections:\n  - {type: bgp, a: OnPrem, b: OnPrem2, password: {file: /etc/hostname}}\n",
        1,
    )
    problems = parse_command(names, _apply(text), planner=planner)
    assert isinstance(problems, list)
    assert any("gives its TCP-MD5 keys inline" in p for p in problems), problems


@pytest.mark.parametrize(
    ("failure", "detail"),
    [
        ("converge", "lab worker 1 exited"),
        ("inject", "internal error while serving the command: RuntimeError: boom"),
    ],
)
async def test_a_command_whose_lab_fails_under_it_is_answered_rejected(
    lab: tuple[Names, Any], caplog: pytest.LogCaptureFixture, failure: str, detail: str
) -> None:
    """A worker that dies while a command waits for convergence (LabError: only a
    TimeoutError was caught there), or an unexpected error while carrying a command out,
    raised out of the control handler and ended the lab's publisher with it; the command
    is answered ``rejected`` with the reason (an unexpected error is logged with its
    traceback) and the next command is served."""
    import json
    from types import SimpleNamespace

    from bgpemu.lab.publish import _Control
    from bgpemu.lab.supervisor import LabError
    from bgpemu.observe.payloads import control_payload

    names, planner = lab
    events: list[dict[str, Any]] = []

    class Publisher:
        def event(self, payload: dict[str, Any], topic: str) -> None:
            events.append(payload)

    async def best_paths() -> dict[str, Any]:
        return {}

    async def reset_session(a: str, b: str) -> None:
        if failure == "inject":
            raise RuntimeError("boom")

    async def converged(timeout: float) -> None:
        raise LabError("lab worker 1 exited")

    stub = SimpleNamespace(
        name="hub-spoke-transit",
        network=names.network,
        plan=names.plan,
        plan_change=planner,
        updates_sent=lambda: 0,
        best_paths=best_paths,
        reset_session=reset_session,
        converged=converged,
    )
    control = _Control(stub, Publisher())  # type: ignore[arg-type]
    for request in ("r1", "r2"):
        payload = control_payload(request, "reset", a="HubGW", b="OnPrem")
        await control.handle(json.dumps(payload).encode())
    answers = [(e["request"], e["event"]) for e in events if e["event"] != "injected"]
    assert answers == [("r1", "rejected"), ("r2", "rejected")]
    assert events[-1]["detail"] == detail
    if failure == "inject":
        assert "Traceback" in caplog.text
