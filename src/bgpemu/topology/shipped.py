"""The reference topologies shipped inside the package, and the one topology resolver.

The repository's ``topologies/`` (with ``topologies/traffic/``) and ``schema/`` ship in
the package as ``bgpemu/_data/topologies`` and ``bgpemu/_data/schema`` (in the source
tree these are links to the one copy at the top of the repository), read with
:mod:`importlib.resources`, so an installed wheel needs no checkout.

:func:`resolve_topology` is the one place a topology argument becomes a file: a path
that exists wins; else the name of a shipped topology (``hub-spoke-transit``, with or
without ``.yaml``, or ``traffic/s6-two-nvas``); else a :class:`ConfigError` that names
every shipped topology.  :func:`bgpemu.topology.load_topology` and
:func:`~bgpemu.topology.validate_file` call it, so every command and the testing API take
either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from bgpemu.errors import ConfigError, ConfigProblem

__all__ = [
    "ShippedTopology",
    "data_root",
    "resolve_topology",
    "shipped_topologies",
    "shipped_topology",
]

_SUFFIX = ".yaml"
_SUBDIRS = ("", "traffic")
"""The folders of ``topologies/`` that hold reference topologies (``golden/`` does not)."""


@dataclass(frozen=True, slots=True)
class ShippedTopology:
    """One reference topology: its name, file and the first sentence of its header."""

    name: str
    """The file's stem (``hub-spoke-transit``); unique across the shipped folders."""
    folder: str
    """``""`` (reference routing topologies) or ``traffic`` (traffic scenarios)."""
    resource: Traversable
    description: str


def data_root() -> Traversable:
    """``bgpemu/_data`` inside the installed package (``topologies/``, ``schema/``)."""
    return resources.files("bgpemu") / "_data"


def describe(text: str) -> str:
    """The one-line description of a topology: its header comment's first paragraph,
    without the ``yaml-language-server`` directive, up to its first ``" ("`` (the
    citation) or sentence end."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        if body.startswith("yaml-language-server:"):
            continue
        if not body:
            if lines:
                break
            continue
        lines.append(body)
    summary = " ".join(lines)
    for stop in (" (", ".  ", ". "):
        cut = summary.find(stop)
        if cut > 0:
            summary = summary[:cut]
    return summary.rstrip(" .;:,")


def shipped_topologies() -> list[ShippedTopology]:
    """Every shipped reference topology, routing ones first, each folder by name."""
    found: list[ShippedTopology] = []
    root = data_root() / "topologies"
    for folder in _SUBDIRS:
        where = root / folder if folder else root
        if not where.is_dir():
            continue
        for entry in sorted(where.iterdir(), key=lambda item: item.name):
            if entry.is_file() and entry.name.endswith(_SUFFIX):
                found.append(
                    ShippedTopology(
                        name=entry.name[: -len(_SUFFIX)],
                        folder=folder,
                        resource=entry,
                        description=describe(entry.read_text(encoding="utf-8")),
                    )
                )
    return found


def shipped_topology(name: str) -> ShippedTopology | None:
    """The shipped topology called ``name`` (``NAME``, ``NAME.yaml``, ``traffic/NAME``)."""
    wanted = name.removesuffix(_SUFFIX)
    for topology in shipped_topologies():
        if wanted in (topology.name, f"{topology.folder}/{topology.name}"):
            return topology
    return None


def resolve_topology(arg: str | os.PathLike[str]) -> Path:
    """The topology file an argument names: an existing path, else a shipped name.

    An argument written as a file (with a folder or an extension) that is neither is
    returned as it is, for the reader to refuse; a bare word that names nothing raises
    :class:`ConfigError` naming the argument and every shipped topology.
    """
    path = Path(arg)
    if path.exists():
        return path
    topology = shipped_topology(os.fspath(arg))
    if topology is not None:
        return Path(str(topology.resource))
    if len(path.parts) > 1 or path.suffix:
        # Written as a file (a folder or an extension): the reader says what is wrong
        # with it ("cannot read the file: No such file or directory").
        return path
    names = ", ".join(t.name for t in shipped_topologies())
    hint = (
        f"give a topology file, or one of the shipped topologies: {names} (bgpemu examples list)"
        if names
        else "give a topology file (this installation ships no reference topology: "
        f"{data_root() / 'topologies'} is missing; reinstall bgpemu)"
    )
    raise ConfigError(
        [
            ConfigProblem(
                file=os.fspath(arg),
                location="",
                message="no such file, and no shipped topology has this name",
                hint=hint,
            )
        ]
    )
