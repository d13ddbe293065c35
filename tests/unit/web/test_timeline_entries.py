"""The web view's timeline (issue 16): entries from the lab's events and state documents,
what is no entry, hostile fields, and the bound."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.observe.payloads import lab_event_payload, lab_state_payload, traffic_event_payload
from bgpemu.web.timeline import (
    MAX_DETAIL,
    MAX_ENTRIES,
    Timeline,
    event_entry,
    state_entry,
)

NOW = 1_765_000_000.0


def _state(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "converged": True,
        "nodes": ["HubGW", "SiteB"],
        "since": NOW - 100,
        "convergence_time": 0.84,
        "sessions_established": 1,
        "sessions_expected": 1,
        "lab_id": "run1",
    }
    base.update(fields)
    return lab_state_payload("demo", **base)


def test_a_convergence_carries_its_figures() -> None:
    doc = lab_event_payload(
        "demo",
        event="converged",
        request="r1",
        op="fail_link",
        detail="fail_link HubGW-SiteB",
        duration=0.031,
        updates=4,
        prefixes=3,
        best_path_changes=5,
    )
    assert event_entry(doc, NOW) == {
        "time": NOW,
        "event": "converged",
        "op": "fail_link",
        "detail": "fail_link HubGW-SiteB",
        "duration": 0.031,
        "updates": 4,
        "best_path_changes": 5,
        "prefixes": 3,
    }


@pytest.mark.parametrize(
    "event", ["injected", "rejected", "worker_exited", "worker_stopped", "worker_resumed"]
)
def test_every_lab_event_is_an_entry(event: str) -> None:
    doc = lab_event_payload("demo", event=event, op="crash", detail="crash SiteB")
    entry = event_entry(doc, NOW)
    assert entry is not None
    assert (entry["event"], entry["op"], entry["detail"]) == (event, "crash", "crash SiteB")


def test_what_changes_nothing_is_no_entry() -> None:
    refused_question = lab_event_payload("demo", event="rejected", op="trace", detail="args.port")
    answered = traffic_event_payload("demo", event="answered", request="r", op="trace", data={})
    assert event_entry(refused_question, NOW) is None
    assert event_entry(answered, NOW) is None


def test_changed_intents_are_named_with_their_verdicts() -> None:
    doc = traffic_event_payload(
        "demo",
        event="intents_changed",
        data={
            "changed": [
                {"name": "vm1-to-siteb", "before": "reachable", "after": "dropped_none_route"},
                {"name": "ssh", "before": "reachable", "after": "no_route"},
            ]
        },
    )
    entry = event_entry(doc, NOW)
    assert entry is not None
    assert entry["event"] == "intents_changed"
    assert entry["detail"] == (
        "vm1-to-siteb: reachable -> dropped_none_route; ssh: reachable -> no_route"
    )


@pytest.mark.parametrize(
    "doc",
    [
        None,
        "converged",
        [],
        {"schema": "bgpemu/v1/lab-event"},
        {"schema": "bgpemu/v1/lab-event", "event": "exploded"},
        {"schema": "bgpemu/v1/sessions", "event": "converged"},
        {"schema": "bgpemu/v1/traffic-event", "event": "intents_changed", "data": "x"},
        {"schema": "bgpemu/v1/traffic-event", "event": "intents_changed", "data": {}},
    ],
)
def test_what_is_not_a_lab_event_is_no_entry(doc: object) -> None:
    assert event_entry(doc, NOW) is None


def test_hostile_fields_are_null_and_a_long_detail_is_cut() -> None:
    doc = {
        "schema": "bgpemu/v1/lab-event",
        "event": "converged",
        "op": ["fail_link"],
        "detail": "x" * 100_000,
        "duration": float("nan"),
        "updates": True,
        "prefixes": -1,
        "best_path_changes": "5",
    }
    entry = event_entry(doc, NOW)
    assert entry is not None
    assert entry["op"] is None
    assert len(entry["detail"]) == MAX_DETAIL
    assert entry["detail"].endswith("...")
    assert [entry[k] for k in ("duration", "updates", "prefixes", "best_path_changes")] == [
        None
    ] * 4


def test_a_lab_seen_converged_shows_when_it_converged() -> None:
    entry = state_entry(None, _state(), NOW, run_converged=False)
    assert entry is not None
    assert entry["event"] == "lab_converged"
    assert entry["time"] == NOW - 100  # the lab's since, not when the page's server heard
    assert entry["duration"] is None  # since may be a later convergence than the first
    assert entry["detail"] == (
        "lab demo: 1/1 sessions established (first converged 0.84 s after lab up)"
    )


def test_a_lab_seen_converging_has_its_convergence_time() -> None:
    start = _state(converged=False, since=None, convergence_time=None)
    entry = state_entry(start, _state(), NOW, run_converged=False)
    assert entry is not None
    assert (entry["event"], entry["duration"]) == ("lab_converged", 0.84)
    assert entry["detail"] == "lab demo: 1/1 sessions established"


def test_the_state_makes_one_entry_per_run_and_stop() -> None:
    timeline = Timeline()
    start = _state(converged=False, since=None, convergence_time=None)
    events = [
        timeline.on_state(start, NOW),
        timeline.on_state(_state(), NOW + 1),
        timeline.on_state(_state(converged=False), NOW + 2),  # an injection converging
        timeline.on_state(_state(since=NOW + 3), NOW + 3),  # ... converged: its event says so
        timeline.on_state(_state(status="stopped", converged=False), NOW + 4),
        timeline.on_state(_state(status="stopped", converged=False), NOW + 5),
        timeline.on_state(_state(lab_id="run2", status="offline", converged=False), NOW + 6),
        timeline.on_state(_state(lab_id="run3", since=NOW + 7), NOW + 7),
    ]
    kinds = [None if e is None else e["event"] for e in events]
    assert kinds == [
        "lab_started",
        "lab_converged",
        None,
        None,
        "lab_stopped",
        None,
        "lab_offline",
        "lab_converged",
    ]
    assert [e["event"] for e in timeline.entries()] == [k for k in kinds if k is not None]


def test_the_timeline_keeps_the_last_entries() -> None:
    timeline = Timeline()
    for n in range(MAX_ENTRIES + 100):
        timeline.on_event(lab_event_payload("demo", event="injected", detail=str(n)), NOW + n)
    entries = timeline.entries()
    assert len(entries) == MAX_ENTRIES
    assert entries[0]["detail"] == "100"
    assert entries[-1]["detail"] == str(MAX_ENTRIES + 99)
