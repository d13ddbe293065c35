"""``bgpemu broker``: the embedded MQTT broker on its own, for observers and scripts.

The same program as ``python -m bgpemu.mqttbroker`` (:mod:`bgpemu.mqttbroker.standalone`),
with the logging of the ``bgpemu`` command.
"""

from __future__ import annotations

import argparse
from typing import Any

from bgpemu.mqttbroker.standalone import add_arguments, run

__all__ = ["add_parser"]


def add_parser(commands: Any) -> None:
    """Register the ``broker`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "broker",
        help="run the embedded MQTT 3.1.1 / 5.0 broker until Ctrl-C",
        description=(
            "Run the MQTT broker that 'lab up' embeds, on its own: one line 'listening "
            "mqtt://HOST:PORT' on stdout once it accepts connections, until SIGINT or "
            "SIGTERM. Accounts come from a JSON file (or stdin), never the command line; "
            "exit status 2 on bad options or when no port can be bound."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=run, default_log_level="info")
