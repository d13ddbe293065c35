"""The traffic answers as ``bgpemu solve`` options (issue 14): ``solve TOPOLOGY --trace
SRC DST``, ``--next-hop SRC DST``, ``--ip-flow NIC``, ``--effective-nsg NIC``,
``--reachability``, ``--intents FILE``.

One implementation: each option is the traffic command of the same name
(:mod:`bgpemu.cli.traffic`, docs/traffic.md) with the same arguments, run through that
command's own parser, so ``solve T --trace A B --port 80`` prints exactly what ``trace T A
B --port 80`` prints and exits with its status.  ``ip-flow``'s ``--direction`` is
``--flow-direction`` here (``solve --direction`` is the Route Server view's).
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_traffic_options", "run_traffic", "traffic_argv"]


def add_traffic_options(parser: argparse.ArgumentParser, views: Any) -> None:
    """The traffic options: the answers in the mutually exclusive ``views`` group, their
    flow settings on ``parser``."""
    views.add_argument(
        "--trace", nargs=2, metavar=("SRC", "DST"), help="trace a flow (bgpemu trace)"
    )
    views.add_argument(
        "--next-hop", nargs=2, metavar=("SRC", "DST"), help="next hop (bgpemu next-hop)"
    )
    views.add_argument("--ip-flow", metavar="NIC", help="IP flow verify (bgpemu ip-flow)")
    views.add_argument(
        "--effective-nsg", metavar="NIC", help="effective security rules (bgpemu effective-nsg)"
    )
    views.add_argument(
        "--reachability", action="store_true", help="the reachability matrix (bgpemu reachability)"
    )
    views.add_argument("--intents", metavar="FILE", help="check intents (bgpemu verify)")
    traffic = parser.add_argument_group("traffic answers' flow (docs/traffic.md)")
    traffic.add_argument("--port", help="destination port (--trace, --reachability)")
    traffic.add_argument(
        "--protocol", help="tcp, udp, icmp... (--trace, --reachability, --ip-flow)"
    )
    traffic.add_argument("--source-port", help="source port (--trace)")
    traffic.add_argument("--full", action="store_true", help="the whole trace (--trace)")
    traffic.add_argument(
        "--interfaces", action="store_true", help="every interface (--reachability)"
    )
    traffic.add_argument(
        "--flow-direction", choices=["Inbound", "Outbound"], help="direction (--ip-flow)"
    )
    traffic.add_argument("--local", metavar="IP:PORT", help="the interface's side (--ip-flow)")
    traffic.add_argument("--remote", metavar="IP:PORT", help="the other side (--ip-flow)")


def traffic_argv(args: argparse.Namespace) -> list[str] | None:
    """The traffic command line ``args`` stands for (None: no traffic option given);
    ValueError naming what ``--ip-flow`` lacks."""
    if args.trace is not None:
        argv = ["trace", args.topology, *args.trace]
    elif args.next_hop is not None:
        argv = ["next-hop", args.topology, *args.next_hop]
    elif args.ip_flow is not None:
        if None in (args.flow_direction, args.protocol, args.local, args.remote):
            raise ValueError(
                "--ip-flow NIC needs --flow-direction, --protocol, --local and --remote"
            )
        argv = ["ip-flow", args.topology, args.ip_flow]
        for flag, value in (
            ("--direction", args.flow_direction),
            ("--local", args.local),
            ("--remote", args.remote),
        ):
            if value is not None:
                argv += [flag, value]
    elif args.effective_nsg is not None:
        argv = ["effective-nsg", args.topology, args.effective_nsg]
    elif args.reachability:
        argv = ["reachability", args.topology]
    elif args.intents is not None:
        argv = ["verify", args.topology, "--intents", args.intents]
    else:
        return None
    command = argv[0]
    for flag, value, commands in (
        ("--port", args.port, ("trace", "reachability")),
        ("--protocol", args.protocol, ("trace", "reachability", "ip-flow")),
        ("--source-port", args.source_port, ("trace",)),
    ):
        if value is not None and command in commands:
            argv += [flag, value]
    if args.full and command == "trace":
        argv.append("--full")
    if args.interfaces and command == "reachability":
        argv.append("--interfaces")
    return [*argv, "-o", args.output, "--seed", str(args.seed)]


def run_traffic(argv: list[str]) -> int:
    """Run the traffic command ``argv`` with its own parser; its exit status (argparse's
    2 for bad arguments, e.g. ``--ip-flow`` without ``--flow-direction``)."""
    from bgpemu.cli import traffic

    parser = argparse.ArgumentParser(prog="bgpemu solve")
    traffic.add_parsers(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    status: int = args.func(args)
    return status
