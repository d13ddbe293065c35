"""Change files: a YAML list of injections, for ``bgpemu diff TOPOLOGY --change FILE``.

Each item is a one-key mapping, the operation, whose value gives its arguments::

    - {fail_link: [CE, Circuit]}              # or {a: CE, b: Circuit, silent: true}
    - {restore_link: [CE, Circuit]}
    - {reset_session: [VpnGW, Firewall]}
    - {crash: nva1}                           # or {node: nva1}
    - {restart: nva1}
    - {announce: {node: CE, prefix: 10.9.0.0/16, as_path_prepend: 2}}
    - {withdraw: {node: CE, prefix: 10.9.0.0/16}}
    - {instance_down: [VpnGW, 1]}             # or {node: VpnGW, index: 1, silent: false}
    - {instance_up: [VpnGW, 1]}
    - {er_private_peering_down: Circuit}
    - {er_private_peering_up: Circuit}
    - {advance: 180}                          # seconds of (virtual) time
    - {add_node: {name: Spoke3, role: vnet, addressSpace: [10.3.0.0/16]}}
    - {add_peering: {vnet: Spoke3, remoteVirtualNetwork: Hub, useRemoteGateways: true}}
    - {remove_peering: [Spoke3, Hub]}         # or {vnet: Spoke3, remoteVirtualNetwork: Hub}
    - {add_connection: {type: site_to_site, gateway: HubGW, site: Branch}}
    - {remove_connection: {type: site_to_site, site: Branch}}
    - {remove_node: Spoke3}                   # or {name: Spoke3}

:func:`parse_changes` checks the whole file against the topology (shape, names, links,
prefixes) and returns every problem, each with its file, line and item; nothing runs
then.  Topology edits (:mod:`bgpemu.topology.edit`) are checked in sequence: each one
is made on the document of the topology the steps before it leave (the loaded file's
document of record, :mod:`bgpemu.topology.source`), and later steps are checked
against its result.
:func:`apply_step` performs one step on a :class:`~bgpemu.testing.Lab`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bgpemu.azure.roles import compile_network
from bgpemu.config.safe_yaml import YamlProblem, parse
from bgpemu.errors import ConfigError
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.targets import Names, parse_prefix
from bgpemu.testing.lab import Lab
from bgpemu.topology.edit import EDIT_OPS, apply_edit, describe

__all__ = ["OPS", "Step", "apply_step", "parse_changes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One checked injection of a change file."""

    op: str
    args: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""
    """``FILE:LINE: [INDEX] OP``, the prefix of any message about this step."""

    def describe(self) -> str:
        """``fail_link CE Circuit``, ``add_peering Spoke3->Hub``."""
        if self.op in EDIT_OPS:
            return describe(self.op, self.args)
        values = " ".join(f"{k}={v}" if k in _FLAGS else str(v) for k, v in self.args.items())
        return f"{self.op} {values}".strip()


_FLAGS = frozenset({"silent", "as_path_prepend", "med", "communities"})
_PAIR = ("a", "b")
_NODE = ("node",)
_INSTANCE = ("node", "index")
_CIRCUIT = ("circuit",)
_SHAPES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "fail_link": (_PAIR, frozenset({"silent"})),
    "restore_link": (_PAIR, frozenset()),
    "reset_session": (_PAIR, frozenset()),
    "crash": (_NODE, frozenset()),
    "restart": (_NODE, frozenset()),
    "announce": (("node", "prefix"), frozenset({"as_path_prepend", "med", "communities"})),
    "withdraw": (("node", "prefix"), frozenset()),
    "instance_down": (_INSTANCE, frozenset({"silent"})),
    "instance_up": (_INSTANCE, frozenset()),
    "er_private_peering_down": (_CIRCUIT, frozenset()),
    "er_private_peering_up": (_CIRCUIT, frozenset()),
    "advance": (("seconds",), frozenset()),
}
OPS = (*_SHAPES, *EDIT_OPS)
"""Every operation a change file may use."""


def _edit_arguments(op: str, value: Any) -> dict[str, Any]:
    """The fields of topology edit ``op`` (short forms: ``remove_node: NAME``,
    ``remove_peering: [VNET, REMOTE]``)."""
    if op == "remove_node" and isinstance(value, str):
        return {"name": value}
    if op == "remove_peering" and isinstance(value, list) and len(value) == 2:
        return {"vnet": value[0], "remoteVirtualNetwork": value[1]}
    if not isinstance(value, Mapping):
        raise LabInputError("expects a mapping of topology fields")
    return {str(k): v for k, v in value.items()}


def _arguments(op: str, value: Any) -> dict[str, Any]:
    """The arguments of ``op`` by name, from a scalar, a list or a mapping."""
    required, optional = _SHAPES[op]
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(required) - optional, key=str)
        if unknown:
            allowed = ", ".join((*required, *sorted(optional)))
            raise LabInputError(f"unknown field(s) {', '.join(map(str, unknown))} ({allowed})")
        missing = [name for name in required if name not in value]
        if missing:
            raise LabInputError(f"missing {', '.join(missing)}")
        return {str(k): v for k, v in value.items()}
    values = list(value) if isinstance(value, list) else [value]
    if len(values) != len(required):
        shape = f"[{', '.join(required)}]" if len(required) > 1 else required[0]
        raise LabInputError(f"expects {shape} or a mapping with {', '.join(required)}")
    return dict(zip(required, values, strict=True))


def _text(args: Mapping[str, Any], name: str) -> str:
    value = args[name]
    if not isinstance(value, str) or not value:
        raise LabInputError(f"{name} must be a name, not {value!r}")
    return value


def _check(names: Names, op: str, args: dict[str, Any]) -> None:
    """Raise LabInputError naming the first problem of the step's arguments."""
    for flag in ("silent",):
        if flag in args and not isinstance(args[flag], bool):
            raise LabInputError(f"{flag} must be true or false")
    if op in ("fail_link", "restore_link", "reset_session"):
        names.sessions(_text(args, "a"), _text(args, "b"))
    elif op in ("crash", "restart"):
        names.speakers(_text(args, "node"))
    elif op in ("announce", "withdraw"):
        names.speakers(_text(args, "node"))
        args["prefix"] = parse_prefix(str(args["prefix"]))[1]
        prepend = args.get("as_path_prepend", 0)
        if isinstance(prepend, bool) or not isinstance(prepend, int) or not 0 <= prepend <= 255:
            raise LabInputError("as_path_prepend must be an integer 0..255")
    elif op in ("instance_down", "instance_up"):
        index = args["index"]
        if isinstance(index, bool) or not isinstance(index, int):
            raise LabInputError(f"index must be 0 or 1, not {index!r}")
        names.instance(_text(args, "node"), index)
    elif op in ("er_private_peering_down", "er_private_peering_up"):
        names.private_peering(_text(args, "circuit"))
    elif op == "advance":
        seconds = args["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise LabInputError(f"seconds must be a number >= 0, not {seconds!r}")


def parse_changes(text: str, file: str, names: Names) -> list[Step] | list[str]:
    """The steps of a change file, or every problem in it (``FILE:LINE: ...``)."""
    parsed = parse(text)
    if isinstance(parsed, YamlProblem):
        return [str(parsed.in_file(file))]
    data, root = parsed.data, parsed.root
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode) or not data:
        return [f"{file}: a change file is a non-empty list of injections (- {{crash: NODE}})"]
    steps: list[Step] = []
    problems: list[str] = []
    for index, (item, node) in enumerate(zip(data, root.value, strict=True)):
        line = node.start_mark.line + 1
        if not isinstance(item, Mapping) or len(item) != 1:
            problems.append(f"{file}:{line}: [{index}]: one operation per item ({', '.join(OPS)})")
            continue
        ((op, value),) = item.items()
        where = f"{file}:{line}: [{index}] {op}"
        if op in EDIT_OPS:
            try:
                args = _edit_arguments(str(op), value)
                network = apply_edit(names.network, str(op), args)
            except LabInputError as exc:
                problems.append(f"{where}: {exc}")
                continue
            except ConfigError as exc:
                problems.extend(f"{where}: {problem}" for problem in exc.problems)
                continue
            names = Names(network, compile_network(network))
            steps.append(Step(op=str(op), args=args, where=where))
            continue
        if op not in _SHAPES:
            problems.append(f"{where}: unknown operation (one of: {', '.join(OPS)})")
            continue
        try:
            args = _arguments(str(op), value)
            _check(names, str(op), args)
        except LabInputError as exc:
            problems.append(f"{where}: {exc}")
            continue
        steps.append(Step(op=str(op), args=args, where=where))
    return problems or steps


def _call(step: Step) -> Callable[[Lab], Any]:
    args = dict(step.args)
    op = step.op
    if op in EDIT_OPS:
        return lambda lab: lab.edit_topology(op, args)
    if op == "advance":
        return lambda lab: lab.advance(float(args["seconds"]))
    if op == "er_private_peering_down":
        return lambda lab: lab.er_private_peering_down(args["circuit"])
    if op == "er_private_peering_up":
        return lambda lab: lab.er_private_peering_up(args["circuit"])
    if op in ("crash", "restart"):
        return lambda lab: getattr(lab, op)(args["node"])
    if op in ("instance_down", "instance_up"):
        extra = {"silent": args["silent"]} if "silent" in args else {}
        return lambda lab: getattr(lab, op)(args["node"], args["index"], **extra)
    if op in ("fail_link", "restore_link", "reset_session"):
        extra = {"silent": args["silent"]} if "silent" in args else {}
        return lambda lab: getattr(lab, op)(args["a"], args["b"], **extra)
    if op == "withdraw":
        return lambda lab: lab.withdraw(args["node"], args["prefix"])
    options = {k: args[k] for k in ("as_path_prepend", "med", "communities") if k in args}
    return lambda lab: lab.announce(args["node"], args["prefix"], **options)


async def apply_step(lab: Lab, step: Step) -> None:
    """Perform ``step`` on ``lab``; a LabInputError's message starts with ``step.where``."""
    try:
        await _call(step)(lab)
    except LabInputError as exc:
        raise LabInputError(f"{step.where}: {exc}") from None
