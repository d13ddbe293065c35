"""The traffic half of the testing API (issue 14): traces, next hop, IP flow verify and
readable assertions over the lab's converged network, in either engine.

:class:`LabTraffic` is mixed into :class:`~bgpemu.testing.lab.Lab`.  Every answer is a
pure function of ``bgpemu.azure.traffic`` applied to the lab's current network, plan and
router snapshots as of the last ``await lab.converged()`` (the inputs the Azure views
take, so the fabric and the TCP lab answer alike); the
:class:`~bgpemu.azure.traffic.context.TrafficContext` is built once per convergence and
kept for every question asked of it.

Sources and destinations are interface, NVA or firewall names or addresses (an on-prem
host is an address inside its router's announced ranges, decision §9.12 of
``shared/azure-traffic.md``).  Bad input (an unknown name, an address nothing holds, a bad
port or protocol) raises :class:`~bgpemu.lab.errors.LabInputError` naming it.

``lab.assert_reachable(src, dst, port)`` and its twins fail with the trace explained
(:func:`explain`): the verdict and its reason, every path hop by hop with the route each
hop used and the rules that admitted or dropped the packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.context import TrafficContext
from bgpemu.azure.traffic.flow import Flow, address_value
from bgpemu.azure.traffic.hops import Hop, TracePath, Verdict
from bgpemu.azure.traffic.nexthop import next_hop
from bgpemu.azure.traffic.nsg import effective_security_rules, ip_flow_verify
from bgpemu.azure.traffic.trace import Trace, trace
from bgpemu.lab.errors import LabInputError

if TYPE_CHECKING:
    from bgpemu.azure.model import Network
    from bgpemu.azure.plan import Plan
    from bgpemu.testing.diff import LabSnapshot

__all__ = ["DEFAULT_SOURCE_PORT", "LabTraffic", "explain", "path_text"]

DEFAULT_SOURCE_PORT = 50000
"""The source port of a traced flow unless one is given (an ephemeral port)."""


@dataclass(slots=True)
class _Cached:
    snapshot: LabSnapshot
    context: TrafficContext


class LabTraffic:
    """Traffic questions over the last convergence (mixed into ``Lab``)."""

    network: Network
    plan: Plan
    _traffic: _Cached | None = None

    def snapshot(self) -> LabSnapshot:  # pragma: no cover - Lab's
        raise NotImplementedError

    def traffic(self) -> TrafficContext:
        """The converged network's traffic index (LabStateError before ``converged()``)."""
        snap = self.snapshot()
        cached = self._traffic
        if cached is None or cached.snapshot is not snap:
            cached = self._traffic = _Cached(
                snap, TrafficContext(self.network, self.plan, snap.routers)
            )
        return cached.context

    def flow(
        self,
        source: str,
        destination: str,
        *,
        port: int,
        protocol: str = "tcp",
        source_port: int = DEFAULT_SOURCE_PORT,
    ) -> Flow:
        """The flow from ``source`` to ``destination`` (names or addresses) on ``port``."""
        ctx = self.traffic()
        return _flow(ctx, protocol, _address(ctx, source), source_port, destination, port)

    def trace(
        self,
        source: str,
        destination: str,
        *,
        port: int,
        protocol: str = "tcp",
        source_port: int = DEFAULT_SOURCE_PORT,
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
        remote_port: int = DEFAULT_SOURCE_PORT,
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
            flow = _flow(ctx, protocol, local, remote_port, remote, port)
        else:
            flow = _flow(ctx, protocol, _address(ctx, remote), remote_port, local, port)
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
        path it takes otherwise)."""
        answer = self.trace(source, destination, port=port, protocol=protocol)
        if answer.verdict is Verdict.REACHABLE:
            raise AssertionError(f"expected unreachable, got reachable\n{explain(answer)}")
        return answer


def _address(ctx: TrafficContext, name_or_address: str) -> str:
    """The address of an interface / NVA / firewall name, or the address itself."""
    try:
        address_value(name_or_address)
    except ValueError:
        try:
            return ctx.find(name_or_address).address
        except ValueError as exc:
            raise LabInputError(str(exc)) from None
    return name_or_address


def _flow(
    ctx: TrafficContext,
    protocol: str,
    source: str,
    source_port: int,
    destination: str,
    port: int,
) -> Flow:
    try:
        return Flow.parse(protocol, source, source_port, _address(ctx, destination), port)
    except ValueError as exc:
        raise LabInputError(str(exc)) from None


def _hop_text(hop: Hop) -> str:
    text = f"{hop.type.value} {hop.name} {hop.address}"
    details = []
    if hop.route is not None:
        route = hop.route
        via = ", ".join(route.next_hops)
        details.append(
            f"route {route.prefix} -> {route.next_hop_type}{' ' + via if via else ''} "
            f"({route.source} in {route.table}: {route.why})"
        )
    details.extend(f"{c.direction} {c.access} by {c.rule_name} of {c.resource}" for c in hop.checks)
    details.extend(
        f"issue {i.type} " + ", ".join(f"{k}={v}" for k, v in i.context) for i in hop.issues
    )
    return text + "".join(f"\n        {d}" for d in details)


def path_text(path: TracePath) -> str:
    """One path, one line: the hops' names joined by ``>`` (the path's identity in diffs)."""
    return " > ".join(h.name for h in path.hops)


def explain(answer: Trace) -> str:
    """A trace as an assertion message: flow, verdict and reason, each path hop by hop
    (the route used, the rules that decided, the issues), the reply's paths, warnings."""
    flow = answer.flow
    lines = [
        f"{flow.protocol} {flow.source}:{flow.source_port} -> "
        f"{flow.destination}:{flow.destination_port}: {answer.verdict.value} ({answer.reason})"
    ]
    for title, paths in (("path", answer.paths), ("reply path", answer.reply_paths)):
        for number, path in enumerate(paths, 1):
            lines.append(f"  {title} {number}: {path.verdict.value} ({path.reason})")
            lines.extend(f"    {_hop_text(hop)}" for hop in path.hops)
    lines.extend(f"  warning {w.id}: {w.message}" for w in answer.warnings)
    return "\n".join(lines)
