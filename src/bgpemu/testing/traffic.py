"""The traffic half of the testing API (issue 14): traces, next hop, IP flow verify and
readable assertions over the lab's converged network, in either engine.

:class:`LabTraffic` is mixed into :class:`~bgpemu.testing.lab.Lab`.  Every answer is a
pure function of ``bgpemu.azure.traffic`` applied to the lab's current network, plan and
router snapshots as of the last ``await lab.converged()`` (the inputs the Azure views
take, so the fabric and the TCP lab answer alike); the
:class:`~bgpemu.azure.traffic.index.TrafficContext` is built once per convergence and
kept for every question asked of it.

Sources and destinations are addresses, interface, NVA or firewall names, or
``VNET/SUBNET`` (its first running interface), as the matrix and intents take them (an
on-prem host is an address inside its router's announced ranges, decision §9.12 of
``shared/azure-traffic.md``).  Bad input (an unknown name, an address nothing holds, a bad
port or protocol) raises :class:`~bgpemu.lab.errors.LabInputError` naming it.

``lab.assert_reachable(src, dst, port)`` and its twins fail with the trace explained
(:func:`explain`): the verdict and its reason, every path hop by hop with the route each
hop used and the rules that admitted or dropped the packet.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.intents import (
    Intent,
    IntentResult,
    check_intents,
    evaluate_intents,
    trace_summary,
)
from bgpemu.azure.traffic.matrix import (
    SOURCE_PORT,
    Endpoint,
    Matrix,
    endpoint_address,
    flow_between,
    matrix_endpoints,
    reachability_matrix,
    resolve_endpoint,
)
from bgpemu.azure.traffic.nexthop import next_hop
from bgpemu.azure.traffic.nsg import effective_security_rules, ip_flow_verify
from bgpemu.azure.traffic.trace import Trace, trace
from bgpemu.azure.traffic.trace_text import render_trace
from bgpemu.errors import ConfigError
from bgpemu.lab.errors import LabInputError
from bgpemu.testing.diff import FlowState, FlowStates
from bgpemu.text import counted

if TYPE_CHECKING:
    from bgpemu.azure.model import Network
    from bgpemu.azure.plan import Plan
    from bgpemu.azure.snapshot import RouterSnapshot
    from bgpemu.testing.diff import LabSnapshot

__all__ = ["LabTraffic", "explain"]


WATCHED_PROTOCOL, WATCHED_PORT = "Tcp", 443
"""The flow of every matrix pair a diff watches when the lab has no intents."""


class _LazyContext:
    """One convergence's :class:`TrafficContext`, built when first asked."""

    __slots__ = ("_context", "network", "plan", "routers")

    def __init__(self, network: Network, plan: Plan, routers: Mapping[str, RouterSnapshot]) -> None:
        self.network, self.plan, self.routers = network, plan, routers
        self._context: TrafficContext | None = None

    def get(self) -> TrafficContext:
        if self._context is None:
            self._context = TrafficContext(self.network, self.plan, self.routers)
        return self._context


def declares_traffic(network: Network) -> bool:
    """Whether ``network`` declares what traffic answers are about: an interface, an
    NSG or a firewall (a topology without them gets no flow in its diffs)."""
    from bgpemu.azure.model import VNet

    return bool(
        network.network_security_groups
        or network.firewalls
        or any(s.network_interfaces for v in network.of_type(VNet) for s in v.subnets)
    )


def watched_flows(
    ctx: TrafficContext, watched: Sequence[Intent | Endpoint]
) -> dict[str, FlowState]:
    """The state of every watched flow: each intent's (by its name), and every ordered
    pair of the matrix endpoints among ``watched`` (``SOURCE -> DESTINATION Tcp/443``).
    An endpoint or intent this network no longer holds gets ``no_route`` with why."""
    states: dict[str, FlowState] = {}
    for intent in (w for w in watched if isinstance(w, Intent)):
        try:
            (result,) = evaluate_intents(ctx, [intent])
        except ValueError as exc:
            states[intent.name] = FlowState(
                verdict=Verdict.NO_ROUTE.value, reason=str(exc), path=""
            )
        else:
            states[intent.name] = FlowState(
                verdict=result.actual.value, reason=result.reason, path=result.summary
            )
    # One endpoint per name: the same on-prem group may stand for other ranges on the
    # other side of a diff; the first seen (the before side's) is traced on both.
    endpoints = list({w.name: w for w in reversed(watched) if isinstance(w, Endpoint)}.values())
    endpoints.reverse()
    for source in endpoints:
        for destination in endpoints:
            if source is destination:
                continue
            flow = flow_between(WATCHED_PROTOCOL, source.address, destination.address, WATCHED_PORT)
            try:
                answer = trace(ctx, flow)
            except ValueError as exc:
                state = FlowState(verdict=Verdict.NO_ROUTE.value, reason=str(exc), path="")
            else:
                state = FlowState(
                    verdict=answer.verdict.value,
                    reason=answer.reason,
                    path=trace_summary(answer),
                )
            name = f"{source.name} -> {destination.name} {WATCHED_PROTOCOL}/{WATCHED_PORT}"
            states[name] = state
    return states


class LabTraffic:
    """Traffic questions over the last convergence (mixed into ``Lab``)."""

    network: Network
    plan: Plan
    intents: tuple[Intent, ...] = ()
    """The intents a diff watches (set by :meth:`check_intents`); none: the matrix pairs."""
    _traffic: _LazyContext | None = None

    def snapshot(self) -> LabSnapshot:  # pragma: no cover - Lab's
        raise NotImplementedError

    def _watch(self, routers: Mapping[str, RouterSnapshot]) -> FlowStates | None:
        """At a convergence: the context of these tables, and the flows a diff will
        compare (None when the topology declares no traffic)."""
        lazy = self._traffic = _LazyContext(self.network, self.plan, routers)
        if not declares_traffic(self.network):
            return None

        def compute(watched: tuple[Hashable, ...]) -> Mapping[str, FlowState]:
            return watched_flows(
                lazy.get(), [w for w in watched if isinstance(w, (Intent, Endpoint))]
            )

        def watched() -> tuple[Hashable, ...]:
            return self.intents or tuple(matrix_endpoints(lazy.get())[0])

        return FlowStates(compute, watched)

    def traffic(self) -> TrafficContext:
        """The converged network's traffic index (LabStateError before ``converged()``)."""
        snap = self.snapshot()
        lazy = self._traffic
        if lazy is None or lazy.routers is not snap.routers:
            lazy = self._traffic = _LazyContext(self.network, self.plan, snap.routers)
        return lazy.get()

    def flow(
        self,
        source: str,
        destination: str,
        *,
        port: int,
        protocol: str = "tcp",
        source_port: int = SOURCE_PORT,
    ) -> Flow:
        """The flow from ``source`` to ``destination`` (names or addresses) on ``port``."""
        ctx = self.traffic()
        return _flow(
            protocol,
            _address(ctx, source, "source"),
            source_port,
            _address(ctx, destination, "destination"),
            port,
        )

    def trace(
        self,
        source: str,
        destination: str,
        *,
        port: int,
        protocol: str = "tcp",
        source_port: int = SOURCE_PORT,
    ) -> Trace:
        """Every hop of the flow and of its reply (connection troubleshoot, §4.4, §5)."""
        flow = self.flow(source, destination, port=port, protocol=protocol, source_port=source_port)
        try:
            return trace(self.traffic(), flow)
        except ValueError as exc:
            raise LabInputError(str(exc)) from None

    def next_hop(self, source: str, destination: str) -> dict[str, Any]:
        """``az network watcher show-next-hop`` (§4.3) from an interface to an address."""
        ctx = self.traffic()
        try:
            return next_hop(ctx, source, _address(ctx, destination))
        except ValueError as exc:
            raise LabInputError(str(exc)) from None

    def ip_flow(
        self,
        interface: str,
        remote: str,
        *,
        port: int,
        direction: str = "Outbound",
        protocol: str = "tcp",
        remote_port: int = SOURCE_PORT,
    ) -> dict[str, Any]:
        """``az network watcher test-ip-flow`` (§4.2): ``{access, ruleName}`` at ``interface``.

        ``port`` is the interface's service port for an Inbound flow (from ``remote``:
        ``remote_port``), the remote's port for an Outbound one (from the interface's
        ``remote_port``).
        """
        ctx = self.traffic()
        try:
            way = Direction(direction)
        except ValueError:
            raise LabInputError(
                f"direction must be 'Inbound' or 'Outbound', not {direction!r}"
            ) from None
        local = _address(ctx, interface)
        if way is Direction.OUTBOUND:
            flow = _flow(protocol, local, remote_port, _address(ctx, remote), port)
        else:
            flow = _flow(protocol, _address(ctx, remote), remote_port, local, port)
        try:
            name = ctx.find(interface).name
            return ip_flow_verify(
                self.network, self.plan, ctx.snapshots, name, flow, way, index=ctx.security
            )
        except (KeyError, ValueError) as exc:
            raise LabInputError(exc.args[0] if exc.args else str(exc)) from None

    def effective_security_rules(self, interface: str) -> dict[str, Any]:
        """``az network nic list-effective-nsg`` (§4.1) of an interface or NVA."""
        ctx = self.traffic()
        try:
            name = ctx.find(interface).name
            return effective_security_rules(
                self.network, self.plan, ctx.snapshots, name, index=ctx.security
            )
        except (KeyError, ValueError) as exc:
            raise LabInputError(exc.args[0] if exc.args else str(exc)) from None

    def reachability(
        self, *, port: int = 443, protocol: str = "tcp", interfaces: bool = False
    ) -> Matrix:
        """The reachability matrix: every subnet (``interfaces``: every interface and NVA)
        and on-prem range against every other for ``protocol`` to ``port``
        (:func:`~bgpemu.azure.traffic.matrix.reachability_matrix`); ``.counts`` per
        verdict, ``.unreachable`` pairs with their reasons, ``.verdict(src, dst)``."""
        try:
            return reachability_matrix(
                self.traffic(), protocol=protocol, port=port, interfaces=interfaces
            )
        except ValueError as exc:
            raise LabInputError(str(exc)) from None

    def check_intents(self, intents: str | PathLike[str] | Sequence[Intent]) -> list[IntentResult]:
        """Each intent (an intents file, or :class:`~bgpemu.azure.traffic.intents.Intent`
        values) traced and compared with what it expects; from now on a diff watches
        these flows.  LabInputError with every problem of the file or its endpoints."""
        if isinstance(intents, (str, PathLike)):
            from bgpemu.topology.intent_file import load_intents

            try:
                loaded = tuple(load_intents(Path(intents)))
            except ConfigError as exc:
                raise LabInputError(str(exc)) from None
        else:
            loaded = tuple(intents)
        ctx = self.traffic()
        problems = check_intents(ctx, loaded)
        if problems:
            raise LabInputError(str(ConfigError(problems)))
        self.intents = loaded
        return evaluate_intents(ctx, loaded)

    def assert_intents(self, intents: str | PathLike[str] | Sequence[Intent]) -> list[IntentResult]:
        """:meth:`check_intents`, failing with every violated intent, its verdict, reason
        and path."""
        results = self.check_intents(intents)
        violated = [r for r in results if not r.ok]
        if violated:
            lines = [f"{len(violated)} of {counted(len(results), 'intent')} violated:"]
            lines.extend(
                f"  {r.intent.name}: expected {r.intent.expect}, got {r.actual.value} "
                f"({r.reason}); path {r.summary or '-'}"
                for r in violated
            )
            raise AssertionError("\n".join(lines))
        return results

    # -- assertions ----------------------------------------------------------------------

    def assert_verdict(
        self,
        source: str,
        destination: str,
        verdict: str | Verdict,
        *,
        port: int,
        protocol: str = "tcp",
    ) -> Trace:
        """The trace of the flow, which must end in ``verdict`` (AssertionError explaining
        the trace otherwise)."""
        try:
            expected = Verdict(verdict)
        except ValueError:
            known = ", ".join(v.value for v in Verdict)
            raise LabInputError(f"verdict must be one of {known}, not {verdict!r}") from None
        answer = self.trace(source, destination, port=port, protocol=protocol)
        if answer.verdict is not expected:
            raise AssertionError(
                f"expected {expected.value}, got {answer.verdict.value}\n{explain(answer)}"
            )
        return answer

    def assert_reachable(
        self, source: str, destination: str, port: int, *, protocol: str = "tcp"
    ) -> Trace:
        """The flow and its reply get through (AssertionError explaining why not)."""
        return self.assert_verdict(
            source, destination, Verdict.REACHABLE, port=port, protocol=protocol
        )

    def assert_unreachable(
        self, source: str, destination: str, port: int, *, protocol: str = "tcp"
    ) -> Trace:
        """The flow does not get through, whatever the reason (AssertionError with the
        path it takes otherwise, or when the verdict is ``undetermined``: a firewall's
        application rules would decide, decision §9.9, so it is not known to be
        dropped)."""
        answer = self.trace(source, destination, port=port, protocol=protocol)
        if answer.verdict in (Verdict.REACHABLE, Verdict.UNDETERMINED):
            raise AssertionError(
                f"expected unreachable, got {answer.verdict.value}\n{explain(answer)}"
            )
        return answer


def _address(ctx: TrafficContext, endpoint: str, role: str | None = None) -> str:
    """The address an endpoint stands for (an address, an interface / NVA / firewall
    name, or ``VNET/SUBNET``), checked as a trace's ``source`` or ``destination`` when a
    role is given (:func:`~bgpemu.azure.traffic.matrix.resolve_endpoint`)."""
    try:
        if role is None:
            return endpoint_address(ctx, endpoint)
        return resolve_endpoint(ctx, endpoint, role=role)
    except ValueError as exc:
        raise LabInputError(str(exc)) from None


def _flow(
    protocol: str,
    source: str,
    source_port: int,
    destination: str,
    port: int,
) -> Flow:
    try:
        return Flow.parse(protocol, source, source_port, destination, port)
    except ValueError as exc:
        raise LabInputError(str(exc)) from None


def explain(answer: Trace) -> str:
    """A trace as an assertion message: the one text of a trace
    (:func:`bgpemu.azure.traffic.trace_text.render_trace`, as ``bgpemu trace -o table``
    prints it): each path and reply path hop by hop (route used, rules, issues), the
    verdict and its reason, the warnings."""
    return render_trace(answer.to_json())
