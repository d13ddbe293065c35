"""Whatever a client publishes on a lab's topics, an observer reads on (architecture
decision 12): a payload nested 100,000 levels deep made Python's JSON decoder raise
RecursionError, which only the lab's control handler caught; the observers (the testing
API's Observer, ``bgpemu watch``) caught ValueError alone and died."""

from __future__ import annotations

import pytest

from bgpemu.cli._observe_watch import _classify
from bgpemu.observe.mqtt import Observer

DEEP = b"[" * 100_000
TOPICS = [
    "bgpemu/v1/demo/state",
    "bgpemu/v1/demo/events",
    "bgpemu/v1/demo/nodes/r1/rib/loc",
    "bgpemu/v1/demo/nodes/r1/events",
]


@pytest.mark.parametrize("topic", TOPICS)
def test_the_observer_counts_a_deeply_nested_payload_as_invalid(topic: str) -> None:
    observer = Observer("mqtt://127.0.0.1:1", lab="demo")
    observer.receive(topic, DEEP)
    assert observer.invalid == 1
    assert observer.documents == {}


@pytest.mark.parametrize("topic", TOPICS)
def test_watch_passes_over_a_deeply_nested_payload(topic: str) -> None:
    assert _classify("demo", topic, DEEP, None) is None
