"""The MQTT adapter: the only module of bgpemu that imports aiomqtt (2.x).

Theory of operation.  A :class:`Publisher` owns one MQTT connection for one node,
with a retained will ``status = offline`` (MQTT 3.1.1 §3.1.2.5: the broker
publishes it when the connection drops without a DISCONNECT).  Routing code only
calls :meth:`Publisher.update` and :meth:`Publisher.event`, which never block or
await: ``update`` stores the newest document of a topic (an older one still waiting
is replaced, so a burst of changes costs one publication) and ``event`` appends to a
bounded queue (when full the delta is dropped and :attr:`Publisher.overflowed` is
set: the seq gap tells observers to re-read the retained documents, which the
caller republishes).  One background task publishes sequentially: queued events at
QoS 0, then the retained documents one by one at QoS 1.  When the broker goes away
the task reconnects with exponential backoff and, once connected, publishes every
retained document again (a restarted broker without persistence has lost them).
Payloads are serialised by the background task, so a coalesced document is never
serialised at all.

An :class:`Observer` subscribes to ``bgpemu/v1/<lab>/#``, keeps the newest retained
document of every topic and applies the ``events`` deltas to the table documents
(:func:`~bgpemu.observe.payloads.apply_delta`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import aiomqtt

from bgpemu.observe.errors import BrokerUnreachableError, SequenceGapError
from bgpemu.observe.payloads import apply_delta, status_payload, table_of
from bgpemu.observe.topics import ROOT, LabTopics, NodeTopic, NodeTopics, parse_topic
from bgpemu.observe.url import BrokerAddress, parse_mqtt_url

__all__ = [
    "BrokerAddress",
    "Observer",
    "Publisher",
    "check_broker",
    "encode",
    "parse_mqtt_url",
    "retained_labs",
]

logger = logging.getLogger(__name__)
_client_logger = logging.getLogger(__name__ + ".client")

Payload = Mapping[str, Any] | bytes
RETAINED_QOS = 1
EVENT_QOS = 0


def encode(payload: Payload) -> bytes:
    """Compact JSON bytes for a document (bytes pass through unchanged)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _address(broker: str | BrokerAddress) -> BrokerAddress:
    return parse_mqtt_url(broker) if isinstance(broker, str) else broker


async def check_broker(url: str, timeout: float = 3.0) -> BrokerAddress:
    """Connect to the broker at ``url`` once (CONNECT/CONNACK) and disconnect.

    Raises :class:`~bgpemu.observe.errors.MqttUrlError` for a malformed URL and
    :class:`~bgpemu.observe.errors.BrokerUnreachableError`, naming ``url``, when no broker
    answers within ``timeout`` seconds.
    """
    address = parse_mqtt_url(url)
    try:
        async with asyncio.timeout(timeout):
            client = aiomqtt.Client(
                address.host,
                address.port,
                protocol=aiomqtt.ProtocolVersion.V311,
                timeout=timeout,
                logger=_client_logger,
            )
            async with client:
                pass
    except TimeoutError:
        raise BrokerUnreachableError(url, f"no answer within {timeout:g} s") from None
    except (aiomqtt.MqttError, OSError) as exc:
        raise BrokerUnreachableError(url, str(exc) or type(exc).__name__) from None
    return address


async def _wait_disconnect(client: aiomqtt.Client) -> None:
    """Never returns normally: raises MqttError when the connection drops.

    Nothing is subscribed, so the message iterator only ends by raising on a
    disconnection: aiomqtt 2.x's public way to notice a dead broker while idle.
    """
    async for message in client.messages:
        logger.debug("unexpected message on %s", message.topic)


class Publisher:
    """Publishes one node's retained documents and deltas (see the module docstring).

    Use as ``async with Publisher(...) as pub:`` (it runs its own task meanwhile) or
    run :meth:`run` in your TaskGroup and call :meth:`request_stop`.
    """

    def __init__(
        self,
        broker: str | BrokerAddress,
        *,
        lab: str,
        node: str,
        identifier: str | None = None,
        max_events: int = 1000,
        backoff: tuple[float, float] = (0.05, 2.0),
        keepalive: int = 10,
        timeout: float = 5.0,
        node_status: bool = True,
    ) -> None:
        self.address = _address(broker)
        self.node_status = node_status
        """Publish ``nodes/<node>/status`` (online, and offline as the will); the lab's
        own publisher, which speaks for no node, turns it off."""
        self.topics = NodeTopics(lab=lab, node=node)
        self.identifier = identifier or f"bgpemu-{lab}-{node}"
        self.max_events = max_events
        self.backoff = backoff
        self.keepalive = keepalive
        self.timeout = timeout
        self._current: dict[str, Payload] = {}
        """Every retained document, newest version (republished after a reconnect)."""
        self._wire: dict[str, bytes] = {}
        """Serialised form of the documents in :attr:`_current` already published."""
        self._dirty: dict[str, bool] = {}
        """Topics waiting to be published, in order, with their retain flag."""
        self._pending_once: dict[str, Payload] = {}
        """Non-retained updates waiting (sent at most once)."""
        self._events: collections.deque[tuple[str, Payload]] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stop = asyncio.Event()
        self._connected = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self._task_group: asyncio.TaskGroup | None = None
        self.overflowed = False
        """Set when a delta was dropped; cleared by :meth:`take_overflow`."""
        self.published = 0
        self.dropped_events = 0
        self.connections = 0
        if node_status:
            self.update(self.topics.status, status_payload(node, online=True))

    # --- the non-blocking API used by routing code ----------------------------------

    @property
    def connected(self) -> bool:
        """Whether the MQTT connection is up right now."""
        return self._connected.is_set()

    def update(self, topic: str, payload: Payload, retain: bool = True) -> None:
        """Publish ``payload`` on ``topic`` soon; a newer update replaces one still waiting.

        Never blocks.  The payload (a JSON-ready mapping, or bytes) must not be
        mutated afterwards.  Retained documents are published again after every
        reconnection; a non-retained update is sent at most once.
        """
        if retain:
            self._current[topic] = payload
            self._wire.pop(topic, None)
        else:
            self._current.pop(topic, None)
            self._pending_once[topic] = payload
        self._dirty[topic] = retain
        self._poke()

    def clear(self, topic: str) -> None:
        """Remove the retained document of ``topic`` (an empty retained message)."""
        self.update(topic, b"")

    def event(self, payload: Payload, topic: str | None = None) -> bool:
        """Queue a non-retained message on ``topic`` (default: ``nodes/<node>/events``, the
        deltas); False if it was dropped."""
        if len(self._events) >= self.max_events:
            self.overflowed = True
            self.dropped_events += 1
            return False
        self._events.append((topic or self.topics.events, payload))
        self._poke()
        return True

    def take_overflow(self) -> bool:
        """Return and clear :attr:`overflowed`."""
        overflowed, self.overflowed = self.overflowed, False
        return overflowed

    def pending(self) -> int:
        """Documents and events not yet published."""
        return len(self._dirty) + len(self._events)

    async def flush(self, timeout: float) -> None:
        """Wait until connected and everything queued so far is published (tests, shutdown)."""
        async with asyncio.timeout(timeout):
            while True:
                await self._connected.wait()
                if not self._dirty and not self._events and self._idle.is_set():
                    return
                self._idle.clear()
                await self._idle.wait()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the MQTT connection is up."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def wait_disconnected(self, timeout: float) -> None:
        """Wait until the MQTT connection is down (tests of broker outages)."""
        async with asyncio.timeout(timeout):
            await self._down.wait()

    def request_stop(self) -> None:
        """Ask :meth:`run` to publish ``status = offline``, disconnect and return."""
        self._stop.set()
        self._wake.set()

    # --- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._task_group = asyncio.TaskGroup()
        await self._task_group.__aenter__()
        self._task_group.create_task(self.run(), name=f"mqtt-publish-{self.topics.node}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.request_stop()
        group, self._task_group = self._task_group, None
        if group is not None:
            await group.__aexit__(exc_type, exc, tb)

    async def run(self) -> None:
        """Connect, publish, reconnect with backoff, until :meth:`request_stop`."""
        delay = self.backoff[0]
        while not self._stop.is_set():
            lost = False
            try:
                async with self._client() as client:
                    self._on_connect()
                    delay = self.backoff[0]
                    await self._session(client)
                    return
            except* aiomqtt.MqttError as group:
                lost = True
                logger.info(
                    "%s: MQTT broker %s unavailable (%s); retrying",
                    self.topics.node,
                    self.address.url,
                    group.exceptions[0],
                )
            finally:
                self._connected.clear()
                self._down.set()
            if lost:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._stop.wait()
                delay = min(delay * 2, self.backoff[1])

    # --- internals -----------------------------------------------------------------------

    def _poke(self) -> None:
        self._idle.clear()
        self._wake.set()

    def _client(self) -> aiomqtt.Client:
        will = None
        if self.node_status:
            will = aiomqtt.Will(
                self.topics.status,
                encode(status_payload(self.topics.node, online=False)),
                qos=RETAINED_QOS,
                retain=True,
            )
        return aiomqtt.Client(
            self.address.host,
            self.address.port,
            identifier=self.identifier,
            protocol=aiomqtt.ProtocolVersion.V311,
            will=will,
            clean_session=True,
            keepalive=self.keepalive,
            timeout=self.timeout,
            logger=_client_logger,
        )

    def _on_connect(self) -> None:
        """A new connection: every retained document goes out again, status first."""
        self.connections += 1
        self._down.clear()
        self._connected.set()
        once = {t: r for t, r in self._dirty.items() if not r}
        self._dirty = dict.fromkeys(self._current, True)
        self._dirty.update(once)
        # Deltas queued during an outage are stale: the republished documents
        # supersede them, and the seq gap makes observers re-read.
        if self.connections > 1 and self._events:
            self.overflowed = True
            self.dropped_events += len(self._events)
            self._events.clear()
        self._wake.set()
        logger.info("%s: connected to MQTT broker %s", self.topics.node, self.address.url)

    async def _session(self, client: aiomqtt.Client) -> None:
        async with asyncio.TaskGroup() as tg:
            watcher = tg.create_task(
                _wait_disconnect(client), name=f"mqtt-watch-{self.topics.node}"
            )
            await self._pump(client)
            watcher.cancel()

    async def _pump(self, client: aiomqtt.Client) -> None:
        while True:
            if self._events:
                topic, payload = self._events.popleft()
                await client.publish(topic, encode(payload), qos=EVENT_QOS)
                self.published += 1
                continue
            if self._dirty:
                topic = next(iter(self._dirty))
                retain = self._dirty.pop(topic)
                await self._publish_document(client, topic, retain)
                continue
            if self._stop.is_set():
                if self.node_status:
                    await client.publish(
                        self.topics.status,
                        encode(status_payload(self.topics.node, online=False)),
                        qos=RETAINED_QOS,
                        retain=True,
                    )
                return
            self._wake.clear()
            self._idle.set()
            await self._wake.wait()

    async def _publish_document(self, client: aiomqtt.Client, topic: str, retain: bool) -> None:
        if retain:
            data = self._wire.get(topic)
            if data is None:
                data = encode(self._current[topic])
                self._wire[topic] = data
            await client.publish(topic, data, qos=RETAINED_QOS, retain=True)
        else:
            payload = self._pending_once.pop(topic, None)
            if payload is None:
                return
            await client.publish(topic, encode(payload), qos=EVENT_QOS)
        self.published += 1


class Observer:
    """Collects a lab's retained documents and applies the deltas (tests, observer CLI).

    ``follow_documents=False`` keeps a table document, once received, up to date by
    deltas alone (a newer retained document is only taken after a sequence gap):
    that is how tests prove the deltas are right.
    """

    def __init__(
        self,
        broker: str | BrokerAddress,
        *,
        lab: str,
        follow_documents: bool = True,
        max_events: int = 10_000,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self.address = _address(broker)
        self.topics = LabTopics(lab=lab)
        self.follow_documents = follow_documents
        self.backoff = backoff
        self.documents: dict[str, dict[str, Any]] = {}
        """The newest document of every retained topic (tables kept current by deltas)."""
        self.stale: set[str] = set()
        """Table topics where a delta was missed: waiting for a retained document."""
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_events)
        self.lab_events: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_events)
        """The lab's own events and control messages (not retained), in arrival order."""
        self.gaps = 0
        self.invalid = 0
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._task_group: asyncio.TaskGroup | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task_group = asyncio.TaskGroup()
        await self._task_group.__aenter__()
        self._task = self._task_group.create_task(self.run(), name="mqtt-observer")
        async with asyncio.timeout(10):
            await self._subscribed.wait()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
        group, self._task_group = self._task_group, None
        if group is not None:
            await group.__aexit__(exc_type, exc, tb)

    async def run(self) -> None:
        """Subscribe and collect, reconnecting with backoff, until cancelled."""
        delay = self.backoff[0]
        client = aiomqtt.Client(
            self.address.host,
            self.address.port,
            protocol=aiomqtt.ProtocolVersion.V311,
            logger=_client_logger,
        )
        while True:
            try:
                async with client:
                    await client.subscribe(self.topics.all, qos=1)
                    delay = self.backoff[0]
                    self._subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        data = payload if isinstance(payload, bytes) else str(payload).encode()
                        self.receive(message.topic.value, data)
            except aiomqtt.MqttError as exc:
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
                self.stale.discard(topic)
                return
            try:
                doc = json.loads(payload)
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
                logger.info("observer: %s: %s", topic, exc)
                self.gaps += 1
                self.stale.add(topic)


async def listen_control(
    broker: str | BrokerAddress,
    lab: str,
    handle: Callable[[bytes], Awaitable[None]],
    *,
    backoff: tuple[float, float] = (0.05, 2.0),
) -> None:
    """Call ``handle`` with every message on the lab's ``control`` topic; until cancelled.

    Reconnects with backoff when the broker goes away (commands sent meanwhile are
    lost: ``control`` is not retained, so a late lab never replays old commands).
    """
    address = _address(broker)
    topic = LabTopics(lab=lab).control
    delay = backoff[0]
    while True:
        try:
            client = aiomqtt.Client(
                address.host,
                address.port,
                protocol=aiomqtt.ProtocolVersion.V311,
                logger=_client_logger,
            )
            async with client:
                await client.subscribe(topic, qos=1)
                delay = backoff[0]
                async for message in client.messages:
                    payload = message.payload
                    await handle(payload if isinstance(payload, bytes) else str(payload).encode())
        except aiomqtt.MqttError as exc:
            logger.info("control of %s: broker %s unavailable (%s)", lab, address.url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, backoff[1])


async def send_control(
    broker: str | BrokerAddress, lab: str, payload: Mapping[str, Any], timeout: float
) -> list[dict[str, Any]]:
    """Publish a ``control`` message and return the lab's events that answer it.

    Returns once the lab said ``rejected`` or ``converged`` for this request (its
    ``id``); raises TimeoutError if it did not within ``timeout`` seconds and
    :class:`~bgpemu.observe.errors.BrokerUnreachableError` if the broker is down.
    """
    address = _address(broker)
    topics = LabTopics(lab=lab)
    request = payload["id"]
    answers: list[dict[str, Any]] = []
    try:
        client = aiomqtt.Client(
            address.host,
            address.port,
            protocol=aiomqtt.ProtocolVersion.V311,
            logger=_client_logger,
            timeout=timeout,
        )
        async with asyncio.timeout(timeout), client:
            await client.subscribe(topics.events, qos=1)
            await client.publish(topics.control, encode(dict(payload)), qos=1)
            async for message in client.messages:
                raw = message.payload
                try:
                    doc = json.loads(raw if isinstance(raw, bytes) else str(raw))
                except ValueError:
                    continue
                if not isinstance(doc, dict) or doc.get("request") != request:
                    continue
                answers.append(doc)
                if doc.get("event") in ("rejected", "converged"):
                    return answers
    except aiomqtt.MqttError as exc:
        raise BrokerUnreachableError(address.url, str(exc) or type(exc).__name__) from None
    return answers


async def retained_labs(
    broker: str | BrokerAddress, timeout: float, quiet: float = 0.3
) -> dict[str, dict[str, Any]]:
    """The retained ``state`` document of every lab on the broker, by lab name.

    Subscribes to ``bgpemu/v1/+/state`` and collects the retained messages the broker
    sends after the subscription (MQTT 3.1.1 §3.3.1.3); returns once none arrived for
    ``quiet`` seconds, or after ``timeout`` seconds in all.  Raises
    :class:`~bgpemu.observe.errors.BrokerUnreachableError` if the broker is down.
    """
    address = _address(broker)
    labs: dict[str, dict[str, Any]] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    subscribed = False
    try:
        client = aiomqtt.Client(
            address.host,
            address.port,
            protocol=aiomqtt.ProtocolVersion.V311,
            logger=_client_logger,
            timeout=timeout,
        )
        async with asyncio.timeout(timeout), client:
            await client.subscribe(f"{ROOT}/+/state", qos=1)
            subscribed = True
            messages = aiter(client.messages)
            while True:
                window = min(quiet, deadline - loop.time())
                if window <= 0:
                    break
                try:
                    async with asyncio.timeout(window):
                        message = await anext(messages)
                except TimeoutError:
                    break
                ref = parse_topic(message.topic.value)
                raw = message.payload
                if ref is None or ref.kind != "state" or not isinstance(raw, bytes) or not raw:
                    continue
                try:
                    doc = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(doc, dict):
                    labs[ref.lab] = doc
    except TimeoutError:
        if not subscribed:
            raise BrokerUnreachableError(address.url, f"no answer within {timeout:g} s") from None
    except aiomqtt.MqttError as exc:
        raise BrokerUnreachableError(address.url, str(exc) or type(exc).__name__) from None
    return labs
