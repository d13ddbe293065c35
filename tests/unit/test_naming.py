"""The naming rule of ``docs/contributing.md``: code says ``neighbor``, prose "neighbour".

Every identifier in bgpemu's Python (src, tests, bench, fuzz, examples: modules, classes,
functions, parameters, variables, attributes, keyword arguments, imported names, also
inside f-strings) and every property name of the MQTT and topology JSON schemas is
spelled ``neighbor``; docstrings, comments, messages and schema descriptions are prose
and may say "neighbour".
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TREES = ("src", "tests", "bench", "fuzz", "examples")
PROSE_SPELLING = "neighbour"


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
