"""``bgpemu graph TOPOLOGY -o dot|mermaid|svg|png``: a picture of a topology, not run.

The graph is :func:`bgpemu.azure.graph.topology_graph` of the loaded topology and its
compiled plan; dot and mermaid are text, svg and png are dot piped through Graphviz's
``dot`` (Debian package ``graphviz``), exit 2 with that hint when it is not installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from typing import Any

from bgpemu.azure.graph import topology_graph
from bgpemu.azure.graph_render import render_dot, render_mermaid
from bgpemu.azure.roles import CompileError, compile_network
from bgpemu.cli._problems import refuse
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import ConfigError
from bgpemu.topology import load_topology

__all__ = ["add_parser", "run"]

GRAPHVIZ_MISSING = (
    "-o {fmt} needs Graphviz's 'dot' program, which is not on PATH: install it (Debian/Ubuntu: "
    "apt-get install graphviz), or use -o dot or -o mermaid"
)

GRAPHVIZ_TIMEOUT = 120.0
"""Seconds Graphviz may take to lay a picture out (vWAN 2 x 50 x 200: under 0.1 s)."""


def add_parser(commands: Any) -> None:
    """Register the ``graph`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "graph",
        help="draw a topology (dot, mermaid, svg, png) without running it",
        description=(
            "Print a picture of a topology without running it: nodes by role, grouped as "
            "Azure groups them (a VNet with its gateways, a vWAN with its hubs), laid out by "
            "tier (on-prem; circuits and gateways; hubs; VNets), edges labelled with the "
            "session or peering type. svg and png need Graphviz's dot."
        ),
    )
    parser.add_argument("topology", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
    parser.add_argument(
        "-o",
        "--output",
        choices=["dot", "mermaid", "svg", "png"],
        default="dot",
        help="format (default: dot)",
    )
    parser.add_argument(
        "-O",
        "--output-file",
        metavar="FILE",
        default=None,
        help="write to FILE instead of stdout",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print (or write) the picture; exit 2 on a bad topology or a missing Graphviz."""
    try:
        network = load_topology(args.topology)
        plan = compile_network(network)
    except ConfigError as exc:
        return refuse(exc.problems)
    except CompileError as exc:
        return refuse([f"{args.topology}: {exc}"])
    graph = topology_graph(network, plan)
    if args.output == "mermaid":
        return _write(args.output_file, render_mermaid(graph).encode())
    dot_text = render_dot(graph)
    if args.output == "dot":
        return _write(args.output_file, dot_text.encode())
    dot = shutil.which("dot")
    if dot is None:
        return refuse([GRAPHVIZ_MISSING.format(fmt=args.output)])
    try:
        done = subprocess.run(
            [dot, f"-T{args.output}"],
            input=dot_text.encode(),
            capture_output=True,
            check=False,
            timeout=GRAPHVIZ_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        print(f"error: Graphviz dot ({dot}) ran {GRAPHVIZ_TIMEOUT:g} s; stopped", file=sys.stderr)
        return 1
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        print(f"error: Graphviz dot failed ({done.returncode}): {message}", file=sys.stderr)
        return 1
    return _write(args.output_file, done.stdout)


def _write(path: str | None, data: bytes) -> int:
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        print(f"error: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
