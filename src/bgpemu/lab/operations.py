"""The one description of an operation on a running lab and of its fields.

Every op a client sends on the MQTT ``control`` topic, or a change file holds, is an
:class:`OpSpec` in :data:`OPS`: its required and optional fields, the surfaces that
offer it, what its fields name; every field is a :class:`Field` in :data:`FIELDS`: what it
holds (for messages) and its check (:mod:`bgpemu.lab.field_checks`).  :func:`check_args`
checks the arguments of an op against them, for the injections and topology edits
(:func:`bgpemu.lab.commands.parse_operation`) and the traffic questions
(:func:`bgpemu.lab.questions.parse_question`) alike: unknown fields, fields of another
surface, bad values, missing required fields, each a :class:`Problem` naming its field.
Adding an op or a field is one entry here (and, for a question, its answer in
:mod:`bgpemu.lab.questions`; for an injection, its effect in :mod:`bgpemu.lab.control`).

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
add_node, ... (topology    the topology file's fields (checked by        files
edits, EDIT_OPS)           :mod:`bgpemu.topology.edit`)
trace, next_hop, ip_flow,  see :mod:`bgpemu.lab.questions`               control
effective_nsg,                                                           (questions)
reachability
=========================  ============================================  =================

The fields the control topic takes with no effect (``silent`` of ``restore_link`` and
``reset``, ``as_path_prepend`` of ``withdraw``) are those ``schema/mqtt/control.json``
lists for them, accepted as before; a field of another operation is refused.

Two things differ between injections and questions, kept so that every message reads as
it did before they shared this description: a question's problems come in the order of its
fields here (an injection's bad values in the order given, then its missing fields), and a
question has defaults (``protocol``: Tcp) and port fields required unless its protocol
has no ports (ICMP, ESP, AH).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bgpemu.azure.traffic.flow import FLOW_PROTOCOLS
from bgpemu.azure.traffic.matrix import PORTLESS
from bgpemu.lab import field_checks as checks
from bgpemu.lab.field_checks import BadValueError, shown
from bgpemu.topology.edit import EDIT_OPS

__all__ = [
    "CHANGES",
    "CONTROL",
    "FIELDS",
    "MAX_ADVANCE",
    "OPS",
    "QUESTIONS",
    "SURFACE_NAMES",
    "Field",
    "OpSpec",
    "Problem",
    "Surface",
    "check_args",
    "not_a_mapping",
    "ops_of",
]

Surface = Literal["control", "changes"]
CONTROL: Surface = "control"
"""The lab's MQTT ``control`` topic (``bgpemu fail|restore|reset|...|apply``, questions)."""
CHANGES: Surface = "changes"
"""Change files (``bgpemu diff --change``, the testing API)."""
SURFACE_NAMES: dict[Surface, str] = {
    CONTROL: "the control topic (bgpemu fail|restore|reset|announce|withdraw|prepend|apply)",
    CHANGES: "change files (bgpemu diff --change)",
}
_BOTH = frozenset({CONTROL, CHANGES})
_CONTROL = frozenset({CONTROL})
_CHANGES = frozenset({CHANGES})

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


@dataclass(frozen=True, slots=True)
class Field:
    """One argument an operation may take."""

    what: str
    """What the field holds, for messages: ``must be WHAT``, ``WHAT is required``."""
    check: Callable[[Any], Any]
    """The normalised value, or BadValueError (:mod:`bgpemu.lab.field_checks`)."""


_NODE = Field("a node or speaker name", checks.name)
_ENDPOINT = Field("an interface, NVA or firewall name, or an address", checks.short_text)
_PORT = Field("a port number 0..65535", checks.integer(65535))
FIELDS: dict[str, Field] = {
    "a": _NODE,
    "b": _NODE,
    "node": _NODE,
    "peer": _NODE,
    "circuit": Field("an ExpressRoute circuit name", checks.name),
    "silent": Field("true or false", checks.flag),
    "prefix": Field("an IP prefix", checks.prefix),
    "as_path_prepend": Field("an integer 0..255", checks.integer(255)),
    "count": Field("an integer 0..255", checks.integer(255)),
    "med": Field("an integer 0..4294967295 (RFC 4271 §4.3)", checks.integer(2**32 - 1)),
    "communities": Field(
        "a list of communities (65000:100 or a well-known name)", checks.communities
    ),
    "index": Field("an instance number (0 or 1)", checks.index),
    "seconds": Field(f"a number of seconds 0..{MAX_ADVANCE:.0f}", checks.seconds(MAX_ADVANCE)),
    "topology": Field("the new topology (YAML text)", checks.text),
    "file": Field("a file name", checks.name),
    # the traffic questions'
    "source": _ENDPOINT,
    "destination": _ENDPOINT,
    "nic": Field("an interface or NVA name, or its address", checks.short_text),
    "remote": Field("an address", checks.short_text),
    "local": Field("an address (the NIC's)", checks.short_text),
    "interfaces": Field("true or false", checks.flag),
    "port": _PORT,
    "source_port": _PORT,
    "local_port": _PORT,
    "remote_port": _PORT,
    "protocol": Field(f"a protocol ({', '.join(FLOW_PROTOCOLS)}, any case)", checks.protocol),
    "direction": Field("'Inbound' or 'Outbound'", checks.direction),
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
    question: bool = False
    """A traffic question (:mod:`bgpemu.lab.questions`): answered, changes nothing."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Values of optional fields not given, in the checked arguments."""
    ports: tuple[str, ...] = ()
    """Port fields, required unless the ``protocol`` checked has no ports (ICMP, ESP, AH)."""
    in_declared_order: bool = False
    """Problems in the order of the fields here (else: bad values in the order given,
    then the missing fields)."""


def _question(
    required: tuple[str, ...] = (), optional: tuple[str, ...] = (), ports: tuple[str, ...] = ()
) -> OpSpec:
    defaults = {"protocol": "Tcp"} if "protocol" in optional else {}
    return OpSpec(
        required=required,
        optional=optional,
        surfaces=_CONTROL,
        question=True,
        defaults=defaults,
        ports=ports,
        in_declared_order=True,
    )


_PAIR = ("a", "b")
OPS: dict[str, OpSpec] = {
    "fail_link": OpSpec(required=_PAIR, optional=("silent",), targets="pair"),
    "restore_link": OpSpec(  # silent: as schema/mqtt/control.json lists it (no effect)
        required=_PAIR, optional=("silent",), only={"silent": CONTROL}, targets="pair"
    ),
    "reset_session": OpSpec(required=_PAIR, surfaces=_CHANGES, targets="pair", instead="reset"),
    "crash": OpSpec(required=("node",), targets="node"),
    "restart": OpSpec(required=("node",), targets="node"),
    "reset": OpSpec(  # silent: as schema/mqtt/control.json lists it (no effect)
        required=_PAIR,
        optional=("silent",),
        surfaces=_CONTROL,
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
    "er_private_peering_down": OpSpec(required=("circuit",), surfaces=_CHANGES, targets="circuit"),
    "er_private_peering_up": OpSpec(required=("circuit",), surfaces=_CHANGES, targets="circuit"),
    "advance": OpSpec(required=("seconds",), surfaces=_CHANGES),
    "apply": OpSpec(required=("topology",), optional=("file",), surfaces=_CONTROL),
    **{op: OpSpec(surfaces=_CHANGES, targets="edit") for op in EDIT_OPS},
    "trace": _question(
        ("source", "destination"), ("port", "protocol", "source_port"), ports=("port",)
    ),
    "next_hop": _question(("source", "destination")),
    "ip_flow": _question(
        ("nic", "remote"),
        ("direction", "protocol", "local_port", "remote_port", "local"),
        ports=("local_port", "remote_port"),
    ),
    "effective_nsg": _question(("nic",)),
    "reachability": _question(optional=("port", "protocol", "interfaces")),
}
"""Every operation, in the order messages list them: the injections and topology edits
(the control topic's are :data:`bgpemu.observe.payloads.CONTROL_OPS`, in that order),
then the traffic questions (:data:`QUESTIONS`)."""

QUESTIONS = tuple(op for op, spec in OPS.items() if spec.question)
"""The control ops that ask a traffic question (the lab answers, changes nothing)."""


def ops_of(surface: Surface) -> tuple[str, ...]:
    """The injections and topology edits ``surface`` offers (not the questions)."""
    return tuple(op for op, spec in OPS.items() if surface in spec.surfaces and not spec.question)


def not_a_mapping(args: object) -> Problem:
    """The problem with arguments that are not a mapping by name."""
    return Problem("", f"must be a mapping of the arguments by name, not {shown(args)}")


def check_args(
    op: str, spec: OpSpec, args: Mapping[Any, Any], surface: Surface
) -> tuple[dict[str, Any], list[Problem]]:
    """The arguments of ``op`` checked (normalised, defaults filled in, in the order
    given: a change file's steps echo it), and every problem with them."""
    problems: list[Problem] = []
    known = (*spec.required, *spec.optional)
    usable = [name for name in known if spec.only.get(name, surface) == surface]
    unknown = sorted((str(k) for k in args if k not in known), key=str)
    if unknown:
        fields = ", ".join(usable)
        problems.append(Problem("", f"unknown field(s) {', '.join(unknown)} ({op}: {fields})"))
    for name in known:
        if name in args and name not in usable:
            where = SURFACE_NAMES[spec.only[name]]
            problems.append(Problem(name, f"is a field of {op} in {where} only"))
    checked: dict[str, Any] = {}
    wrong: list[Problem] = []
    for name, value in args.items():
        if name not in usable:
            continue
        try:
            checked[name] = FIELDS[name].check(value)
        except BadValueError as exc:
            message = str(exc) or f"must be {FIELDS[name].what}, not {shown(value)}"
            wrong.append(Problem(name, message))
    for name in spec.required:
        if name not in args:
            wrong.append(Problem(name, f"{FIELDS[name].what} is required"))
    if spec.in_declared_order:
        wrong.sort(key=lambda problem: known.index(problem.field))
    problems += wrong
    for name, value in spec.defaults.items():
        if name not in args:
            checked[name] = value
    protocol = checked.get("protocol")
    if protocol is not None and protocol not in PORTLESS:
        for name in spec.ports:
            if name not in args:
                problems.append(Problem(name, f"{FIELDS[name].what} is required for {protocol}"))
    return checked, problems
