"""Operations on a running lab, by name: the one parser of control commands and change files.

An operation is an op name and its arguments by name.  :func:`parse_operation` checks
one against the lab's names (:class:`~bgpemu.lab.targets.Names`) and returns either
the checked :class:`Injection` (the arguments, normalised, and the speakers and
sessions they name) or every :class:`Problem` with it, each naming its field; nothing
is done to the lab then.  Two surfaces use it, and each says where a problem comes from:

* the MQTT ``control`` topic (:mod:`bgpemu.lab.control`; ``bgpemu fail|restore|...``):
  ``args.FIELD: MESSAGE``; the ``rejected`` event carries the request id and the op;
* change files (:mod:`bgpemu.testing.changes`; ``bgpemu diff --change``):
  ``FILE:LINE: [ITEM] OP: FIELD: MESSAGE``.

An injection is then carried out by the one engine interface: the control topic's
through :class:`~bgpemu.lab.engine.Engine` (:func:`bgpemu.lab.control.apply`, speaker
names), a change file's through the testing API's :class:`~bgpemu.testing.Lab`, which
keeps what an engine does not (links down and why, crashed speakers, originated
prefixes).  Some ops exist on one surface only; on the other they are refused with the
surface that has them.  The ops, their fields and the checks of the fields are described
once, for the traffic questions too, in :mod:`bgpemu.lab.operations` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange
from bgpemu.errors import ConfigError
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.field_checks import shown
from bgpemu.lab.operations import (
    CHANGES,
    CONTROL,
    FIELDS,
    OPS,
    QUESTIONS,
    SURFACE_NAMES,
    OpSpec,
    Problem,
    Surface,
    check_args,
    not_a_mapping,
    ops_of,
)
from bgpemu.lab.targets import Names
from bgpemu.topology.edit import apply_edit

__all__ = [
    "CHANGES",
    "CONTROL",
    "FIELDS",
    "OPS",
    "Injection",
    "OpSpec",
    "Problem",
    "Surface",
    "ops_of",
    "parse_operation",
    "summary",
]

_PAIR = ("a", "b")


@dataclass(frozen=True, slots=True, kw_only=True)
class Injection:
    """A checked operation: its arguments by name and, in speaker terms, what they name."""

    op: str
    args: Mapping[str, Any] = field(default_factory=dict)
    """The arguments as given (topology or speaker names), checked; a prefix canonical."""
    pairs: tuple[tuple[str, str], ...] = ()
    """Speaker sessions: of a link, a reset, a prepend, a lost instance, a private peering."""
    speakers: tuple[str, ...] = ()
    silent: bool = False
    prefix: str | None = None
    as_path_prepend: int = 0
    count: int = 0
    """``prepend``: extra copies of the ASN on the sessions of :attr:`pairs`."""
    file: str = ""
    """``apply``: the name of the topology file."""
    network: Network | None = None
    """``apply`` and topology edits: the new topology."""
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


def _elsewhere(op: str, spec: OpSpec, surface: Surface) -> str:
    """Why ``op`` is refused on ``surface``: the surface that has it, and the name here."""
    (other,) = spec.surfaces
    here = f"; here it is {spec.instead}" if spec.instead else ""
    return f"{op} is an operation of {SURFACE_NAMES[other]}, not of {SURFACE_NAMES[surface]}{here}"


def parse_operation(
    names: Names, op: object, args: object, surface: Surface
) -> Injection | list[Problem]:
    """The injection ``op`` with ``args`` asks for on ``surface``, or every problem with it.

    Node, speaker and session names are resolved by ``names`` (the running lab's);
    a topology edit is made on ``names.network`` (the new network is in
    :attr:`Injection.network`).  ``apply`` is checked for its fields only: the control
    topic validates and plans the topology (:func:`bgpemu.lab.control.parse_command`).
    """
    spec = OPS.get(op) if isinstance(op, str) else None
    if spec is None or spec.question:
        offered = ", ".join(ops_of(surface))
        if surface == CONTROL:  # served before this parser (bgpemu.lab.questions)
            offered += f"; traffic questions: {', '.join(QUESTIONS)}"
        return [Problem("op", f"unknown operation {shown(op)} (one of: {offered})")]
    assert isinstance(op, str)
    if surface not in spec.surfaces:
        return [Problem("op", _elsewhere(op, spec, surface))]
    if not isinstance(args, Mapping):
        return [not_a_mapping(args)]
    if spec.targets == "edit":
        return _edit(names, op, args)
    checked, problems = check_args(op, spec, args, surface)
    injection = _resolve(names, op, spec, checked, problems)
    return problems or injection


def _resolve(
    names: Names, op: str, spec: OpSpec, args: dict[str, Any], problems: list[Problem]
) -> Injection:
    """The speakers and sessions ``args`` name (a problem for each name that names nothing)."""
    pairs: tuple[tuple[str, str], ...] = ()
    speakers: tuple[str, ...] = ()

    def find(name: str, lookup: Callable[[], Any]) -> Any:
        """``lookup()``, or None and a problem for field ``name`` ("": the operation)."""
        try:
            return lookup()
        except LabInputError as exc:
            problems.append(Problem(name, str(exc)))
            return None

    if spec.targets == "pair":
        first, second = ("node", "peer") if op == "prepend" else _PAIR
        found = 0
        for end in (first, second):
            if end in args and find(end, partial(names.speakers, args[end])):
                found += 1
        if found == 2:
            pairs = find("", partial(names.sessions, args[first], args[second])) or ()
    elif spec.targets == "node" and "node" in args:
        speakers = find("node", partial(names.speakers, args["node"])) or ()
    elif spec.targets == "instance" and {"node", "index"} <= set(args):
        speaker = find("", partial(names.instance, args["node"], args["index"]))
        if speaker is not None:
            speakers = (speaker,)
            pairs = tuple((speaker, peer) for peer in names.neighbors[speaker])
    elif spec.targets == "circuit" and "circuit" in args:
        pairs = find("circuit", partial(names.private_peering, args["circuit"])) or ()
    return Injection(
        op=op,
        args=args,
        pairs=pairs,
        speakers=speakers,
        silent=bool(args.get("silent", False)),
        prefix=args.get("prefix"),
        as_path_prepend=int(args.get("as_path_prepend", 0)),
        count=int(args.get("count", 0)),
        file=str(args.get("file", "")),
    )


def _edit(names: Names, op: str, args: Mapping[Any, Any]) -> Injection | list[Problem]:
    """Topology edit ``op`` made on the names' network (:mod:`bgpemu.topology.edit`)."""
    fields = {str(k): v for k, v in args.items()}
    try:
        network = apply_edit(names.network, op, fields)
    except ConfigError as exc:
        return [Problem("", str(problem)) for problem in exc.problems] or [Problem("", str(exc))]
    except LabInputError as exc:
        return [Problem("", str(exc))]
    return Injection(op=op, args=fields, network=network)
