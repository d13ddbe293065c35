"""The traffic commands over a topology file (issue 14; docs/traffic.md):

``bgpemu trace TOPOLOGY SRC DST``, ``next-hop TOPOLOGY SRC DST``, ``ip-flow TOPOLOGY NIC``,
``effective-nsg TOPOLOGY NIC``, ``reachability TOPOLOGY`` and ``verify TOPOLOGY
--intents FILE``.

Each loads the topology (every problem at once, exit 2), converges it once in virtual
time (:func:`bgpemu.azure.converge.solve`, the same answer as ``bgpemu solve``), indexes
it once (:class:`~bgpemu.azure.traffic.index.TrafficContext`) and prints one answer of
:mod:`bgpemu.azure.traffic`: ``--query`` (JMESPath) then ``-o table|json|yaml``, as the
observer commands do (:mod:`._observe_render`).  These are top-level commands, not
``solve`` flags, so that each keeps its own arguments (``ip-flow`` takes az's
``--direction --protocol --local --remote``); ``solve`` converges exactly as they do.

Without TOPOLOGY (``trace``, ``next-hop``, ``ip-flow``, ``effective-nsg``,
``reachability``), the question goes to a running lab (``--lab NAME``, default the only
one running here; ``--mqtt`` and the security options as the injection commands), which
answers from its current convergence with the same functions; the answer prints the same
way (:mod:`._traffic_lab`).

Exit status: 0 answered (``verify``: every intent holds), 1 ``verify`` found violated
intents (each named on stderr) or the topology did not converge, 2 bad input (the
topology, an intents file, an address nothing holds, a bad flag value).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from bgpemu.azure.traffic.trace_text import render_trace
from bgpemu.cli._problems import refuse
from bgpemu.cli._traffic_lab import add_lab_options, ask_lab, ip_port
from bgpemu.cli._traffic_render import (
    render_effective_nsg,
    render_ip_flow,
    render_matrix,
    render_next_hop,
    render_verify,
)
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import ConfigError
from bgpemu.text import counted

__all__ = ["add_parsers"]

_Answer = Callable[[argparse.Namespace, Any], tuple[Any, Callable[[Any], str]]]


def _common(parser: argparse.ArgumentParser, *, lab: bool = True) -> None:
    """TOPOLOGY, or (``lab``) the running lab's options: without TOPOLOGY the question goes
    to a running lab over MQTT (:mod:`._traffic_lab`)."""
    if not lab:
        parser.add_argument("topology", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
        return
    parser.add_argument(
        "topology",
        metavar="TOPOLOGY",
        nargs="?",
        help=f"{TOPOLOGY_HELP}; without it, ask the running lab (--lab) over MQTT",
    )
    add_lab_options(parser)


def _output(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument("-o", "--output", choices=["table", "json", "yaml"], default=default)
    parser.add_argument("--query", metavar="JMESPATH", help="JMESPath query applied to the JSON")
    parser.add_argument("--seed", type=int, default=0, help="seed of the timers' jitter")


def _flow_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=443, help="destination port (default 443)")
    parser.add_argument(
        "--protocol", default="tcp", help="tcp (default), udp, icmp, esp or ah (any case)"
    )


def add_parsers(commands: Any) -> None:
    """Register ``trace``, ``next-hop``, ``ip-flow``, ``effective-nsg``, ``reachability``
    and ``verify``."""
    trace = commands.add_parser(
        "trace",
        help="trace a flow hop by hop through a topology (connection troubleshoot)",
        description=(
            "Every hop from SRC to DST with the route used and the rule that admitted or "
            "dropped the packet, the reply traced back, and a verdict. SRC and DST: an "
            "address, an interface, NVA or firewall name, or VNET/SUBNET. -o json (the "
            "default) prints az network watcher test-connectivity's shape; --full the "
            "whole trace (paths, reply paths, verdict, reason, warnings)."
        ),
    )
    _common(trace)
    trace.add_argument("source", metavar="SRC")
    trace.add_argument("destination", metavar="DST")
    _flow_options(trace)
    trace.add_argument("--source-port", type=int, default=None, help="source port (default 50000)")
    trace.add_argument(
        "--full",
        action="store_true",
        help="the whole trace, not az network watcher test-connectivity's shape",
    )
    _output(trace, default="json")
    trace.set_defaults(func=_run, answer=_trace)

    nexthop = commands.add_parser(
        "next-hop", help="next hop from SRC to DST (az network watcher show-next-hop)"
    )
    _common(nexthop)
    nexthop.add_argument(
        "source", metavar="SRC", help="interface, NVA or firewall (or its address)"
    )
    nexthop.add_argument("destination", metavar="DST", help="destination address")
    _output(nexthop)
    nexthop.set_defaults(func=_run, answer=_next_hop)

    ipflow = commands.add_parser(
        "ip-flow", help="IP flow verify at an interface (az network watcher test-ip-flow)"
    )
    _common(ipflow)
    ipflow.add_argument("nic", metavar="NIC", help="interface or NVA name")
    ipflow.add_argument("--direction", required=True, choices=["Inbound", "Outbound"])
    ipflow.add_argument(
        "--protocol",
        required=True,
        help="TCP or UDP (ICMP too, which az's test-ip-flow does not take)",
    )
    ipflow.add_argument("--local", required=True, metavar="IP:PORT", help="the interface's side")
    ipflow.add_argument("--remote", required=True, metavar="IP:PORT", help="the other side")
    _output(ipflow)
    ipflow.set_defaults(func=_run, answer=_ip_flow)

    nsg = commands.add_parser(
        "effective-nsg",
        help="effective security rules of an interface (az network nic list-effective-nsg)",
    )
    _common(nsg)
    nsg.add_argument("nic", metavar="NIC", help="interface or NVA name")
    _output(nsg)
    nsg.set_defaults(func=_run, answer=_effective_nsg)

    matrix = commands.add_parser(
        "reachability",
        help="every subnet and on-prem range against every other, by verdict",
    )
    _common(matrix)
    _flow_options(matrix)
    matrix.add_argument(
        "--interfaces", action="store_true", help="every interface and NVA, not one per subnet"
    )
    _output(matrix)
    matrix.set_defaults(func=_run, answer=_reachability)

    verify = commands.add_parser(
        "verify",
        help="check a file of intents (expected verdicts); exit 1 names each violated one",
    )
    _common(verify, lab=False)
    verify.add_argument("--intents", required=True, metavar="FILE", help="intents file (YAML)")
    _output(verify)
    verify.set_defaults(func=_run, answer=_verify)


# --- the answers -----------------------------------------------------------------------


def _trace(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.traffic.matrix import resolve_endpoint
    from bgpemu.azure.traffic.trace import trace

    flow = _flow(
        args,
        resolve_endpoint(ctx, args.source, role="source"),
        resolve_endpoint(ctx, args.destination, role="destination"),
    )
    answer = trace(ctx, flow)
    return trace_output(args, answer.to_json(), answer.to_connectivity_check())


def trace_output(
    args: argparse.Namespace, whole: dict[str, Any], check: dict[str, Any]
) -> tuple[Any, Callable[[Any], str]]:
    """What ``trace`` prints of a trace (its JSON ``whole`` and its connection-troubleshoot
    answer ``check``): the hop table for ``-o table``, else ``check``, or ``whole`` with
    ``--full``; the same for a topology file's trace and a running lab's."""
    if args.output == "table" and args.query is None:
        return whole, render_trace
    return (whole if args.full else check), render_trace


def _flow(args: argparse.Namespace, source: str, destination: str) -> Any:
    from bgpemu.azure.traffic.flow import Flow
    from bgpemu.azure.traffic.matrix import flow_between

    flow = flow_between(args.protocol, source, destination, args.port)
    if args.source_port is None or flow.source_port == 0:
        return flow
    return Flow.parse(flow.protocol, source, args.source_port, destination, flow.destination_port)


def _next_hop(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.traffic.matrix import endpoint_address
    from bgpemu.azure.traffic.nexthop import next_hop

    return next_hop(ctx, args.source, endpoint_address(ctx, args.destination)), render_next_hop


def _ip_flow(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.security import Direction
    from bgpemu.azure.traffic.flow import Flow
    from bgpemu.azure.traffic.nsg import ip_flow_verify

    local, local_port = ip_port(args.local, "--local")
    remote, remote_port = ip_port(args.remote, "--remote")
    direction = Direction(args.direction)
    if direction is Direction.OUTBOUND:
        flow = Flow.parse(args.protocol, local, local_port, remote, remote_port)
    else:
        flow = Flow.parse(args.protocol, remote, remote_port, local, local_port)
    answer = ip_flow_verify(
        ctx.network, ctx.plan, ctx.snapshots, args.nic, flow, direction, index=ctx.security
    )
    return answer, render_ip_flow


def _effective_nsg(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.traffic.nsg import effective_security_rules

    answer = effective_security_rules(
        ctx.network, ctx.plan, ctx.snapshots, args.nic, index=ctx.security
    )
    return answer, render_effective_nsg


def _reachability(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.traffic.matrix import reachability_matrix

    matrix = reachability_matrix(
        ctx, protocol=args.protocol, port=args.port, interfaces=args.interfaces
    )
    return matrix.to_json(), render_matrix


def _verify(args: argparse.Namespace, ctx: Any) -> tuple[Any, Callable[[Any], str]]:
    from bgpemu.azure.traffic.intents import check_intents, evaluate_intents
    from bgpemu.topology.intent_file import load_intents

    intents = load_intents(args.intents)
    problems = check_intents(ctx, intents)
    if problems:
        raise ConfigError(problems)
    results = evaluate_intents(ctx, intents)
    args.violated = [r for r in results if not r.ok]
    return [r.to_json() for r in results], render_verify


# --- the runner ------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    """Load, converge, index, answer, print (module docstring for the exit status)."""
    from bgpemu.azure.converge import solve
    from bgpemu.azure.traffic.index import TrafficContext
    from bgpemu.cli._observe_mqtt import UsageError
    from bgpemu.cli._observe_render import emit
    from bgpemu.fabric import ConvergenceError
    from bgpemu.runtime.daemon_gc import batch_gc, converging
    from bgpemu.topology import load_topology

    if args.topology is None or getattr(args, "lab", None) is not None:
        return ask_lab(args, trace_output)
    try:
        network = load_topology(args.topology)
    except ConfigError as exc:
        return refuse(exc.problems, "answered")
    with batch_gc(), converging():  # the collector paused while converging, as solve
        try:
            solution = solve(network, seed=args.seed)
        except ConvergenceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    ctx = TrafficContext(solution.network, solution.plan, solution.snapshots)
    answer: _Answer = args.answer
    args.violated = []
    try:
        data, table = answer(args, ctx)
        emit(args, data, table)
    except ConfigError as exc:
        return refuse(exc.problems, "answered")
    except (KeyError, ValueError, UsageError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    for result in args.violated:
        intent = result.intent
        print(
            f"violated: {intent.where}: {intent.name}: expected {intent.expect}, got "
            f"{result.actual.value} ({result.reason})",
            file=sys.stderr,
        )
    if args.violated:
        print(f"{counted(len(args.violated), 'intent')} violated", file=sys.stderr)
        return 1
    return 0
