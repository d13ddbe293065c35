"""``bgpemu fail|restore|reset|announce|withdraw|prepend|apply``: change a running lab
through MQTT.

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

from bgpemu.cli._mqtt_options import DEFAULT_MQTT, add_mqtt_options, broker_of
from bgpemu.cli._problems import refuse
from bgpemu.errors import ConfigError

if TYPE_CHECKING:
    from bgpemu.observe.url import BrokerAddress

__all__ = ["add_parsers"]


def _common(parser: argparse.ArgumentParser) -> None:
    add_mqtt_options(
        parser,
        default=None,
        help=f"the lab's broker (default: the running lab's, else {DEFAULT_MQTT})",
    )
    parser.add_argument("--lab", help="lab name (default: the only lab running on this machine)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for convergence"
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


def _target(args: argparse.Namespace) -> tuple[str, str] | None:
    """(lab, broker URL) from the options or the running lab's state file."""
    from bgpemu.lab.state_files import read_state

    if args.lab is not None:
        return args.lab, args.mqtt or DEFAULT_MQTT
    states = read_state()
    if len(states) != 1:
        names = ", ".join(s["name"] for s in states) or "none"
        print(f"error: give --lab (labs running here: {names})", file=sys.stderr)
        return None
    state = states[0]
    return str(state["name"]), args.mqtt or state.get("mqtt") or DEFAULT_MQTT


async def _exchange(
    address: BrokerAddress, lab: str, payload: dict[str, Any], timeout: float
) -> list[dict[str, Any]]:
    """Check the broker (a clear error for TLS or credentials), then send ``payload``."""
    from bgpemu.observe.mqtt import check_broker, send_control

    await check_broker(address, timeout)
    return await send_control(address, lab, payload, timeout)


def _with_lab_account(address: BrokerAddress, lab: str) -> BrokerAddress:
    """``address`` with the account of lab ``lab`` when no credentials were given and it
    is that running lab's embedded broker (:mod:`bgpemu.lab.credentials`)."""
    from bgpemu.lab.credentials import read_lab_account

    if address.username is not None:
        return address
    account = read_lab_account(lab, address.url)
    return address if account is None else address.with_credentials(*account)


def _command_args(args: argparse.Namespace) -> dict[str, Any]:
    if args.op in ("fail_link", "restore_link", "reset"):
        out: dict[str, Any] = {"a": args.a, "b": args.b}
        if getattr(args, "silent", False):
            out["silent"] = True
        return out
    if args.op in ("crash", "restart"):
        return {"node": args.node}
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
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.payloads import control_payload

    target = _target(args)
    if target is None:
        return 2
    lab, url = target
    payload = control_payload(uuid.uuid4().hex, args.op, **command_args)
    try:
        address = _with_lab_account(broker_of(args, url), lab)
        answers = asyncio.run(_exchange(address, lab, payload, args.timeout))
    except ObserveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TimeoutError:
        hint = ""
        if address.username is None:
            hint = (
                " (if its broker lets only some users publish on the control topic, give "
                "--mqtt-username and the password: docs/mqtt.md, Security)"
            )
        print(
            f"error: lab {lab!r} did not answer within {args.timeout:g} s{hint}",
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
