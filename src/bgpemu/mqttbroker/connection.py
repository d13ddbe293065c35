"""One client connection of the broker: its streams, decoder, negotiated limits, writer.

Theory of operation
-------------------
A :class:`Connection` is made for every accepted TCP connection.  Until its CONNECT is
accepted it only holds the streams and the :class:`Decoder`; then it records what the
CONNECT negotiated (protocol level, client id, will, Keep Alive, the in-flight window
from 5.0's Receive Maximum, the client's Maximum Packet Size, 5.0 §3.1.2.11).

Control packets are written at once with :meth:`Connection.send`.  PUBLISHes queued on
the client's :class:`Session` are sent by :meth:`Connection.write_loop`, the writer task,
within the in-flight window and in order (5.0 §4.6), in chunks so that a burst costs few
writes; :meth:`Connection.publish_for` builds each PUBLISH, recomputing the Message
Expiry Interval (5.0 §3.3.2.3.3).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from bgpemu.mqttbroker.codec import MAX_PACKET_SIZE, Decoder, encode
from bgpemu.mqttbroker.packets import (
    Disconnect,
    Packet,
    Properties,
    PropertyId,
    PropertyValue,
    ProtocolLevel,
    Publish,
    ReasonCode,
    Will,
)
from bgpemu.mqttbroker.session import Delivery, Inflight, Session

__all__ = ["Connection"]

logger = logging.getLogger(__name__)

_WRITE_CHUNK = 256 * 1024
_V5 = ProtocolLevel.MQTT_5


class Connection:
    """One client connection: its streams, decoder, and what its CONNECT negotiated."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_packet_size: int,
        *,
        window: int,
    ) -> None:
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.decoder = Decoder(max_packet_size=max_packet_size)
        self.level: int = ProtocolLevel.MQTT_3_1_1
        self.connected = False
        self.client_id = ""
        self.session: Session | None = None
        self.will: Will | None = None
        self.keep_alive = 0
        self.window = window
        self.peer_max_packet_size = MAX_PACKET_SIZE
        self.wake = asyncio.Event()
        self.done = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False
        self.user: str | None = None
        """The authenticated user name (None: anonymous, or no authentication)."""
        self.may_publish: Callable[[str], bool] = _anywhere
        """Whether this client may publish on a topic (:meth:`Access.may_publish`)."""
        self.denied = 0
        """PUBLISHes refused by :attr:`may_publish` (the first one is logged)."""

    @property
    def v5(self) -> bool:
        return self.level == _V5

    @property
    def name(self) -> str:
        return f"{self.client_id!r} ({self.peer})" if self.client_id else self.peer

    def send(self, packet: Packet) -> None:
        """Write one control packet now (the writer task sends queued PUBLISHes)."""
        if not self.writer.is_closing():
            self.writer.write(encode(packet, self.level))

    def refuse(self, reason: ReasonCode) -> None:
        """Send a 5.0 DISCONNECT with ``reason`` before closing (5.0 §3.14, §4.13)."""
        if self.v5 and self.connected:
            self.send(Disconnect(reason_code=reason))

    def cancel(self) -> None:
        """Stop the handler task; its cleanup closes the socket."""
        if self.task is not None and not self.cancelled:
            self.cancelled = True
            self.task.cancel()

    async def receive(self) -> bytes:
        """The next bytes from the client; empty at EOF or on a connection error."""
        try:
            return await self.reader.read(65536)
        except (ConnectionError, OSError):
            return b""

    async def write_loop(self) -> None:
        """Send queued deliveries within the in-flight window, in order (5.0 §4.6)."""
        session = self.session
        assert session is not None
        writer = self.writer
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                chunk: list[bytes] = []
                size = 0
                while session.queue and len(session.inflight) < self.window:
                    delivery = session.queue.popleft()
                    packet_id = session.next_packet_id() if delivery.qos else None
                    publish = self.publish_for(delivery, packet_id, dup=False)
                    if publish is None:
                        continue
                    data = encode(publish, self.level)
                    if len(data) > self.peer_max_packet_size:  # 5.0 §3.1.2.11.4
                        logger.warning(
                            "MQTT client %s: message on %r (%d bytes) over its maximum packet "
                            "size; discarded",
                            self.name,
                            delivery.message.topic,
                            len(data),
                        )
                        continue
                    if packet_id is not None:
                        session.inflight[packet_id] = Inflight(delivery)
                    chunk.append(data)
                    size += len(data)
                    if size >= _WRITE_CHUNK:
                        writer.write(b"".join(chunk))
                        chunk.clear()
                        size = 0
                        await writer.drain()
                if chunk:
                    writer.write(b"".join(chunk))
                    await writer.drain()
        except (ConnectionError, OSError):
            writer.close()

    def publish_for(
        self, delivery: Delivery, packet_id: int | None, *, dup: bool
    ) -> Publish | None:
        """The PUBLISH for ``delivery``, or None when its message expired (5.0 §3.3.2.3.3)."""
        message = delivery.message
        remaining: int | None = None
        if message.expires_at is not None:
            remaining = math.ceil(message.expires_at - asyncio.get_running_loop().time())
            if remaining <= 0:
                return None
        properties: Properties = ()
        if self.v5:
            extra: list[tuple[PropertyId, PropertyValue]] = []
            if remaining is not None:
                extra.append((PropertyId.MESSAGE_EXPIRY_INTERVAL, remaining))
            extra.extend(
                (PropertyId.SUBSCRIPTION_IDENTIFIER, identifier)
                for identifier in delivery.subscription_ids
            )
            properties = message.properties + tuple(extra)
        return Publish(
            topic=message.topic,
            payload=message.payload,
            qos=delivery.qos,
            retain=delivery.retain,
            dup=dup,
            packet_id=packet_id,
            properties=properties,
        )


def _anywhere(topic: str) -> bool:
    return True
