"""Commands to a running lab (``bgpemu fail ...``, the MQTT ``control`` topic).

A command names topology nodes or speakers; :func:`parse_command` checks it against
the lab's plan and either returns the speaker-level :class:`Injection` or every
problem at once, in which case the lab is left untouched.  :func:`apply` carries an
injection out on a :class:`~bgpemu.lab.supervisor.TcpLab`.

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
=============  =========================================  ======================================
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.plan import Plan
from bgpemu.lab.supervisor import LabError, TcpLab
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.reconfigure import prepend_policy
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST

__all__ = ["Injection", "apply", "parse_command"]

_OPS = (
    "fail_link",
    "restore_link",
    "crash",
    "restart",
    "reset",
    "announce",
    "withdraw",
    "prepend",
)
_ARGS = frozenset({"a", "b", "silent", "node", "peer", "prefix", "as_path_prepend", "count"})


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

    def describe(self) -> str:
        """``fail_link HubGW-SiteB (silent)``, ``prepend nva1-ars.0, nva1-ars.1 x3``."""
        what = ", ".join(f"{a}-{b}" for a, b in self.pairs) or ", ".join(self.speakers)
        extra = f" {self.prefix}" if self.prefix else ""
        if self.op == "prepend":
            extra = f" x{self.count}"
        return f"{self.op} {what}{extra}{' (silent)' if self.silent else ''}"


def _speakers(plan: Plan, name: object, field: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(name, str) or not name:
        problems.append(f"args.{field}: a node or speaker name is required")
        return ()
    if name in plan.endpoints and not plan.endpoints[name].external:
        return (name,)
    found = tuple(e.speaker for e in plan.of_node(name) if not e.external)
    if not found:
        known = sorted({e.node for e in plan.endpoints.values() if not e.external})
        problems.append(f"args.{field}: no node or speaker {name!r} (nodes: {', '.join(known)})")
    return found


def _pairs(plan: Plan, a: tuple[str, ...], b: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    specs = {spec.name: spec for spec in plan.speakers}
    pairs: list[tuple[str, str]] = []
    for x in a:
        neighbours = {n.name for n in specs[x].neighbors}
        pairs.extend((x, y) for y in b if y in neighbours)
    return tuple(pairs)


def parse_command(plan: Plan, command: Mapping[str, Any]) -> Injection | list[str]:
    """The injection ``command`` asks for, or every problem with it."""
    problems: list[str] = []
    op = command.get("op")
    args = command.get("args", {})
    if op not in _OPS:
        return [f"op: unknown operation {op!r} (one of: {', '.join(_OPS)})"]
    if not isinstance(args, Mapping):
        return ["args: must be an object"]
    unknown = sorted(set(args) - _ARGS)
    if unknown:
        problems.append(f"args: unknown field(s) {', '.join(unknown)}")
    if op in ("fail_link", "restore_link", "reset"):
        a = _speakers(plan, args.get("a"), "a", problems)
        b = _speakers(plan, args.get("b"), "b", problems)
        silent = args.get("silent", False)
        if not isinstance(silent, bool):
            problems.append("args.silent: must be true or false")
        pairs = _pairs(plan, a, b) if a and b else ()
        if a and b and not pairs:
            problems.append(f"args: no BGP session between {args['a']!r} and {args['b']!r}")
        if problems:
            return problems
        return Injection(op=str(op), pairs=pairs, silent=bool(silent))
    speakers = _speakers(plan, args.get("node"), "node", problems)
    if op == "prepend":
        return _prepend(plan, args, speakers, problems)
    if op in ("crash", "restart"):
        return problems or Injection(op=str(op), speakers=speakers)
    prefix = args.get("prefix")
    try:
        prefix = str(ipaddress.ip_network(str(prefix)))
    except ValueError:
        problems.append(f"args.prefix: {prefix!r} is not an IP prefix")
    prepend = args.get("as_path_prepend", 0)
    if not isinstance(prepend, int) or isinstance(prepend, bool) or not 0 <= prepend <= 255:
        problems.append("args.as_path_prepend: must be an integer 0..255")
    if problems:
        return problems
    return Injection(op=str(op), speakers=speakers, prefix=prefix, as_path_prepend=prepend)


def _prepend(
    plan: Plan, args: Mapping[str, Any], speakers: tuple[str, ...], problems: list[str]
) -> Injection | list[str]:
    peers = _speakers(plan, args.get("peer"), "peer", problems)
    count = args.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 255:
        problems.append("args.count: must be an integer 0..255")
    pairs = _pairs(plan, speakers, peers) if speakers and peers else ()
    if speakers and peers and not pairs:
        problems.append(f"args: no BGP session between {args['node']!r} and {args['peer']!r}")
    if problems:
        return problems
    assert isinstance(count, int)
    return Injection(op="prepend", pairs=pairs, count=count)


async def apply(lab: TcpLab, injection: Injection) -> None:
    """Carry ``injection`` out on ``lab`` (LabError if the lab refuses part of it)."""
    if injection.op == "fail_link":
        for a, b in injection.pairs:
            await lab.cut_link(a, b, silent=injection.silent)
    elif injection.op == "restore_link":
        for a, b in injection.pairs:
            await lab.restore_link(a, b)
    elif injection.op == "reset":
        for a, b in injection.pairs:
            await lab.reset_session(a, b)
    elif injection.op == "crash":
        for speaker in injection.speakers:
            others = set(lab.colocated(speaker)) - set(injection.speakers)
            if others:
                raise LabError(
                    f"crashing {speaker} would also kill {', '.join(sorted(others))} (same "
                    f"process); run the lab with --processes {len(lab.local)} to crash one "
                    "node alone"
                )
        for speaker in injection.speakers:
            lab.crash(speaker)
    elif injection.op == "restart":
        done: set[str] = set()
        for speaker in injection.speakers:
            if speaker not in done:
                done.update(await lab.restart(speaker))
    elif injection.op == "prepend":
        specs = {spec.name: spec for spec in lab.plan.speakers}
        for speaker, peer in injection.pairs:
            original = specs[speaker].router.neighbor(peer).export_policy
            current = lab.neighbor_policy(speaker, peer)
            policy = prepend_policy(current, original, injection.count)
            await lab.set_neighbor_policy(speaker, policy)
    else:
        assert injection.prefix is not None
        network = ipaddress.ip_network(injection.prefix)
        family = IPV4_UNICAST if network.version == 4 else IPV6_UNICAST
        for speaker in injection.speakers:
            if injection.op == "announce":
                route = OriginatedRoute(
                    prefix=injection.prefix,
                    family=family,
                    as_path_prepend=injection.as_path_prepend,
                )
                await lab.announce(speaker, route)
            else:
                await lab.withdraw(speaker, family, injection.prefix)
