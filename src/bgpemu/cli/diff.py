"""``bgpemu diff TOPOLOGY --change CHANGE.yaml``: what-if analysis in the fabric.

The topology converges in virtual time; then each injection of the change file
(:mod:`bgpemu.testing.changes`) is applied and the fabric converges again after each.
The output is the difference between the converged tables before and after (every
speaker's Loc-RIB and every Azure view: which prefix changed where, old and new next
hop and AS path) and what each convergence took.  Where the topology declares traffic
(interfaces, NSGs, firewalls; issue 14) the flows whose verdict or path changed follow:
the intents of ``--intents FILE``, else every pair of the reachability matrix (TCP 443).
A topology, a change file or an intents file with errors: every problem, exit status 2,
nothing run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from bgpemu.cli._problems import refuse
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import ConfigError

if TYPE_CHECKING:
    from bgpemu.azure.model import Network
    from bgpemu.azure.traffic.intents import Intent
    from bgpemu.testing.changes import Step

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Register the ``diff`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "diff",
        help="what-if: the converged tables before and after a change file, as a diff",
        description=(
            "Converge TOPOLOGY in the in-memory fabric (virtual time), apply the injections of "
            "the change file one by one (converging after each), and print what changed: each "
            "speaker's Loc-RIB and every Azure view, with old and new next hops and AS paths."
        ),
    )
    parser.add_argument("topology", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
    parser.add_argument(
        "--change", required=True, metavar="CHANGE", help="change file (YAML list of injections)"
    )
    parser.add_argument(
        "--intents",
        metavar="FILE",
        help="intents file: the flows to watch (default: every pair of the reachability "
        "matrix, TCP 443, when the topology declares interfaces, NSGs or firewalls)",
    )
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    parser.add_argument("--seed", type=int, default=0, help="seed of the timers' jitter")
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="virtual seconds each convergence may take (default 3600)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load and check everything first (exit 2 on any problem), then run the what-if."""
    from bgpemu.azure.roles import compile_network
    from bgpemu.config.safe_yaml import YamlProblem, read_file
    from bgpemu.lab.targets import Names
    from bgpemu.testing.changes import Step, parse_changes
    from bgpemu.topology import load_topology

    try:
        network = load_topology(args.topology)
    except ConfigError as exc:
        return refuse(exc.problems, "run")
    text = read_file(args.change)
    if isinstance(text, YamlProblem):
        print(f"error: {text.in_file(args.change)}", file=sys.stderr)
        return 2
    parsed = parse_changes(text, args.change, Names(network, compile_network(network)))
    steps = [step for step in parsed if isinstance(step, Step)]
    problems = [problem for problem in parsed if isinstance(problem, str)]
    if problems:
        return refuse(problems, "run")
    intents: list[Intent] = []
    if args.intents is not None:
        from bgpemu.topology.intent_file import load_intents

        try:
            intents = load_intents(args.intents)
        except ConfigError as exc:
            return refuse(exc.problems, "run")
    return asyncio.run(_what_if(args, network, steps, intents))


async def _what_if(
    args: argparse.Namespace, network: Network, steps: list[Step], intents: list[Intent]
) -> int:
    from bgpemu.testing import LabInputError, start_lab
    from bgpemu.testing.changes import apply_step

    lab = await start_lab(network, "fabric", seed=args.seed)
    try:
        await lab.converged(timeout=args.timeout)
        if intents:
            try:
                lab.check_intents(intents)
            except LabInputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        before = lab.snapshot()
        runs = []
        for step in steps:
            try:
                await apply_step(lab, step)
            except LabInputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            try:
                report = await lab.converged(timeout=args.timeout)
            except TimeoutError as exc:
                print(f"error: {step.where}: {exc}", file=sys.stderr)
                return 1
            runs.append((step, report))
        changes = lab.diff(before, lab.snapshot())
    finally:
        await lab.stop()
    if args.output == "json":
        document = {
            "topology": network.name,
            "steps": [
                {
                    "op": step.op,
                    "args": dict(step.args),
                    "converged_after_s": round(report.duration_s, 6),
                    "updates": report.updates,
                    "best_path_changes": report.best_path_changes,
                    "prefixes": report.prefixes,
                }
                for step, report in runs
            ],
            "changes": changes.to_json(),
        }
        if changes.flows:
            document["flows"] = [flow.to_json() for flow in changes.flows]
        print(json.dumps(document, indent=2))
        return 0
    for step, report in runs:
        print(
            f"{step.describe()}: converged after {report.duration_s:g} virtual s, "
            f"{report.updates} UPDATEs, {report.best_path_changes} best-path changes"
        )
    print(changes)
    return 0
