"""The traffic commands against a running lab (issue 14): ``bgpemu trace SRC DST --lab
NAME``, and ``next-hop``, ``ip-flow``, ``effective-nsg``, ``reachability`` without a
TOPOLOGY.

The command's arguments become one traffic question on the lab's ``control`` topic
(``trace``, ``next_hop``, ``ip_flow``, ``effective_nsg``, ``reachability``:
:mod:`bgpemu.lab.questions`, docs/mqtt.md "Traffic"); the lab answers from its current
convergence with the functions the topology-file form calls, and the answer is printed
by the same renderers, ``--query`` and ``-o table|json|yaml`` included.  The lab, broker
and credentials are found as the injection commands find them (:mod:`.inject`: ``--lab``
or the only lab running here, ``--mqtt`` or its broker, the lab's own account for its
embedded broker).

Exit status: 0 answered; 1 the lab did not answer within ``--timeout``; 2 refused (the
lab names the field at fault: ``error: args.source: ...``), an unreachable broker, or
bad options.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any

from bgpemu.cli._mqtt_options import DEFAULT_MQTT, ENV_LAB, ENV_MQTT, add_mqtt_options
from bgpemu.cli._traffic_render import (
    render_effective_nsg,
    render_ip_flow,
    render_matrix,
    render_next_hop,
)

__all__ = ["add_lab_options", "ask_lab", "ip_port"]

_TIMEOUT = 60.0
"""Seconds to wait for the lab's answer (it answers once converged)."""

TraceOutput = Callable[
    [argparse.Namespace, dict[str, Any], dict[str, Any]], tuple[Any, Callable[[Any], str]]
]


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    """``--lab``, ``--timeout`` and the MQTT options (used without TOPOLOGY)."""
    group = parser.add_argument_group("a running lab instead of TOPOLOGY (docs/mqtt.md)")
    group.add_argument(
        "--lab",
        help=f"ask the running lab NAME (default: ${ENV_LAB}, else the only lab running on "
        "the broker)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=_TIMEOUT,
        help=f"seconds to wait for the lab's answer (default {_TIMEOUT:g})",
    )
    add_mqtt_options(
        parser,
        default=None,
        help=f"the lab's broker (default: ${ENV_MQTT}, else the running lab's, else "
        f"{DEFAULT_MQTT})",
    )


def ip_port(text: str, flag: str) -> tuple[str, str]:
    """``IP:PORT`` (``[V6]:PORT`` for IPv6) split; ValueError naming the flag."""
    address, sep, port = text.rpartition(":")
    if not sep or not address or not port:
        raise ValueError(f"{flag} {text!r} is not IP:PORT")
    return address.strip("[]"), port


def _port(text: str, flag: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{flag}: {text!r} is not a port number")
    return int(text)


def _question(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The control op and its args for the command line (ValueError naming a bad flag)."""
    command = args.command
    if command == "trace":
        question = {
            "source": args.source,
            "destination": args.destination,
            "port": args.port,
            "protocol": args.protocol,
        }
        if args.source_port is not None:
            question["source_port"] = args.source_port
        return "trace", question
    if command == "next-hop":
        return "next_hop", {"source": args.source, "destination": args.destination}
    if command == "ip-flow":
        local, local_port = ip_port(args.local, "--local")
        remote, remote_port = ip_port(args.remote, "--remote")
        return "ip_flow", {
            "nic": args.nic,
            "direction": args.direction,
            "protocol": args.protocol,
            "local": local,
            "local_port": _port(local_port, "--local"),
            "remote": remote,
            "remote_port": _port(remote_port, "--remote"),
        }
    if command == "effective-nsg":
        return "effective_nsg", {"nic": args.nic}
    return "reachability", {
        "port": args.port,
        "protocol": args.protocol,
        "interfaces": args.interfaces,
    }


def _rendering(
    args: argparse.Namespace, op: str, data: Any, trace_output: TraceOutput
) -> tuple[Any, Callable[[Any], str]]:
    if op == "trace":
        return trace_output(args, data["trace"], data["connectivityCheck"])
    renderers: dict[str, Callable[[Any], str]] = {
        "next_hop": render_next_hop,
        "ip_flow": render_ip_flow,
        "effective_nsg": render_effective_nsg,
        "reachability": render_matrix,
    }
    return data, renderers[op]


def ask_lab(args: argparse.Namespace, trace_output: TraceOutput) -> int:
    """Ask the running lab the command's question and print its answer (the exit status,
    module docstring); ``trace_output`` chooses what a trace prints (the topology-file
    form's choice, :func:`bgpemu.cli.traffic.trace_output`)."""
    from bgpemu.cli._observe_mqtt import UsageError
    from bgpemu.cli._observe_render import emit
    from bgpemu.cli.inject import NoAnswerError, exchange
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.payloads import control_payload

    if args.topology is not None:
        print("error: give TOPOLOGY or --lab, not both", file=sys.stderr)
        return 2
    try:
        op, question = _question(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    payload = control_payload(uuid.uuid4().hex, op, **question)
    try:
        lab, answers = exchange(args, payload, first=None)
    except (ObserveError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NoAnswerError as exc:
        print(
            f"error: lab {exc.lab!r} on the MQTT broker at {exc.address.url} did not answer "
            f"within {args.timeout:g} s",
            file=sys.stderr,
        )
        return 1
    last = answers[-1] if answers else {}
    if last.get("event") != "answered":
        print(f"error: lab {lab!r}: {last.get('detail', 'no answer')}", file=sys.stderr)
        return 2
    data, table = _rendering(args, op, last["data"], trace_output)
    try:
        return emit(args, data, table)
    except UsageError as exc:  # a bad --query
        print(f"error: {exc}", file=sys.stderr)
        return 2
