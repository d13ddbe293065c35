"""``bgpemu web``: serve the live web view of a running lab (docs/web.md).

The lab and its broker are found as the injection commands find them (``--lab`` or the
only running lab, ``--mqtt`` or ``$BGPEMU_MQTT`` or the running lab's broker, the lab's
own account on its embedded broker when no credentials are given), so the page's
injections go to the lab with the same credentials and checks as ``bgpemu fail``.
The page's URL (with this run's token) is printed on stderr; it runs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from bgpemu.cli._mqtt_options import add_mqtt_options, broker_of, resolve_lab
from bgpemu.errors import BgpEmuError

__all__ = ["DEFAULT_WEB", "add_parser", "parse_listen", "run"]

DEFAULT_WEB = "127.0.0.1:8179"


def parse_listen(text: str, option: str = "--listen") -> tuple[str, int]:
    """``ADDR:PORT`` (``[::1]:PORT`` for IPv6; port 0: any free port) given to
    ``option``; ValueError naming the option and what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{option} {text!r}: ADDR:PORT expected (e.g. {DEFAULT_WEB})")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{option} {text!r}: the port must be 0 to 65535")
    return host, int(port)


"""Where the web view listens unless told otherwise (a free port if this one is taken)."""


def add_parser(commands: Any) -> None:
    """Register the ``web`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "web",
        help="serve a live web view of a running lab (graph, sessions, tables)",
        description=(
            "Serve a web page that draws a running lab's topology, colours its sessions "
            "by state as they change, shows a node's tables on click, the lab's timeline, "
            "traces and injections (docs/web.md). Prints the page's URL (with a token) and "
            "runs until Ctrl-C."
        ),
    )
    parser.add_argument("--lab", help="the lab (default: $BGPEMU_LAB, else the only running lab)")
    add_mqtt_options(
        parser,
        default=None,
        help=(
            "the lab's broker (default: $BGPEMU_MQTT, else the running lab's broker, else "
            "mqtt://127.0.0.1:1883)"
        ),
    )
    parser.add_argument(
        "--listen",
        metavar="ADDR:PORT",
        default=None,
        help=(
            f"address and port of the page (default {DEFAULT_WEB}, or a free port if it is "
            "taken; port 0: any free port)"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for the broker and the lab's state (default 5)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit 2 when the lab, the broker or the address is wrong."""
    try:
        listen = parse_listen(args.listen or DEFAULT_WEB)
        resolve_lab(args)
        address = broker_of(args, args.mqtt)
    except (ValueError, BgpEmuError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args, address, listen, fallback=args.listen is None))


async def _serve(
    args: argparse.Namespace, address: Any, listen: tuple[str, int], fallback: bool
) -> int:
    from bgpemu.cli._observe_mqtt import UsageError
    from bgpemu.cli.inject import find_lab
    from bgpemu.lab.credentials import with_lab_account
    from bgpemu.observe.errors import ObserveError
    from bgpemu.web.server import WebServer

    try:
        lab = await find_lab(args, address, args.timeout)
    except (UsageError, ObserveError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = WebServer(with_lab_account(address, lab), lab, listen=listen, fallback=fallback)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with server:
            if not await server.settled(args.timeout):
                print(f"warning: lab {lab} has published no state yet", file=sys.stderr)
            print(f"web view of lab {lab}: {server.url}", file=sys.stderr, flush=True)
            await stop.wait()
    except OSError as exc:
        print(
            f"error: cannot listen on {listen[0]}:{listen[1]}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0
