"""Intents: flows with the verdict they are expected to get, checked against the traces
(issue 14: "a file of expected verdicts"; the AVNM verifier's reachability intents,
§4.5 of ``shared/azure-traffic.md``, with the emulator's verdicts).

An :class:`Intent` names a source and a destination as a user writes them (an address,
an interface / NVA / firewall name, or ``VNET/SUBNET``: :func:`.matrix.endpoint_address`),
a protocol and a port, and what it expects: ``reachable``, ``unreachable`` (any verdict
but reachable and undetermined) or one verdict (``denied``, ``no_route``,
``dropped_none_route``, ``ip_forwarding_off``, ``loop``, ``asymmetric``,
``undetermined``).  ``undetermined`` (a firewall's application rules would decide,
decision §9.9) is not known to pass or to be dropped: it meets only an intent that
expects it by name.  The file format is read in L9
(:mod:`bgpemu.topology.intents`); this module is pure: :func:`check_intents` names every
endpoint no node holds, :func:`evaluate_intents` traces each intent's flow
(:func:`.matrix.flow_between`) and says whether it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import flow_between, resolve_endpoint
from bgpemu.azure.traffic.trace import Trace, trace
from bgpemu.errors import ConfigProblem

__all__ = [
    "EXPECTATIONS",
    "UNREACHABLE",
    "Intent",
    "IntentResult",
    "check_intents",
    "evaluate_intents",
    "satisfied",
    "trace_summary",
]

UNREACHABLE = "unreachable"
"""The expectation any verdict but ``reachable`` and ``undetermined`` meets."""

EXPECTATIONS = (*(v.value for v in Verdict), UNREACHABLE)
"""What an intent may expect: a verdict, or ``unreachable``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """One expected verdict (ports as the matrix uses them: source port
    :data:`~.matrix.SOURCE_PORT`, ``port`` the destination's)."""

    name: str
    source: str
    destination: str
    protocol: str = "Tcp"
    port: int = 0
    expect: str = Verdict.REACHABLE.value
    where: str = ""
    """Where it was written (``FILE:LINE``), for messages."""
    path: str = ""
    """Its dotted path in the file (``intents[2]``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentResult:
    """An intent, the verdict its flow got, and whether that is what it expects."""

    intent: Intent
    actual: Verdict
    ok: bool
    reason: str
    summary: str
    """The paths hop by hop (:func:`trace_summary`)."""

    def to_json(self) -> dict[str, Any]:
        """camelCase."""
        intent = self.intent
        return {
            "name": intent.name,
            "source": intent.source,
            "destination": intent.destination,
            "protocol": intent.protocol,
            "port": intent.port,
            "expect": intent.expect,
            "actual": self.actual.value,
            "ok": self.ok,
            "reason": self.reason,
            "path": self.summary,
        }


def satisfied(expect: str, actual: Verdict) -> bool:
    """Whether verdict ``actual`` meets expectation ``expect`` (one of
    :data:`EXPECTATIONS`; ValueError otherwise)."""
    if expect == UNREACHABLE:
        return actual is not Verdict.REACHABLE and actual is not Verdict.UNDETERMINED
    if expect not in EXPECTATIONS:
        raise ValueError(f"expectation {expect!r} is not one of {', '.join(EXPECTATIONS)}")
    return actual.value == expect


def trace_summary(answer: Trace) -> str:
    """Each forward path as ``hop -> hop -> hop``, paths separated by `` | ``."""
    return " | ".join(" -> ".join(h.name for h in path.hops) for path in answer.paths)


def check_intents(ctx: TrafficContext, intents: Iterable[Intent]) -> list[ConfigProblem]:
    """Every source or destination of ``intents`` that names nothing in ``ctx``'s
    network, each as ``FILE:LINE: intents[i].source: why`` (none: all can be traced)."""
    problems: list[ConfigProblem] = []
    for intent in intents:
        for field, text in (("source", intent.source), ("destination", intent.destination)):
            try:
                resolve_endpoint(ctx, text, role=field)
            except ValueError as exc:
                problems.append(
                    ConfigProblem(
                        intent.where,
                        f"{intent.path}.{field}" if intent.path else field,
                        str(exc),
                        "an address, an interface, NVA or firewall name, or VNET/SUBNET",
                    )
                )
    return problems


def evaluate_intents(ctx: TrafficContext, intents: Iterable[Intent]) -> list[IntentResult]:
    """Trace each intent's flow and compare its verdict with the expectation.
    ValueError for an endpoint :func:`check_intents` would name."""
    results: list[IntentResult] = []
    for intent in intents:
        source = resolve_endpoint(ctx, intent.source, role="source")
        destination = resolve_endpoint(ctx, intent.destination, role="destination")
        answer = trace(ctx, flow_between(intent.protocol, source, destination, intent.port))
        results.append(
            IntentResult(
                intent=intent,
                actual=answer.verdict,
                ok=satisfied(intent.expect, answer.verdict),
                reason=answer.reason,
                summary=trace_summary(answer),
            )
        )
    return results
