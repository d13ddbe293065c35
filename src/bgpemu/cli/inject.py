"""``bgpemu fail|restore|reset|announce|withdraw|prepend|instance-down|instance-up|apply``:
change a running lab through MQTT.

Each command publishes one ``control`` message to the lab (``bgpemu/v1/<lab>/control``,
see docs/mqtt.md) and prints the lab's answers: ``injected``, then ``converged`` with
the convergence time, the UPDATEs it took and the best-path changes; or ``rejected``
with the reason (nothing was changed; exit status 2).  ``apply TOPOLOGY`` validates the
file first: with any problem, every one is printed and nothing is sent (exit status 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgpemu.cli._mqtt_options import (
    DEFAULT_MQTT,
    ENV_LAB,
    ENV_MQTT,
    add_mqtt_options,
    broker_of,
    resolve_lab,
)
from bgpemu.cli._problems import refuse
from bgpemu.errors import BgpEmuError, ConfigError

if TYPE_CHECKING:
    from bgpemu.observe.url import BrokerAddress

__all__ = ["ANSWER_TIMEOUT", "NoAnswerError", "add_parsers", "exchange", "find_lab"]

ANSWER_TIMEOUT = 5.0
"""Seconds a command waits for the broker, the lab's retained state and its first answer
(``injected`` or ``rejected``): a lab that does not answer fails the command within
seconds, not after the convergence ``--timeout``."""


def _common(parser: argparse.ArgumentParser) -> None:
    add_mqtt_options(
        parser,
        default=None,
        help=f"the lab's broker (default: ${ENV_MQTT}, else the running lab's, else "
        f"{DEFAULT_MQTT})",
    )
    parser.add_argument(
        "--lab",
        help=f"lab name (default: ${ENV_LAB}, else the only lab running on the broker)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for convergence"
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=ANSWER_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for the broker and the lab's first answer (default "
        f"{ANSWER_TIMEOUT:g})",
    )
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")


def add_parsers(commands: Any) -> None:
    """Register ``fail``, ``restore``, ``reset``, ``announce``, ``withdraw``, ``prepend`` and
    ``apply``."""
    for verb, op_link, op_node, text in (
        ("fail", "fail_link", "crash", "take a link down or crash a node"),
        ("restore", "restore_link", "restart", "bring a link or a crashed node back"),
    ):
        parser = commands.add_parser(verb, help=f"{text} in a running lab")
        what = parser.add_subparsers(dest="what", required=True, metavar="link|node")
        link = what.add_parser("link", help="every BGP session between two nodes")
        link.add_argument("a", metavar="A")
        link.add_argument("b", metavar="B")
        if verb == "fail":
            link.add_argument(
                "--silent",
                action="store_true",
                help="no NOTIFICATION: only the hold timers find out",
            )
        _common(link)
        link.set_defaults(func=_run, op=op_link)
        node = what.add_parser("node", help="a node (all its speakers)")
        node.add_argument("node", metavar="NODE")
        _common(node)
        node.set_defaults(func=_run, op=op_node)
    for verb, op, text in (
        ("instance-down", "instance_down", "lose instance INDEX of NODE: all its sessions go down"),
        ("instance-up", "instance_up", "bring instance INDEX of NODE back"),
    ):
        parser = commands.add_parser(
            verb, help=f"{text} (an active-active VPN gateway or a Route Server)"
        )
        parser.add_argument("node", metavar="NODE")
        parser.add_argument("index", metavar="INDEX", type=int, help="0 or 1")
        if op == "instance_down":
            parser.add_argument(
                "--silent",
                action="store_true",
                help="no NOTIFICATION: only the hold timers find out",
            )
        _common(parser)
        parser.set_defaults(func=_run, op=op)
    reset = commands.add_parser("reset", help="reset the sessions of A with B (Cease)")
    reset.add_argument("a", metavar="A")
    reset.add_argument("b", metavar="B")
    _common(reset)
    reset.set_defaults(func=_run, op="reset")
    for verb in ("announce", "withdraw"):
        parser = commands.add_parser(verb, help=f"{verb} a prefix on a node of a running lab")
        parser.add_argument("node", metavar="NODE")
        parser.add_argument("prefix", metavar="PREFIX")
        if verb == "announce":
            parser.add_argument("--prepend", type=int, default=0, help="extra copies of its ASN")
        _common(parser)
        parser.set_defaults(func=_run, op=verb)
    prepend = commands.add_parser(
        "prepend",
        help="NODE sends everything to PEER with COUNT extra copies of its ASN (0 removes it); "
        "the sessions stay up (soft reconfiguration)",
    )
    prepend.add_argument("node", metavar="NODE")
    prepend.add_argument("peer", metavar="PEER")
    prepend.add_argument("count", metavar="COUNT", type=int)
    _common(prepend)
    prepend.set_defaults(func=_run, op="prepend")
    apply = commands.add_parser(
        "apply",
        help="run TOPOLOGY in a running lab from now on: speakers and sessions added or "
        "removed, routes changed, no other session dropped",
    )
    apply.add_argument("topology", metavar="TOPOLOGY", help="the whole new topology (YAML)")
    _common(apply)
    apply.set_defaults(func=_apply, op="apply")


class NoAnswerError(BgpEmuError):
    """The lab did not answer in time (its name and broker)."""

    def __init__(self, lab: str, address: BrokerAddress) -> None:
        super().__init__(lab)
        self.lab = lab
        self.address = address


def exchange(
    args: argparse.Namespace, payload: dict[str, Any], *, first: float | None
) -> tuple[str, list[dict[str, Any]]]:
    """Find the lab and its broker (:func:`~bgpemu.cli._mqtt_options.resolve_lab`, then
    :func:`find_lab`), send ``payload`` on its control topic and return (the lab, its
    answers).  The broker and the lab's retained state are waited for at most
    :data:`ANSWER_TIMEOUT` seconds (``--answer-timeout``), the first answer ``first``
    seconds, the last ``--timeout`` seconds.  Raises UsageError (no such lab, with the
    labs there), ObserveError (broker, TLS, credentials) or :class:`NoAnswerError`."""
    resolve_lab(args)
    address = broker_of(args, args.mqtt)
    return asyncio.run(_exchange(args, address, payload, first))


async def find_lab(args: argparse.Namespace, address: BrokerAddress, wait: float) -> str:
    """The lab: ``--lab`` (or ``$BGPEMU_LAB``) if it has a retained state on the broker,
    else the only running lab there, as the observers pick it
    (:func:`bgpemu.cli._observe_mqtt.open_lab`); UsageError naming the lab and the broker
    otherwise."""
    from bgpemu.cli._observe_mqtt import QUIET, missing_lab, open_lab
    from bgpemu.observe.mqtt import retained_labs

    probe = argparse.Namespace(lab=args.lab, mqtt=address.url, broker=address, timeout=wait)
    lab = await open_lab(probe)
    if args.lab is not None and lab not in await retained_labs(address, wait, QUIET):
        raise await missing_lab(probe, lab)
    return lab


async def _exchange(
    args: argparse.Namespace, address: BrokerAddress, payload: dict[str, Any], first: float | None
) -> tuple[str, list[dict[str, Any]]]:
    from bgpemu.lab.credentials import with_lab_account
    from bgpemu.observe.mqtt import check_broker, send_control

    wait = getattr(args, "answer_timeout", ANSWER_TIMEOUT)
    await check_broker(address, wait)
    lab = await find_lab(args, address, wait)
    address = with_lab_account(address, lab)
    try:
        answers = await send_control(address, lab, payload, args.timeout, first)
    except TimeoutError:
        raise NoAnswerError(lab, address) from None
    return lab, answers


def _command_args(args: argparse.Namespace) -> dict[str, Any]:
    if args.op in ("fail_link", "restore_link", "reset"):
        out: dict[str, Any] = {"a": args.a, "b": args.b}
        if getattr(args, "silent", False):
            out["silent"] = True
        return out
    if args.op in ("crash", "restart"):
        return {"node": args.node}
    if args.op in ("instance_down", "instance_up"):
        out = {"node": args.node, "index": args.index}
        if getattr(args, "silent", False):
            out["silent"] = True
        return out
    if args.op == "prepend":
        return {"node": args.node, "peer": args.peer, "count": args.count}
    out = {"node": args.node, "prefix": args.prefix}
    if getattr(args, "prepend", 0):
        out["as_path_prepend"] = args.prepend
    return out


def _run(args: argparse.Namespace) -> int:
    return _send(args, _command_args(args))


def _apply(args: argparse.Namespace) -> int:
    """``bgpemu apply``: validate the topology file here, then send it whole.

    A running lab reads no key references for a remote client (config/keys.py): a file
    whose TCP-MD5 keys come from the environment or from files is sent with those keys
    resolved here, inline (the file's document with each reference replaced by its key:
    :func:`bgpemu.topology.source.inline_keys`).  The file is read once; a file without
    references is validated once.
    """
    import yaml

    from bgpemu.config.keys import KeySources
    from bgpemu.config.safe_yaml import read_file
    from bgpemu.topology import check_topology, parse_topology
    from bgpemu.topology.shipped import resolve_topology
    from bgpemu.topology.source import inline_keys

    try:
        path = str(resolve_topology(args.topology))  # a file, or a shipped topology's name
    except ConfigError as exc:
        return refuse(exc.problems, "sent")
    text = read_file(path)
    if not isinstance(text, str):
        return refuse([text.in_file(path)], "sent")
    if check_topology(text, path, KeySources(references=False))[0]:
        # Invalid, or valid only with its key references resolved here.
        try:
            network = parse_topology(text, path, KeySources(base=Path(path).parent))
            text = yaml.safe_dump(inline_keys(network, path), sort_keys=False)
        except ConfigError as exc:
            return refuse(exc.problems, "sent")
    return _send(args, {"topology": text, "file": os.path.basename(path)})


def _send(args: argparse.Namespace, command_args: dict[str, Any]) -> int:
    """Send ``args.op`` to the lab and print its answers; the exit status."""
    from bgpemu.cli._observe_mqtt import UsageError
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.payloads import control_payload

    payload = control_payload(uuid.uuid4().hex, args.op, **command_args)
    try:
        _lab, answers = exchange(args, payload, first=args.answer_timeout)
    except (ObserveError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NoAnswerError as exc:
        hint = ""
        if exc.address.username is None:
            hint = (
                " (if its broker lets only some users publish on the control topic, give "
                "--mqtt-username and the password: docs/mqtt.md, Security)"
            )
        print(
            f"error: lab {exc.lab!r} on the MQTT broker at {exc.address.url} did not answer "
            f"within {args.answer_timeout:g} s (--answer-timeout), or did not converge within "
            f"{args.timeout:g} s (--timeout){hint}",
            file=sys.stderr,
        )
        return 1
    for answer in answers:
        if args.output == "json":
            print(json.dumps(answer))
        elif answer["event"] == "converged":
            print(
                f"converged after {answer['duration']} s: {answer['updates']} UPDATEs, "
                f"{answer['best_path_changes']} best-path changes over "
                f"{answer['prefixes']} prefixes"
            )
        else:
            print(f"{answer['event']}: {answer['detail']}")
    last = answers[-1]["event"] if answers else None
    if last == "rejected":
        return 2
    return 0 if last == "converged" else 1
