"""One description of every control op and of every field (bgpemu.lab.operations), used by
the injections' parser and the traffic questions' alike."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.roles import compile_network
from bgpemu.lab import operations
from bgpemu.lab.control import parse_command
from bgpemu.lab.field_checks import BadValueError
from bgpemu.lab.operations import CONTROL, FIELDS, OPS, QUESTIONS, Field, ops_of
from bgpemu.lab.questions import parse_question
from bgpemu.lab.targets import Names
from bgpemu.observe.payloads import CONTROL_OPS
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[3]
LAB = ROOT / "src" / "bgpemu" / "lab"


@pytest.fixture(scope="module")
def names() -> Names:
    network = load_topology(ROOT / "topologies" / "nva-ha-route-server.yaml")
    return Names(network, compile_network(network))


def test_every_control_op_has_one_description() -> None:
    assert ops_of(CONTROL) == CONTROL_OPS
    assert QUESTIONS == ("trace", "next_hop", "ip_flow", "effective_nsg", "reachability")
    assert set(CONTROL_OPS).isdisjoint(QUESTIONS)
    for op in (*CONTROL_OPS, *QUESTIONS):
        spec = OPS[op]
        assert CONTROL in spec.surfaces
        fields = (*spec.required, *spec.optional, *spec.ports, *spec.defaults)
        assert set(fields) <= set(FIELDS), op
        assert len(set(spec.required + spec.optional)) == len(spec.required + spec.optional)


def test_no_other_module_of_the_lab_keeps_a_table_of_ops_or_fields() -> None:
    """The tables commands.py and questions.py each kept (``FIELDS``/``OPS``,
    ``_FIELDS``/``_OPS``/``_PORTS``) are gone: operations.py is the one description."""
    for path in (LAB / "commands.py", LAB / "questions.py", LAB / "control.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            assigned = {t.id for t in targets if isinstance(t, ast.Name)}
            assert assigned.isdisjoint({"FIELDS", "_FIELDS", "OPS", "_OPS", "_PORTS"}), path


def _ask(names: Names, op: str, args: dict[str, Any]) -> list[str]:
    got = (
        parse_question(op, args)
        if op in QUESTIONS
        else parse_command(names, {"op": op, "args": args})
    )
    assert isinstance(got, list), (op, args)
    return got


@pytest.mark.parametrize("op", [*CONTROL_OPS, *QUESTIONS])
def test_every_field_of_a_control_op_is_checked_by_the_shared_code(
    names: Names, op: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each field's check and words come from FIELDS: a check put there refuses the field
    with those words, on the injections' parser and the questions' alike; a required field
    left out is asked for with them."""
    spec = OPS[op]
    usable = [f for f in (*spec.required, *spec.optional) if spec.only.get(f, CONTROL) == CONTROL]
    for name in usable:

        def refuse(value: object) -> object:
            raise BadValueError

        monkeypatch.setitem(FIELDS, name, Field(f"the test's {name}", refuse))
        problems = _ask(names, op, {name: "sent"})
        assert f"args.{name}: must be the test's {name}, not 'sent'" in problems, problems
        if name in spec.required:
            missing = _ask(names, op, {})
            assert f"args.{name}: the test's {name} is required" in missing, missing
        monkeypatch.undo()


def test_the_shared_checker_is_the_only_one() -> None:
    """Both parsers call :func:`bgpemu.lab.operations.check_args` (no second loop over the
    fields): checking it is seen from both."""
    calls: list[str] = []
    original = operations.check_args

    def spy(op: str, *args: Any) -> Any:
        calls.append(op)
        return original(op, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("bgpemu.lab.commands.check_args", spy)
        patch.setattr("bgpemu.lab.questions.check_args", spy)
        parse_question("next_hop", {"source": "VM1"})
        parse_command(Names.__new__(Names), {"op": "crash", "args": {"node": 3}})
    assert calls == ["next_hop", "crash"]
