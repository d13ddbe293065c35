"""The broker as a program: ``python -m bgpemu.mqttbroker`` and ``bgpemu broker``.

Theory of operation
-------------------
The process listens on ``--host`` and the first ``--port`` it can bind (``--port 1883
--port 0``: 1883, else a port the system picks), writes one line ``listening
mqtt://HOST:PORT`` on stdout once it accepts connections (how :mod:`.process` learns the
bound port), and runs until SIGTERM or SIGINT, which stop it cleanly (5.0 clients get
DISCONNECT 0x8B Server shutting down).  Exit status 0 after such a stop, 2 when the
options or the users file are wrong or no port can be bound (the reason on stderr).

Credentials never go on the command line (any user of the machine can read it):
``--users-file PATH`` names a JSON object ``{"user name": "password", ...}``, and
``--users-file -`` reads that object as the first line of stdin.  With users, anonymous
clients may read but not publish on the ``--protect`` topic filters (:mod:`.access`).

``--parent-stdin`` ties the broker to the process that started it: stdin's end of file
(that process exited, even by SIGKILL) stops the broker, so a lab's broker never
outlives its lab.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from bgpemu.errors import BgpEmuError
from bgpemu.files import FileLimitError, read_limited
from bgpemu.mqttbroker.server import Broker

__all__ = [
    "READY_PREFIX",
    "UsersFileError",
    "add_arguments",
    "main",
    "parse_users",
    "read_users",
    "run",
]

READY_PREFIX = "listening "
"""Start of the one stdout line that says the broker accepts connections, and where."""

_MAX_USERS_BYTES = 1 << 20
_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s %(message)s"

logger = logging.getLogger(__name__)


class UsersFileError(BgpEmuError, ValueError):
    """The users file (or stdin) is not a JSON object of user names to passwords."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The broker's options (shared by ``python -m bgpemu.mqttbroker`` and ``bgpemu broker``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        action="append",
        metavar="N",
        help="port to listen on; repeat to try several in order, 0 lets the system pick "
        "(default: 1883)",
    )
    parser.add_argument(
        "--users-file",
        metavar="PATH",
        help='JSON object {"user": "password"} of the accounts; "-" reads it as the first '
        "line of stdin. Without it any client may connect and publish",
    )
    parser.add_argument(
        "--protect",
        action="append",
        default=[],
        metavar="FILTER",
        help="topic filter that anonymous clients may not publish on (needs --users-file); "
        "repeatable",
    )
    parser.add_argument(
        "--no-anonymous", action="store_true", help="refuse clients without a user name"
    )
    parser.add_argument(
        "--parent-stdin",
        action="store_true",
        help="stop when stdin reaches end of file (the starting process has exited)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bgpemu.mqttbroker``: parse, set up logging on stderr, run."""
    parser = argparse.ArgumentParser(
        prog="python -m bgpemu.mqttbroker",
        description="The embedded MQTT 3.1.1 / 5.0 broker of bgpemu labs.",
    )
    add_arguments(parser)
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format=_LOG_FORMAT)
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the broker of ``args`` (see :func:`add_arguments`) until stopped; exit status."""
    try:
        users = None if args.users_file is None else read_users(args.users_file)
    except UsersFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(args, users))
    except KeyboardInterrupt:  # a signal before the handlers were installed
        return 0


def parse_users(text: str, source: str) -> dict[str, str]:
    """The accounts in ``text`` (a JSON object of strings); errors name ``source``."""
    try:
        doc = json.loads(text)
    except RecursionError:  # Python's JSON decoder recurses once per level
        raise UsersFileError(f"{source}: not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise UsersFileError(f"{source}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not doc:
        raise UsersFileError(f'{source}: expected a JSON object {{"user": "password", ...}}')
    for name, password in doc.items():
        if not name or not isinstance(password, str):
            raise UsersFileError(f"{source}: user {name!r}: the password must be a string")
    return dict(doc)


def read_users(path: str) -> dict[str, str]:
    """The accounts in the file at ``path``, or on the first line of stdin for ``-``."""
    if path == "-":
        line = sys.stdin.buffer.readline(_MAX_USERS_BYTES)
        if not line.endswith(b"\n"):
            raise UsersFileError("stdin: expected one line with the users' JSON")
        return parse_users(line.decode("utf-8", "replace"), "stdin")
    try:
        data = read_limited(path, _MAX_USERS_BYTES, regular_only=False)
    except FileLimitError:
        raise UsersFileError(f"{path}: larger than {_MAX_USERS_BYTES} bytes") from None
    except OSError as exc:
        raise UsersFileError(f"{path}: {exc.strerror or exc}") from None
    return parse_users(data.decode("utf-8", "replace"), path)


async def _stdin_reader() -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=_MAX_USERS_BYTES)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _serve(args: argparse.Namespace, users: dict[str, str] | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        brokers = [
            Broker(
                host=args.host,
                port=port,
                users=users,
                protected=tuple(args.protect),
                allow_anonymous=not args.no_anonymous,
            )
            for port in args.port or [1883]
        ]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    broker = await _listen(brokers)
    if broker is None:
        return 2
    print(f"{READY_PREFIX}{broker.url}", flush=True)
    waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait())}
    if args.parent_stdin:
        waits.add(asyncio.ensure_future(_until_eof(await _stdin_reader())))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waits:
            waiter.cancel()
        await broker.stop()
    return 0


async def _listen(brokers: Sequence[Broker]) -> Broker | None:
    """The first of ``brokers`` that can listen; None (reasons on stderr) when none can."""
    reasons = []
    for broker in brokers:
        try:
            await broker.start()
        except OSError as exc:
            reasons.append(str(exc.strerror or exc))
            continue
        for reason in reasons:
            logger.info("%s; trying the next port", reason)
        return broker
    print(f"error: {'; '.join(reasons)}", file=sys.stderr)
    return None


async def _until_eof(stdin: asyncio.StreamReader) -> None:
    with contextlib.suppress(OSError):
        while await stdin.read(4096):
            pass
    logger.info("the process that started the MQTT broker has exited: stopping")
