"""Documents of a lab as the web view receives them (test helpers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.observe.payloads import info_payload, topology_payload
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[3]
TOPOLOGIES = ROOT / "topologies"
LAB = "demo"
BASE = f"bgpemu/v1/{LAB}"


def topology_message(name: str) -> tuple[str, bytes]:
    """The ``topology`` message of a reference topology."""
    text = (TOPOLOGIES / f"{name}.yaml").read_text()
    doc = topology_payload(LAB, file=f"{name}.yaml", topology=text)
    return f"{BASE}/topology", json.dumps(doc).encode()


def plan_of(name: str) -> Plan:
    return compile_network(load_topology(TOPOLOGIES / f"{name}.yaml"))


def info_message(plan: Plan, speaker: str) -> tuple[str, bytes]:
    endpoint = plan.endpoints[speaker]
    doc = info_payload(
        speaker,
        role=endpoint.role,
        asn=endpoint.asn,
        router_id="10.0.0.1",
        topology_node=endpoint.node,
    )
    return f"{BASE}/nodes/{speaker}/info", json.dumps(doc).encode()


def sessions_message(speaker: str, states: dict[str, str]) -> tuple[str, bytes]:
    entries: list[dict[str, Any]] = [
        {
            "peer": peer,
            "state": state,
            "uptime": None,
            "established_since": 1_700_000_000.0 if state == "Established" else None,
            "routes_received": 0,
            "routes_accepted": 0,
            "routes_sent": 0,
            "messages_sent": 0,
            "messages_received": 0,
            "internal_errors": 0,
        }
        for peer, state in states.items()
    ]
    doc = {"schema": "bgpemu/v1/sessions", "node": speaker, "seq": 1, "sessions": entries}
    return f"{BASE}/nodes/{speaker}/sessions", json.dumps(doc).encode()


def peers(plan: Plan) -> dict[str, list[str]]:
    """Each speaker's neighbours in the plan."""
    return {spec.name: [n.name for n in spec.neighbors] for spec in plan.speakers}
