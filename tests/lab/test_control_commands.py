"""One parser of operations (bgpemu.lab.commands) for the control topic and change files:
the same operation gets the same verdict, worded the same way, on both surfaces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.roles import compile_network
from bgpemu.lab.commands import CHANGES, CONTROL, ops_of
from bgpemu.lab.control import parse_command
from bgpemu.lab.targets import Names
from bgpemu.observe.payloads import CONTROL_OPS
from bgpemu.testing.changes import Step, parse_changes
from bgpemu.topology import load_topology
from bgpemu.topology.edit import EDIT_OPS

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


@pytest.fixture(scope="module")
def names() -> Names:
    network = load_topology(TOPOLOGIES / "nva-ha-route-server.yaml")
    return Names(network, compile_network(network))


def _in_file(names: Names, op: str, args: dict[str, Any]) -> list[str] | list[Step]:
    """``args`` of ``op`` as the one item of a change file (JSON is YAML)."""
    return parse_changes(f"- {json.dumps({op: args})}\n", "c.yaml", names)


def test_the_control_topic_offers_the_ops_of_its_schema() -> None:
    assert ops_of(CONTROL) == CONTROL_OPS
    files = ops_of(CHANGES)
    assert files[-len(EDIT_OPS) :] == EDIT_OPS
    assert {"reset", "apply"}.isdisjoint(files)
    assert {"prepend", "reset_session", "instance_down", "advance"} <= set(files)


_NOT_A_PREFIX = "'10.0.0.1/8' is not an IP prefix (address/length, host bits zero)"
_PREFIX = "10.9.0.0/16"


@pytest.mark.parametrize(
    ("op", "args", "field", "message"),
    [
        ("crash", {"node": 3}, "node", "must be a node or speaker name, not 3"),
        ("crash", {}, "node", "a node or speaker name is required"),
        (
            "fail_link",
            {"a": "nva1", "b": "ars", "silent": "yes"},
            "silent",
            "must be true or false, not 'yes'",
        ),
        ("announce", {"node": "nva1", "prefix": "10.0.0.1/8"}, "prefix", _NOT_A_PREFIX),
        (
            "announce",
            {"node": "nva1", "prefix": _PREFIX, "as_path_prepend": 256},
            "as_path_prepend",
            "must be an integer 0..255, not 256",
        ),
        (
            "prepend",
            {"node": "nva1", "peer": "ars", "count": True},
            "count",
            "must be an integer 0..255, not True",
        ),
        ("withdraw", {"node": "x" * 10_000, "prefix": _PREFIX}, "node", "no node or speaker 'x"),
    ],
)
def test_a_bad_field_reads_the_same_on_both_surfaces(
    names: Names, op: str, args: dict[str, Any], field: str, message: str
) -> None:
    command = parse_command(names, {"op": op, "args": args})
    in_file = _in_file(names, op, args)
    assert isinstance(command, list)
    assert len(command) == 1
    assert command[0].startswith(f"args.{field}: {message}")
    text = command[0].removeprefix(f"args.{field}: ")
    assert in_file == [f"c.yaml:1: [0] {op}: {field}: {text}"]


def test_no_session_between_two_nodes_reads_the_same_on_both_surfaces(names: Names) -> None:
    args = {"node": "nva1", "peer": "nva2", "count": 1}
    message = (
        "no BGP session between 'nva1' and 'nva2' in topology 'nva-ha-route-server' "
        "(nva1 has sessions with: ars.0, ars.1)"
    )
    assert parse_command(names, {"op": "prepend", "args": args}) == [f"args: {message}"]
    assert _in_file(names, "prepend", args) == [f"c.yaml:1: [0] prepend: {message}"]


def test_every_problem_of_an_operation_is_reported_at_once(names: Names) -> None:
    args = {"node": "Nope", "prefix": "10.0.0.0/33", "x": 1, "med": 5}
    problems = parse_command(names, {"op": "announce", "args": args})
    assert isinstance(problems, list)
    assert problems[0] == "args: unknown field(s) x (announce: node, prefix, as_path_prepend)"
    assert problems[1] == (
        "args.med: is a field of announce in change files (bgpemu diff --change) only"
    )
    assert problems[2] == f"args.prefix: {_NOT_A_PREFIX.replace('10.0.0.1/8', '10.0.0.0/33')}"
    assert problems[3].startswith("args.node: no node or speaker 'Nope'")
    assert len(problems) == 4  # fmt: skip


@pytest.mark.parametrize(
    ("op", "args"),
    [
        ("er_private_peering_down", {"circuit": "Circuit"}),
        ("advance", {"seconds": 1}),
        ("add_node", {"name": "Spoke9", "role": "vnet"}),
    ],
)
def test_an_op_of_change_files_only_is_refused_on_the_control_topic_naming_them(
    names: Names, op: str, args: dict[str, Any]
) -> None:
    assert parse_command(names, {"op": op, "args": args}) == [
        f"op: {op} is an operation of change files (bgpemu diff --change), not of the "
        "control topic (bgpemu fail|restore|reset|announce|withdraw|prepend|apply)"
    ]


def test_the_two_names_of_a_reset_point_to_each_other(names: Names) -> None:
    problems = parse_command(names, {"op": "reset_session", "args": {"a": "nva1", "b": "ars"}})
    assert isinstance(problems, list)
    (problem,) = problems
    assert problem.startswith("op: reset_session is an operation of change files")
    assert problem.endswith("; here it is reset")
    (line,) = _in_file(names, "reset", {"a": "nva1", "b": "ars"})
    assert isinstance(line, str)
    assert line.startswith("c.yaml:1: [0] reset: reset is an operation of the control topic")
    assert line.endswith("; here it is reset_session")


def test_both_surfaces_resolve_an_operation_to_the_same_speakers(names: Names) -> None:
    args = {"node": "nva1", "peer": "ars", "count": 3}
    command = parse_command(names, {"op": "prepend", "args": args})
    (step,) = _in_file(names, "prepend", args)
    assert isinstance(step, Step)
    assert step.injection == command
    assert step.injection.pairs == (("nva1", "ars.0"), ("nva1", "ars.1"))
    assert step.args == args
    assert step.describe() == "prepend nva1 ars 3"


def test_a_change_file_keeps_its_arguments_in_the_order_given(names: Names) -> None:
    """``bgpemu diff -o json`` echoes each step's arguments as the file gives them."""
    (step,) = parse_changes("- {announce: {prefix: 10.9.0.0/16, node: nva1}}\n", "c", names)
    assert isinstance(step, Step)
    assert list(step.args) == ["prefix", "node"]


@pytest.mark.parametrize(
    ("op", "args"),
    [
        ("restore_link", {"a": "nva1", "b": "ars", "silent": False}),
        ("reset", {"a": "nva1", "b": "ars", "silent": True}),
        ("withdraw", {"node": "nva1", "prefix": "10.9.0.0/16", "as_path_prepend": 0}),
    ],
)
def test_the_control_topic_takes_every_field_its_schema_lists_for_an_op(
    names: Names, op: str, args: dict[str, Any]
) -> None:
    """schema/mqtt/control.json: "fail_link/restore_link/reset: a, b, silent",
    "announce/withdraw: node, prefix, as_path_prepend"; a client following it is served."""
    assert not isinstance(parse_command(names, {"op": op, "args": args}), list)


def test_a_field_of_another_op_is_refused(names: Names) -> None:
    command = {"op": "crash", "args": {"node": "nva1", "prefix": "10.9.0.0/16"}}
    assert parse_command(names, command) == ["args: unknown field(s) prefix (crash: node)"]
