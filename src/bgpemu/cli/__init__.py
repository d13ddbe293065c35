"""The ``bgpemu`` command: argument parsing, logging setup and rendering only.

``main(argv)`` returns the exit status: 0 success, 1 runtime failure, 2 bad usage
or an invalid configuration file (nothing is started then), 141 when the reader of
the output went away (``| head``; 128 + SIGPIPE, what a shell reports).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bgpemu import __version__
from bgpemu.cli import (
    broker,
    completion,
    diff,
    examples,
    graph,
    inject,
    lab,
    observe,
    solve,
    speaker,
    traffic,
    validate,
    web,
)

__all__ = ["BROKEN_PIPE_STATUS", "main", "parse"]

BROKEN_PIPE_STATUS = 141
"""Exit status when stdout's reader closed it early: 128 + SIGPIPE (13)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgpemu", description="BGP route-exchange emulator for hybrid Azure networks."
    )
    parser.add_argument("--version", action="version", version=f"bgpemu {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help=(
            "logging verbosity on stderr (default: info for 'lab up', 'speaker' and "
            "'broker', warning for every other command)"
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    speaker.add_parser(commands)
    solve.add_parser(commands)
    traffic.add_parsers(commands)
    validate.add_parser(commands)
    examples.add_parser(commands)
    graph.add_parser(commands)
    lab.add_parser(commands)
    inject.add_parsers(commands)
    diff.add_parser(commands)
    observe.add_parsers(commands)
    broker.add_parser(commands)
    web.add_parser(commands)
    completion.add_parser(commands, parser)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line, ``log_level`` resolved to the command's default: ``info``
    for the commands that run until stopped (``lab up``, ``speaker``, ``broker`` set it as
    ``default_log_level``), ``warning`` for every other one (an observer, or a one-shot
    command whose output is its answer), unless ``--log-level`` says otherwise."""
    args = _parser().parse_args(argv)
    if args.log_level is None:
        args.log_level = getattr(args, "default_log_level", "warning")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bgpemu`` command line; returns the exit status."""
    args = parse(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), handlers=[handler])
    try:
        status: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``bgpemu ... | head``): stop quietly, as Unix tools do,
        # with the status a shell gives a process killed by SIGPIPE; stdout is pointed
        # at /dev/null so the interpreter's last flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    return status


class _Formatter(logging.Formatter):
    """``time level logger [speaker>peer] message``; the peer part only when a record has one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib name)
        peer = getattr(record, "peer", "")
        text = super().formatMessage(record)
        if not peer:
            return text
        head, _, message = text.partition(record.name + " ")
        return f"{head}{record.name} [{peer}] {message}"
