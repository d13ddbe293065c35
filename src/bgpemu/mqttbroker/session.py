"""The broker's per-client session state (3.1.1 §4.1, 5.0 §4.1); no I/O.

Theory of operation
-------------------
A :class:`Session` outlives the network connections of its client when the client asks
for it (3.1.1 Clean Session 0; 5.0 Session Expiry Interval > 0).  It holds

- the client's subscriptions (the broker's routing tree holds the same entries);
- the outgoing queue: deliveries routed to the client and not yet sent.  It is bounded
  (``max_queued``); a delivery that does not fit is dropped and logged, once per burst;
- the in-flight window: QoS 1/2 PUBLISHes sent and not yet acknowledged, by packet
  identifier, resent with DUP on reconnection (5.0 §4.4);
- the QoS 2 packet identifiers received and not yet released by PUBREL, so that a
  retransmitted PUBLISH is not delivered twice (5.0 §4.3.3, method B of 3.1.1 §4.3.3).

While no connection is attached, QoS 0 deliveries are not kept (3.1.1 §3.1.2.4 makes
storing them optional).  The connection that attaches registers ``on_ready``, which the
session calls whenever it has something new for the writer.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bgpemu.mqttbroker.packets import MAX_PACKET_ID, Properties

__all__ = ["NEVER_EXPIRES", "Delivery", "Inflight", "Message", "Session", "Subscription"]

logger = logging.getLogger(__name__)

NEVER_EXPIRES = 0xFFFF_FFFF
"""Session Expiry Interval meaning "never" (5.0 §3.1.2.11.2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """An application message as the broker keeps it.

    ``properties`` are the 5.0 properties forwarded unaltered (5.0 §3.3.2.3); the Message
    Expiry Interval is kept as the deadline ``expires_at`` (loop time) and recomputed on
    each send (5.0 §3.3.2.3.3).  ``publisher`` is the client id, for No Local.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: Properties = ()
    expires_at: float | None = None
    publisher: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One accepted subscription and its options (3.1.1 §3.8.3, 5.0 §3.8.3.1)."""

    qos: int
    no_local: bool = False
    retain_as_published: bool = False
    identifier: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A message on its way to one client, with the QoS and RETAIN flag it is sent with."""

    message: Message
    qos: int
    retain: bool
    subscription_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class Inflight:
    """A QoS 1/2 delivery awaiting PUBACK/PUBREC, or (``released``) PUBCOMP."""

    delivery: Delivery
    released: bool = False


class Session:
    """Subscriptions, queue and acknowledgement state of one client id."""

    def __init__(self, client_id: str, *, max_queued: int, expiry_interval: int) -> None:
        self.client_id = client_id
        self.max_queued = max_queued
        self.expiry_interval = expiry_interval
        self.subscriptions: dict[str, Subscription] = {}
        self.queue: deque[Delivery] = deque()
        self.inflight: dict[int, Inflight] = {}
        self.awaiting_release: set[int] = set()
        self.on_ready: Callable[[], None] | None = None
        self.dropped = 0
        self._next_id = 1

    @property
    def connected(self) -> bool:
        """True while a network connection is attached."""
        return self.on_ready is not None

    def enqueue(self, delivery: Delivery) -> bool:
        """Queue ``delivery`` for the client; False when it was dropped."""
        if self.on_ready is None and delivery.qos == 0:
            return False
        if len(self.queue) >= self.max_queued:
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "MQTT client %r: outgoing queue full (%d messages); dropping messages, "
                    "first on topic %r",
                    self.client_id,
                    self.max_queued,
                    delivery.message.topic,
                )
            return False
        if self.dropped:
            logger.warning(
                "MQTT client %r: %d messages dropped while its outgoing queue was full",
                self.client_id,
                self.dropped,
            )
            self.dropped = 0
        self.queue.append(delivery)
        if self.on_ready is not None:
            self.on_ready()
        return True

    def next_packet_id(self) -> int:
        """A packet identifier not used by any in-flight delivery (5.0 §2.2.1)."""
        if len(self.inflight) >= MAX_PACKET_ID:
            raise RuntimeError("no free packet identifier")  # the window is smaller
        candidate = self._next_id
        while candidate in self.inflight:
            candidate = candidate % MAX_PACKET_ID + 1
        self._next_id = candidate % MAX_PACKET_ID + 1
        return candidate

    def acknowledge(self, packet_id: int, *, released: bool) -> bool:
        """Complete the in-flight delivery ``packet_id`` (PUBACK, or PUBCOMP if released).

        Returns False for an identifier that is not in that stage.
        """
        entry = self.inflight.get(packet_id)
        if entry is None or entry.released != released:
            return False
        del self.inflight[packet_id]
        if self.queue and self.on_ready is not None:
            self.on_ready()
        return True

    def release(self, packet_id: int) -> bool:
        """PUBREC for ``packet_id``: it now awaits PUBCOMP; False if unknown (5.0 §4.3.3)."""
        entry = self.inflight.get(packet_id)
        if entry is None:
            return False
        entry.released = True
        return True
