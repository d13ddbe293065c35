"""``bgpemu solve``: converge a topology in the in-memory fabric and print every Loc-RIB.

The fabric runs the same Router and session code as the TCP runtime, in virtual time,
so the answer is what the speakers would converge to, in milliseconds and identically
run after run.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bgpemu.cli._configs import load_all
from bgpemu.fabric import Fabric

__all__ = ["add_parser", "render_table", "run"]


def add_parser(commands: Any) -> None:
    """Register the ``solve`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "solve",
        help="converge speakers in virtual time and print their Loc-RIBs",
        description=(
            "Wire the speakers of the given config files together (a neighbour address that "
            "is another speaker's listen address is a link), converge them in the in-memory "
            "fabric, and print every node's Loc-RIB: best path, ECMP paths and the reason "
            "the best path won."
        ),
    )
    parser.add_argument(
        "--config", action="append", required=True, metavar="FILE", help="speaker config (YAML)"
    )
    parser.add_argument("-o", "--output", choices=["json", "table"], default="table")
    parser.add_argument("--seed", type=int, default=0, help="seed of the timers' jitter")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load every config (all errors first), converge, print."""
    specs = load_all(args.config)
    if specs is None:
        return 2
    fabric = Fabric(specs, seed=args.seed)
    elapsed = fabric.run_until_idle()
    tables = fabric.tables()
    if args.output == "json":
        print(json.dumps({"converged_after_s": elapsed, "nodes": tables}, indent=2))
    else:
        print(render_table(tables))
        print(f"\nconverged after {elapsed:.3f} s of virtual time")
    return 0


def _as_path(best: dict[str, Any]) -> str:
    return " ".join(str(asn) for asn in best.get("as_path", [])) or "(local)"


def render_table(tables: dict[str, list[dict[str, Any]]]) -> str:
    """One line per node and prefix: next hop(s), AS path, and why the best path won."""
    header = ("NODE", "PREFIX", "NEXT HOP", "AS PATH", "FROM", "ECMP", "REASON")
    rows: list[tuple[str, ...]] = [header]
    for node in sorted(tables):
        for entry in tables[node]:
            best = entry["best"]
            rows.append(
                (
                    node,
                    entry["prefix"],
                    best.get("next_hop") or "-",
                    _as_path(best),
                    best.get("peer") or "local",
                    str(len(entry.get("multipath", [])) or 1),
                    str(entry.get("reason", "")),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
