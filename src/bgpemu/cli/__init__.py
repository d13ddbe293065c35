"""The ``bgpemu`` command: argument parsing, logging setup and rendering only.

``main(argv)`` returns the exit status: 0 success, 1 runtime failure, 2 bad usage
or an invalid configuration file (nothing is started then).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bgpemu import __version__
from bgpemu.cli import speaker

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgpemu", description="BGP route-exchange emulator for hybrid Azure networks."
    )
    parser.add_argument("--version", action="version", version=f"bgpemu {__version__}")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="logging verbosity on stderr (default: info)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    speaker.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bgpemu`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s %(peer)s%(message)s",
        stream=sys.stderr,
    )
    _add_peer_default()
    status: int = args.func(args)
    return status


def _add_peer_default() -> None:
    """Let the format show ``peer`` for records that carry it and nothing for the rest."""
    factory = logging.getLogRecordFactory()

    def record(*args: object, **kwargs: object) -> logging.LogRecord:
        rec = factory(*args, **kwargs)  # type: ignore[arg-type]
        peer = getattr(rec, "peer", "")
        rec.peer = f"[{peer}] " if peer else ""
        return rec

    logging.setLogRecordFactory(record)
