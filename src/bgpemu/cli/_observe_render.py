"""Output of the observer commands: ``--query`` (JMESPath), then ``-o table|json|yaml``.

The tables are those of ``bgpemu solve``: :func:`render_rib` serves ``routes`` and
``solve --node``; an Azure view is rendered by :func:`bgpemu.azure.views.render_table`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bgpemu.cli._observe_mqtt import UsageError
from bgpemu.observe.payloads import read_uptime
from bgpemu.text import duration

__all__ = [
    "add_output_options",
    "emit",
    "query",
    "render_rib",
    "render_sessions",
    "render_view",
    "sessions_as_of",
]


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``-o table|json|yaml`` and ``--query JMESPATH``, as the Azure CLI takes them: the
    observers and ``solve`` (issue 15), rendered by :func:`emit`."""
    parser.add_argument("-o", "--output", choices=["table", "json", "yaml"], default="table")
    parser.add_argument("--query", metavar="JMESPATH", help="JMESPath query applied to the JSON")


def query(args: argparse.Namespace, data: Any) -> Any:
    if args.query is None:
        return data
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.search(args.query, data)
    except JMESPathError as exc:
        raise UsageError(f"invalid --query {args.query!r}: {exc}") from None


def emit(args: argparse.Namespace, data: Any, table: Callable[[Any], str]) -> int:
    result = query(args, data)
    if args.output == "json":
        print(json.dumps(result, indent=2))
    elif args.output == "yaml":
        import yaml

        print(yaml.safe_dump(result, sort_keys=False, allow_unicode=True), end="")
    elif args.query is not None:
        print(_generic_table(result).rstrip("\n"))
    else:
        print(table(result).rstrip("\n"))
    return 0


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list) or all(
        not isinstance(item, dict | list) for item in value
    )


def _generic_table(value: Any) -> str:
    """``-o table`` of a query result, like az: a list of objects is one row each."""
    from bgpemu.azure.views.render import cell, format_table

    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return cell(value)
    if not all(isinstance(item, dict) for item in value):
        return "\n".join(cell(item) if _scalar(item) else json.dumps(item) for item in value)
    columns: list[str] = []
    for item in value:
        columns.extend(k for k, v in item.items() if k not in columns and _scalar(v))
    if not columns:
        return ""
    return format_table(columns, [[item.get(c) for c in columns] for item in value])


def render_rib(tables: Mapping[str, Any]) -> str:
    """``-o table`` of ``routes`` (and ``solve --node``): one line per route, in the
    columns of :mod:`bgpemu.observe.rib_rows` after the speaker (and the peer).

    ``tables`` is ``{speaker: routes}`` (Loc-RIB) or ``{speaker: {peer: routes}}``
    (Adj-RIB-In/Out).
    """
    from bgpemu.azure.views.render import format_table
    from bgpemu.observe.rib_rows import (
        ADJ_RIB_COLUMNS,
        LOC_RIB_COLUMNS,
        adj_rib_cells,
        loc_rib_cells,
    )

    loc_rows: list[list[object]] = []
    adj_rows: list[list[object]] = []
    for speaker in sorted(tables):
        value = tables[speaker]
        if isinstance(value, dict):
            for peer in sorted(value):
                adj_rows.extend([speaker, peer, *adj_rib_cells(r)] for r in value[peer])
            continue
        loc_rows.extend([speaker, *loc_rib_cells(r)] for r in value)
    parts = []
    if loc_rows or not adj_rows:
        parts.append(format_table(["Speaker", *LOC_RIB_COLUMNS], loc_rows))
    if adj_rows:
        parts.append(format_table(["Speaker", "Peer", *ADJ_RIB_COLUMNS], adj_rows))
    return "\n".join(part.rstrip("\n") for part in parts)


def sessions_as_of(
    tables: Mapping[str, Sequence[Mapping[str, Any]]], now: float
) -> dict[str, list[dict[str, Any]]]:
    """The session entries by speaker with ``uptime`` as of ``now`` (epoch seconds, when
    the command reads them), not as of their publication (issue 15)."""
    return {
        speaker: [dict(s, uptime=read_uptime(s, now)) for s in sessions]
        for speaker, sessions in tables.items()
    }


def render_sessions(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """One row per session; the uptime as FRR prints it (``00:03:12``, ``1d02h03m``)."""
    from bgpemu.azure.views.render import format_table

    headers = ["Speaker", "Peer", "State", "Uptime", "Received", "Accepted", "Sent"]
    headers += ["MsgRcvd", "MsgSent"]
    rows = [
        [
            speaker,
            s["peer"],
            s["state"],
            "" if s.get("uptime") is None else duration(s["uptime"]),
            s["routes_received"],
            s["routes_accepted"],
            s["routes_sent"],
            s["messages_received"],
            s["messages_sent"],
        ]
        for speaker in sorted(tables)
        for s in tables[speaker]
    ]
    return format_table(headers, rows)


def render_view(view: Any) -> str:
    from bgpemu.azure.views import render_table

    return render_table(view)
