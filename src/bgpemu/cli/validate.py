"""``bgpemu validate TOPOLOGY``: check a topology file; every problem at once, exit 2 on error."""

from __future__ import annotations

import argparse
from typing import Any

from bgpemu.cli._problems import refuse
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import ConfigError
from bgpemu.text import counted
from bgpemu.topology import load_topology

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "validate",
        help="check a topology file and report every problem",
        description=(
            "Load and check a topology file: YAML syntax, fields, references between nodes, "
            "address overlaps, reserved ASNs and Azure's rules. Every problem is reported "
            "with its file, line, dotted path, reason and hint; exit status 2 if any."
        ),
    )
    parser.add_argument("topology", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print ``ok`` and a summary, or every problem and exit 2."""
    try:
        network = load_topology(args.topology)
    except ConfigError as exc:
        return refuse(exc.problems)
    print(
        f"{args.topology}: ok ({network.name}: {counted(len(network.nodes), 'node')}, "
        f"{counted(len(network.connections), 'connection')})"
    )
    return 0
