"""``bgpemu watch`` prints the lab's traffic events readably (issue 14): the intents whose
verdict changed, and the answer to a traffic question (which it names, not ``None``)."""

from __future__ import annotations

from bgpemu.cli._observe_watch import _line
from bgpemu.observe.payloads import lab_event_payload, traffic_event_payload


def test_intents_changed_names_each_intent_and_its_verdicts() -> None:
    changed = [
        {"name": "vm1-to-siteb", "before": "reachable", "after": "dropped_none_route", "ok": False},
        {"name": "gone", "before": "reachable", "after": None, "ok": False},
    ]
    event = traffic_event_payload("demo", event="intents_changed", data={"changed": changed})
    assert _line("lab-event", event, {}) == (
        "lab demo: intents changed: vm1-to-siteb reachable -> dropped_none_route (violated), "
        "gone reachable -> cannot be traced (violated)"
    )


def test_an_answer_names_the_question_and_the_request() -> None:
    event = traffic_event_payload(
        "demo", event="answered", request="r1", op="trace", data={"trace": {}}
    )
    assert _line("lab-event", event, {}) == "lab demo: answered trace (request r1)"


def test_lab_events_print_as_before() -> None:
    event = lab_event_payload("demo", event="rejected", request="r", op="x", detail="why")
    assert _line("lab-event", event, {}) == "lab demo: rejected: why"
