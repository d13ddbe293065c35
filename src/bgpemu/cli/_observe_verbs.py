"""The observer commands that print tables: ``routes``, ``sessions``, ``effective-routes``,
``learned-routes`` and ``hub-routes``.

Each says which retained documents it waits for (``want``) and how it builds its JSON from
them (``build``), the JSON of ``bgpemu solve``; a missing node, peer or view is a
:class:`UsageError` naming what exists.
"""

from __future__ import annotations

import argparse
from typing import Any

from bgpemu.cli._observe_mqtt import Docs, UsageError, collect, name_list
from bgpemu.cli._observe_render import emit, render_rib, render_sessions, render_view

__all__ = [
    "RIBS",
    "node_speakers",
    "run_effective",
    "run_hub",
    "run_learned",
    "run_routes",
    "run_sessions",
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


def _peers_of(docs: Docs, speaker: str) -> set[str]:
    found: set[str] = set()
    for suffix in ("rib/in", "rib/out"):
        found.update(docs.nodes.get(speaker, {}).get(suffix, {}).get("peers", {}))
    found.update(
        s["peer"] for s in docs.nodes.get(speaker, {}).get("sessions", {}).get("sessions", [])
    )
    return found


async def run_routes(args: argparse.Namespace) -> int:
    suffix = RIBS[args.rib]

    def want(docs: Docs) -> bool:
        return docs.has(docs.expected_of(args.node), suffix)

    def build(docs: Docs) -> dict[str, Any]:
        speakers = node_speakers(docs, args.node)
        if args.peer is not None:
            known = set().union(*(_peers_of(docs, s) for s in speakers))
            if not any(_matches(p, args.peer) for p in known):
                raise UsageError(
                    f"{args.node!r} has no peer {args.peer!r} in lab {docs.lab!r} "
                    f"(peers: {name_list(list(known))})"
                )
        out: dict[str, Any] = {}
        for speaker in speakers:
            doc = _table_of(docs, speaker, suffix)
            if args.rib == "loc":
                out[speaker] = [
                    r
                    for r in doc.get("routes", [])
                    if args.peer is None or _matches(r.get("peer"), args.peer)
                ]
            else:
                out[speaker] = {
                    peer: routes
                    for peer, routes in doc.get("peers", {}).items()
                    if args.peer is None or _matches(peer, args.peer)
                }
        return out

    return emit(args, await collect(args, want, build), render_rib)


async def run_sessions(args: argparse.Namespace) -> int:
    def want(docs: Docs) -> bool:
        if args.node is None:
            expected = list(docs.state.get("nodes", [])) if docs.state else []
        else:
            expected = docs.expected_of(args.node)
        return docs.has(expected, "sessions")

    def build(docs: Docs) -> dict[str, Any]:
        speakers = docs.speakers if args.node is None else node_speakers(docs, args.node)
        return {s: _table_of(docs, s, "sessions").get("sessions", []) for s in speakers}

    return emit(args, await collect(args, want, build), render_sessions)


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
    args: argparse.Namespace, kind: str, what: str, detail: str | None, detail_what: str = ""
) -> int:
    node = args.target.partition("/")[0] if detail_what else args.target
    view = f"{kind}.{detail}" if detail else kind

    def want(docs: Docs) -> bool:
        return (detail is not None or not detail_what) and f"azure/{view}" in docs.nodes.get(
            node, {}
        )

    def build(docs: Docs) -> Any:
        return _pick_view(docs, kind, what, node, detail, detail_what)

    return emit(args, await collect(args, want, build), render_view)


async def run_effective(args: argparse.Namespace) -> int:
    subnet = args.target.partition("/")[2] or None
    return await _view(args, "effective-routes", "VNet", subnet, "subnet")


async def run_learned(args: argparse.Namespace) -> int:
    return await _view(args, "learned-routes", "gateway", None)


async def run_hub(args: argparse.Namespace) -> int:
    table = args.target.partition("/")[2] or "defaultRouteTable"
    return await _view(args, "hub-routes", "hub", table, "table")
