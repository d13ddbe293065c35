"""``bgpemu solve``: converge a network in the in-memory fabric and print its tables.

Two inputs: a topology file (``bgpemu solve TOPOLOGY``, the Azure model) or speaker
config files (``--config``, the minimal format).  The fabric runs the same Router and
session code as the TCP runtime, in virtual time, so the answer is what the speakers
converge to, in milliseconds and identically run after run.  For a topology, the view
options print the tables Azure would show, in the Azure CLI's JSON shapes.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import partial
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

from bgpemu.azure.converge import Split, Splitter
from bgpemu.cli._configs import load_all
from bgpemu.cli._json_stream import EncodedArray, EncodedValue, Handoff, json_chunks, json_pieces
from bgpemu.cli._observe_mqtt import UsageError
from bgpemu.cli._observe_render import add_output_options, emit, render_rib, render_view
from bgpemu.cli._problems import refuse
from bgpemu.cli._solve_split import Elsewhere, SplitProcessError, internal_errors, loc_rib_array
from bgpemu.cli._solve_traffic import add_traffic_options, run_traffic, traffic_argv
from bgpemu.cli._split_views import VIEW_LEVEL, views_made_here, views_written
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import ConfigError
from bgpemu.fabric import ConvergenceError, Fabric
from bgpemu.rib.route import as_path_text
from bgpemu.router.table import EntryTexts
from bgpemu.runtime.daemon_gc import batch_gc, converging
from bgpemu.text import counted

if TYPE_CHECKING:
    from bgpemu.azure.converge import Solution
    from bgpemu.azure.model import Network
    from bgpemu.azure.plan import Plan

__all__ = ["add_parser", "render_table", "report_json_members", "run"]


def add_parser(commands: Any) -> None:
    """Register the ``solve`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "solve",
        help="converge a topology in virtual time and print its tables",
        description=(
            "Converge a topology file (or speaker config files given with --config) in the "
            "in-memory fabric and print every node's Loc-RIB: best path, ECMP paths and the "
            "reason the best path won. With a topology, the view options print the tables "
            "Azure would show (-o json: exactly the Azure CLI's JSON shape)."
        ),
    )
    parser.add_argument("topology", nargs="?", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
    parser.add_argument(
        "--config", action="append", metavar="FILE", help="speaker config (YAML), repeatable"
    )
    views = parser.add_mutually_exclusive_group()
    views.add_argument(
        "--node", metavar="NAME", help="the Loc-RIB of one node (as bgpemu routes NODE prints it)"
    )
    views.add_argument(
        "--effective-routes",
        metavar="VNET[/SUBNET]",
        help="effective routes of a subnet (az network nic show-effective-route-table)",
    )
    views.add_argument(
        "--learned-routes",
        metavar="GATEWAY",
        help="routes a VPN/ER gateway learned (az network vnet-gateway list-learned-routes)",
    )
    views.add_argument(
        "--advertised-routes",
        metavar="GATEWAY",
        help="routes a gateway advertises to --peer (list-advertised-routes)",
    )
    views.add_argument(
        "--bgp-peer-status", metavar="GATEWAY", help="a gateway's BGP peers (list-bgp-peer-status)"
    )
    views.add_argument(
        "--hub-routes",
        metavar="HUB[/TABLE]",
        help="effective routes of a vWAN hub route table (az network vhub get-effective-routes)",
    )
    views.add_argument(
        "--route-server-routes",
        metavar="ROUTE_SERVER",
        help="routes a Route Server learned from / advertised to the NVA --peer",
    )
    views.add_argument(
        "--circuit-routes",
        metavar="CIRCUIT[/primary|secondary]",
        help="an ExpressRoute circuit's route table (az network express-route list-route-tables)",
    )
    add_traffic_options(parser, views)
    parser.add_argument("--peer", metavar="PEER", help="peer IP (gateway) or NVA name (ARS)")
    parser.add_argument(
        "--direction", choices=["learned", "advertised"], default="learned", help="for ARS routes"
    )
    add_output_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the timers' jitter")
    parser.add_argument(
        "--jobs",
        type=int,
        choices=[1, 2],
        help=(
            "converge a topology on this many cores, with the same tables and times "
            "(default: 2 for a large network on a machine with two cores or more)"
        ),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load (all errors first), converge, print.

    The garbage collector runs with the TCP speakers' thresholds (:func:`batch_gc`):
    the fabric holds a path object per route as they do, and with the default
    thresholds full collections, which walk every route and find nothing, took about a
    third of the convergence of vWAN 2 x 50 x 200.  It is paused while the network
    compiles and converges, the result then frozen (:func:`converging`: 0.45 s less
    CPU of about 3 s at vWAN 2 x 50 x 200, the same peak), and given back to the
    collector when the report is written.
    """
    if (args.topology is None) == (args.config is None):
        print("error: give either a TOPOLOGY file or --config files", file=sys.stderr)
        return 2
    try:
        traffic = traffic_argv(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if traffic is not None:
        if args.query is not None:
            print("error: --query does not apply to the traffic answers", file=sys.stderr)
            return 2
        if args.topology is None:
            print("error: the traffic answers need a TOPOLOGY file", file=sys.stderr)
            return 2
        return run_traffic(traffic)
    _no_collection_at_exit()
    with batch_gc():
        if args.config is not None:
            return _run_configs(args)
        return _run_topology(args)


def _no_collection_at_exit() -> None:
    """Skip the interpreter's last garbage collection when this process exits.

    The converged fabric is a graph with cycles (routers, nodes and sessions refer to
    each other): when ``solve`` returns it is garbage that only the cyclic collector
    frees, and the collection the interpreter runs as it shuts down walks every one of
    its objects, about 0.35 s of CPU at vWAN 2 x 25 x 200, to free memory the
    operating system takes back at exit anyway.  ``gc.freeze`` as an exit handler
    moves what is left into the permanent generation, which that collection skips.
    Nothing of ``solve`` needs a finalizer then: its only output is standard output
    and error, which the interpreter flushes after the exit handlers.  In a process
    that goes on (tests call the CLI in-process), nothing changes until it exits.
    """
    atexit.unregister(gc.freeze)  # registered once, however often solve runs
    atexit.register(gc.freeze)


def _run_configs(args: argparse.Namespace) -> int:
    specs = load_all(args.config)
    if specs is None:
        return 2
    fabric = Fabric(specs, seed=args.seed)
    try:
        with converging():
            elapsed = fabric.run_until_idle()
    except ConvergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _warn_internal_errors(fabric)
        return 1
    _warn_internal_errors(fabric)
    return _print_tables(args, fabric, elapsed)


def _warn_internal_errors(fabric: Fabric, elsewhere: Elsewhere | None = None) -> None:
    """Name every session an internal error (a bgpemu bug) reset, on stderr.

    The fabric contains such an error in its session (architecture decision 12): the
    session was reset with Cease / Out of Resources and started again, and the
    traceback is in ``Fabric.events``; the tables may miss what it would have sent.
    Nodes converged in the other process of a split run are counted there.
    """
    here = [name for name in fabric.nodes() if name not in fabric.elsewhere]
    counts = internal_errors(fabric, here)
    if elsewhere is not None:
        counts.update(elsewhere.internal_errors())
    for node in sorted(counts):
        for neighbor, count in sorted(counts[node].items()):
            print(
                f"warning: {node}, neighbour {neighbor}: {counted(count, 'internal error')} "
                "(a bgpemu bug) reset this session",
                file=sys.stderr,
            )


def _print_tables(
    args: argparse.Namespace, fabric: Fabric, elapsed: float, elsewhere: Elsewhere | None = None
) -> int:
    members = iter([("converged_after_s", elapsed), ("nodes", _loc_ribs(fabric, elsewhere))])
    if args.query is not None or args.output == "yaml":
        return _emit_report(args, members)
    if args.output == "json":
        _write_json(members)
    else:
        if elsewhere is not None:
            tables = {
                name: elsewhere.table(name)
                if name in elsewhere.names
                else fabric.router(name).table()
                for name in fabric.nodes()
            }
        else:
            tables = fabric.tables()
        print(render_table(tables))
        print(f"\nconverged after {elapsed:.3f} s of virtual time")
    return 0


def _emit_report(args: argparse.Namespace, members: Iterator[tuple[str, Any] | Handoff]) -> int:
    """The report through the observers' renderer (``--query``, ``-o yaml``): held whole
    then, unlike ``-o json``, which streams it."""
    return _emit(args, json.loads("".join(json_chunks(members))), lambda _: "")


def _emit(args: argparse.Namespace, data: Any, table: Callable[[Any], str]) -> int:
    """:func:`emit` (``-o table|json|yaml``, ``--query``); an invalid query is refused (2)."""
    try:
        return emit(args, data, table)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _loc_ribs(
    fabric: Fabric,
    elsewhere: Elsewhere | None = None,
    *,
    direct: bool = False,
    meanwhile: Callable[[], None] = lambda: None,
) -> Iterator[tuple[str, EncodedArray] | Handoff]:
    """Each node's Loc-RIB, the text of ``Router.table()`` (:func:`loc_rib_array`:
    entries that differ only in their prefix are encoded once per report, their
    group's text shared by the tables through one :class:`EntryTexts`).  A node of a
    split run converged in the other process, which encodes it; with ``direct`` (the
    text goes to standard output as it comes, :func:`_write_json`) that process writes
    each run of its consecutive nodes there itself (a :class:`Handoff`), while this one
    runs ``meanwhile``."""
    texts = EntryTexts()
    away = frozenset() if elsewhere is None else elsewhere.names
    for remote, names in groupby(fabric.nodes(), away.__contains__):
        if not remote:
            for name in names:
                yield name, loc_rib_array(fabric.router(name).loc_rib, texts)
        elif direct:
            assert elsewhere is not None
            yield Handoff(partial(elsewhere.write_members, list(names), meanwhile))
        else:
            assert elsewhere is not None
            for name in names:
                yield name, elsewhere.loc_rib_array(name)


def report_json_members(
    solution: Solution, *, direct: bool = False
) -> Iterator[tuple[str, Any] | Handoff]:
    """The members of the topology report (``azure.report.report_members``) as ``solve
    -o json`` writes them with :func:`json_chunks`: the Loc-RIBs (each ``Router.table()``)
    by :func:`_loc_ribs`, the same text without a dict per entry.

    ``direct`` (:func:`_write_json` to standard output, the network split in two
    processes): each process writes its own nodes' Loc-RIBs, and the Azure views are
    computed and written by the process that holds the nodes they read, each while the
    other writes (:mod:`bgpemu.cli._split_views`).
    """
    from bgpemu.azure.report import view_work

    network, plan, now = solution.network, solution.plan, solution.converged_after
    elsewhere = _elsewhere(solution)
    work = view_work(network, plan, solution.snapshots, now)
    if elsewhere is not None and direct:
        elsewhere.make_views(now, VIEW_LEVEL)
    elif elsewhere is not None:  # the views, here, read its Azure speakers' snapshots
        elsewhere.take_snapshots(plan.view_speakers() & elsewhere.names)
    here: list[tuple[str, list[tuple[str, EncodedValue | None]]]] = []

    def work_out_here() -> None:
        if not here and elsewhere is not None:
            here.extend(views_made_here(solution.fabric, elsewhere, network, plan, now))

    yield "name", network.name
    yield "nodes", _loc_ribs(solution.fabric, elsewhere, direct=direct, meanwhile=work_out_here)
    if not here:
        for category, members in work:
            yield category, ((key, compute()) for key, compute in members)
        return
    assert elsewhere is not None
    computes = {(c, key): compute for c, members in work for key, compute in members}
    whole = partial(_computed, computes)  # a view that reads nodes of both processes
    for category, texts in here:
        yield category, views_written(elsewhere, category, texts, whole)


def _computed(computes: dict[tuple[str, str], Callable[[], Any]], category: str, key: str) -> Any:
    return computes[category, key]()


def _elsewhere(solution: Solution) -> Elsewhere | None:
    """The other process of a split run, as :func:`_splitter`'s ``converge_split`` made it."""
    elsewhere = solution.elsewhere
    assert elsewhere is None or isinstance(elsewhere, Elsewhere)
    return elsewhere


def _stdout_is_fd1() -> bool:
    """Whether ``sys.stdout`` writes to file descriptor 1, where the other process of a
    split run can write too (not so when a test captures it, or a caller swaps it)."""
    try:
        return sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):
        return False


def _write_json(members: Iterator[tuple[str, Any] | Handoff]) -> None:
    """Print the JSON object of ``members`` (``json.dumps(indent=2)``'s text) piece by
    piece: a large network's report is never held whole (:mod:`bgpemu.cli._json_stream`);
    a :class:`Handoff`'s members are written by the other process of a split run, once
    what came before is out."""
    write = sys.stdout.write
    for piece in json_pieces(members):
        if type(piece) is str:
            write(piece)
        else:
            sys.stdout.flush()
            cast("Callable[[], None]", piece)()
    write("\n")


def _run_topology(args: argparse.Namespace) -> int:
    from bgpemu.azure.converge import solve
    from bgpemu.topology import load_topology

    try:
        network = load_topology(args.topology)
    except ConfigError as exc:
        return refuse(exc.problems, "started")
    try:
        with converging():
            solution = solve(network, seed=args.seed, split=_splitter(args))
    except ConvergenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        return _answer(args, solution)
    except SplitProcessError as exc:
        sys.stdout.flush()
        print(
            f"error: the second process of this run on two cores failed ({exc}); "
            "the output above is incomplete: run again with --jobs 1",
            file=sys.stderr,
        )
        return 1
    finally:
        if solution.elsewhere is not None:
            solution.elsewhere.close()


def _splitter(args: argparse.Namespace) -> Splitter | None:
    """Two cores when asked (``--jobs 2``), or by default for a large network when the
    machine has them (:mod:`bgpemu.cli._solve_split`)."""
    from bgpemu.cli._solve_split import converge_split

    if args.jobs == 1 or not hasattr(os, "fork") or (args.jobs is None and _cores() < 2):
        return None
    if args.jobs == 2:
        return converge_split
    return partial(_if_large, converge_split)


def _cores() -> int:
    """The cores this process may run on (all of the machine's where that is not known)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


LARGE = 200_000
"""Routes originated times speakers from which ``solve`` splits by default: below, the
fork and the exchanges cost more than the second core gives (vWAN 2 x 10 x 200: 88,000)."""


def _if_large(
    split: Splitter, fabric: Fabric, max_time: float, network: Network, plan: Plan
) -> Split | None:
    nodes = fabric.nodes()
    routes = sum(len(fabric.spec(name).router.routes) for name in nodes)
    if routes * len(nodes) < LARGE:
        elapsed = fabric.run_until_idle(max_time=max_time)
        return Split(elapsed=elapsed, elsewhere=None)
    return split(fabric, max_time, network, plan)


def _answer(args: argparse.Namespace, solution: Solution) -> int:
    _warn_internal_errors(solution.fabric, _elsewhere(solution))
    try:
        view = _view(args, solution)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    if view is None:
        if args.query is not None or args.output == "yaml":
            return _emit_report(args, report_json_members(solution))
        if args.output == "json":
            _write_json(report_json_members(solution, direct=_stdout_is_fd1()))
            return 0
        return _print_tables(args, solution.fabric, solution.converged_after, _elsewhere(solution))
    return _emit(args, view, render_rib if args.node is not None else render_view)


def _view(args: argparse.Namespace, solution: Any) -> Any:
    """The requested view's JSON, or None for the default (every table)."""
    from bgpemu.azure import views

    network, plan, snaps = solution.network, solution.plan, solution.snapshots
    if args.node is not None:
        endpoints = plan.of_node(args.node)
        if not endpoints:
            raise KeyError(f"no node {args.node!r} in topology {network.name!r}")
        from bgpemu.observe.payloads import rib_loc_payload

        # The shape of ``bgpemu routes NODE -o json`` (the routes of the rib/loc document).
        return {
            e.speaker: rib_loc_payload(snaps[e.speaker], seq=0)["routes"]
            for e in endpoints
            if e.speaker in snaps
        }
    if args.effective_routes is not None:
        vnet, _, subnet = args.effective_routes.partition("/")
        return views.effective_routes(network, plan, snaps, vnet, subnet or None)
    if args.learned_routes is not None:
        return views.learned_routes(network, plan, snaps, args.learned_routes)
    if args.advertised_routes is not None:
        if args.peer is None:
            raise ValueError("--advertised-routes needs --peer PEER_IP")
        return views.advertised_routes(network, plan, snaps, args.advertised_routes, args.peer)
    if args.bgp_peer_status is not None:
        return views.bgp_peer_status(
            network, plan, snaps, args.bgp_peer_status, solution.converged_after
        )
    if args.hub_routes is not None:
        hub, _, table = args.hub_routes.partition("/")
        return views.hub_routes(network, plan, snaps, hub, table or "defaultRouteTable")
    if args.route_server_routes is not None:
        if args.peer is None:
            raise ValueError("--route-server-routes needs --peer NVA")
        return views.route_server_routes(
            network, plan, snaps, args.route_server_routes, args.peer, args.direction
        )
    if args.circuit_routes is not None:
        circuit, _, path = args.circuit_routes.partition("/")
        return views.circuit_routes(network, plan, snaps, circuit, path or "primary")
    return None


def _as_path(best: dict[str, Any]) -> str:
    return as_path_text(best.get("as_path", []), " ") or "(local)"


def render_table(tables: dict[str, list[dict[str, Any]]]) -> str:
    """One row per node and prefix: next hop, AS path, the ECMP width and why the best
    path won, in the one table style (``format_table``, as the observers and views)."""
    from bgpemu.azure.views.render import format_table

    rows = [
        [
            node,
            entry["prefix"],
            entry["best"].get("next_hop") or "-",
            _as_path(entry["best"]),
            entry["best"].get("peer") or "local",
            str(len(entry.get("multipath", [])) or 1),
            str(entry.get("reason", "")),
        ]
        for node in sorted(tables)
        for entry in tables[node]
    ]
    headers = ["Node", "Prefix", "NextHop", "AsPath", "From", "Ecmp", "Reason"]
    return format_table(headers, rows).rstrip("\n")
