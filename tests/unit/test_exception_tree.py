"""The exception tree: one root, and a docstring in ``bgpemu.errors`` that cannot go stale.

Every public exception class defined in a ``bgpemu.*`` module derives from
:class:`~bgpemu.errors.BgpEmuError`, so a caller can catch everything bgpemu raises on
purpose with one clause; and the tree drawn in the docstring of ``bgpemu.errors`` is
checked against the classes themselves (each class drawn under its bgpemu parent, each
other base named on its line as "also X", no class missing or left over).  Private exceptions
(a leading underscore) are control flow inside one module and are not part of the tree.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass

import pytest

import bgpemu
from bgpemu import errors
from bgpemu.errors import BgpEmuError

_BRANCH = re.compile(r"^(?P<indent>(?:│   |    )*)(?P<glyph>├── |└── )(?P<name>[A-Za-z]\w*)\b")


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every public exception class defined in a ``bgpemu.*`` module, by name."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(bgpemu.__path__, "bgpemu."):
        if info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                assert found.get(name, value) is value, f"two exception classes named {name}"
                found[name] = value
    return found


@dataclass(frozen=True)
class _Drawn:
    name: str
    parent: str | None
    text: str


def _drawn_tree() -> list[_Drawn]:
    """The classes drawn in the ``Hierarchy::`` block of the docstring, with their parent."""
    doc = errors.__doc__ or ""
    block = doc.split("Hierarchy::", 1)[1].strip("\n").split("\n\n", 1)[0]
    lines = [line[4:] for line in block.splitlines()]  # less the block's indentation
    root = lines[0].split()[0]
    drawn: list[_Drawn] = [_Drawn(root, None, lines[0])]
    parents = [root]
    for line in lines[1:]:
        match = _BRANCH.match(line)
        if match is None:  # a description continued from the line above
            last = drawn[-1]
            drawn[-1] = _Drawn(last.name, last.parent, f"{last.text} {line.strip(' │')}")
            continue
        depth = len(match.group("indent")) // 4 + 1
        del parents[depth:]
        drawn.append(_Drawn(match.group("name"), parents[-1], line))
        parents.append(match.group("name"))
    return drawn


CLASSES = _exception_classes()
DRAWN = _drawn_tree()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_exception_derives_from_the_root(name: str) -> None:
    assert issubclass(CLASSES[name], BgpEmuError), (
        f"{CLASSES[name].__module__}.{name} does not derive from bgpemu.errors.BgpEmuError"
    )


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_exception_is_drawn_under_its_parent(name: str) -> None:
    cls = CLASSES[name]
    lines = [d for d in DRAWN if d.name == name]
    where = f"{name} ({cls.__module__})"
    assert len(lines) == 1, f"{where} is drawn {len(lines)} times in bgpemu.errors"
    (line,) = lines
    ours = [b.__name__ for b in cls.__bases__ if b.__module__.startswith("bgpemu.")]
    foreign = [b.__name__ for b in cls.__bases__ if not b.__module__.startswith("bgpemu.")]
    if cls is BgpEmuError:
        assert line.parent is None
        return
    assert line.parent == ours[0], f"{name} is drawn under {line.parent}, derives from {ours}"
    for base in ours[1:] + foreign:
        assert f"also {base}" in line.text, f"the line of {name} does not say 'also {base}'"


def test_no_drawn_class_is_left_over() -> None:
    assert sorted(d.name for d in DRAWN if d.name not in CLASSES) == []


def test_the_walk_finds_the_tree() -> None:
    """The walk sees classes of every layer (not only bgpemu.errors), so the checks above
    cannot pass on an empty or partial walk."""
    modules = {cls.__module__.split(".")[1] for cls in CLASSES.values()}
    assert {"errors", "wire", "observe", "lab", "cli", "azure", "runtime"} <= modules
