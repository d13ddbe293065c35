"""No module of bgpemu.session reaches into another object's underscored members.

The transition handlers work on :class:`bgpemu.session.machine.Machine` through its
public, documented members; :class:`~bgpemu.session.fsm.Session` keeps its machine
private.  A ``x._name`` access where ``x`` is not ``self`` or ``cls`` is a reach into
another object's internals (issue 13 item 8: the handlers used 56 of them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import bgpemu.session

SESSION_DIR = Path(bgpemu.session.__file__).parent


def _private_reaches(source: str) -> list[tuple[int, str]]:
    """(line, expression) of every ``x._name`` with ``x`` other than self/cls."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
            continue
        found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_detector_sees_a_reach_and_spares_self() -> None:
    source = "def f(s):\n    s._state = 1\n    self._ok = 2\n    return s.__class__\n"
    assert _private_reaches(source) == [(2, "s._state")]


def test_no_session_module_touches_private_members_of_another_object() -> None:
    modules = sorted(SESSION_DIR.glob("*.py"))
    assert len(modules) > 5
    reaches = {
        path.name: hits
        for path in modules
        if (hits := _private_reaches(path.read_text(encoding="utf-8")))
    }
    assert reaches == {}
