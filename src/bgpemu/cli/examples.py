"""``bgpemu examples list|copy``: the reference topologies shipped in the package.

``list`` prints each shipped topology's name, folder and the first sentence of its
header comment (``-o table|json``); ``copy NAME [DIR]`` writes ``NAME.yaml`` into DIR
(default: the current directory) to be edited, and refuses to overwrite a file, naming
it.  Every command that takes a topology also takes these names
(:func:`bgpemu.topology.shipped.resolve_topology`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bgpemu.topology.shipped import ShippedTopology, shipped_topologies, shipped_topology

__all__ = ["TOPOLOGY_HELP", "add_parser"]

TOPOLOGY_HELP = "topology file (YAML), or the name of a shipped one (bgpemu examples list)"
"""The help of every command's TOPOLOGY argument (read by
:func:`bgpemu.topology.shipped.resolve_topology`)."""


def add_parser(commands: Any) -> None:
    """Register ``examples list`` and ``examples copy``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "examples",
        help="list or copy the reference topologies shipped with bgpemu",
        description=(
            "The reference topologies shipped with bgpemu. Every command that takes a "
            "topology file also takes one of these names (bgpemu lab up hub-spoke-transit)."
        ),
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="name and description of every shipped topology")
    listing.add_argument("-o", "--output", choices=["table", "json"], default="table")
    listing.set_defaults(func=_list)
    copy = verbs.add_parser("copy", help="copy a shipped topology into a directory, to edit it")
    copy.add_argument("name", metavar="NAME", help="a name from 'bgpemu examples list'")
    copy.add_argument(
        "directory", metavar="DIR", nargs="?", default=".", help="where (default: here)"
    )
    copy.set_defaults(func=_copy)


def _row(topology: ShippedTopology) -> dict[str, str]:
    return {
        "name": topology.name,
        "folder": topology.folder or "routing",
        "description": topology.description,
    }


def _list(args: argparse.Namespace) -> int:
    from bgpemu.azure.views.render import format_table

    rows = [_row(topology) for topology in shipped_topologies()]
    if args.output == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(
            format_table(
                ["Name", "Folder", "Description"],
                [[row["name"], row["folder"], row["description"]] for row in rows],
            ).rstrip("\n")
        )
    return 0


def _copy(args: argparse.Namespace) -> int:
    topology = shipped_topology(args.name)
    if topology is None:
        names = ", ".join(t.name for t in shipped_topologies())
        print(f"error: no shipped topology {args.name!r}; shipped: {names}", file=sys.stderr)
        return 2
    directory = Path(args.directory)
    if not directory.is_dir():
        print(f"error: {directory} is not a directory", file=sys.stderr)
        return 2
    target = directory / f"{topology.name}.yaml"
    text = topology.resource.read_text(encoding="utf-8")
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(_local_schema(text))
    except FileExistsError:
        print(f"error: {target} exists; not overwritten", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(target)
    return 0


def _local_schema(text: str) -> str:
    """The copy's ``yaml-language-server`` directive points at nothing in DIR: drop it
    (the schema ships with the package: ``schema/topology.schema.json`` in the source)."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith("# yaml-language-server:"):
        return "".join(lines[1:])
    return text
