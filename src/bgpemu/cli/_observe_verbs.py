"""The observer commands that print tables: ``routes``, ``sessions`` and one command per
Azure view (:data:`VIEW_COMMANDS`, by :class:`~bgpemu.azure.catalog.AzureView`:
``effective-routes``, ``learned-routes``, ``bgp-peer-status``, ``route-server-routes``,
``hub-routes``, ``circuit-routes``).

Each subscribes only to the topics it needs (:func:`~._observe_mqtt.read`), says which
retained documents it waits for (``want``) and builds the JSON of ``bgpemu solve`` from
them; a missing node, peer or view is a :class:`UsageError` naming what exists.

``routes`` reads in steps, each one subscription: the lab ``state`` and the nodes'
``status`` (which speakers NODE is), then the speakers' ``rib/loc`` or their per-peer
documents ``rib/in/+`` (``rib/out/+``) with their ``sessions`` (which neighbours they
have: the documents to wait for).  With ``--peer`` and ``--rib in|out`` the ``sessions``
come first, so that only the matching neighbours' documents ``rib/in/<peer>`` are read:
a vWAN hub's Adj-RIBs-Out hold a million routes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.catalog import AzureView
from bgpemu.cli._observe_mqtt import (
    SESSIONS,
    Docs,
    UsageError,
    known_lab,
    lab_filter,
    name_list,
    node_filter,
    open_lab,
    read,
)
from bgpemu.cli._observe_render import (
    emit,
    render_rib,
    render_sessions,
    render_view,
    sessions_as_of,
)
from bgpemu.observe.errors import TopicError
from bgpemu.text import counted

__all__ = [
    "RIBS",
    "VIEW_COMMANDS",
    "ViewCommand",
    "node_speakers",
    "peers_of",
    "routes_json",
    "run_routes",
    "run_sessions",
    "run_view",
]

RIBS = {"loc": "rib/loc", "in": "rib/in", "out": "rib/out"}


def _matches(name: str | None, wanted: str) -> bool:
    return name is not None and (name == wanted or name.startswith(wanted + "."))


def node_speakers(docs: Docs, node: str) -> list[str]:
    speakers = docs.speakers_of(node)
    if not speakers:
        raise UsageError(
            f"no node {node!r} in lab {docs.lab!r} (speakers: {name_list(docs.speakers)})"
        )
    return speakers


def _table_of(docs: Docs, speaker: str, suffix: str) -> dict[str, Any]:
    doc = docs.nodes.get(speaker, {}).get(suffix)
    if doc is None:
        raise UsageError(f"no {suffix} document of {speaker!r} in lab {docs.lab!r} yet")
    return doc


def peers_of(docs: Docs, speaker: str) -> set[str]:
    """``speaker``'s neighbours: those of its ``sessions`` and of its per-peer documents."""
    found = set(docs.session_peers(speaker) or ())
    for table in ("rib/in", "rib/out"):
        found.update(docs.per_peer(speaker, table))
    return found


def _check_peer(docs: Docs, node: str, speakers: Sequence[str], peer: str) -> None:
    known = set().union(*(peers_of(docs, s) for s in speakers))
    if not any(_matches(p, peer) for p in known):
        raise UsageError(
            f"{node!r} has no peer {peer!r} in lab {docs.lab!r} (peers: {name_list(list(known))})"
        )


def routes_json(
    docs: Docs, node: str, speakers: Sequence[str], rib: str, peer: str | None
) -> dict[str, Any]:
    """The JSON of ``routes NODE --rib RIB [--peer PEER]`` (``speakers``: NODE's):
    ``{speaker: routes}`` of the ``rib/loc`` documents (what ``solve --node`` prints), or
    ``{speaker: {peer: routes}}`` of the per-peer documents ``rib/in|out/<peer>``."""
    if peer is not None:
        _check_peer(docs, node, speakers, peer)
    out: dict[str, Any] = {}
    for speaker in speakers:
        if rib == "loc":
            doc = _table_of(docs, speaker, RIBS[rib])
            out[speaker] = [
                r for r in doc.get("routes", []) if peer is None or _matches(r.get("peer"), peer)
            ]
            continue
        tables = docs.per_peer(speaker, RIBS[rib])
        if not tables and docs.session_peers(speaker) is None:
            raise UsageError(
                f"no {RIBS[rib]}/<peer> or {SESSIONS} document of {speaker!r} "
                f"in lab {docs.lab!r} yet"
            )
        out[speaker] = {
            name: tables[name].get("routes", [])
            for name in sorted(tables)
            if peer is None or _matches(name, peer)
        }
    return out


async def _speakers(args: argparse.Namespace, lab: str, node: str) -> list[str]:
    """The speakers of ``node``, from the lab ``state`` and the nodes' ``status``."""
    filters = [lab_filter(lab, "state"), node_filter(lab, None, "status")]
    docs = await known_lab(
        args, await read(args, lab, filters, lambda d: bool(d.expected_of(node)))
    )
    return node_speakers(docs, node)


def _node_filters(lab: str, speakers: Sequence[str], suffixes: Sequence[str]) -> list[str]:
    return [node_filter(lab, s, suffix) for s in speakers for suffix in suffixes]


async def _read_adj(
    args: argparse.Namespace, lab: str, speakers: Sequence[str], table: str
) -> Docs:
    """The ``sessions`` of ``speakers`` and their per-peer documents ``<table>/<peer>``:
    every neighbour's (``<table>/+``), or with ``--peer`` only those of the matching
    neighbours, known from a first read of the ``sessions``."""
    wanted: dict[str, list[str]] | None = None  # speaker -> neighbours; None: every one
    filters = _node_filters(lab, speakers, [SESSIONS, f"{table}/+"])
    if args.peer is not None:
        docs = await read(
            args, lab, _node_filters(lab, speakers, [SESSIONS]), lambda d: d.has(speakers, SESSIONS)
        )
        _check_peer(docs, args.node, speakers, args.peer)
        wanted = {
            s: sorted(p for p in peers_of(docs, s) if _matches(p, args.peer)) for s in speakers
        }
        filters = _node_filters(lab, speakers, [SESSIONS])
        filters += [node_filter(lab, s, f"{table}/{p}") for s in speakers for p in wanted[s]]

    def missing(docs: Docs) -> list[str]:
        """The documents still to come: every Established neighbour has its own."""
        out: list[str] = []
        for speaker in speakers:
            established = docs.session_peers(speaker, established=True)
            if established is None:
                out.append(f"{speaker}/{SESSIONS}")
                continue
            peers = set(established) if wanted is None else set(wanted[speaker]) & set(established)
            held = docs.nodes.get(speaker, {}).keys()
            out += [f"{speaker}/{table}/{p}" for p in sorted(peers) if f"{table}/{p}" not in held]
        return out

    # No "quiet" cut-off: these documents must come (a hub's are 50 x 5 MB, and a gap
    # between two of them is no sign that the broker has sent everything).
    docs = await read(args, lab, filters, lambda d: not missing(d), quiet=False)
    if absent := missing(docs):
        raise UsageError(
            f"{counted(len(absent), 'document')} did not arrive within "
            f"--timeout {args.timeout:g} s "
            f"({name_list(absent[:5])}{', ...' if len(absent) > 5 else ''}); "
            "large tables take longer: raise --timeout"
        )
    return docs


async def run_routes(args: argparse.Namespace) -> int:
    lab = await open_lab(args)
    speakers = await _speakers(args, lab, args.node)
    table = RIBS[args.rib]
    if args.rib == "loc":
        suffixes = [table, SESSIONS] if args.peer is not None else [table]
        filters = _node_filters(lab, speakers, suffixes)
        docs = await read(args, lab, filters, lambda d: d.has(speakers, *suffixes))
    else:
        docs = await _read_adj(args, lab, speakers, table)
    return emit(args, routes_json(docs, args.node, speakers, args.rib, args.peer), render_rib)


async def run_sessions(args: argparse.Namespace) -> int:
    lab = await open_lab(args)

    def want(docs: Docs) -> bool:
        if args.node is None:
            expected = list(docs.state.get("nodes", [])) if docs.state else []
        else:
            expected = docs.expected_of(args.node)
        return docs.has(expected, SESSIONS)

    filters = [lab_filter(lab, "state")]
    filters += [node_filter(lab, None, suffix) for suffix in ("status", SESSIONS)]
    docs = await known_lab(args, await read(args, lab, filters, want))
    speakers = docs.speakers if args.node is None else node_speakers(docs, args.node)
    data = {s: _table_of(docs, s, SESSIONS).get("sessions", []) for s in speakers}
    return emit(args, sessions_as_of(data, time.time()), render_sessions)


# --- Azure views -----------------------------------------------------------------------


def _pick_view(
    docs: Docs, kind: str, what: str, node: str, detail: str | None, detail_what: str
) -> Any:
    """The ``data`` of view ``kind[.detail]`` of ``node``, or a :class:`UsageError` listing."""
    views = docs.views(kind)
    if node not in views:
        raise UsageError(
            f"no {what} {node!r} with {kind} in lab {docs.lab!r} "
            f"({what}s: {name_list(list(views))}){docs.not_converged_hint()}"
        )
    details = views[node]
    if detail is None:
        if len(details) != 1:
            raise UsageError(
                f"{what} {node!r} has several {detail_what}s: give {node}/{detail_what.upper()} "
                f"({detail_what}s: {name_list(list(details))})"
            )
        return next(iter(details.values()))
    if detail not in details:
        raise UsageError(
            f"{what} {node!r} has no {detail_what} {detail!r} in lab {docs.lab!r} "
            f"({detail_what}s: {name_list(list(details))})"
        )
    return details[detail]


async def _view(
    args: argparse.Namespace,
    azure_view: AzureView,
    what: str,
    detail: str | None,
    detail_what: str = "",
    pick: Callable[[Any], Any] | None = None,
) -> int:
    node = args.target.partition("/")[0] if detail_what else args.target
    select = pick or (lambda data: data)
    kind = azure_view.segment
    view = azure_view.topic_view(detail)

    def want(docs: Docs) -> bool:
        return (detail is not None or not detail_what) and f"azure/{view}" in docs.nodes.get(
            node, {}
        )

    lab = await open_lab(args)
    try:
        narrow = [node_filter(lab, node, "azure/+")]
    except TopicError:  # not a topic level: no such node, but list those that exist
        narrow = []
    if narrow:
        docs = await read(args, lab, narrow, want)
        if node in docs.views(kind):
            found = _pick_view(docs, kind, what, node, detail, detail_what)
            return emit(args, select(found), render_view)
    # No such view of that node: read every node's views, to name those that exist.
    filters = [lab_filter(lab, "state")]
    filters += [node_filter(lab, None, suffix) for suffix in ("status", "azure/+")]
    docs = await known_lab(args, await read(args, lab, filters, lambda _: False))
    return emit(args, select(_pick_view(docs, kind, what, node, detail, detail_what)), render_view)


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewCommand:
    """How the observer command of one Azure view names its document: ``NODE`` or
    ``NODE/DETAIL`` (the ``.detail`` of its topic view)."""

    metavar: str
    help: str
    what: str
    """What NODE is (in messages)."""
    detail_what: str = ""
    """What DETAIL is (subnet, table...); empty for a view without one."""
    default: str | None = None
    """The DETAIL when none is given (None: the only one there)."""
    directions: bool = False
    """The data holds ``learned`` and ``advertised`` (``--direction`` picks one)."""


VIEW_COMMANDS: dict[AzureView, ViewCommand] = {
    AzureView.EFFECTIVE_ROUTES: ViewCommand(
        metavar="VNET[/SUBNET]",
        help="effective routes of a subnet",
        what="VNet",
        detail_what="subnet",
    ),
    AzureView.LEARNED_ROUTES: ViewCommand(
        metavar="GATEWAY", help="routes a VPN/ER gateway learned", what="gateway"
    ),
    AzureView.BGP_PEER_STATUS: ViewCommand(
        metavar="GATEWAY",
        help="a VPN/ER gateway's BGP peers (az network vnet-gateway list-bgp-peer-status)",
        what="gateway",
    ),
    AzureView.ROUTE_SERVER_ROUTES: ViewCommand(
        metavar="ROUTESERVER[/NVA]",
        help="routes a Route Server learned from (--direction advertised: advertised to) an "
        "NVA (az network routeserver peering list-learned-routes)",
        what="Route Server",
        detail_what="nva",
        directions=True,
    ),
    AzureView.HUB_ROUTES: ViewCommand(
        metavar="HUB[/TABLE]",
        help="effective routes of a vWAN hub route table",
        what="hub",
        detail_what="table",
        default="defaultRouteTable",
    ),
    AzureView.CIRCUIT_ROUTES: ViewCommand(
        metavar="CIRCUIT[/PATH]",
        help="an ExpressRoute circuit's route table, primary or secondary path "
        "(az network express-route list-route-tables)",
        what="circuit",
        detail_what="path",
        default="primary",
    ),
}
"""The observer command of every Azure view (:class:`AzureView`: the command is
:attr:`AzureView.command`); a view missing here is a test failure."""


async def run_view(args: argparse.Namespace) -> int:
    """The observer command of ``args.azure_view`` (:data:`VIEW_COMMANDS`)."""
    view: AzureView = args.azure_view
    spec = VIEW_COMMANDS[view]
    detail = (args.target.partition("/")[2] or spec.default) if spec.detail_what else None
    if not spec.directions:
        return await _view(args, view, spec.what, detail, spec.detail_what)
    return await _view(
        args, view, spec.what, detail, spec.detail_what, pick=lambda data: data[args.direction]
    )
