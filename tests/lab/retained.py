"""The retained MQTT documents of a lab against ``bgpemu solve``'s tables (test helper).

One comparison for every test that checks a lab's broker after a run, a fault or a
recovery: every speaker's ``rib/*`` documents and every Azure view (``bgp-peer-status``
left out: its durations and message counts are the lab's own).
"""

from __future__ import annotations

import contextlib
from typing import Any

from bgpemu.azure.converge import Solution
from bgpemu.lab.publish import azure_documents
from bgpemu.observe.mqtt import Observer
from bgpemu.observe.payloads import table_keys, table_payload

__all__ = ["retained_differences", "wait_retained_equal", "without_seq"]


def without_seq(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without its sequence number (it counts the lab's own publications)."""
    return {k: v for k, v in doc.items() if k != "seq"}


def retained_differences(observer: Observer, fabric: Solution, *, views: bool = True) -> list[str]:
    """What the broker holds that differs from ``fabric`` (empty: identical)."""
    problems: list[str] = []
    for speaker, snap in fabric.snapshots.items():
        docs = observer.node(speaker)
        keys = [k for k in table_keys(snap) if k != "sessions"]
        held = sorted(k for k in docs if k.startswith("rib/"))
        if held != keys:
            problems.append(f"{speaker}: tables {held}, expected {keys}")
            continue
        for key in keys:
            expected = without_seq(dict(table_payload(key, snap, seq=0)))
            if without_seq(docs[key]) != expected:
                problems.append(f"{speaker} {key}: differs from the fabric's")
    if views:
        for node, view, data in azure_documents(fabric.network, fabric.plan, fabric.snapshots, 0):
            if view == "bgp-peer-status":
                continue
            document = observer.node(node).get(f"azure/{view}")
            if document is None or document.get("data") != data:
                problems.append(f"{node} azure/{view}: missing or differs from the fabric's")
    return problems


async def wait_retained_equal(
    observer: Observer, fabric: Solution, timeout: float, *, views: bool = True
) -> None:
    """Wait until the broker holds exactly ``fabric``'s tables; fail naming what differs."""
    with contextlib.suppress(TimeoutError):
        await observer.wait_for(
            lambda: not retained_differences(observer, fabric, views=views), timeout
        )
    assert retained_differences(observer, fabric, views=views) == []
