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
surface that has them:

=========================  ============================================  =================
op                         fields (optional ones in brackets)            surfaces
=========================  ============================================  =================
fail_link                  a, b, [silent]                                both
restore_link               a, b, [silent (control)]                      both
reset / reset_session      a, b, [silent (control)]                      control / files
crash, restart             node                                          both
announce                   node, prefix, [as_path_prepend], [med,        both (med and
                           communities]                                  communities: files)
withdraw                   node, prefix, [as_path_prepend (control)]     both
prepend                    node, peer, count                             both
instance_down, instance_up node, index, [silent] (down only)             both
er_private_peering_down,   circuit                                       files
er_private_peering_up
advance                    seconds                                       files
apply                      topology, [file]                              control
add_node, ... (topology    the topology file's fields                    files
edits, EDIT_OPS)
=========================  ============================================  =================

The fields the control topic takes with no effect (``silent`` of ``restore_link`` and
``reset``, ``as_path_prepend`` of ``withdraw``) are those ``schema/mqtt/control.json``
lists for them, accepted as before; a field of another operation is refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange
from bgpemu.errors import ConfigError
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.field_checks import BadValueError, flag, integer, shown
from bgpemu.lab.questions import QUESTIONS
from bgpemu.lab.targets import Names, parse_prefix
from bgpemu.policy.communities import parse_community
from bgpemu.topology.edit import EDIT_OPS, apply_edit

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

Surface = Literal["control", "changes"]
CONTROL: Surface = "control"
"""The lab's MQTT ``control`` topic (``bgpemu fail|restore|reset|...|apply``)."""
CHANGES: Surface = "changes"
"""Change files (``bgpemu diff --change``, the testing API)."""
_SURFACE_NAMES: dict[Surface, str] = {
    CONTROL: "the control topic (bgpemu fail|restore|reset|announce|withdraw|prepend|apply)",
    CHANGES: "change files (bgpemu diff --change)",
}
_BOTH = frozenset({CONTROL, CHANGES})

MAX_ADVANCE = 86_400.0
"""The most seconds one ``advance`` lets pass (a day: the fabric fires every timer due
meanwhile, a keepalive per session per minute with Azure's timers)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with an operation: ``field`` is an argument's name, ``op``, or ""
    for the arguments as a whole."""

    field: str
    message: str

    def in_command(self) -> str:
        """As the control topic says it: ``args.FIELD: MESSAGE`` (``op: ...``, ``args: ...``)."""
        if self.field == "op":
            return f"op: {self.message}"
        return f"args{'.' + self.field if self.field else ''}: {self.message}"

    def in_file(self, where: str) -> str:
        """As a change file says it: ``WHERE: FIELD: MESSAGE`` (``WHERE`` names file, line,
        item and op)."""
        named = self.field and self.field != "op"
        return f"{where}: {self.field}: {self.message}" if named else f"{where}: {self.message}"


def _name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BadValueError
    return value


def _index(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValueError
    return value


def _prefix(value: object) -> str:
    if not isinstance(value, str):
        raise BadValueError
    try:
        return parse_prefix(value)[1]
    except LabInputError as exc:
        raise BadValueError(str(exc)) from None


def _seconds(value: object) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValueError
    if not (math.isfinite(value) and 0 <= value <= MAX_ADVANCE):
        raise BadValueError
    return value


def _communities(value: object) -> list[Any]:
    """RFC 1997 communities, ``65000:100`` or a well-known name, as in the topology file."""
    if not isinstance(value, list):
        raise BadValueError
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise BadValueError
        try:
            parse_community(item)
        except ValueError as exc:
            raise BadValueError(f"{exc} (in {shown(value)})") from None
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValueError
    return value


@dataclass(frozen=True, slots=True)
class _Field:
    what: str
    """What the field holds, for messages: ``must be WHAT``, ``WHAT is required``."""
    check: Callable[[Any], Any]
    """The normalised value, or BadValueError."""


_NODE = _Field("a node or speaker name", _name)
FIELDS: dict[str, _Field] = {
    "a": _NODE,
    "b": _NODE,
    "node": _NODE,
    "peer": _NODE,
    "circuit": _Field("an ExpressRoute circuit name", _name),
    "silent": _Field("true or false", flag),
    "prefix": _Field("an IP prefix", _prefix),
    "as_path_prepend": _Field("an integer 0..255", integer(255)),
    "count": _Field("an integer 0..255", integer(255)),
    "med": _Field("an integer 0..4294967295 (RFC 4271 §4.3)", integer(2**32 - 1)),
    "communities": _Field("a list of communities (65000:100 or a well-known name)", _communities),
    "index": _Field("an instance number (0 or 1)", _index),
    "seconds": _Field(f"a number of seconds 0..{MAX_ADVANCE:.0f}", _seconds),
    "topology": _Field("the new topology (YAML text)", _text),
    "file": _Field("a file name", _name),
}
"""Every argument an operation may take, by name, with its check."""

Targets = Literal["pair", "node", "instance", "circuit", "none", "edit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpSpec:
    """The shape of one operation."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    surfaces: frozenset[Surface] = _BOTH
    only: Mapping[str, Surface] = field(default_factory=dict)
    """Optional fields valid on one surface only."""
    targets: Targets = "none"
    """What the fields name: a pair of nodes (their sessions), a node (its speakers), an
    instance of a gateway, a circuit's private peering, nothing, or a topology edit."""
    instead: str = ""
    """The name of this operation on the other surface (``reset`` / ``reset_session``)."""


_PAIR = ("a", "b")
OPS: dict[str, OpSpec] = {
    "fail_link": OpSpec(required=_PAIR, optional=("silent",), targets="pair"),
    "restore_link": OpSpec(  # silent: as schema/mqtt/control.json lists it (no effect)
        required=_PAIR, optional=("silent",), only={"silent": CONTROL}, targets="pair"
    ),
    "reset_session": OpSpec(
        required=_PAIR, surfaces=frozenset({CHANGES}), targets="pair", instead="reset"
    ),
    "crash": OpSpec(required=("node",), targets="node"),
    "restart": OpSpec(required=("node",), targets="node"),
    "reset": OpSpec(  # silent: as schema/mqtt/control.json lists it (no effect)
        required=_PAIR,
        optional=("silent",),
        surfaces=frozenset({CONTROL}),
        targets="pair",
        instead="reset_session",
    ),
    "announce": OpSpec(
        required=("node", "prefix"),
        optional=("as_path_prepend", "med", "communities"),
        only={"med": CHANGES, "communities": CHANGES},
        targets="node",
    ),
    "withdraw": OpSpec(  # as_path_prepend: as schema/mqtt/control.json lists it (no effect)
        required=("node", "prefix"),
        optional=("as_path_prepend",),
        only={"as_path_prepend": CONTROL},
        targets="node",
    ),
    "prepend": OpSpec(required=("node", "peer", "count"), targets="pair"),
    "instance_down": OpSpec(required=("node", "index"), optional=("silent",), targets="instance"),
    "instance_up": OpSpec(required=("node", "index"), targets="instance"),
    "er_private_peering_down": OpSpec(
        required=("circuit",), surfaces=frozenset({CHANGES}), targets="circuit"
    ),
    "er_private_peering_up": OpSpec(
        required=("circuit",), surfaces=frozenset({CHANGES}), targets="circuit"
    ),
    "advance": OpSpec(required=("seconds",), surfaces=frozenset({CHANGES})),
    "apply": OpSpec(required=("topology",), optional=("file",), surfaces=frozenset({CONTROL})),
    **{op: OpSpec(surfaces=frozenset({CHANGES}), targets="edit") for op in EDIT_OPS},
}
"""Every operation, in the order messages list them (the control topic's are
:data:`bgpemu.observe.payloads.CONTROL_OPS`, in that order)."""


def ops_of(surface: Surface) -> tuple[str, ...]:
    """The operations ``surface`` offers."""
    return tuple(op for op, spec in OPS.items() if surface in spec.surfaces)


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
    return (
        f"{op} is an operation of {_SURFACE_NAMES[other]}, not of {_SURFACE_NAMES[surface]}{here}"
    )


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
    if spec is None:
        offered = ", ".join(ops_of(surface))
        if surface == CONTROL:  # served before this parser (bgpemu.lab.questions)
            offered += f"; traffic questions: {', '.join(QUESTIONS)}"
        return [Problem("op", f"unknown operation {shown(op)} (one of: {offered})")]
    assert isinstance(op, str)
    if surface not in spec.surfaces:
        return [Problem("op", _elsewhere(op, spec, surface))]
    if not isinstance(args, Mapping):
        return [Problem("", f"must be a mapping of the arguments by name, not {shown(args)}")]
    if spec.targets == "edit":
        return _edit(names, op, args)
    problems: list[Problem] = []
    known = (*spec.required, *spec.optional)
    usable = [name for name in known if spec.only.get(name, surface) == surface]
    unknown = sorted((str(k) for k in args if k not in known), key=str)
    if unknown:
        fields = ", ".join(usable)
        problems.append(Problem("", f"unknown field(s) {', '.join(unknown)} ({op}: {fields})"))
    for name in known:
        if name in args and name not in usable:
            where = _SURFACE_NAMES[spec.only[name]]
            problems.append(Problem(name, f"is a field of {op} in {where} only"))
    checked: dict[str, Any] = {}
    for name, value in args.items():  # in the order given: a change file's steps echo it
        if name not in usable:
            continue
        try:
            checked[name] = FIELDS[name].check(value)
        except BadValueError as exc:
            message = str(exc) or f"must be {FIELDS[name].what}, not {shown(value)}"
            problems.append(Problem(name, message))
    for name in spec.required:
        if name not in args:
            problems.append(Problem(name, f"{FIELDS[name].what} is required"))
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
