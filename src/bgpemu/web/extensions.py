"""The web view's extensions (issue 16): the timeline and traffic parts, and what the page
asks the lab to do or answer: traces, injections, endpoints.

The server reads :data:`PARTS` and :data:`REQUESTS` once at start (docs/web.md,
"Extension points"): the view parts of :mod:`bgpemu.web.activity` (timeline, traffic)
and the page's requests served here:

=============  ==============================================================  ============
request        fields (defaults)                                               reply data
=============  ==============================================================  ============
``trace``      ``source``, ``destination`` (a name or an address, as           the lab's
               ``bgpemu trace``), ``protocol`` (``tcp``), ``port`` (443),      answer +
               ``source_port`` (50000)                                         highlight,
                                                                               hops
``inject``     ``op`` (one of :data:`INJECT_OPS`), ``args`` (the control       the lab's
               topic's, as ``bgpemu fail|restore|...`` send them)              answers
``endpoints``  none                                                            the pickers'
                                                                               choices
=============  ==============================================================  ============

A trace and an injection are ``control`` messages to the lab (docs/mqtt.md): the server
sends them with the credentials ``bgpemu web`` was given (``ctx.control``), so the lab
applies to the page the checks it applies to the command line, and the page sees the
lab's own refusal.  Before anything is sent the request is checked here by the lab's own
parsers (:func:`bgpemu.lab.questions.parse_question` for a trace,
:func:`bgpemu.lab.commands.parse_operation` against the lab's topology for an
injection): every bad field is named at once (``port: must be a port number 0..65535,
not '443'``), and the lab is not bothered.  A lab that does not answer in time is a
refusal naming the lab and the time waited; nothing here raises anything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.errors import BgpEmuError
from bgpemu.lab.commands import CONTROL, parse_operation
from bgpemu.lab.questions import parse_question
from bgpemu.lab.targets import Names
from bgpemu.web.activity import TimelinePart, TrafficPart
from bgpemu.web.protocol import Context, Handler, Part, RequestError
from bgpemu.web.trace_paths import trace_on_graph
from bgpemu.web.traffic import endpoints

__all__ = [
    "ANSWER_TIMEOUT",
    "INJECT_OPS",
    "INJECT_TIMEOUT",
    "MAX_ERROR",
    "PARTS",
    "REQUESTS",
    "TRACE_TIMEOUT",
]

INJECT_OPS = (
    "fail_link",
    "restore_link",
    "crash",
    "restart",
    "instance_down",
    "instance_up",
    "announce",
    "withdraw",
)
"""The injections the page offers (issue 16): a subset of the control topic's
(:data:`bgpemu.observe.payloads.CONTROL_OPS`), with its fields (docs/mqtt.md)."""

TRACE_TIMEOUT = 60.0
"""Seconds a trace waits for the lab's answer (a converging lab answers once converged),
as ``bgpemu trace --lab``'s default ``--timeout``."""

INJECT_TIMEOUT = 300.0
"""Seconds an injection waits for the lab's convergence, as ``bgpemu fail``'s default
``--timeout``."""

ANSWER_TIMEOUT = 5.0
"""Seconds an injection waits for the lab's first answer (``injected`` or ``rejected``),
as ``bgpemu fail``'s default ``--answer-timeout``: a lab that does not hear the page is
found out in seconds, not after :data:`INJECT_TIMEOUT`."""

MAX_ERROR = 1000
"""Characters of a refusal sent to the page (a name a page or the lab repeats may be
megabytes long)."""

_ENVELOPE = frozenset({"id", "request"})
_TRACE_FIELDS = ("source", "destination", "protocol", "port", "source_port")
_TRACE_DEFAULTS = {"protocol": "tcp", "port": 443}


def _fields(request: Mapping[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    """The request's fields but ``id`` and ``request``; RequestError naming any unknown."""
    fields = {str(k): v for k, v in request.items() if k not in _ENVELOPE}
    unknown = sorted(name for name in fields if name not in allowed)
    if unknown:
        raise RequestError(
            f"unknown field(s) {', '.join(unknown)} (this request takes: {', '.join(allowed)})"
        )
    return fields


def _refusal(message: str) -> RequestError:
    """A refusal cut to :data:`MAX_ERROR` characters."""
    cut = message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 3] + "..."
    return RequestError(cut)


def _unprefixed(problem: str) -> str:
    """A lab refusal ``args.FIELD: ...`` as the page's field ``FIELD: ...``."""
    return problem.removeprefix("args.").removeprefix("args: ")


async def _model(part: TrafficPart) -> tuple[Network, Plan] | None:
    """The lab's network and plan, compiled off the event loop (the pages' pushes go on)."""
    return await asyncio.to_thread(part.model)


def _traffic(ctx: Context) -> TrafficPart:
    for part in getattr(ctx.view, "parts", ()):
        if isinstance(part, TrafficPart):
            return part
    raise RequestError("this server follows no traffic (its view has no traffic part)")


def _elements(ctx: Context) -> list[dict[str, Any]]:
    view = ctx.view
    found = (view.element(ident) for ident in sorted(view.element_ids))
    return [element for element in found if isinstance(element, dict)]


def _answers_of(answers: list[dict[str, Any]], what: str) -> dict[str, Any]:
    """The lab's last answer, if it is no refusal (RequestError with the lab's reason)."""
    if not answers:
        raise RequestError(f"the lab gave no answer to the {what}")
    last = answers[-1]
    if last.get("event") == "rejected":
        detail = last.get("detail")
        reasons = detail if isinstance(detail, str) and detail else "no reason given"
        raise _refusal(f"refused by lab {_lab_name(last)}: {_unprefixed(reasons)}")
    return last


def _lab_name(answer: Mapping[str, Any]) -> str:
    lab = answer.get("lab")
    return repr(lab) if isinstance(lab, str) else "(unnamed)"


async def _send(
    ctx: Context, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
) -> list[dict[str, Any]]:
    """``ctx.control``, its failures as RequestError naming the lab."""
    try:
        return await ctx.control(op, args, timeout, first)
    except TimeoutError:
        late = (
            f"lab {ctx.lab!r} did not answer {op} within {timeout if first is None else first:g} s"
        )
        if first is not None:
            late += f", or did not converge within {timeout:g} s"
        raise RequestError(late) from None
    except BgpEmuError as exc:  # the broker went away, refused the credentials...
        raise _refusal(f"{op} could not be sent to lab {ctx.lab!r}: {exc}") from None


async def trace(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    """``trace``: the lab's answer (``connectivityCheck``, ``trace``) with the page's
    ``highlight`` and ``hops`` (:func:`bgpemu.web.trace_paths.trace_on_graph`)."""
    fields = {**_TRACE_DEFAULTS, **_fields(request, _TRACE_FIELDS)}
    question = parse_question("trace", fields)
    if isinstance(question, list):
        raise _refusal("; ".join(_unprefixed(p) for p in question))
    answers = await _send(ctx, "trace", fields, TRACE_TIMEOUT)
    answer = _answers_of(answers, "trace")
    data = answer.get("data")
    if answer.get("event") != "answered" or not isinstance(data, Mapping):
        raise RequestError(f"lab {ctx.lab!r} answered the trace with no trace")
    result = data.get("trace")
    model = await _model(_traffic(ctx))
    network, plan = model if model is not None else (None, None)
    drawn = trace_on_graph(
        result if isinstance(result, Mapping) else {}, network, plan, _elements(ctx)
    )
    return {**data, **drawn}


async def inject(ctx: Context, request: Mapping[str, Any]) -> dict[str, Any]:
    """``inject``: the lab's answers (``injected``, then ``converged``), the last one's
    fields first (``event``, ``detail``, ``duration``, ``updates``...)."""
    fields = _fields(request, ("op", "args"))
    op, args = fields.get("op"), fields.get("args", {})
    if not isinstance(op, str) or op not in INJECT_OPS:
        raise RequestError(f"op: one of {', '.join(INJECT_OPS)} is required, not {op!r:.40}")
    if not isinstance(args, Mapping):
        raise RequestError(f"args: a mapping of the arguments by name, not {args!r:.40}")
    model = await _model(_traffic(ctx))
    if model is not None:  # the lab's own check, on its topology; else the lab checks
        checked = parse_operation(Names(*model), op, args, CONTROL)
        if isinstance(checked, list):
            raise _refusal("; ".join(_unprefixed(p.in_command()) for p in checked))
    answers = await _send(ctx, op, dict(args), INJECT_TIMEOUT, ANSWER_TIMEOUT)
    last = _answers_of(answers, op)
    return {**last, "answers": answers}


async def endpoint_choices(ctx: Context, request: Mapping[str, Any]) -> list[dict[str, str]]:
    """``endpoints``: what a trace may start or end at (:func:`bgpemu.web.traffic.endpoints`)."""
    _fields(request, ())
    part = _traffic(ctx)
    model = await _model(part)
    return endpoints(model[0] if model is not None else None, part.reachability)


PARTS: Sequence[Callable[[], Part]] = (TimelinePart, TrafficPart)
"""The view parts the server gives every :class:`~bgpemu.web.view.LabView`."""

REQUESTS: Mapping[str, Handler] = {
    "trace": trace,
    "inject": inject,
    "endpoints": endpoint_choices,
}
"""The page's requests served here (docs/web.md)."""
