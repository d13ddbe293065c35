"""Traffic questions a client asks the running lab on its ``control`` topic (issue 14).

Five ops, answered from the lab's last convergence with the pure functions of
:mod:`bgpemu.azure.traffic` (the answers ``bgpemu solve`` and the testing API give for the
same network, plan and snapshots); the lab's shell (:mod:`bgpemu.lab.publish`) publishes
the answer on ``events`` as a ``traffic-event`` ``answered`` (docs/mqtt.md, "Traffic
questions"):

=============  ==========================================  ================================
op             args (optional ones in brackets)            answer (``data``)
=============  ==========================================  ================================
trace          source, destination, [port], [protocol      ``connectivityCheck`` (§4.4) and
               (tcp)], [source_port (50000)]               ``trace`` (every hop, route, rule)
next_hop       source, destination                         §4.3 ``nextHopType``...
ip_flow        nic, remote, local_port, remote_port,      §4.2 ``{access, ruleName}``
               [direction (Outbound)], [protocol (tcp)],
               [local (the NIC's address)]
effective_nsg  nic                                         §4.1 ``{value: [...]}``
reachability   [port (443)], [protocol (tcp)],             the matrix (``Matrix.to_json``)
               [interfaces (false)]
=============  ==========================================  ================================

Sources, destinations and NICs are interface, NVA or firewall names or addresses (an
on-prem host is an address inside its router's announced ranges, decision §9.12 of
``shared/azure-traffic.md``).  Ports are required unless the protocol has none (ICMP,
ESP, AH); ``ip_flow``'s local side is the NIC (az's ``--local IP:PORT``).  Everything a client
sends is checked (architecture decision 12) with the one description of the ops and their
fields (:mod:`bgpemu.lab.operations`, the injections' too): :func:`parse_question` returns every
problem at once, each naming its field as the control topic says it (``args.FIELD:
MESSAGE``), and :func:`answer` turns what the pure functions refuse (a name nothing has,
an address nothing holds) into a problem naming the field too; neither raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.flow import Flow, address_value
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import (
    PORTLESS,
    SOURCE_PORT,
    reachability_matrix,
    resolve_endpoint,
)
from bgpemu.azure.traffic.nexthop import next_hop
from bgpemu.azure.traffic.nsg import effective_security_rules, ip_flow_verify
from bgpemu.azure.traffic.trace import trace
from bgpemu.lab.errors import RoutesUnreadableError
from bgpemu.lab.operations import CONTROL, OPS, QUESTIONS, check_args, not_a_mapping

__all__ = ["QUESTIONS", "Question", "answer", "parse_question"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Question:
    """A checked question: its op and its arguments, normalised (defaults filled in)."""

    op: str
    args: Mapping[str, Any] = field(default_factory=dict)


def parse_question(op: str, args: object) -> Question | list[str]:
    """The question ``op`` with ``args`` asks, or every problem with it (``args.FIELD:
    MESSAGE``); ``op`` is one of :data:`QUESTIONS`."""
    if not isinstance(args, Mapping):
        return [not_a_mapping(args).in_command()]
    checked, problems = check_args(op, OPS[op], args, CONTROL)
    return [problem.in_command() for problem in problems] or Question(op, checked)


def answer(ctx: TrafficContext, question: Question) -> dict[str, Any] | list[str]:
    """The answer to ``question`` over the converged network of ``ctx`` (the ``data`` of
    the ``answered`` event), or the problems naming the field at fault.  Never raises
    but :class:`~bgpemu.lab.errors.RoutesUnreadableError` (a running lab's context could not
    read a speaker's routes: the lab's shell refuses or asks again, :mod:`bgpemu.lab.traffic`);
    an unexpected error is logged with its traceback and answered as a problem."""
    try:
        return _ANSWERS[question.op](ctx, question.args)
    except _FieldError as exc:
        return [f"args.{exc.field}: {exc.message}"]
    except RoutesUnreadableError:
        raise
    except Exception as exc:  # architecture decision 12: a question never ends the lab
        _log.exception("traffic question %s failed", question.op)
        return [f"internal error while answering ({type(exc).__name__}: {exc})"]


class _FieldError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(name, message)
        self.field = name
        self.message = message


def _refused(name: str, exc: Exception) -> _FieldError:
    return _FieldError(name, str(exc.args[0]) if exc.args else str(exc))


def _endpoint(ctx: TrafficContext, args: Mapping[str, Any], role: str) -> str:
    """The address of a trace's ``role`` end (:func:`~bgpemu.azure.traffic.matrix.resolve_endpoint`:
    an address, an interface / NVA / firewall name, or ``VNET/SUBNET``)."""
    try:
        return resolve_endpoint(ctx, args[role], role=role)
    except ValueError as exc:
        raise _refused(role, exc) from None


def _trace(ctx: TrafficContext, args: Mapping[str, Any]) -> dict[str, Any]:
    source = _endpoint(ctx, args, "source")
    destination = _endpoint(ctx, args, "destination")
    port = args.get("port", 0)
    flow = Flow.parse(
        args["protocol"], source, args.get("source_port", SOURCE_PORT), destination, port
    )
    if flow.protocol in PORTLESS:
        flow = Flow(flow.protocol, flow.source, 0, flow.destination, 0)
    try:
        result = trace(ctx, flow)
    except ValueError as exc:  # UnknownAddressError: nothing holds the source
        raise _refused("source", exc) from None
    return {"connectivityCheck": result.to_connectivity_check(), "trace": result.to_json()}


def _next_hop(ctx: TrafficContext, args: Mapping[str, Any]) -> dict[str, Any]:
    try:
        ctx.find(args["source"])
    except ValueError as exc:
        raise _refused("source", exc) from None
    destination = _endpoint(ctx, args, "destination")
    try:
        return next_hop(ctx, args["source"], destination)
    except ValueError as exc:
        raise _refused("source", exc) from None


def _nic(ctx: TrafficContext, value: str) -> tuple[str, str]:
    """(name, address) of the interface or NVA ``value`` names or holds."""
    try:
        owner = ctx.find(value)
        ctx.security.interface(owner.name)
    except (KeyError, ValueError) as exc:
        raise _refused("nic", exc) from None
    return owner.name, owner.address


def _ip_flow(ctx: TrafficContext, args: Mapping[str, Any]) -> dict[str, Any]:
    name, local = _nic(ctx, args["nic"])
    for end in ("remote", "local"):
        try:
            address_value(args.get(end, local))
        except ValueError as exc:
            raise _refused(end, exc) from None
    local = args.get("local", local)
    direction = args.get("direction", Direction.OUTBOUND)
    local_port, remote_port = args.get("local_port", 0), args.get("remote_port", 0)
    if direction is Direction.OUTBOUND:
        ends = (local, local_port, args["remote"], remote_port)
    else:
        ends = (args["remote"], remote_port, local, local_port)
    try:
        flow = Flow.parse(args["protocol"], *ends)
    except ValueError as exc:
        raise _refused("remote", exc) from None
    try:
        return ip_flow_verify(
            ctx.network, ctx.plan, ctx.snapshots, name, flow, direction, index=ctx.security
        )
    except (KeyError, ValueError) as exc:
        raise _refused("nic", exc) from None


def _effective_nsg(ctx: TrafficContext, args: Mapping[str, Any]) -> dict[str, Any]:
    name, _ = _nic(ctx, args["nic"])
    try:
        return effective_security_rules(
            ctx.network, ctx.plan, ctx.snapshots, name, index=ctx.security
        )
    except (KeyError, ValueError) as exc:
        raise _refused("nic", exc) from None


def _reachability(ctx: TrafficContext, args: Mapping[str, Any]) -> dict[str, Any]:
    matrix = reachability_matrix(
        ctx,
        protocol=args["protocol"],
        port=args.get("port", 443),
        interfaces=args.get("interfaces", False),
    )
    return matrix.to_json()


_ANSWERS: dict[str, Callable[[TrafficContext, Mapping[str, Any]], dict[str, Any]]] = {
    "trace": _trace,
    "next_hop": _next_hop,
    "ip_flow": _ip_flow,
    "effective_nsg": _effective_nsg,
    "reachability": _reachability,
}
