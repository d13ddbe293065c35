"""A small asyncio MQTT 3.1.1 / 5.0 broker for a local lab (the imperative shell).

Theory of operation
-------------------
:class:`Broker` listens on one TCP address (127.0.0.1 by default) and runs one handler
task per connection.  The handler reads bytes, feeds the sans-IO :class:`Decoder`, and
acts on each packet; a second task, the writer, drains the client's :class:`Session`
queue within the in-flight window.  Control packets (CONNACK, PUBACK, SUBACK...) are
written directly by the handler, so a SUBACK always precedes the retained messages its
subscription brings (queued right after it).

Routing: a PUBLISH is stored as retained when flagged (an empty payload clears the
topic, 3.1.1 §3.3.1.3), then matched against the subscription tree and queued once per
matching client, with the highest QoS of that client's matching subscriptions
(overlapping subscriptions, 3.1.1 §3.3.5).  Retained messages are sent
only to the subscription being made, never to other clients (the amqtt defect).

A connection ends on DISCONNECT, EOF, a decode or protocol error (that client only;
5.0 clients get a DISCONNECT with the reason code first), keepalive expiry (nothing
received for 1.5 x Keep Alive, 3.1.1 §3.1.2.10), session takeover by the same client id
(5.0 DISCONNECT 0x8E, 3.1.1 §3.1.4), or broker shutdown.  The Will Message is published
unless the client sent a normal DISCONNECT, was taken over, or the broker is stopping.

QoS 2 is supported end to end (PUBREC/PUBREL/PUBCOMP, duplicate suppression by packet
id); granted QoS is the requested QoS.  Not offered: authentication (any user name and
password is accepted, AUTH is a protocol error), topic aliases (Topic Alias Maximum 0),
shared subscriptions (announced unavailable; ``$share/`` filters refused with 0x9E).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from types import TracebackType

from bgpemu.observe.broker.codec import (
    MAX_PACKET_SIZE,
    CodecError,
    Decoder,
    ProtocolError,
    UnsupportedProtocolError,
    encode,
)
from bgpemu.observe.broker.packets import (
    MAX_PACKET_ID,
    Auth,
    Connack,
    Connect,
    ConnectReturnCode,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Properties,
    PropertyId,
    PropertyValue,
    ProtocolLevel,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    ReasonCode,
    RetainHandling,
    Suback,
    Subscribe,
    Unsuback,
    Unsubscribe,
    Will,
)
from bgpemu.observe.broker.session import (
    NEVER_EXPIRES,
    Delivery,
    Inflight,
    Message,
    Session,
    Subscription,
)
from bgpemu.observe.broker.topics import (
    SubscriptionTree,
    filter_problem,
    is_wildcard,
    matches,
    topic_problem,
)

__all__ = ["DEFAULT_MAX_INFLIGHT", "DEFAULT_MAX_QUEUED", "Broker"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_QUEUED = 100_000
"""Default bound of each client's outgoing queue (messages)."""

DEFAULT_MAX_INFLIGHT = 1_000
"""Default bound of unacknowledged QoS 1/2 messages per client (5.0 clients may ask less)."""

_WRITE_CHUNK = 256 * 1024
_CLOSE_TIMEOUT = 1.0
_V5 = ProtocolLevel.MQTT_5
_FORWARD_DROPPED = frozenset(
    {
        PropertyId.MESSAGE_EXPIRY_INTERVAL,
        PropertyId.TOPIC_ALIAS,
        PropertyId.SUBSCRIPTION_IDENTIFIER,
        PropertyId.WILL_DELAY_INTERVAL,
    }
)
"""Properties not forwarded as received: recomputed (expiry), or per hop (5.0 §3.3.2.3)."""


def _first(properties: Properties, identifier: PropertyId) -> PropertyValue | None:
    for key, value in properties:
        if key is identifier:
            return value
    return None


def _int_property(properties: Properties, identifier: PropertyId, default: int) -> int:
    value = _first(properties, identifier)
    return value if isinstance(value, int) else default


class _Connection:
    """One client connection: its streams, decoder, and what its CONNECT negotiated."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_packet_size: int
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
        self.window = DEFAULT_MAX_INFLIGHT
        self.peer_max_packet_size = MAX_PACKET_SIZE
        self.wake = asyncio.Event()
        self.done = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.cancelled = False

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


class Broker:
    """An MQTT broker for a local lab: ``async with Broker(port=0) as broker: ...``.

    ``port=0`` picks a free port, readable from :attr:`port` once started.
    ``max_queued_messages`` bounds each client's outgoing queue (drops are logged);
    ``max_inflight`` bounds unacknowledged QoS 1/2 messages per client;
    ``max_packet_size`` bounds incoming packets (announced to 5.0 clients when lowered).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        max_queued_messages: int = DEFAULT_MAX_QUEUED,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        max_packet_size: int = MAX_PACKET_SIZE,
        connect_timeout: float = 10.0,
    ) -> None:
        if max_queued_messages < 1 or not 1 <= max_inflight <= MAX_PACKET_ID:
            raise ValueError("max_queued_messages must be >= 1, max_inflight in 1..65535")
        self.host = host
        self._port = port
        self.max_queued_messages = max_queued_messages
        self.max_inflight = max_inflight
        self.max_packet_size = max_packet_size
        self.connect_timeout = connect_timeout
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._tree: SubscriptionTree[Subscription] = SubscriptionTree()
        self._retained: dict[str, Message] = {}
        self._sessions: dict[str, Session] = {}
        self._online: dict[str, _Connection] = {}
        self._connections: set[_Connection] = set()
        self._expiry_timers: dict[str, asyncio.TimerHandle] = {}
        self._will_timers: dict[str, tuple[asyncio.TimerHandle, Will]] = {}

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port listened on (the one picked by the system when created with 0)."""
        return self._port

    @property
    def url(self) -> str:
        """``mqtt://host:port`` of this broker."""
        return f"mqtt://{self.host}:{self._port}"

    @property
    def retained_count(self) -> int:
        """How many topics hold a retained message."""
        return len(self._retained)

    async def start(self) -> None:
        """Listen; raises OSError naming the address when it cannot."""
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self._port)
        except OSError as exc:
            raise OSError(
                exc.errno, f"MQTT broker cannot listen on {self.host}:{self._port}: {exc.strerror}"
            ) from exc
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("MQTT broker listening on %s", self.url)

    async def stop(self) -> None:
        """Close the listener and every connection (5.0 clients get DISCONNECT 0x8B)."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.refuse(ReasonCode.SERVER_SHUTTING_DOWN)
            connection.cancel()
        for connection in connections:
            await connection.done.wait()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        for handle in self._expiry_timers.values():
            handle.cancel()
        for handle, _ in self._will_timers.values():
            handle.cancel()
        self._expiry_timers.clear()
        self._will_timers.clear()

    async def __aenter__(self) -> Broker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- one connection ---------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(reader, writer, self.max_packet_size)
        connection.task = asyncio.current_task()
        self._connections.add(connection)
        try:
            if not self._stopping:
                await self._serve(connection)
        except asyncio.CancelledError:
            if not connection.cancelled:
                raise
        except Exception:
            logger.exception("MQTT client %s: internal error", connection.name)
        finally:
            await self._cleanup(connection)

    async def _serve(self, connection: _Connection) -> None:
        try:
            async with asyncio.timeout(self.connect_timeout):
                first = await self._read_connect(connection)
        except TimeoutError:
            logger.info(
                "MQTT client %s: no CONNECT within %gs", connection.name, self.connect_timeout
            )
            return
        if first is None:
            return
        connect, pending = first
        if not await self._accept(connection, connect):
            return
        writer_task = asyncio.create_task(
            self._write_loop(connection), name=f"mqtt-writer-{connection.client_id}"
        )
        try:
            await self._read_loop(connection, pending)
        finally:
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer_task

    async def _read_connect(self, connection: _Connection) -> tuple[Connect, list[Packet]] | None:
        """The CONNECT (3.1.1 §3.1: first packet) and any packets pipelined after it."""
        while True:
            data = await self._receive(connection)
            if not data:
                return None
            try:
                packets = connection.decoder.feed(data)
            except UnsupportedProtocolError as exc:
                self._refuse_protocol(connection, exc)
                return None
            except CodecError as exc:
                logger.warning("MQTT client %s: bad CONNECT: %s", connection.name, exc)
                return None
            if packets:
                if not isinstance(packets[0], Connect):
                    logger.warning("MQTT client %s: first packet is not CONNECT", connection.name)
                    return None
                return packets[0], packets[1:]

    def _refuse_protocol(self, connection: _Connection, exc: UnsupportedProtocolError) -> None:
        """Answer a CONNECT of an unsupported level (3.1.1 §3.1.2.2, 5.0 §3.1.2.2).

        Older levels get 3.1.1's return code 0x01 in a 3.1.1 CONNACK; newer ones 5.0's
        reason code 0x84 in a 5.0 CONNACK; a non-MQTT protocol name gets nothing.
        """
        logger.warning("MQTT client %s: %s", connection.name, exc)
        if not exc.is_mqtt:
            return
        if exc.level > _V5:
            connection.level = _V5
            connection.send(Connack(reason_code=ReasonCode.UNSUPPORTED_PROTOCOL_VERSION))
        else:
            connection.send(Connack(reason_code=ConnectReturnCode.UNACCEPTABLE_PROTOCOL_VERSION))

    async def _receive(self, connection: _Connection) -> bytes:
        try:
            return await connection.reader.read(65536)
        except (ConnectionError, OSError):
            return b""

    async def _accept(self, connection: _Connection, connect: Connect) -> bool:
        """Validate the CONNECT, take over or create the session, send CONNACK (§3.1-3.2)."""
        connection.level = connect.protocol_level
        v5 = connection.v5
        properties = connect.properties
        if v5 and _first(properties, PropertyId.AUTHENTICATION_METHOD) is not None:
            connection.send(Connack(reason_code=ReasonCode.BAD_AUTHENTICATION_METHOD))
            return False  # 5.0 §4.12: no enhanced authentication offered
        client_id = connect.client_id
        assigned = not client_id
        if assigned:
            if not v5 and not connect.clean_start:  # 3.1.1 §3.1.3.1
                connection.send(Connack(reason_code=ConnectReturnCode.IDENTIFIER_REJECTED))
                return False
            client_id = f"auto-{uuid.uuid4().hex}"
        if connect.will is not None:
            problem = topic_problem(connect.will.topic)
            if problem is not None:
                logger.warning("MQTT client %s: will %s", connection.name, problem)
                if v5:
                    connection.send(Connack(reason_code=ReasonCode.TOPIC_NAME_INVALID))
                return False
        if v5:
            expiry = _int_property(properties, PropertyId.SESSION_EXPIRY_INTERVAL, 0)
        else:
            expiry = 0 if connect.clean_start else NEVER_EXPIRES
        while (previous := self._online.get(client_id)) is not None:
            # 3.1.1 §3.1.4, 5.0 §3.1.4: session takeover; the old will is discarded
            logger.info("MQTT client %r: session taken over from %s", client_id, previous.peer)
            previous.will = None
            previous.refuse(ReasonCode.SESSION_TAKEN_OVER)
            previous.cancel()
            await previous.done.wait()
            if self._stopping:
                return False
        self._cancel_will(client_id)  # reconnected before the Will Delay (5.0 §3.1.2.5)
        timer = self._expiry_timers.pop(client_id, None)
        if timer is not None:
            timer.cancel()
        session = self._sessions.get(client_id)
        if session is not None and connect.clean_start:
            self._end_session(session)
            session = None
        present = session is not None
        if session is None:
            session = Session(client_id, max_queued=self.max_queued_messages, expiry_interval=0)
            self._sessions[client_id] = session
        session.expiry_interval = expiry
        connection.client_id = client_id
        connection.session = session
        connection.will = connect.will
        connection.keep_alive = connect.keep_alive
        receive_maximum = _int_property(properties, PropertyId.RECEIVE_MAXIMUM, MAX_PACKET_ID)
        connection.window = min(self.max_inflight, receive_maximum)
        connection.peer_max_packet_size = _int_property(
            properties, PropertyId.MAXIMUM_PACKET_SIZE, MAX_PACKET_SIZE
        )
        ack_properties: list[tuple[PropertyId, PropertyValue]] = []
        if v5:
            if assigned:
                ack_properties.append((PropertyId.ASSIGNED_CLIENT_IDENTIFIER, client_id))
            ack_properties.append((PropertyId.SHARED_SUBSCRIPTION_AVAILABLE, 0))
            if self.max_packet_size < MAX_PACKET_SIZE:
                ack_properties.append((PropertyId.MAXIMUM_PACKET_SIZE, self.max_packet_size))
        connection.send(Connack(session_present=present, properties=tuple(ack_properties)))
        connection.connected = True
        self._online[client_id] = connection
        session.on_ready = connection.wake.set
        for packet_id, entry in list(session.inflight.items()):  # 5.0 §4.4: resend
            if entry.released:
                connection.send(Pubrel(packet_id=packet_id))
                continue
            publish = self._outgoing(connection, entry.delivery, packet_id, dup=True)
            if publish is None:
                del session.inflight[packet_id]
            else:
                connection.send(publish)
        if session.queue:
            connection.wake.set()
        logger.debug(
            "MQTT client %s connected (MQTT %s, keepalive %ss, session present %s)",
            connection.name,
            "5.0" if v5 else "3.1.1",
            connect.keep_alive,
            present,
        )
        return True

    async def _read_loop(self, connection: _Connection, pending: list[Packet]) -> None:
        """Dispatch packets until the connection ends (keepalive: 3.1.1 §3.1.2.10)."""
        packets = pending
        while True:
            try:
                for packet in packets:
                    if not self._dispatch(connection, packet):
                        return
            except CodecError as exc:
                logger.warning("MQTT client %s: %s; disconnecting", connection.name, exc)
                connection.refuse(exc.reason_code)
                return
            limit = connection.keep_alive * 1.5 if connection.keep_alive else None
            try:
                async with asyncio.timeout(limit):
                    data = await self._receive(connection)
            except TimeoutError:
                logger.info(
                    "MQTT client %s: nothing received for %gs (keepalive %ss); disconnecting",
                    connection.name,
                    limit,
                    connection.keep_alive,
                )
                connection.refuse(ReasonCode.KEEP_ALIVE_TIMEOUT)
                return
            if not data:
                logger.debug(
                    "MQTT client %s: connection closed without DISCONNECT", connection.name
                )
                return
            try:
                packets = connection.decoder.feed(data)
            except CodecError as exc:
                logger.warning("MQTT client %s: %s; disconnecting", connection.name, exc)
                connection.refuse(exc.reason_code)
                return

    async def _write_loop(self, connection: _Connection) -> None:
        """Send queued deliveries within the in-flight window, in order (5.0 §4.6)."""
        session = connection.session
        assert session is not None
        writer = connection.writer
        try:
            while True:
                await connection.wake.wait()
                connection.wake.clear()
                chunk: list[bytes] = []
                size = 0
                while session.queue and len(session.inflight) < connection.window:
                    delivery = session.queue.popleft()
                    packet_id = session.next_packet_id() if delivery.qos else None
                    publish = self._outgoing(connection, delivery, packet_id, dup=False)
                    if publish is None:
                        continue
                    data = encode(publish, connection.level)
                    if len(data) > connection.peer_max_packet_size:  # 5.0 §3.1.2.11.4
                        logger.warning(
                            "MQTT client %s: message on %r (%d bytes) over its maximum packet "
                            "size; discarded",
                            connection.name,
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

    def _outgoing(
        self, connection: _Connection, delivery: Delivery, packet_id: int | None, *, dup: bool
    ) -> Publish | None:
        """The PUBLISH for ``delivery``, or None when its message expired (5.0 §3.3.2.3.3)."""
        message = delivery.message
        remaining: int | None = None
        if message.expires_at is not None:
            remaining = math.ceil(message.expires_at - asyncio.get_running_loop().time())
            if remaining <= 0:
                return None
        properties: Properties = ()
        if connection.v5:
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

    async def _cleanup(self, connection: _Connection) -> None:
        """Detach the session, publish the will if due, close the socket."""
        self._connections.discard(connection)
        client_id = connection.client_id
        if connection.connected and self._online.get(client_id) is connection:
            del self._online[client_id]
            session = self._sessions[client_id]
            session.on_ready = None
            if connection.will is not None and not self._stopping:
                self._schedule_will(client_id, connection.will, session.expiry_interval)
            if session.expiry_interval == 0 or self._stopping:
                self._end_session(session)
            elif session.expiry_interval != NEVER_EXPIRES:
                loop = asyncio.get_running_loop()
                self._expiry_timers[client_id] = loop.call_later(
                    session.expiry_interval, self._expire, client_id
                )
            logger.debug("MQTT client %s disconnected", connection.name)
        writer = connection.writer
        writer.close()
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError):
            writer.transport.abort()
        except asyncio.CancelledError:
            writer.transport.abort()
            connection.done.set()
            raise
        connection.done.set()

    # --- packets ------------------------------------------------------------------------------

    def _dispatch(self, connection: _Connection, packet: Packet) -> bool:
        """Act on one packet from a connected client; False ends the connection."""
        session = connection.session
        assert session is not None
        match packet:
            case Publish():
                self._on_publish(connection, session, packet)
            case Puback():
                session.acknowledge(packet.packet_id, released=False)
            case Pubrec():
                if packet.reason_code >= 0x80:  # 5.0 §4.3.3: the flow ends here
                    session.acknowledge(packet.packet_id, released=False)
                elif session.release(packet.packet_id):
                    connection.send(Pubrel(packet_id=packet.packet_id))
                else:
                    connection.send(
                        Pubrel(
                            packet_id=packet.packet_id,
                            reason_code=ReasonCode.PACKET_IDENTIFIER_NOT_FOUND,
                        )
                    )
            case Pubrel():
                known = packet.packet_id in session.awaiting_release
                session.awaiting_release.discard(packet.packet_id)
                code = 0 if known else ReasonCode.PACKET_IDENTIFIER_NOT_FOUND
                connection.send(Pubcomp(packet_id=packet.packet_id, reason_code=code))
            case Pubcomp():
                session.acknowledge(packet.packet_id, released=True)
            case Subscribe():
                self._on_subscribe(connection, session, packet)
            case Unsubscribe():
                self._on_unsubscribe(connection, session, packet)
            case Pingreq():
                connection.send(Pingresp())
            case Disconnect():
                return self._on_disconnect(connection, session, packet)
            case Auth():
                raise ProtocolError("AUTH without an authentication method")  # 5.0 §4.12
            case _:
                raise ProtocolError(f"{type(packet).__name__} sent to the server")
        return True

    def _on_disconnect(self, connection: _Connection, session: Session, packet: Disconnect) -> bool:
        """DISCONNECT (3.1.1 §3.14, 5.0 §3.14): the will is dropped unless reason 0x04."""
        if packet.reason_code != ReasonCode.DISCONNECT_WITH_WILL_MESSAGE:
            connection.will = None
        expiry = _first(packet.properties, PropertyId.SESSION_EXPIRY_INTERVAL)
        if isinstance(expiry, int):
            if session.expiry_interval == 0 and expiry != 0:  # 5.0 §3.14.2.2.2
                raise ProtocolError("DISCONNECT sets a session expiry after 0")
            session.expiry_interval = expiry
        return False

    def _on_publish(self, connection: _Connection, session: Session, packet: Publish) -> None:
        """PUBLISH from a client (3.1.1 §3.3.4, 5.0 §3.3.4)."""
        problem = topic_problem(packet.topic)
        if connection.v5:
            if _first(packet.properties, PropertyId.TOPIC_ALIAS) is not None:
                raise ProtocolError(  # we announce Topic Alias Maximum 0 (5.0 §3.2.2.3.8)
                    "topic alias used", ReasonCode.TOPIC_ALIAS_INVALID
                )
            if _first(packet.properties, PropertyId.SUBSCRIPTION_IDENTIFIER) is not None:
                raise ProtocolError("PUBLISH from a client with a subscription identifier")
        if problem is not None:
            raise ProtocolError(problem, ReasonCode.TOPIC_NAME_INVALID)
        if packet.qos == 2 and packet.packet_id in session.awaiting_release:
            connection.send(Pubrec(packet_id=packet.packet_id))  # a retransmission
            return
        expiry = _first(packet.properties, PropertyId.MESSAGE_EXPIRY_INTERVAL)
        self.route(
            Message(
                topic=packet.topic,
                payload=packet.payload,
                qos=packet.qos,
                retain=packet.retain,
                properties=tuple(p for p in packet.properties if p[0] not in _FORWARD_DROPPED),
                expires_at=self._deadline(expiry),
                publisher=connection.client_id,
            )
        )
        if packet.qos == 1:
            assert packet.packet_id is not None
            connection.send(Puback(packet_id=packet.packet_id))
        elif packet.qos == 2:
            assert packet.packet_id is not None
            session.awaiting_release.add(packet.packet_id)
            connection.send(Pubrec(packet_id=packet.packet_id))

    @staticmethod
    def _deadline(expiry: PropertyValue | None) -> float | None:
        if not isinstance(expiry, int):
            return None
        return asyncio.get_running_loop().time() + expiry

    def route(self, message: Message) -> None:
        """Store ``message`` if retained, and queue it for every matching subscriber.

        3.1.1 §3.3.1.3: a retained message with an empty payload removes the retained
        message of its topic, and is still delivered to current subscribers.  Messages
        sent to established subscriptions carry RETAIN 0 unless the subscription asked
        for Retain As Published (5.0 §3.3.1.3).
        """
        if message.retain:
            if message.payload:
                self._retained[message.topic] = message
            else:
                self._retained.pop(message.topic, None)
        by_client: dict[str, list[Subscription]] = {}
        for client_id, subscription in self._tree.match(message.topic):
            by_client.setdefault(client_id, []).append(subscription)
        for client_id, subscriptions in by_client.items():
            if client_id == message.publisher:  # No Local (5.0 §3.8.3.1)
                subscriptions = [s for s in subscriptions if not s.no_local]
                if not subscriptions:
                    continue
            self._sessions[client_id].enqueue(
                Delivery(
                    message=message,
                    qos=min(message.qos, max(s.qos for s in subscriptions)),
                    retain=message.retain and any(s.retain_as_published for s in subscriptions),
                    subscription_ids=tuple(
                        s.identifier for s in subscriptions if s.identifier is not None
                    ),
                )
            )

    def _on_subscribe(self, connection: _Connection, session: Session, packet: Subscribe) -> None:
        """SUBSCRIBE (3.1.1 §3.8.4, 5.0 §3.8.4): SUBACK, then the retained messages."""
        identifier = _first(packet.properties, PropertyId.SUBSCRIPTION_IDENTIFIER)
        codes: list[int] = []
        retained: list[Delivery] = []
        for request in packet.subscriptions:
            problem = filter_problem(request.topic_filter)
            if problem is not None:
                logger.warning("MQTT client %s: %s", connection.name, problem)
                codes.append(ReasonCode.TOPIC_FILTER_INVALID if connection.v5 else 0x80)
                continue
            if connection.v5 and request.topic_filter.startswith("$share/"):
                codes.append(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
                continue
            subscription = Subscription(
                qos=request.qos,
                no_local=request.no_local,
                retain_as_published=request.retain_as_published,
                identifier=identifier if isinstance(identifier, int) else None,
            )
            is_new = self._tree.add(request.topic_filter, session.client_id, subscription)
            session.subscriptions[request.topic_filter] = subscription
            codes.append(request.qos)
            handling = request.retain_handling
            if handling is RetainHandling.DO_NOT_SEND or (
                handling is RetainHandling.SEND_IF_NEW_SUBSCRIPTION and not is_new
            ):
                continue
            retained.extend(
                Delivery(
                    message=message,
                    qos=min(message.qos, request.qos),
                    retain=True,  # 3.1.1 §3.3.1.3: RETAIN 1 when sent because of a subscribe
                    subscription_ids=(subscription.identifier,) if subscription.identifier else (),
                )
                for message in self._retained_matching(request.topic_filter)
            )
        connection.send(Suback(packet_id=packet.packet_id, reason_codes=tuple(codes)))
        for delivery in retained:
            session.enqueue(delivery)

    def _retained_matching(self, topic_filter: str) -> list[Message]:
        """The retained messages ``topic_filter`` matches, dropping expired ones."""
        if is_wildcard(topic_filter):
            found = [m for t, m in self._retained.items() if matches(topic_filter, t)]
        else:
            exact = self._retained.get(topic_filter)
            found = [] if exact is None else [exact]
        now = asyncio.get_running_loop().time()
        live = [m for m in found if m.expires_at is None or m.expires_at > now]
        if len(live) != len(found):
            for message in found:
                if message.expires_at is not None and message.expires_at <= now:
                    self._retained.pop(message.topic, None)
        return live

    def _on_unsubscribe(
        self, connection: _Connection, session: Session, packet: Unsubscribe
    ) -> None:
        """UNSUBSCRIBE (3.1.1 §3.10.4, 5.0 §3.10.4)."""
        codes: list[int] = []
        for topic_filter in packet.topic_filters:
            if filter_problem(topic_filter) is not None:
                codes.append(ReasonCode.TOPIC_FILTER_INVALID)
                continue
            session.subscriptions.pop(topic_filter, None)
            existed = self._tree.remove(topic_filter, session.client_id)
            codes.append(ReasonCode.SUCCESS if existed else ReasonCode.NO_SUBSCRIPTION_EXISTED)
        connection.send(
            Unsuback(packet_id=packet.packet_id, reason_codes=tuple(codes) if connection.v5 else ())
        )

    # --- sessions and wills -------------------------------------------------------------------

    def _end_session(self, session: Session) -> None:
        """Forget a session and its subscriptions; a delayed will is published now."""
        client_id = session.client_id
        for topic_filter in session.subscriptions:
            self._tree.remove(topic_filter, client_id)
        session.subscriptions.clear()
        session.queue.clear()
        if self._sessions.get(client_id) is session:
            del self._sessions[client_id]
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:  # 5.0 §3.1.2.5: the session ended before the delay
            pending[0].cancel()
            self._publish_will(client_id, pending[1])

    def _expire(self, client_id: str) -> None:
        self._expiry_timers.pop(client_id, None)
        session = self._sessions.get(client_id)
        if session is not None and not session.connected:
            logger.debug("MQTT session %r expired", client_id)
            self._end_session(session)

    def _schedule_will(self, client_id: str, will: Will, session_expiry: int) -> None:
        """Publish ``will`` now, or after its Will Delay Interval (5.0 §3.1.3.2.2)."""
        delay = _int_property(will.properties, PropertyId.WILL_DELAY_INTERVAL, 0)
        if delay == 0 or session_expiry == 0:
            self._publish_will(client_id, will)
            return
        handle = asyncio.get_running_loop().call_later(delay, self._delayed_will, client_id)
        self._will_timers[client_id] = (handle, will)

    def _delayed_will(self, client_id: str) -> None:
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:
            self._publish_will(client_id, pending[1])

    def _cancel_will(self, client_id: str) -> None:
        pending = self._will_timers.pop(client_id, None)
        if pending is not None:
            pending[0].cancel()

    def _publish_will(self, client_id: str, will: Will) -> None:
        logger.debug("MQTT client %r: publishing its will on %r", client_id, will.topic)
        expiry = _first(will.properties, PropertyId.MESSAGE_EXPIRY_INTERVAL)
        self.route(
            Message(
                topic=will.topic,
                payload=will.payload,
                qos=will.qos,
                retain=will.retain,
                properties=tuple(p for p in will.properties if p[0] not in _FORWARD_DROPPED),
                expires_at=self._deadline(expiry),
                publisher=client_id,
            )
        )
