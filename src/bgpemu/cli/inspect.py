"""``bgpemu inspect [LAB]``: every speaker of a running lab, with what a real router needs
to peer with it (issue 15).

Read from what the lab publishes (``state``, ``nodes/<speaker>/info`` and ``sessions``,
docs/mqtt.md), so it works from any machine that reaches the broker.  One row per
speaker: its topology node and instance, role, ASN, the address and TCP port it listens
on (``address``, ``port``: where a real router connects), the address Azure shows for it
(``azureAddress``, its NEXT_HOP), and its sessions' states.  A speaker whose ``info``
comes from a bgpemu before issue 15 has no node, instance or port: they are null
(``-o table``: empty).  ``-o json|yaml`` and ``--query`` as every observer
(:mod:`._observe_render`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from bgpemu.cli._observe_mqtt import (
    SESSIONS,
    Docs,
    known_lab,
    lab_filter,
    node_filter,
    open_lab,
    read,
)
from bgpemu.cli._observe_render import emit

__all__ = ["inspect_json", "render_inspect", "run_inspect"]

INFO = "info"


def inspect_json(docs: Docs) -> list[dict[str, Any]]:
    """One entry per speaker of ``docs`` (sorted by name), from its ``info`` and
    ``sessions`` documents."""
    out = []
    for speaker in docs.speakers:
        tables = docs.nodes.get(speaker, {})
        info = tables.get(INFO, {})
        addresses = list(info.get("addresses", []))
        sessions = tables.get(SESSIONS, {}).get("sessions", [])
        out.append(
            {
                "speaker": speaker,
                "node": info.get("topology_node"),
                "instance": info.get("instance"),
                "role": info.get("role"),
                "asn": info.get("asn"),
                "routerId": info.get("router_id"),
                "address": addresses[-1] if addresses else None,
                "port": info.get("port"),
                "azureAddress": addresses[0] if addresses else None,
                "sessions": [{"peer": s.get("peer"), "state": s.get("state")} for s in sessions],
            }
        )
    return out


def _cell(value: Any) -> Any:
    return "" if value is None else value


def render_inspect(speakers: Sequence[Mapping[str, Any]]) -> str:
    """``-o table``: one row per speaker, its sessions as ``peer=State`` joined with a
    space."""
    from bgpemu.azure.views.render import format_table

    headers = ["Speaker", "Node", "Role", "ASN", "Address", "Port", "AzureAddress", "Sessions"]
    rows = [
        [
            s["speaker"],
            _cell(s.get("node")),
            _cell(s.get("role")),
            _cell(s.get("asn")),
            _cell(s.get("address")),
            _cell(s.get("port")),
            _cell(s.get("azureAddress")),
            " ".join(f"{x['peer']}={x['state']}" for x in s.get("sessions", [])),
        ]
        for s in speakers
    ]
    return format_table(headers, rows)


async def run_inspect(args: argparse.Namespace) -> int:
    lab = await open_lab(args)

    def want(docs: Docs) -> bool:
        expected = list(docs.state.get("nodes", [])) if docs.state else []
        return docs.has(expected, INFO, SESSIONS)

    filters = [lab_filter(lab, "state")]
    filters += [node_filter(lab, None, suffix) for suffix in ("status", INFO, SESSIONS)]
    docs = await known_lab(args, await read(args, lab, filters, want))
    return emit(args, inspect_json(docs), render_inspect)
