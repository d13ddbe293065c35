"""A node's tables on the page: which there are, and one page of one of them (pure).

A speaker has its Loc-RIB (``rib/loc``: every path, ``*`` the best, and the reason it
won, RFC 4271 §9.1.2), and per neighbour its Adj-RIB-In and Adj-RIB-Out (§3.2); the
topology node it belongs to (a VNet, a gateway, a hub, a circuit, a Route Server) has
its Azure views (``azure/<view>``), in the Azure CLI's columns.  The columns are those
of the CLI's ``-o table`` (:mod:`bgpemu.observe.rib_rows`,
:func:`bgpemu.azure.views.view_rows`): one definition.

A page of a table is at most :data:`MAX_LIMIT` rows, optionally filtered: a filter that
is an address keeps the routes whose prefix contains it (a longest-match question);
any other text keeps the rows whose prefix column starts with it (``10.1.``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bgpemu.azure.views import view_rows
from bgpemu.azure.views.render import cell
from bgpemu.errors import BgpEmuError
from bgpemu.observe.rib_rows import ADJ_RIB_COLUMNS, LOC_RIB_COLUMNS, adj_rib_cells, loc_rib_cells
from bgpemu.observe.topics import NodeTopic, validate_name
from bgpemu.web.protocol import RequestError
from bgpemu.web.view import LabView

__all__ = [
    "MAX_LIMIT",
    "Cells",
    "azure_node",
    "page_of",
    "table_cells",
    "table_list",
    "table_page",
    "table_topic",
]

MAX_LIMIT = 500
"""Rows a page may ask for at once."""

_PREFIX_COLUMNS = ("Prefix", "Address Prefix", "Address Prefixes", "Network", "Neighbor")
"""The column a filter reads, the first of these a table has."""


def _element(view: LabView, node: str) -> Mapping[str, Any]:
    element = view.element(node)
    if element is None:
        raise RequestError(f"node: {node!r:.80} is not a node of lab {view.lab}'s graph")
    data: Mapping[str, Any] = element["data"]
    return data


def _speaker(view: LabView, node: str) -> str | None:
    speaker = _element(view, node).get("speaker")
    return speaker if isinstance(speaker, str) else None


def azure_node(view: LabView, node: str) -> str | None:
    """The topology node whose Azure views element ``node`` shows: a VNet's name, a
    speaker's ``topology_node`` (its ``info``), else the speaker itself; None for what
    has none (a firewall, a group)."""
    data = _element(view, node)
    if data.get("role") == "vnet" and node.startswith("vnet:"):
        return node.removeprefix("vnet:")
    speaker = data.get("speaker")
    if not isinstance(speaker, str):
        return None
    info = view.infos.get(speaker, {})
    topology_node = info.get("topology_node")
    return topology_node if isinstance(topology_node, str) and topology_node else speaker


def _peers(view: LabView, speaker: str) -> list[str]:
    entries = view.sessions.get(speaker, {}).get("sessions")
    if not isinstance(entries, list):
        return []
    return sorted(
        {e["peer"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("peer"), str)}
    )


def table_list(view: LabView, node: str) -> list[dict[str, str]]:
    """The tables of element ``node`` (``[{"id": ..., "label": ...}]``): the RIBs of its
    speaker and the Azure views of its topology node that the view has seen."""
    out: list[dict[str, str]] = []
    speaker = _speaker(view, node)
    if speaker is not None:
        out.append({"id": str(NodeTopic.RIB_LOC), "label": "Loc-RIB"})
        for peer in _peers(view, speaker):
            out.append({"id": f"rib/in/{peer}", "label": f"Adj-RIB-In from {peer}"})
            out.append({"id": f"rib/out/{peer}", "label": f"Adj-RIB-Out to {peer}"})
    owner = azure_node(view, node)
    if owner is not None:
        base = f"nodes/{owner}/azure/"
        for key in sorted(k for k in view.tables if k.startswith(base)):
            name = key.removeprefix(base)
            what, _, detail = name.partition(".")
            label = f"{what.replace('-', ' ')} ({detail})" if detail else what.replace("-", " ")
            out.append({"id": f"azure/{name}", "label": label})
    return out


def table_topic(view: LabView, node: str, table: str) -> str:
    """The topic (after ``bgpemu/v1/<lab>/``) of table ``table`` of element ``node``;
    RequestError naming the field that is wrong."""
    try:
        if table == NodeTopic.RIB_LOC or table.startswith(("rib/in/", "rib/out/")):
            speaker = _speaker(view, node)
            if speaker is None:
                raise RequestError(f"table: {node!r:.80} is no BGP speaker: it has no {table}")
            if table != NodeTopic.RIB_LOC:
                validate_name(table.split("/", 2)[2], "neighbour")
            return f"nodes/{speaker}/{table}"
        if table.startswith("azure/"):
            owner = azure_node(view, node)
            if owner is None:
                raise RequestError(f"table: {node!r:.80} has no Azure views")
            return f"nodes/{owner}/azure/{validate_name(table.removeprefix('azure/'), 'view')}"
    except BgpEmuError as exc:
        if isinstance(exc, RequestError):
            raise
        raise RequestError(f"table: {exc}") from None
    raise RequestError(
        f"table: {table!r:.80} is not a table (rib/loc, rib/in/PEER, rib/out/PEER, azure/VIEW)"
    )


def _rows(table: str, doc: Mapping[str, Any]) -> tuple[list[str], list[list[object]]]:
    if table.startswith("azure/"):
        data = doc.get("data")
        if not isinstance(data, Mapping):
            return [], []
        return view_rows(data)
    routes = doc.get("routes")
    if not isinstance(routes, list):
        return [], []
    if table == NodeTopic.RIB_LOC:
        return list(LOC_RIB_COLUMNS), [loc_rib_cells(r) for r in routes]
    return list(ADJ_RIB_COLUMNS), [adj_rib_cells(r) for r in routes]


def _ipv4(text: str) -> int | None:
    """A dotted-quad IPv4 address as an integer (None if it is not one): 40,000 rows are
    read at every keystroke of an address filter, ``ipaddress`` takes 5 us a prefix."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part.isdigit() or len(part) > 3 or int(part) > 255:
            return None
        value = value << 8 | int(part)
    return value


def _contains_v4(address: int) -> Callable[[str], bool]:
    def contains(value: str) -> bool:
        for word in value.split():
            base, sep, length = word.partition("/")
            network = _ipv4(base)
            if network is None or not sep or not length.isdigit() or int(length) > 32:
                continue
            shift = 32 - int(length)
            if network >> shift == address >> shift:
                return True
        return False

    return contains


def _matches(text: str) -> Callable[[str], bool]:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return lambda value: any(word.startswith(text) for word in value.split())
    if address.version == 4:
        return _contains_v4(int(address))

    def contains(value: str) -> bool:
        for word in value.split():
            try:
                if address in ipaddress.ip_network(word, strict=False):
                    return True
            except ValueError:
                continue
        return False

    return contains


def _filtered(columns: Sequence[str], rows: list[list[str]], text: str) -> list[list[str]]:
    if not text:
        return rows
    index = next((columns.index(c) for c in _PREFIX_COLUMNS if c in columns), 0)
    match = _matches(text.strip())
    return [row for row in rows if index < len(row) and match(row[index])]


Cells = tuple[list[str], list[list[str]]]
"""A table as the page shows it: its columns and its rows, every cell a string."""


def table_cells(table: str, doc: Mapping[str, Any]) -> Cells:
    """Every row of ``doc`` (table ``table``) as the page shows it (as ``-o table``
    prints it); RequestError for a document of another shape."""
    try:
        columns, rows = _rows(table, doc)
        return list(columns), [[cell(value) for value in row] for row in rows]
    except (KeyError, TypeError, AttributeError) as exc:
        raise RequestError(
            f"table: {table!r} is not a table document of this kind ({exc})"
        ) from None


def page_of(cells: Cells, text: str, offset: int, limit: int) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + limit`` of ``cells`` filtered by ``text``."""
    columns, rows = cells
    kept = _filtered(columns, rows, text)
    return {
        "columns": columns,
        "rows": kept[offset : offset + limit],
        "total": len(kept),
        "offset": offset,
        "limit": limit,
    }


def table_page(
    table: str, doc: Mapping[str, Any], text: str, offset: int, limit: int
) -> dict[str, Any]:
    """Rows ``offset`` to ``offset + limit`` of ``doc`` (table ``table``) filtered by
    ``text`` (:func:`table_cells`, then :func:`page_of`)."""
    return page_of(table_cells(table, doc), text, offset, limit)
