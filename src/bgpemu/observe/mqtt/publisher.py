"""The :class:`Publisher`: one node's retained documents and deltas, over one connection.

See the theory of operation in :mod:`bgpemu.observe.mqtt`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging

import aiomqtt

from bgpemu.observe.errors import MqttSecurityError
from bgpemu.observe.mqtt.background import Background
from bgpemu.observe.mqtt.connect import (
    EVENT_QOS,
    RETAINED_QOS,
    Payload,
    broker_address,
    connect_problem,
    connection,
    encode,
    mqtt_client,
)
from bgpemu.observe.payloads import status_payload
from bgpemu.observe.topics import NodeTopics
from bgpemu.observe.url import BrokerAddress

__all__ = ["Publisher"]

logger = logging.getLogger(__name__)


async def _wait_disconnect(client: aiomqtt.Client) -> None:
    """Never returns normally: raises MqttError when the connection drops.

    Nothing is subscribed, so the message iterator only ends by raising on a
    disconnection: aiomqtt 2.x's public way to notice a dead broker while idle.
    """
    async for message in client.messages:
        logger.debug("unexpected message on %s", message.topic)


_FIRST = ("/status", "/info", "/sessions", "/state")
"""Topics (by their last level) published before the documents already waiting."""

REFUSAL_WINDOW = 1.0
"""Seconds after a retained document was sent (or acknowledged) within which a drop makes
it a suspect (see :meth:`Publisher._on_drop`); a later drop is a connection loss like any
other."""


class Publisher(Background):
    """Publishes one node's retained documents and deltas (see :mod:`bgpemu.observe.mqtt`).

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
        will: tuple[str, Payload] | None = None,
    ) -> None:
        self.address = broker_address(broker)
        self.node_status = node_status
        """Publish ``nodes/<node>/status`` (online, and offline as the will); the lab's
        own publisher, which speaks for no node, turns it off."""
        self.will = will
        """(topic, document) the broker publishes, retained, if the connection drops
        without a DISCONNECT (MQTT 3.1.1 §3.1.2.5), when ``node_status`` is off: the
        lab's ``state`` saying ``offline``."""
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
        self.overflowed = False
        """Set when a delta was dropped; cleared by :meth:`take_overflow`."""
        self.published = 0
        self.dropped_events = 0
        self.oversized = 0
        """Documents and deltas too large for one MQTT message (logged, not published)."""
        self.connections = 0
        self.refused: set[str] = set()
        """Retained topics set aside: the broker closed the connection each time one was
        sent (its ACL refuses them); sent again when the document changes."""
        self._acked: tuple[str, float] | None = None
        """(topic, loop time) of the last retained document acknowledged on this connection."""
        self._in_flight: tuple[str, float] | None = None
        """(topic, loop time sent) of the retained document being sent, if any."""
        self._suspects: set[str] = set()
        """Retained topics sent or acknowledged just before the last drop: sent next time
        each followed by a probe (see :meth:`_on_drop`)."""
        self._probing: str | None = None
        """The suspect sent, whose probe is awaited."""
        self._refused_before: set[str] = set()
        """Topics ever set aside: logged once, always sent with a probe."""
        if node_status:
            self.update(self.topics.status, status_payload(node, online=True))

    # --- the non-blocking API used by routing code ----------------------------------

    @property
    def connected(self) -> bool:
        """Whether the MQTT connection is up right now."""
        return self._connected.is_set()

    def update(self, topic: str, payload: Payload, retain: bool = True) -> None:
        """Publish ``payload`` on ``topic`` soon; a newer update replaces one still waiting.

        A node's small documents (:data:`_FIRST`: status, info, sessions, the lab's
        state) go before the documents already waiting (a vWAN hub's route tables are
        megabytes each: observers read the sessions first).

        Never blocks.  The payload (a JSON-ready mapping, or bytes) must not be
        mutated afterwards.  Retained documents are published again after every
        reconnection; a non-retained update is sent at most once.  A document the
        broker refused (:attr:`refused`) is sent again only when it changes.
        """
        if retain:
            if topic in self.refused:
                if payload == self._current.get(topic):
                    return  # the version the broker refused (see _on_drop)
                self.refused.discard(topic)  # a new version: the broker is asked again
            self._current[topic] = payload
            self._wire.pop(topic, None)
        else:
            self._current.pop(topic, None)
            self._pending_once[topic] = payload
        self._dirty[topic] = retain
        if topic.endswith(_FIRST) and len(self._dirty) > 1:
            self._dirty = {topic: self._dirty.pop(topic), **self._dirty}
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

    async def wait_disconnected(self, timeout: float) -> None:
        """Wait until the MQTT connection is down (tests of broker outages)."""
        async with asyncio.timeout(timeout):
            await self._down.wait()

    def request_stop(self) -> None:
        """Ask :meth:`run` to publish ``status = offline``, disconnect and return."""
        self._stop.set()
        self._wake.set()

    # --- lifecycle -----------------------------------------------------------------------

    def _background_name(self) -> str:
        return f"mqtt-publish-{self.topics.node}"

    def _stop_background(self) -> None:
        self.request_stop()

    async def run(self) -> None:
        """Connect, publish, reconnect with backoff, until :meth:`request_stop`.

        The delay between attempts doubles from ``backoff[0]`` to at most ``backoff[1]``
        seconds.  An outage logs one WARNING when it starts (the connection lost, or the
        broker unavailable at the first attempt) and one INFO when it ends (its length,
        the attempts, the documents published again); the attempts between log at DEBUG.
        """
        loop = asyncio.get_running_loop()
        delay = self.backoff[0]
        outage: tuple[float, int] | None = None
        """(when it started, failed attempts) while the broker is away."""
        while not self._stop.is_set():
            lost = False
            try:
                async with connection(self._client()) as client:
                    self._on_connect(outage, loop.time())
                    outage = None
                    delay = self.backoff[0]
                    await self._session(client)
                    return
            except* (aiomqtt.MqttError, MqttSecurityError) as group:
                lost = True
                error = group.exceptions[0]
                if self._on_drop(loop.time()):
                    pass  # logged: the refused document, not an outage
                elif outage is None:
                    outage = (loop.time(), 1)
                    self._log_outage(error)
                else:
                    outage = (outage[0], outage[1] + 1)
                    logger.debug("%s: MQTT broker still away (%s)", self.topics.node, error)
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
        if self.will is not None and not self.node_status:
            topic, payload = self.will
            will = aiomqtt.Will(topic, encode(payload), qos=RETAINED_QOS, retain=True)
        if self.node_status:
            will = aiomqtt.Will(
                self.topics.status,
                encode(status_payload(self.topics.node, online=False)),
                qos=RETAINED_QOS,
                retain=True,
            )
        return mqtt_client(
            self.address,
            identifier=self.identifier,
            will=will,
            clean_session=True,
            keepalive=self.keepalive,
            timeout=self.timeout,
        )

    def _log_outage(self, error: BaseException) -> None:
        node, url = self.topics.node, self.address.url
        error_text = connect_problem(self.address, error)[1]
        low, high = self.backoff
        if self.connections:
            logger.warning(
                "%s: lost the connection to MQTT broker %s (%s); reconnecting every %g to "
                "%g s, then publishing every retained document again",
                node,
                url,
                error_text,
                low,
                high,
            )
        else:
            logger.warning(
                "%s: MQTT broker %s unavailable (%s); retrying every %g to %g s",
                node,
                url,
                error_text,
                low,
                high,
            )

    def _on_drop(self, now: float) -> bool:
        """The connection dropped at loop time ``now``: True if a refused document
        explains it (logged).

        mosquitto (2.0.11) acknowledges, then closes, an MQTT 3.1.1 connection that
        publishes at QoS 1 on a topic its ACL does not let the account write (3.1.1 has
        no PUBACK reason code to say so); it closes one that sends a packet over its
        ``max_packet_size`` without acknowledging.  Such a drop looks like any other, so
        the retained documents acknowledged or in flight within :data:`REFUSAL_WINDOW`
        of it become suspects: on the next connection each suspect is sent followed by
        a probe, an UNSUBSCRIBE whose UNSUBACK (MQTT 3.1.1 §3.11) proves that the broker
        went on past the document.  A drop while a suspect's probe is awaited sets that
        document aside (:attr:`refused`), so the documents and events behind it (a
        lab's control answers) still get out.  A drop with no document that recent is a
        real connection loss: the suspects are cleared and the documents set aside are
        sent again after it (with a probe; a new version of one too).
        """
        probing, self._probing = self._probing, None
        recent = {
            sent[0]
            for sent in (self._acked, self._in_flight)
            if sent is not None and now - sent[1] <= REFUSAL_WINDOW
        }
        self._acked = self._in_flight = None
        if probing is None:
            self._suspects = recent
            if not recent:
                self.refused.clear()
            return False
        self._suspects.discard(probing)
        self.refused.add(probing)
        self._dirty.pop(probing, None)
        if probing in self._refused_before:
            logger.debug("%s: %s refused again by %s", self.topics.node, probing, self.address.url)
            return True
        self._refused_before.add(probing)
        user = self.address.username
        account = f"user {user!r}" if user else "anonymous clients"
        logger.error(
            "%s: MQTT broker %s refused %s (%d bytes): it closed the connection right after "
            "the document was sent, twice in a row; likely its ACL does not let %s write it "
            "(grant 'topic write %s'), or the document is over its max_packet_size; set "
            "aside until the document changes or the connection is lost for another "
            "reason, the other documents and events go on",
            self.topics.node,
            self.address.url,
            probing,
            len(self._wire.get(probing, b"")),
            account,
            probing,
        )
        return True

    def _on_connect(self, outage: tuple[float, int] | None = None, now: float = 0.0) -> None:
        """A new connection: every retained document goes out again, status first.

        ``outage`` is (start, failed attempts) of the outage it ends, if any (logged).
        """
        self.connections += 1
        self._down.clear()
        self._connected.set()
        once = {t: r for t, r in self._dirty.items() if not r}
        waiting = (topic for topic in self._current if topic not in self.refused)
        first = sorted(waiting, key=lambda topic: not topic.endswith(_FIRST))  # stable
        self._dirty = dict.fromkeys(first, True)
        self._dirty.update(once)
        # Deltas queued during an outage are stale: the republished documents
        # supersede them, and the seq gap makes observers re-read.
        if self.connections > 1 and self._events:
            self.overflowed = True
            self.dropped_events += len(self._events)
            self._events.clear()
        self._wake.set()
        if outage is not None and self.connections > 1:
            logger.info(
                "%s: reconnected to MQTT broker %s after %.1f s (%d failed attempts); "
                "republishing %d retained documents",
                self.topics.node,
                self.address.url,
                now - outage[0],
                outage[1],
                len(self._current),
            )
        else:
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
                if await self._send(client, topic, encode(payload), retain=False):
                    self.published += 1
                else:
                    self.overflowed = True  # a delta lost: observers see the seq gap
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
            loop = asyncio.get_running_loop()
            self._in_flight = (topic, loop.time())
            probe = topic in self._suspects or topic in self._refused_before
            self._probing = topic if probe else None
            sent = await self._send(client, topic, data, retain=True)
            if sent and probe:  # answered only if the broker went on past the document
                await client.unsubscribe(self.topics.status, timeout=self.timeout)
            self._in_flight = self._probing = None
            self._suspects.discard(topic)
            self._acked = (topic, loop.time()) if sent and not probe else None
            if not sent:
                return
        else:
            payload = self._pending_once.pop(topic, None)
            if payload is None or not await self._send(client, topic, encode(payload), False):
                return
        self.published += 1

    async def _send(self, client: aiomqtt.Client, topic: str, data: bytes, retain: bool) -> bool:
        """Publish ``data``; False (logged, counted) when it is over what one MQTT message
        carries (256 MB, MQTT 3.1.1 §2.2.3): one huge table must not stop the others."""
        qos = RETAINED_QOS if retain else EVENT_QOS
        try:
            await client.publish(topic, data, qos=qos, retain=retain)
        except ValueError as exc:  # paho-mqtt: "Payload too large."
            self.oversized += 1
            logger.error(
                "%s: not publishing %s (%d bytes): %s", self.topics.node, topic, len(data), exc
            )
            return False
        return True
