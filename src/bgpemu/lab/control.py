"""Commands to a running lab (``bgpemu fail ...``, the MQTT ``control`` topic).

A command names topology nodes or speakers; :func:`parse_command` checks it against
the lab's plan with the one parser of operations (:func:`bgpemu.lab.commands.parse_operation`,
change files' too; names resolved by :class:`~bgpemu.lab.targets.Names`) and either
returns the speaker-level :class:`~bgpemu.lab.commands.Injection` or every problem at
once (``args.FIELD: MESSAGE``), in which case the lab is left untouched.  :func:`apply` carries an
injection out on an :class:`~bgpemu.lab.engine.Engine` (the lab's TCP engine over
its running :class:`~bgpemu.lab.supervisor.TcpLab`; each op is the engine method of the
same name, ``reset`` is ``reset_session``).  ``apply`` carries a whole
new topology: it is validated (every problem reported), and planned against the running
plan (:meth:`TcpLab.plan_change <bgpemu.lab.supervisor.TcpLab.plan_change>`) before
anything changes.

=============  =========================================  ======================================
op             args                                       effect
=============  =========================================  ======================================
fail_link      a, b, silent (false)                       every session between a's and b's
                                                          speakers down (Cease, or silently)
restore_link   a, b                                       those sessions back
crash          node                                       its speakers' processes killed
restart        node                                       ... started again
reset          a, b                                       a resets its sessions with b (Cease)
announce       node, prefix, as_path_prepend (0)          node originates prefix
withdraw       node, prefix                               node stops originating prefix
prepend        node, peer, count                          node sends everything to peer with
                                                          count extra copies of its ASN (0:
                                                          none); soft reconfiguration
apply          topology (YAML text), file (its name,      the lab runs that topology from now
               for messages)                              on: speakers and sessions added or
                                                          removed, routes changed; no other
                                                          session drops (issue 6)
=============  =========================================  ======================================
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange
from bgpemu.config.keys import KeySources
from bgpemu.config.safe_yaml import LIMITS
from bgpemu.errors import BgpEmuError, ConfigError
from bgpemu.lab.commands import CONTROL, Injection, parse_operation
from bgpemu.lab.engine import Engine
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.supervisor import LabError
from bgpemu.lab.targets import Names, parse_prefix
from bgpemu.observe.errors import JsonNestingError
from bgpemu.observe.jsontext import loads
from bgpemu.router.config import OriginatedRoute
from bgpemu.topology import parse_topology

__all__ = ["Planner", "apply", "decode_command", "parse_command"]

_log = logging.getLogger(__name__)


Planner = Callable[[Network], PlanChange]
"""Plans a topology change against the running lab (:meth:`TcpLab.plan_change`)."""


_MAX_COMMAND = 2 * LIMITS.max_bytes + 65_536
"""Bytes of one control message: an ``apply`` topology at the size limit, JSON-escaped."""


def decode_command(raw: bytes) -> dict[str, Any] | str:
    """The ``bgpemu/v1/control`` message in ``raw``, or why it is refused (architecture
    decision 12: whatever a client publishes, the lab answers ``rejected`` and runs on).

    A message of 100,000 ``[`` (a RecursionError of Python's JSON decoder) is refused
    like any other text that is not a JSON object (:mod:`bgpemu.observe.jsontext`).
    """
    if len(raw) > _MAX_COMMAND:
        return f"control message of {len(raw):,} bytes; at most {_MAX_COMMAND:,} are read"
    try:
        command = loads(raw)
    except JsonNestingError:
        return "control message is nested too deeply"
    except ValueError as exc:
        return f"control message is not JSON ({exc})"
    if not isinstance(command, dict) or command.get("schema") != "bgpemu/v1/control":
        return "not a bgpemu/v1/control message"
    return command


def parse_command(
    names: Names, command: Mapping[str, Any], *, planner: Planner | None = None
) -> Injection | list[str]:
    """The injection ``command`` asks for, or every problem with it.

    Node, speaker and session names are resolved by ``names`` (the running lab's
    :class:`~bgpemu.lab.targets.Names`, the resolver the testing API uses too).

    ``apply`` needs ``planner`` (a lab without one cannot change its topology).

    Never raises: an unexpected error while checking a command is logged once with its
    traceback and refuses that command only (architecture decision 12).
    """
    try:
        return _parse_command(names, command, planner)
    except Exception as exc:  # a control message must never take the lab down
        _log.exception("control: checking %r failed", command.get("op"))
        return [f"internal error while checking the command ({type(exc).__name__}: {exc})"]


def _parse_command(
    names: Names, command: Mapping[str, Any], planner: Planner | None
) -> Injection | list[str]:
    parsed = parse_operation(names, command.get("op"), command.get("args", {}), CONTROL)
    if isinstance(parsed, list):
        return [problem.in_command() for problem in parsed]
    if parsed.op == "apply":
        return _plan(parsed, planner)
    return parsed


def _plan(injection: Injection, planner: Planner | None) -> Injection | list[str]:
    """``apply``: the new topology, validated and planned; nothing changes yet."""
    if planner is None:
        return ["op: this lab cannot change its topology"]
    file = injection.file or "<control>"
    try:
        network = parse_topology(injection.args["topology"], file, KeySources(references=False))
        change = planner(network)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems] or [str(exc)]
    except BgpEmuError as exc:
        return [f"{file}: {exc}"]
    return dataclasses.replace(injection, file=file, network=network, change=change)


async def apply(engine: Engine, injection: Injection) -> None:
    """Carry ``injection`` out on ``engine`` (the lab's :class:`~bgpemu.lab.engine.TcpEngine`
    over its running TcpLab), one engine operation per speaker or session; LabError if
    the engine refuses part of it (a crash that would kill a colocated node too)."""
    try:
        await _dispatch(engine, injection)
    except LabInputError as exc:
        raise LabError(str(exc)) from None


async def _dispatch(engine: Engine, injection: Injection) -> None:
    op = injection.op
    if op == "fail_link":
        for a, b in injection.pairs:
            await engine.fail_link(a, b, silent=injection.silent)
    elif op == "restore_link":
        for a, b in injection.pairs:
            await engine.restore_link(a, b)
    elif op == "reset":
        for a, b in injection.pairs:
            await engine.reset_session(a, b)
    elif op == "instance_down":  # every session of the instance (testing.Lab.instance_down)
        for a, b in injection.pairs:
            await engine.fail_link(a, b, silent=injection.silent)
    elif op == "instance_up":
        for a, b in injection.pairs:
            await engine.restore_link(a, b)
    elif op == "crash":
        await engine.crash(injection.speakers)
    elif op == "restart":
        await engine.restart(injection.speakers)
    elif op == "apply":
        assert injection.change is not None
        await engine.apply(injection.change, network=injection.network)
    elif op == "prepend":
        for speaker, peer in injection.pairs:
            await engine.prepend(speaker, peer, injection.count)
    else:
        assert injection.prefix is not None
        family, prefix = parse_prefix(injection.prefix)
        route = OriginatedRoute(
            prefix=prefix, family=family, as_path_prepend=injection.as_path_prepend
        )
        for speaker in injection.speakers:
            if op == "announce":
                await engine.announce(speaker, route)
            else:
                await engine.withdraw(speaker, family, prefix)
