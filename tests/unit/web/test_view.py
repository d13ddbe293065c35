"""The web view's model: documents in, page messages out (no broker, no clock)."""

from __future__ import annotations

import json
from typing import Any

from bgpemu.observe.payloads import topology_payload
from bgpemu.observe.topics import TopicRef
from bgpemu.web.elements import session_edge_id
from bgpemu.web.view import LabView
from tests.unit.web.helpers import (
    BASE,
    LAB,
    info_message,
    peers,
    plan_of,
    sessions_message,
    topology_message,
)

NOW = 1_800_000_000.0


def _lab(name: str = "er-vpn-backup", state: str = "Established") -> LabView:
    view = LabView(LAB)
    plan = plan_of(name)
    view.receive(*topology_message(name), NOW)
    for speaker, others in peers(plan).items():
        view.receive(*info_message(plan, speaker), NOW)
        view.receive(*sessions_message(speaker, dict.fromkeys(others, state)), NOW)
    return view


def _types(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


def test_the_snapshot_draws_every_session_with_its_state_and_carries_no_routes() -> None:
    view = _lab()
    snapshot = view.snapshot()
    assert snapshot["type"] == "snapshot"
    assert snapshot["lab"] == LAB
    assert snapshot["problems"] == []
    sessions = [e["data"] for e in snapshot["elements"] if e["data"].get("kind") == "session"]
    assert len(sessions) == 9
    assert {s["state"] for s in sessions} == {"Established"}
    assert "routes" not in json.dumps(snapshot)


def test_a_session_change_pushes_its_edge_not_the_graph() -> None:
    view = _lab()
    messages = view.receive(
        *sessions_message(
            "CE",
            {
                "Firewall": "Established",
                "Circuit.primary": "Idle",
                "Circuit.secondary": "Established",
            },
        ),
        NOW,
    )
    assert _types(messages) == ["sessions"]
    assert messages[0]["node"] == "CE"
    assert messages[0]["edges"] == [
        {"id": session_edge_id("CE", "Circuit.primary"), "state": "Idle", "established_since": None}
    ]
    edge = view.element(session_edge_id("CE", "Circuit.primary"))
    assert edge is not None
    assert edge["data"]["state"] == "Idle"
    # The same document again is no news.
    again = sessions_message(
        "CE",
        {"Firewall": "Established", "Circuit.primary": "Idle", "Circuit.secondary": "Established"},
    )
    assert view.receive(*again, NOW) == []


def test_a_new_topology_pushes_the_graph_and_a_bad_one_is_reported() -> None:
    view = _lab()
    bad = topology_payload(LAB, file="x.yaml", topology="name: x\nnodes: {A: {role: nope}}\n")
    messages = view.receive(f"{BASE}/topology", json.dumps(bad).encode(), NOW)
    assert "problems" in _types(messages)
    problems = next(m for m in messages if m["type"] == "problems")["problems"]
    assert problems
    assert all(isinstance(p, str) for p in problems)
    assert any("x.yaml" in p for p in problems), problems
    # The graph falls back to the speakers' own documents: every speaker still drawn.
    assert {"CE", "VpnGW.0", "ErGW"} <= view.element_ids
    assert view.snapshot()["problems"] == problems
    good = view.receive(*topology_message("er-vpn-backup"), NOW)
    assert _types(good) == ["problems", "elements"]
    assert good[0]["problems"] == []


def test_garbage_and_other_labs_are_ignored_without_raising() -> None:
    view = _lab()
    before = view.snapshot()
    for topic, payload in [
        (f"{BASE}/nodes/CE/sessions", b"\xff not json"),
        (f"{BASE}/nodes/CE/sessions", b"[" * 100_000),
        (f"{BASE}/nodes/CE/sessions", b"[1, 2]"),
        (f"{BASE}/nodes/CE/sessions", json.dumps({"sessions": [{"peer": 5}, "x"]}).encode()),
        (f"{BASE}/nodes/CE/info", json.dumps({"role": ["x"]}).encode()),
        (f"{BASE}/topology", json.dumps({"topology": 42}).encode()),
        ("bgpemu/v1/other/nodes/CE/sessions", b"{}"),
        ("elsewhere/x", b"{}"),
    ]:
        view.receive(topic, payload, NOW)
    assert view.invalid == 3
    assert {"CE", "VpnGW.0"} <= view.element_ids
    assert before["lab"] == view.snapshot()["lab"]


def test_state_is_pushed_and_kept_for_the_snapshot() -> None:
    view = LabView(LAB)
    state = {"schema": "bgpemu/v1/lab-state", "lab": LAB, "status": "offline"}
    assert view.receive(f"{BASE}/state", json.dumps(state).encode(), NOW) == [
        {"type": "state", "state": state}
    ]
    assert view.snapshot()["state"] == state
    assert view.receive(f"{BASE}/state", b"", NOW) == [{"type": "state", "state": None}]


class _Part:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any] | None, float]] = []

    def receive(
        self, ref: TopicRef, doc: dict[str, Any] | None, now: float
    ) -> list[dict[str, Any]]:
        self.seen.append((ref.kind, doc, now))
        return [{"type": "part", "kind": ref.kind}]

    def snapshot(self) -> dict[str, Any]:
        return {"timeline": ["x"]}


def test_parts_get_the_lab_documents_and_add_to_the_snapshot() -> None:
    part = _Part()
    view = LabView(LAB, [part])
    event = {"schema": "bgpemu/v1/lab-event", "event": "injected"}
    out = view.receive(f"{BASE}/events", json.dumps(event).encode(), NOW)
    assert out == [{"type": "part", "kind": "events"}]
    view.receive(f"{BASE}/nodes/CE/info", b"{}", NOW)  # a node document: not a part's
    assert part.seen == [("events", event, NOW)]
    assert view.snapshot()["timeline"] == ["x"]


def test_only_the_tables_followed_are_kept_and_a_change_is_noticed() -> None:
    view = _lab()
    doc = {"schema": "bgpemu/v1/rib-loc", "node": "CE", "seq": 1, "routes": []}
    topic = f"{BASE}/nodes/CE/rib/loc"
    assert view.receive(topic, json.dumps(doc).encode(), NOW) == []
    assert view.tables == {}
    view.watch(["nodes/CE/rib/loc", "nodes/Hub/azure/+"])
    assert view.receive(topic, json.dumps(doc).encode(), NOW) == []  # first: no page shows it
    assert view.receive(topic, json.dumps(doc | {"seq": 2}).encode(), NOW) == [
        {"type": "tables", "node": "CE", "tables": ["rib/loc"], "elements": ["CE"]}
    ]
    view.receive(f"{BASE}/nodes/Hub/azure/effective-routes.App", b'{"data": {}}', NOW)
    again = view.receive(f"{BASE}/nodes/Hub/azure/effective-routes.App", b'{"data": {}}', NOW)
    assert again[0]["elements"] == ["vnet:Hub"]  # the element the page opened
    view.watch(["nodes/VpnGW/azure/+"])
    for _ in range(2):
        gateway = view.receive(f"{BASE}/nodes/VpnGW/azure/learned-routes", b'{"data": {}}', NOW)
    assert gateway[0]["elements"] == ["VpnGW.0", "VpnGW.1"]
    assert set(view.tables) == {
        "nodes/CE/rib/loc",
        "nodes/Hub/azure/effective-routes.App",
        "nodes/VpnGW/azure/learned-routes",
    }
    view.forget("nodes/Hub/azure/+")
    view.forget("nodes/VpnGW/azure/+")
    assert set(view.tables) == {"nodes/CE/rib/loc"}


def test_a_speaker_gone_offline_no_longer_vouches_for_its_sessions() -> None:
    """A speaker's retained sessions document outlives it (a killed lab): once its status
    is offline (its MQTT will) its word is not taken; a session neither live end reports
    is unknown, not Established."""
    view = _lab()
    edge = session_edge_id("CE", "Firewall")
    offline = json.dumps({"schema": "bgpemu/v1/status", "node": "CE", "status": "offline"})
    view.receive(f"{BASE}/nodes/CE/status", offline.encode(), NOW)
    element = view.element(edge)
    assert element is not None
    assert element["data"]["state"] == "Established"  # Firewall still says so
    messages = view.receive(
        f"{BASE}/nodes/Firewall/status", offline.replace("CE", "Firewall").encode(), NOW
    )
    pushed = [e for m in messages if m["type"] == "sessions" for e in m["edges"]]
    assert {"id": edge, "state": None, "established_since": None} in pushed
    assert element["data"]["state"] is None
    online = offline.replace("offline", "online")
    view.receive(f"{BASE}/nodes/CE/status", online.encode(), NOW)
    assert element["data"]["state"] == "Established"


def _delta(node: str, seq: int, sessions: dict[str, str], removed: tuple[str, ...] = ()) -> bytes:
    entries = [
        {"peer": peer, "state": state, "established_since": None}
        for peer, state in sessions.items()
    ]
    event = {
        "schema": "bgpemu/v1/event",
        "node": node,
        "seq": seq,
        "base": {"sessions": seq - 1},
        "resync": False,
        "announce": [],
        "withdraw": [],
        "sessions": entries,
        "sessions_removed": list(removed),
    }
    return json.dumps(event).encode()


def test_a_node_event_brings_its_session_changes_before_the_retained_document() -> None:
    """The node's ``events`` delta reaches the broker before its coalesced ``sessions``
    document (tens of milliseconds on a small lab): a cut link is pushed from the delta."""
    view = _lab()
    edge = session_edge_id("CE", "Firewall")
    topic = f"{BASE}/nodes/Firewall/events"
    messages = view.receive(topic, _delta("Firewall", 5, {"CE": "Idle"}), NOW)
    assert [e for m in messages for e in m["edges"]] == [
        {"id": edge, "state": "Idle", "established_since": None}
    ]
    # The other sessions of Firewall are as they were; the retained document then agrees.
    other = view.element(session_edge_id("Firewall", "VpnGW.0"))
    assert other is not None
    assert other["data"]["state"] == "Established"
    retained = {"CE": "Idle", "VpnGW.0": "Established", "VpnGW.1": "Established"}
    assert view.receive(*sessions_message("Firewall", retained), NOW) == []
    # A delta with no session change, or that is not an event, changes nothing.
    assert view.receive(topic, _delta("Firewall", 6, {}), NOW) == []
    assert view.receive(topic, b'{"sessions": 5}', NOW) == []
    # A removed neighbour's session is no longer reported by that end.
    removed = view.receive(topic, _delta("Firewall", 7, {}, removed=("CE",)), NOW)
    assert removed == [] or all(e["id"] == edge for m in removed for e in m["edges"])
