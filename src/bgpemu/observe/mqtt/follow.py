"""The :class:`Follower`: every message of a changing set of topic filters, handed on raw.

A web view (:mod:`bgpemu.web.server`) follows a lab's light documents all the time and
a few route tables only while a page has them open: it subscribes and unsubscribes
while connected.  The follower keeps its filters, subscribes to all of them again after
a reconnection (with backoff, as the observer does), and hands every message to
``on_message(topic, payload)`` as it arrives (the caller decodes: payloads are untrusted)
and every change of the connection to ``on_connection(connected)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import aiomqtt

from bgpemu.observe.errors import MqttSecurityError
from bgpemu.observe.mqtt.background import Background
from bgpemu.observe.mqtt.connect import broker_address, connect_problem, connection, mqtt_client
from bgpemu.observe.url import BrokerAddress

__all__ = ["Follower"]

logger = logging.getLogger(__name__)

RETAINED_QOS = 1


class Follower(Background):
    """Follows ``filters`` (and those added by :meth:`subscribe`) until closed."""

    def __init__(
        self,
        broker: str | BrokerAddress,
        filters: Sequence[str],
        on_message: Callable[[str, bytes], None],
        on_connection: Callable[[bool], None] = lambda _up: None,
        *,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self.address = broker_address(broker)
        self.filters: list[str] = list(dict.fromkeys(filters))
        self.on_message = on_message
        self.on_connection = on_connection
        self.backoff = backoff
        self.connected = False
        self._client: aiomqtt.Client | None = None
        self._up = asyncio.Event()

    def _background_name(self) -> str:
        return "mqtt-follower"

    async def subscribe(self, topic_filter: str) -> None:
        """Follow ``topic_filter`` too (at once when connected: the broker's retained
        documents follow its SUBACK; else after the next connection)."""
        if topic_filter in self.filters:
            return
        self.filters.append(topic_filter)
        client = self._client
        if client is not None and self.connected:
            try:
                await client.subscribe(topic_filter, qos=RETAINED_QOS)
            except aiomqtt.MqttError as exc:  # the connection is going: run() resubscribes
                logger.info("follower: subscribe %s: %s", topic_filter, exc)

    async def unsubscribe(self, topic_filter: str) -> None:
        """Stop following ``topic_filter``."""
        if topic_filter not in self.filters:
            return
        self.filters.remove(topic_filter)
        client = self._client
        if client is not None and self.connected:
            try:
                await client.unsubscribe(topic_filter)
            except aiomqtt.MqttError as exc:
                logger.info("follower: unsubscribe %s: %s", topic_filter, exc)

    async def wait_connected(self, timeout: float) -> None:
        """Wait until connected and subscribed (TimeoutError after ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            await self._up.wait()

    def _set_connected(self, connected: bool) -> None:
        if connected:
            self._up.set()
        else:
            self._up.clear()
        if connected != self.connected:
            self.connected = connected
            try:
                self.on_connection(connected)
            except Exception:  # architecture decision 12
                logger.exception("follower: connection callback")

    async def run(self) -> None:
        """Connect, subscribe, hand messages on; reconnect with backoff; until cancelled."""
        delay = self.backoff[0]
        while True:
            try:
                async with connection(mqtt_client(self.address)) as client:
                    self._client = client
                    await client.subscribe([(f, RETAINED_QOS) for f in self.filters])
                    self._set_connected(True)
                    delay = self.backoff[0]
                    async for message in client.messages:
                        payload = message.payload
                        data = payload if isinstance(payload, bytes) else str(payload).encode()
                        try:
                            self.on_message(message.topic.value, data)
                        except Exception:  # architecture decision 12: one message, not all
                            logger.exception("follower: message on %s", message.topic.value)
            except (aiomqtt.MqttError, MqttSecurityError) as exc:
                refused, reason = connect_problem(self.address, exc)
                logger.log(
                    logging.WARNING if refused else logging.INFO,
                    "follower: MQTT broker %s unavailable (%s)",
                    self.address.url,
                    reason,
                )
            finally:
                self._client = None
                self._set_connected(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])
