"""The ``bgpemu`` command: argument parsing, logging setup and rendering only.

``main(argv)`` returns the exit status: 0 success, 1 runtime failure, 2 bad usage
or an invalid configuration file (nothing is started then), 141 when the reader of
the output went away (``| head``; 128 + SIGPIPE, what a shell reports).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bgpemu import __version__

__all__ = ["BROKEN_PIPE_STATUS", "ONE_COMMAND_MODULES", "command_of", "main", "parse"]

BROKEN_PIPE_STATUS = 141
"""Exit status when stdout's reader closed it early: 128 + SIGPIPE (13)."""


_MODULES = (
    "speaker",
    "solve",
    "traffic",
    "validate",
    "examples",
    "graph",
    "lab",
    "inject",
    "diff",
    "observe",
    "broker",
    "web",
)
"""The subcommand modules of ``bgpemu.cli``, in ``--help`` order (``completion`` last: it
describes the whole parser)."""

ONE_COMMAND_MODULES = {
    name: name
    for name in (
        "speaker",
        "solve",
        "validate",
        "examples",
        "graph",
        "lab",
        "diff",
        "broker",
        "web",
    )
}
"""Command -> the one module that registers it, for the commands whose parser is built
alone: ``bgpemu solve`` then imports neither the MQTT broker, the lab nor the observers.
Any other command (the observers' and the injections' verbs, ``completion``) builds the
whole parser."""


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word past the global options), or None."""
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            return None
        if not token.startswith("-"):
            return token
        if "=" not in token and len(token) > 3 and "--log-level".startswith(token):
            next(tokens, None)
    return None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or of ``command`` alone when it has a module of its
    own (:data:`ONE_COMMAND_MODULES`)."""
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
    alone = ONE_COMMAND_MODULES.get(command or "")
    for name in (alone,) if alone else _MODULES:
        module = importlib.import_module(f"bgpemu.cli.{name}")
        register = getattr(module, "add_parser", None) or module.add_parsers
        register(commands)
    if alone is None:
        from bgpemu.cli import completion

        completion.add_parser(commands, parser)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line, ``log_level`` resolved to the command's default: ``info``
    for the commands that run until stopped (``lab up``, ``speaker``, ``broker`` set it as
    ``default_log_level``), ``warning`` for every other one (an observer, or a one-shot
    command whose output is its answer), unless ``--log-level`` says otherwise."""
    args = _parser(command_of(sys.argv[1:] if argv is None else argv)).parse_args(argv)
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
