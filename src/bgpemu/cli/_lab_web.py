"""``lab up``'s web view (issue 16): on by default, ``--web ADDR:PORT`` to move it,
``--no-web`` to skip it.

The view (:class:`bgpemu.web.server.WebServer`) follows the lab on its own broker with the
lab's own account, from before the lab converges until it stops; on 127.0.0.1:8179 unless
told otherwise, on a free port when that one is taken.  A lab that publishes nothing
(``--no-mqtt``) or stops once converged (``--exit-after-converged``) has no web view.  A
view that cannot start is a warning: the lab runs on.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from bgpemu.cli.web import DEFAULT_WEB, parse_listen

__all__ = ["add_web_options", "check_web_options", "web_view"]


def add_web_options(parser: argparse.ArgumentParser) -> None:
    """``--web ADDR:PORT`` and ``--no-web``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--web",
        metavar="ADDR:PORT",
        default=None,
        help=(
            f"serve the lab's live web view here (default {DEFAULT_WEB}, or a free port if "
            "it is taken; port 0: any free port; docs/web.md)"
        ),
    )
    group.add_argument("--no-web", action="store_true", help="serve no web view")


def check_web_options(args: argparse.Namespace) -> str | None:
    """Why the web options cannot be used (exit 2 before anything starts), or None; sets
    ``args.web_listen`` (None: no web view)."""
    args.web_listen = None
    if args.no_web or args.exit_after_converged:
        return None
    if args.no_mqtt:
        return (
            "--web serves what the lab publishes on MQTT: not with --no-mqtt" if args.web else None
        )
    try:
        args.web_listen = parse_listen(args.web or DEFAULT_WEB, "--web")
    except ValueError as exc:
        return str(exc)
    return None


@contextlib.asynccontextmanager
async def web_view(args: argparse.Namespace, lab: str, address: Any) -> AsyncIterator[str | None]:
    """The web view of lab ``lab`` on ``address`` (the lab's broker) for the block; yields
    its URL (None when there is none)."""
    if args.web_listen is None or address is None:
        yield None
        return
    from bgpemu.web.server import WebServer

    server = WebServer(address, lab, listen=args.web_listen, fallback=args.web is None)
    try:
        await server.__aenter__()
    except OSError as exc:
        host, port = args.web_listen
        print(
            f"warning: no web view: cannot listen on {host}:{port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        yield None
        return
    try:
        yield server.url
    finally:
        await server.__aexit__(None, None, None)
