"""The lab's traffic answers on the web page (issue 16): the matrix, the intents, what changed.

Pure.  A lab whose topology declares traffic retains its reachability matrix on
``traffic/reachability`` and, with ``--intents``, each intent's verdict on
``traffic/intents`` (docs/mqtt.md, "Traffic"); after a convergence where an intent's
verdict changed it says which on ``events`` (``intents_changed``).  :class:`TrafficViews`
keeps the newest of both documents for the page's snapshot, and says what to push:
``{"type": "traffic", "view": VIEW, "data": DATA}`` for a new document, and
``{"type": "flows-changed", "data": {...}}`` for the flows whose verdict or path changed:
the intents the lab named, and the matrix pairs whose verdict differs from the matrix
before (:func:`matrix_changes`).  :func:`endpoints` gives the trace pickers their choices.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Mapping
from typing import Any

from bgpemu.azure import model as m

__all__ = [
    "KEPT_CHANGES",
    "MAX_CHANGES",
    "TRAFFIC_VIEWS",
    "TrafficViews",
    "endpoints",
    "matrix_changes",
]

TRAFFIC_VIEWS = ("reachability", "intents")
"""The lab's retained traffic documents (:data:`bgpemu.observe.payloads.TRAFFIC_VIEWS`)."""

MAX_CHANGES = 500
"""Changed matrix pairs listed in one push (``total`` counts them all)."""

KEPT_CHANGES = 5
"""The last ``flows-changed`` pushes the snapshot carries (a page opened after an
injection still shows what it changed)."""

_TRAFFIC = "bgpemu/v1/traffic"
_TRAFFIC_EVENT = "bgpemu/v1/traffic-event"
_REACHABLE = "reachable"
_ABSENT = "absent"
"""The verdict of a pair whose endpoint is not in that matrix (added or removed by a
topology change)."""

Message = dict[str, Any]


def _verdicts(data: Mapping[str, Any]) -> tuple[set[str], dict[tuple[str, str], str]]:
    """The endpoint names of a matrix and its non-reachable pairs' verdicts."""
    names = set()
    for endpoint in data.get("endpoints") or ():
        if isinstance(endpoint, Mapping) and isinstance(endpoint.get("name"), str):
            names.add(endpoint["name"])
    verdicts: dict[tuple[str, str], str] = {}
    for pair in data.get("unreachable") or ():
        if not isinstance(pair, Mapping):
            continue
        source, destination, verdict = (pair.get(k) for k in ("source", "destination", "verdict"))
        if isinstance(source, str) and isinstance(destination, str) and isinstance(verdict, str):
            verdicts[(source, destination)] = verdict
    return names, verdicts


def matrix_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, str]]:
    """The pairs whose verdict differs between two matrices (``Matrix.to_json``: every
    pair of endpoints not listed under ``unreachable`` is reachable), as ``{"source",
    "destination", "before", "after"}``; an endpoint missing from one matrix makes its
    pairs ``absent`` there.  Sorted by source and destination.  Two matrices of different
    flows (protocol or port) are not compared: no changes."""
    if (before.get("protocol"), before.get("port")) != (after.get("protocol"), after.get("port")):
        return []
    names_before, was = _verdicts(before)
    names_after, now = _verdicts(after)

    def verdict(
        names: set[str], verdicts: dict[tuple[str, str], str], pair: tuple[str, str]
    ) -> str:
        if pair[0] not in names or pair[1] not in names:
            return _ABSENT
        return verdicts.get(pair, _REACHABLE)

    changes = []
    for pair in sorted(set(was) | set(now)):
        old, new = verdict(names_before, was, pair), verdict(names_after, now, pair)
        if old != new:
            changes.append({"source": pair[0], "destination": pair[1], "before": old, "after": new})
    return changes


def _data(doc: object, view: str) -> Mapping[str, Any] | None:
    """The ``data`` of a ``traffic`` document of ``view``, or None if it is not one."""
    if not isinstance(doc, Mapping) or doc.get("schema") != _TRAFFIC:
        return None
    data = doc.get("data")
    if doc.get("view") != view or not isinstance(data, Mapping):
        return None
    return data


class TrafficViews:
    """The newest ``traffic/<view>`` documents of one lab, and the pushes they make."""

    def __init__(self) -> None:
        self._data: dict[str, Mapping[str, Any] | None] = dict.fromkeys(TRAFFIC_VIEWS)
        self._changes: deque[dict[str, Any]] = deque(maxlen=KEPT_CHANGES)

    def snapshot(self) -> dict[str, Any]:
        """``{"reachability": data|None, "intents": data|None, "changes": [...]}`` (the
        page's snapshot; ``changes``: the data of the last :data:`KEPT_CHANGES`
        ``flows-changed`` pushes, oldest first)."""
        return {**self._data, "changes": list(self._changes)}

    def _changed(self, now: float, **lists: Any) -> Message:
        message = _flows_changed(now, **lists)
        self._changes.append(message["data"])
        return message

    def on_document(self, view: str, doc: object, now: float) -> list[Message]:
        """A new retained ``traffic/<view>`` document (None or empty: cleared), received
        at ``now``: the messages to push (none for what is not a traffic document)."""
        if view not in TRAFFIC_VIEWS:
            return []
        data = None if doc is None else _data(doc, view)
        if data is None and doc is not None:
            return []  # not a traffic document: ignored (the last good one stays)
        before = self._data[view]
        self._data[view] = data
        messages: list[Message] = [{"type": "traffic", "view": view, "data": data}]
        if view == "reachability" and before is not None and data is not None:
            changes = matrix_changes(before, data)
            if changes:
                messages.append(self._changed(now, matrix=changes))
        return messages

    def on_event(self, doc: object, now: float) -> list[Message]:
        """An ``events`` document: ``intents_changed`` is pushed as the flows changed."""
        if not isinstance(doc, Mapping) or doc.get("schema") != _TRAFFIC_EVENT:
            return []
        data = doc.get("data")
        if doc.get("event") != "intents_changed" or not isinstance(data, Mapping):
            return []
        changed = data.get("changed")
        if not isinstance(changed, list):
            return []
        intents = [dict(item) for item in changed if isinstance(item, Mapping)]
        return [self._changed(now, intents=intents)]


def _flows_changed(
    now: float, *, matrix: list[dict[str, str]] | None = None, intents: list[Any] | None = None
) -> Message:
    """``{"type": "flows-changed", "data": {"time", "matrix", "total", "intents"}}``: one
    of the two lists is filled (the matrix's cut to :data:`MAX_CHANGES`, ``total`` its
    length before the cut)."""
    pairs = matrix or []
    return {
        "type": "flows-changed",
        "data": {
            "time": now,
            "matrix": pairs[:MAX_CHANGES],
            "total": len(pairs),
            "intents": intents or [],
        },
    }


def _first_host(prefix: str) -> str | None:
    try:
        network = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return None
    if network.num_addresses <= 2:
        return str(network.network_address)
    return str(network.network_address + 1)


def _subnet_of(network: m.Network, vnet: str, address: str) -> str | None:
    """``VNET/SUBNET`` of the subnet of ``vnet`` that holds ``address`` (None if none)."""
    try:
        host = ipaddress.ip_address(address)
    except ValueError:
        return None
    for node in network.of_type(m.VNet):
        if node.name != vnet:
            continue
        for subnet in node.subnets:
            try:
                if host in ipaddress.ip_network(subnet.address_prefix, strict=False):
                    return f"{vnet}/{subnet.name}"
            except (ValueError, TypeError):
                continue
    return None


def endpoints(
    network: m.Network | None, reachability: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    """The choices of the trace pickers: ``{"name", "kind", "address"}`` for every
    interface (``interface``), NVA (``nva``) and firewall (``firewall``) of ``network``,
    each subnet (``subnet``, ``VNET/SUBNET``) and on-prem range (``onprem``, an address
    in it), then the reachability matrix's endpoints not already listed.  A name a trace
    question takes (docs/mqtt.md, "Traffic questions"): the address for an on-prem range.

    So that the page can put a flow in the matrix's grid (an intent's, named by an
    interface or an address), an interface, NVA or firewall also has ``subnet`` (its
    ``VNET/SUBNET``, the matrix's endpoint for it), and a subnet or range its ``prefix``."""
    found: dict[str, dict[str, str]] = {}

    def add(name: str, kind: str, address: str | None, **more: str | None) -> None:
        if address is not None and name not in found:
            found[name] = {"name": name, "kind": kind, "address": address}
            found[name].update({k: v for k, v in more.items() if v is not None})

    if network is not None:
        for vnet in network.of_type(m.VNet):
            for subnet in vnet.subnets:
                for nic in subnet.network_interfaces:
                    add(
                        nic.name,
                        "interface",
                        nic.private_ip_address,
                        subnet=f"{vnet.name}/{subnet.name}",
                    )
        for nva in network.of_type(m.Nva):
            add(nva.name, "nva", nva.address, subnet=_subnet_of(network, nva.vnet, nva.address))
        for firewall in network.firewalls:
            where = f"{firewall.vnet}/AzureFirewallSubnet"
            add(firewall.name, "firewall", firewall.private_ip_address, subnet=where)
        for vnet in network.of_type(m.VNet):
            for subnet in vnet.subnets:
                prefix = subnet.address_prefix
                add(f"{vnet.name}/{subnet.name}", "subnet", _first_host(prefix), prefix=prefix)
        for site in network.of_type(m.OnPrem):
            for announcement in site.prefixes:
                prefix = announcement.prefix
                add(f"{site.name}:{prefix}", "onprem", _first_host(prefix), prefix=prefix)
    listed = reachability.get("endpoints") if reachability is not None else None
    for endpoint in listed if isinstance(listed, list) else ():
        if not isinstance(endpoint, Mapping):
            continue
        name, kind, address = (endpoint.get(k) for k in ("name", "kind", "address"))
        if isinstance(name, str) and isinstance(kind, str) and isinstance(address, str):
            add(name, kind, address)
    return list(found.values())
