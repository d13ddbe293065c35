"""Commands to a running lab (``bgpemu fail ...``, the MQTT ``control`` topic).

A command names topology nodes or speakers; :func:`parse_command` checks it against
the lab's plan with :class:`~bgpemu.lab.targets.Names` (the testing API's resolver too)
and either returns the speaker-level :class:`Injection` or every problem at once, in
which case the lab is left untouched.  :func:`apply` carries an
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

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange
from bgpemu.config.keys import KeySources
from bgpemu.config.safe_yaml import LIMITS
from bgpemu.errors import BgpEmuError, ConfigError
from bgpemu.lab.engine import Engine
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.supervisor import LabError
from bgpemu.lab.targets import Names, parse_prefix
from bgpemu.observe.errors import JsonNestingError
from bgpemu.observe.jsontext import loads
from bgpemu.observe.payloads import CONTROL_OPS
from bgpemu.router.config import OriginatedRoute
from bgpemu.topology import parse_topology

__all__ = ["Injection", "Planner", "apply", "decode_command", "parse_command", "summary"]

_log = logging.getLogger(__name__)

_ARGS = frozenset(
    {"a", "b", "silent", "node", "peer", "prefix", "as_path_prepend", "count", "topology", "file"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Injection:
    """A checked command, in speaker terms."""

    op: str
    pairs: tuple[tuple[str, str], ...] = ()
    """Speaker sessions, for link operations and resets."""
    speakers: tuple[str, ...] = ()
    silent: bool = False
    prefix: str | None = None
    as_path_prepend: int = 0
    count: int = 0
    """``prepend``: extra copies of the ASN on the sessions of :attr:`pairs`."""
    file: str = ""
    """``apply``: the name of the topology file."""
    network: Network | None = None
    """``apply``: the new topology."""
    change: PlanChange | None = None
    """``apply``: what changes, planned against the running plan."""

    def describe(self) -> str:
        """``fail_link HubGW-SiteB (silent)``, ``prepend nva1-ars.0, nva1-ars.1 x3``,
        ``apply spoke3.yaml: changed HubGW``."""
        if self.change is not None:
            return f"{self.op} {self.file}: {summary(self.change)}"
        what = ", ".join(f"{a}-{b}" for a, b in self.pairs) or ", ".join(self.speakers)
        extra = f" {self.prefix}" if self.prefix else ""
        if self.op == "prepend":
            extra = f" x{self.count}"
        return f"{self.op} {what}{extra}{' (silent)' if self.silent else ''}"


def summary(change: PlanChange) -> str:
    """``added Site2; changed HubGW (sessions +Site2); removed Old`` ("no change" if empty)."""
    parts = []
    if change.add_speakers:
        parts.append("added " + ", ".join(spec.name for spec in change.add_speakers))
    changed = []
    for item in change.speakers:
        sessions = [f"+{n.name}" for n, _ in item.add_neighbors]
        sessions += [f"-{name}" for name in item.remove_neighbors]
        sessions += [f"~{n.name}" for n, _ in item.reset_neighbors]
        changed.append(item.speaker + (f" (sessions {' '.join(sessions)})" if sessions else ""))
    if changed:
        parts.append("changed " + ", ".join(changed))
    if change.restart_speakers:
        parts.append("restarted " + ", ".join(spec.name for spec in change.restart_speakers))
    if change.remove_speakers:
        parts.append("removed " + ", ".join(change.remove_speakers))
    return "; ".join(parts) or "no change"


def _speakers(names: Names, name: object, field: str, problems: list[str]) -> tuple[str, ...]:
    """The speakers of node (or speaker) ``name``; a problem for ``args.FIELD`` if none."""
    if not isinstance(name, str) or not name:
        problems.append(f"args.{field}: a node or speaker name is required")
        return ()
    try:
        return names.speakers(name)
    except LabInputError as exc:
        problems.append(f"args.{field}: {exc}")
        return ()


def _pairs(
    names: Names, args: Mapping[str, Any], fields: tuple[str, str], problems: list[str]
) -> tuple[tuple[str, str], ...]:
    """The sessions between the nodes named by the two ``fields`` of ``args``."""
    a = _speakers(names, args.get(fields[0]), fields[0], problems)
    b = _speakers(names, args.get(fields[1]), fields[1], problems)
    if not (a and b):
        return ()
    try:
        return names.sessions(args[fields[0]], args[fields[1]])
    except LabInputError as exc:
        problems.append(f"args: {exc}")
        return ()


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
    problems: list[str] = []
    op = command.get("op")
    args = command.get("args", {})
    if op not in CONTROL_OPS:
        return [f"op: unknown operation {op!r} (one of: {', '.join(CONTROL_OPS)})"]
    if not isinstance(args, Mapping):
        return ["args: must be an object"]
    unknown = sorted(set(args) - _ARGS)
    if unknown:
        problems.append(f"args: unknown field(s) {', '.join(unknown)}")
    if op == "apply":
        return _apply(args, problems, planner)
    if op in ("fail_link", "restore_link", "reset"):
        pairs = _pairs(names, args, ("a", "b"), problems)
        silent = args.get("silent", False)
        if not isinstance(silent, bool):
            problems.append("args.silent: must be true or false")
        if problems:
            return problems
        return Injection(op=str(op), pairs=pairs, silent=bool(silent))
    if op == "prepend":
        return _prepend(names, args, problems)
    speakers = _speakers(names, args.get("node"), "node", problems)
    if op in ("crash", "restart"):
        return problems or Injection(op=str(op), speakers=speakers)
    prefix: str | None = None
    try:
        prefix = parse_prefix(str(args.get("prefix")))[1]
    except LabInputError as exc:
        problems.append(f"args.prefix: {exc}")
    prepend = args.get("as_path_prepend", 0)
    if not isinstance(prepend, int) or isinstance(prepend, bool) or not 0 <= prepend <= 255:
        problems.append("args.as_path_prepend: must be an integer 0..255")
    if problems:
        return problems
    return Injection(op=str(op), speakers=speakers, prefix=prefix, as_path_prepend=prepend)


def _prepend(names: Names, args: Mapping[str, Any], problems: list[str]) -> Injection | list[str]:
    pairs = _pairs(names, args, ("node", "peer"), problems)
    count = args.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 255:
        problems.append("args.count: must be an integer 0..255")
    if problems:
        return problems
    assert isinstance(count, int)
    return Injection(op="prepend", pairs=pairs, count=count)


def _apply(
    args: Mapping[str, Any], problems: list[str], planner: Planner | None
) -> Injection | list[str]:
    """``apply``: the new topology, validated and planned; nothing changes yet."""
    text = args.get("topology")
    file = args.get("file", "<control>")
    if not isinstance(text, str) or not text.strip():
        problems.append("args.topology: the new topology (YAML text) is required")
    if not isinstance(file, str) or not file:
        problems.append("args.file: must be a file name")
    if problems:
        return problems
    assert isinstance(text, str)
    assert isinstance(file, str)
    if planner is None:
        return ["op: this lab cannot change its topology"]
    try:
        network = parse_topology(text, file, KeySources(references=False))
        change = planner(network)
    except ConfigError as exc:
        return [str(problem) for problem in exc.problems] or [str(exc)]
    except BgpEmuError as exc:
        return [f"{file}: {exc}"]
    return Injection(op="apply", file=file, network=network, change=change)


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
