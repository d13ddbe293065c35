"""The observer commands: read a running lab's tables from its MQTT broker.

``bgpemu routes NODE``, one command per Azure view (``effective-routes VNET[/SUBNET]``,
``learned-routes GATEWAY``, ``bgp-peer-status GATEWAY``, ``route-server-routes
ROUTESERVER[/NVA]``, ``hub-routes HUB[/TABLE]``, ``circuit-routes CIRCUIT[/PATH]``:
:data:`~._observe_verbs.VIEW_COMMANDS`), ``sessions [NODE]``, ``watch [NODE]`` and
``inspect [LAB]`` work from any machine that reaches the broker: they never talk to the
lab itself.

Theory of operation.  A command checks the broker (``--mqtt``, exit status 2 with the URL
when it does not answer), picks the lab (``--lab``, else the only lab with a retained
``state`` on the broker), subscribes with an :class:`~bgpemu.observe.mqtt.Observer` to
the topics it needs (never the whole lab, ``bgpemu/v1/<lab>/#``: a large lab retains
about 1.5 GB) and waits for the retained documents (docs/mqtt.md).  MQTT has no
end-of-retained marker, so the wait ends as soon as the documents the command needs are
there, or else once no message arrived for :data:`QUIET` seconds (the broker sends every
retained document right after the subscription): what is missing then does not exist, and
the error names it and lists what does.  Every wait is bounded by ``--timeout``.

The JSON is that of ``bgpemu solve``: an Azure view is the ``data`` of its retained
document (exactly ``solve --effective-routes ... -o json``); ``routes`` is
``{speaker: routes}`` with the ``routes`` list of the ``rib/loc`` document (``solve --node``
prints the same), or ``{speaker: {peer: routes}}`` for ``--rib in|out``, from the per-peer
documents ``rib/in/<peer>`` (``rib/out/<peer>``); ``sessions`` is ``{speaker: sessions}``.
``--query`` (JMESPath) applies to that JSON before ``-o``.  ``watch`` prints the lab
state (or the node's status) first, then one line per change: deltas, status and lab state
changes, and the lab's events; with ``-o json`` each is its MQTT payload on one line.
There ``--query`` is applied to each payload: an item whose result is JMESPath-false (null,
false, empty) is not shown, and ``-o json|yaml`` print the result (``-o table`` the
readable line of the item).

Layout: this module parses the arguments; :mod:`._observe_mqtt` reads the documents,
:mod:`._observe_render` prints them, :mod:`._observe_verbs` holds the table commands and
:mod:`._observe_watch` the ``watch`` command.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bgpemu.azure.catalog import AzureView
from bgpemu.cli._mqtt_options import (
    DEFAULT_MQTT,
    ENV_LAB,
    ENV_MQTT,
    add_mqtt_options,
    broker_of,
    resolve_lab,
)
from bgpemu.cli._observe_mqtt import QUIET, UsageError
from bgpemu.cli._observe_render import add_output_options, render_rib
from bgpemu.cli._observe_verbs import RIBS, VIEW_COMMANDS, run_routes, run_sessions, run_view
from bgpemu.cli._observe_watch import run_watch
from bgpemu.cli.inspect import run_inspect

__all__ = ["DEFAULT_MQTT", "QUIET", "add_parsers", "render_rib"]


# --- argument parsing ------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    add_mqtt_options(
        parser,
        default=None,
        help="the broker: mqtt://host:port or mqtts://host:port (default: "
        f"${ENV_MQTT}, else the broker of the lab running on this machine, else {DEFAULT_MQTT})",
    )
    parser.add_argument(
        "--lab",
        help=f"lab name (default: ${ENV_LAB}, else the only lab with a retained state on the "
        "broker)",
    )
    add_output_options(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for the broker and the retained documents (default 5)",
    )


def add_parsers(commands: Any) -> None:
    """Register ``routes``, one command per Azure view, ``sessions``, ``watch`` and
    ``inspect``."""
    routes = commands.add_parser(
        "routes", help="a node's Loc-RIB, Adj-RIB-In or Adj-RIB-Out in a running lab (MQTT)"
    )
    routes.add_argument("node", metavar="NODE", help="topology node (all its speakers) or speaker")
    routes.add_argument("--rib", choices=sorted(RIBS), default="loc", help="default: loc")
    routes.add_argument("--peer", metavar="PEER", help="only the routes of this neighbour")
    _common(routes)
    routes.set_defaults(func=_run, action=run_routes)
    for view in AzureView:  # one command per view of the catalog
        spec = VIEW_COMMANDS[view]
        parser = commands.add_parser(view.command, help=f"{spec.help} in a running lab (MQTT)")
        parser.add_argument("target", metavar=spec.metavar)
        if spec.directions:
            parser.add_argument("--direction", choices=["learned", "advertised"], default="learned")
        _common(parser)
        parser.set_defaults(func=_run, action=run_view, azure_view=view)
    sessions = commands.add_parser("sessions", help="BGP sessions in a running lab (MQTT)")
    sessions.add_argument("node", metavar="NODE", nargs="?", help="default: every speaker")
    _common(sessions)
    sessions.set_defaults(func=_run, action=run_sessions)
    watch = commands.add_parser("watch", help="live changes of a running lab (MQTT), until ^C")
    watch.add_argument("node", metavar="NODE", nargs="?", help="default: the whole lab")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N lines")
    _common(watch)
    watch.set_defaults(func=_run, action=run_watch)
    inspect = commands.add_parser(
        "inspect",
        help="every speaker of a running lab (MQTT): node, role, ASN, address, port, sessions",
    )
    inspect.add_argument("lab_name", metavar="LAB", nargs="?", help="the lab (the same as --lab)")
    _common(inspect)
    inspect.set_defaults(func=_run, action=run_inspect)


def _run(args: argparse.Namespace) -> int:
    from bgpemu.observe.errors import ObserveError

    try:
        if getattr(args, "lab_name", None) is not None:  # inspect's LAB
            args.lab = args.lab_name
        resolve_lab(args)
        args.broker = broker_of(args, args.mqtt)
        args.mqtt = args.broker.url
        status: int = asyncio.run(args.action(args))
    except (UsageError, ObserveError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return status
