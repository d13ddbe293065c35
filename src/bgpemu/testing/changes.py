"""Change files: a YAML list of injections, for ``bgpemu diff TOPOLOGY --change FILE``.

Each item is a one-key mapping, the operation, whose value gives its arguments::

    - {fail_link: [CE, Circuit]}              # or {a: CE, b: Circuit, silent: true}
    - {restore_link: [CE, Circuit]}
    - {reset_session: [VpnGW, Firewall]}
    - {crash: nva1}                           # or {node: nva1}
    - {restart: nva1}
    - {announce: {node: CE, prefix: 10.9.0.0/16, as_path_prepend: 2}}
    - {withdraw: {node: CE, prefix: 10.9.0.0/16}}
    - {prepend: {node: nva1, peer: ars, count: 3}}   # or [nva1, ars, 3]; 0 removes it
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
prefixes) with the one parser of operations, the control topic's too
(:func:`bgpemu.lab.commands.parse_operation`), and returns every problem, each as
``FILE:LINE: [ITEM] OP: FIELD: MESSAGE``; nothing runs then.  An operation of the
control topic only is refused naming it (``apply``; ``reset`` is ``reset_session`` here).
Topology edits (:mod:`bgpemu.topology.edit`) are checked in sequence: each one
is made on the document of the topology the steps before it leave (the loaded file's
document of record, :mod:`bgpemu.topology.source`), and later steps are checked
against its result.
:func:`apply_step` performs one step on a :class:`~bgpemu.testing.Lab`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bgpemu.azure.roles import compile_network
from bgpemu.config.safe_yaml import YamlProblem, parse
from bgpemu.lab.commands import CHANGES, OPS, Injection, Problem, ops_of, parse_operation
from bgpemu.lab.errors import LabInputError
from bgpemu.lab.targets import Names
from bgpemu.testing.lab import Lab
from bgpemu.topology.edit import EDIT_OPS, describe

__all__ = ["Step", "apply_step", "parse_changes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One checked injection of a change file."""

    injection: Injection
    where: str = ""
    """``FILE:LINE: [INDEX] OP``, the prefix of any message about this step."""

    @property
    def op(self) -> str:
        """The operation."""
        return self.injection.op

    @property
    def args(self) -> Mapping[str, Any]:
        """Its arguments by name, as the file gives them (a prefix canonical)."""
        return self.injection.args

    def describe(self) -> str:
        """``fail_link CE Circuit``, ``add_peering Spoke3->Hub``."""
        if self.op in EDIT_OPS:
            return describe(self.op, self.args)
        values = " ".join(f"{k}={v}" if k in _FLAGS else str(v) for k, v in self.args.items())
        return f"{self.op} {values}".strip()


_FLAGS = frozenset({"silent", "as_path_prepend", "med", "communities"})


def _arguments(op: object, value: Any) -> object:
    """The arguments of ``op`` by name, from a change file's short forms: a scalar or a
    list of the required fields in order (``crash: nva1``, ``fail_link: [CE, Circuit]``),
    ``remove_node: NAME``, ``remove_peering: [VNET, REMOTE]``; a Problem if the form does
    not fit.  A mapping, or the value of an operation change files lack, is left as it is
    (:func:`~bgpemu.lab.commands.parse_operation` says what is wrong with it)."""
    spec = OPS.get(op) if isinstance(op, str) else None
    if isinstance(value, Mapping) or spec is None or CHANGES not in spec.surfaces:
        return value
    if op == "remove_node" and isinstance(value, str):
        return {"name": value}
    if op == "remove_peering" and isinstance(value, list) and len(value) == 2:
        return {"vnet": value[0], "remoteVirtualNetwork": value[1]}
    if op in EDIT_OPS:
        return Problem("", "expects a mapping of topology fields")
    required = spec.required
    values = list(value) if isinstance(value, list) else [value]
    if len(values) != len(required):
        shape = f"[{', '.join(required)}]" if len(required) > 1 else required[0]
        return Problem("", f"expects {shape} or a mapping with {', '.join(required)}")
    return dict(zip(required, values, strict=True))


def parse_changes(text: str, file: str, names: Names) -> list[Step] | list[str]:
    """The steps of a change file, or every problem in it (``FILE:LINE: [ITEM] OP: ...``)."""
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
            ops = ", ".join(ops_of(CHANGES))
            problems.append(f"{file}:{line}: [{index}]: one operation per item ({ops})")
            continue
        ((op, value),) = item.items()
        where = f"{file}:{line}: [{index}] {op}"
        args = _arguments(op, value)
        checked = [args] if isinstance(args, Problem) else parse_operation(names, op, args, CHANGES)
        if isinstance(checked, list):
            problems.extend(problem.in_file(where) for problem in checked)
            continue
        if checked.network is not None:  # a topology edit: later steps see its result
            names = Names(checked.network, compile_network(checked.network))
        steps.append(Step(injection=checked, where=where))
    return problems or steps


def _call(step: Step) -> Callable[[Lab], Any]:
    """The testing API's method carrying ``step`` out, by the names the file gives."""
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
    if op == "prepend":
        return lambda lab: lab.prepend(args["node"], args["peer"], args["count"])
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
