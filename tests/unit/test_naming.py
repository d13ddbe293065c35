"""The naming rules of ``docs/contributing.md``.

Code says ``neighbor``, prose "neighbour": every identifier in bgpemu's Python (src,
tests, bench, fuzz, examples: modules, classes, functions, parameters, variables,
attributes, keyword arguments, imported names, also inside f-strings) and every property
name of the MQTT and topology JSON schemas is spelled ``neighbor``; docstrings, comments,
messages and schema descriptions are prose and may say "neighbour".

No two modules of ``bgpemu`` share a file name, except the repetitions the page lists as
the pattern (a package's ``errors.py``, the MQTT broker's namespace, one concept seen
from two layers): :data:`REPEATED` holds them, and each is written on that page.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TREES = ("src", "tests", "bench", "fuzz", "examples")
PROSE_SPELLING = "neighbour"
PACKAGE = ROOT / "src" / "bgpemu"
CONTRIBUTING = ROOT / "docs" / "contributing.md"

PER_PACKAGE = frozenset({"errors.py"})
"""File names any package may have its own of: ``errors.py``, the package's errors."""

REPEATED = frozenset(
    {
        # the MQTT broker's namespace: MQTT's names, independent of every BGP package
        frozenset({"mqttbroker/codec/framing.py", "wire/framing.py"}),
        frozenset({"mqttbroker/codec/reader.py", "session/reader.py"}),
        frozenset({"mqttbroker/timers.py", "session/timers.py"}),
        frozenset({"mqttbroker/topics.py", "observe/topics.py"}),
        # one concept seen from two layers
        frozenset({"config/speaker.py", "runtime/speaker.py", "cli/speaker.py"}),
        frozenset({"session/config.py", "router/config.py"}),
        frozenset({"cli/diff.py", "testing/diff.py"}),
        frozenset({"rib/aspath.py", "policy/aspath.py"}),
        frozenset({"cli/lab.py", "testing/lab.py"}),
        frozenset({"lab/control.py", "observe/mqtt/control.py"}),
        frozenset({"azure/roles/vwan.py", "topology/checks/vwan.py"}),
        frozenset({"azure/security.py", "topology/security.py", "topology/checks/security.py"}),
        frozenset({"cli/traffic.py", "lab/traffic.py", "testing/traffic.py", "web/traffic.py"}),
        frozenset({"azure/graph.py", "cli/graph.py"}),
        frozenset({"observe/tables.py", "web/tables.py"}),
        frozenset({"mqttbroker/access.py", "web/access.py"}),
        frozenset({"mqttbroker/server.py", "web/server.py"}),
        frozenset({"lab/protocol.py", "web/protocol.py"}),
        frozenset(
            {"azure/traffic/firewall.py", "topology/firewall.py", "topology/checks/firewall.py"}
        ),
    }
)
"""The modules (relative to ``src/bgpemu``) that may share a file name, each set whole."""


def _identifiers(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, name) of every name the code defines or uses."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.arg | ast.keyword) and node.arg is not None:
            yield line, node.arg
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.alias):
            yield line, node.name
            if node.asname:
                yield line, node.asname
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield line, node.module


def _python_files() -> Iterator[Path]:
    for tree in TREES:
        yield from sorted((ROOT / tree).rglob("*.py"))


def _schema_keys(document: Any) -> Iterator[str]:
    """Every property name a JSON Schema defines (``properties`` keys, at any depth)."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            yield from _schema_keys(value)
    elif isinstance(document, list):
        for item in document:
            yield from _schema_keys(item)


def test_python_identifiers_say_neighbor() -> None:
    found = []
    for path in _python_files():
        relative = path.relative_to(ROOT)
        if PROSE_SPELLING in path.name:
            found.append(f"{relative}: file name")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
        found.extend(
            f"{relative}:{line}: {name}"
            for line, name in _identifiers(tree)
            if PROSE_SPELLING in name.lower()
        )
    assert found == [], "identifiers say 'neighbor' (docs/contributing.md):\n" + "\n".join(found)


def test_schema_fields_say_neighbor() -> None:
    schemas = sorted((ROOT / "schema").rglob("*.json"))
    assert schemas, "no JSON schema found under schema/"
    found = [
        f"{path.relative_to(ROOT)}: {key}"
        for path in schemas
        for key in _schema_keys(json.loads(path.read_text(encoding="utf-8")))
        if PROSE_SPELLING in key.lower()
    ]
    assert found == []


def test_the_check_sees_names_in_every_position() -> None:
    """The walker finds a definition, parameter, attribute, keyword, import and f-string use."""
    source = (
        "from m.neighbour_a import neighbour_b as neighbour_c\n"
        "def neighbour_d(neighbour_e): return x.neighbour_f(neighbour_g=1)\n"
        "y = f'{neighbour_h}'\n"
    )
    names = {name for _, name in _identifiers(ast.parse(source))}
    assert {"m.neighbour_a"} | {f"neighbour_{suffix}" for suffix in "bcdefgh"} <= names


def repeated_names(modules: Iterable[str]) -> dict[str, frozenset[str]]:
    """File name -> the modules that have it, for every name two or more modules share.

    ``modules`` are paths relative to the package; Python's own names (``__init__.py``,
    ``__main__.py``) are left out.
    """
    by_name: dict[str, set[str]] = {}
    for module in modules:
        name = module.rsplit("/", 1)[-1]
        if not (name.startswith("__") and name.endswith("__.py")):
            by_name.setdefault(name, set()).add(module)
    return {name: frozenset(group) for name, group in by_name.items() if len(group) > 1}


def collisions(modules: Iterable[str]) -> list[str]:
    """A line per file name shared by modules that :data:`REPEATED` does not list."""
    return [
        f"{name}: {', '.join(sorted(group))}"
        for name, group in sorted(repeated_names(modules).items())
        if name not in PER_PACKAGE and group not in REPEATED
    ]


def _modules() -> list[str]:
    return [path.relative_to(PACKAGE).as_posix() for path in sorted(PACKAGE.rglob("*.py"))]


def test_no_two_modules_share_a_name() -> None:
    found = collisions(_modules())
    assert found == [], (
        "modules share a file name (rename one after what it holds, or list the pair in "
        "docs/contributing.md and REPEATED):\n" + "\n".join(found)
    )


def test_every_allowed_repetition_exists_and_is_documented() -> None:
    """No stale entry: each set of :data:`REPEATED` is a name the modules share today,
    and ``docs/contributing.md`` names each of its modules."""
    present = set(repeated_names(_modules()).values())
    page = CONTRIBUTING.read_text(encoding="utf-8")
    assert [sorted(group) for group in REPEATED if group not in present] == []
    assert sorted(m for group in REPEATED for m in group if f"`{m}`" not in page) == []
    assert all(f"`{name}`" in page for name in PER_PACKAGE)


def test_the_check_sees_a_repeated_name() -> None:
    """A new name clash is found, and so is a third module joining an allowed pair;
    per-package names and Python's own are not clashes."""
    modules = [
        "a/__init__.py",
        "b/__init__.py",
        "a/errors.py",
        "b/errors.py",
        "a/report.py",
        "b/c/report.py",
        "mqttbroker/topics.py",
        "observe/topics.py",
        "mqttbroker/timers.py",
        "session/timers.py",
        "router/timers.py",
    ]
    assert collisions(modules) == [
        "report.py: a/report.py, b/c/report.py",
        "timers.py: mqttbroker/timers.py, router/timers.py, session/timers.py",
    ]
