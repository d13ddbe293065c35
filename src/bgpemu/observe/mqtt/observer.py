"""The :class:`Observer`: a lab's retained documents, kept current by its deltas.

It subscribes to ``bgpemu/v1/<lab>/#`` (or to the ``filters`` it is given), keeps the
newest retained document of every topic and applies the ``events`` deltas to the table
documents (:func:`~bgpemu.observe.payloads.apply_delta`); a delta that does not apply
(a gap in ``seq``, or a ``resync`` event) marks its table stale until a retained
document at least as new as that delta.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from typing import Any

import aiomqtt

from bgpemu.observe.errors import MqttSecurityError, SequenceGapError
from bgpemu.observe.jsontext import loads
from bgpemu.observe.mqtt.background import Background
from bgpemu.observe.mqtt.connect import broker_address, connection, mqtt_client
from bgpemu.observe.payloads import apply_delta, table_of
from bgpemu.observe.topics import LabTopics, NodeTopic, NodeTopics, parse_topic
from bgpemu.observe.url import BrokerAddress

__all__ = ["Observer"]

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 10.0
"""Seconds ``async with Observer(...)`` waits for its subscription before TimeoutError."""


class Observer(Background):
    """Collects a lab's retained documents and applies the deltas (tests, observer CLI).

    ``follow_documents=False`` keeps a table document, once received, up to date by
    deltas alone (a newer retained document is only taken after a sequence gap or a
    ``resync``): that is how tests prove the deltas are right.  ``filters`` narrows the
    subscription (e.g. one node's ``rib/in/+``); the default is the whole lab.
    """

    def __init__(
        self,
        broker: str | BrokerAddress,
        *,
        lab: str,
        follow_documents: bool = True,
        max_events: int = 10_000,
        backoff: tuple[float, float] = (0.05, 2.0),
        filters: Sequence[str] | None = None,
    ) -> None:
        self.address = broker_address(broker)
        self.topics = LabTopics(lab=lab)
        self.filters = tuple(filters) if filters else (self.topics.all,)
        self.follow_documents = follow_documents
        self.backoff = backoff
        self.documents: dict[str, dict[str, Any]] = {}
        """The newest document of every retained topic (tables kept current by deltas)."""
        self.stale: set[str] = set()
        """Table topics where a delta was missed: waiting for a retained document."""
        self._newer: dict[str, dict[str, Any]] = {}
        """``follow_documents=False``: the newest retained document of a table not taken
        (yet), kept for when a gap or a ``resync`` makes the table stale."""
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_events)
        self.lab_events: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_events)
        """The lab's own events and control messages (not retained), in arrival order."""
        self.gaps = 0
        self.invalid = 0
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()

    def _background_name(self) -> str:
        return "mqtt-observer"

    async def _started(self) -> None:
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            await self._subscribed.wait()

    async def run(self) -> None:
        """Subscribe and collect, reconnecting with backoff, until cancelled."""
        delay = self.backoff[0]
        while True:
            try:
                async with connection(mqtt_client(self.address)) as client:
                    # One SUBSCRIBE for every filter (MQTT 3.1.1 §3.8: a list of them).
                    await client.subscribe([(f, 1) for f in self.filters])
                    delay = self.backoff[0]
                    self._subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        data = payload if isinstance(payload, bytes) else str(payload).encode()
                        self.receive(message.topic.value, data)
            except (aiomqtt.MqttError, MqttSecurityError) as exc:
                logger.info("observer: MQTT broker %s unavailable (%s)", self.address.url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    def node(self, node: str) -> dict[str, dict[str, Any]]:
        """The documents of ``node`` by topic suffix (``status``, ``rib/loc``, ``azure/x``...)."""
        base = NodeTopics(lab=self.topics.lab, node=node).base + "/"
        return {t[len(base) :]: d for t, d in self.documents.items() if t.startswith(base)}

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` holds; re-checked after every received message."""
        async with asyncio.timeout(timeout):
            while not predicate():
                changed = self._changed
                await changed.wait()

    def receive(self, topic: str, payload: bytes) -> None:
        """Handle one message (public so the collection logic is testable without a broker)."""
        ref = parse_topic(topic)
        if ref is None or ref.lab != self.topics.lab:
            return
        try:
            if not payload:
                self.documents.pop(topic, None)
                self._newer.pop(topic, None)
                self.stale.discard(topic)
                return
            try:
                doc = loads(payload)
            except ValueError:
                self.invalid += 1
                return
            if not isinstance(doc, dict):
                self.invalid += 1
            elif ref.node is None and ref.kind in ("events", "control"):
                self.lab_events.append(doc)
            elif ref.kind == NodeTopic.EVENTS and ref.node is not None:
                self._apply_event(ref.node, doc)
            else:
                self._take_document(topic, doc)
        finally:
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    def _take_document(self, topic: str, doc: dict[str, Any]) -> None:
        is_table = table_of(doc) is not None
        if (
            self.follow_documents
            or not is_table
            or topic not in self.documents
            or topic in self.stale
        ):
            self.documents[topic] = doc
            self.stale.discard(topic)
            self._newer.pop(topic, None)
        else:
            self._newer[topic] = doc

    def _apply_event(self, node: str, delta: dict[str, Any]) -> None:
        self.events.append(delta)
        topics = NodeTopics(lab=self.topics.lab, node=node)
        for table in delta.get("base", {}):
            topic = f"{topics.base}/{table}"
            doc = self.documents.get(topic)
            if doc is None or topic in self.stale:
                continue
            try:
                self.documents[topic] = apply_delta(doc, delta)
            except (SequenceGapError, KeyError, TypeError, ValueError) as exc:
                if not delta.get("resync"):
                    logger.info("observer: %s: %s", topic, exc)
                    self.gaps += 1
                newer = self._newer.pop(topic, None)
                if newer is not None and newer.get("seq", -1) >= delta.get("seq", 0):
                    self.documents[topic] = newer  # the retained document came first
                else:
                    self.stale.add(topic)
