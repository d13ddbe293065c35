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
id); granted QoS is the requested QoS.  Authentication is by user name and password
(:mod:`.access`: without ``users`` any is accepted; with them a wrong password is refused
and anonymous clients may not publish on the ``protected`` topics).  Not offered:
enhanced authentication (AUTH is a protocol error), topic aliases (Topic Alias Maximum
0), shared subscriptions (announced unavailable; ``$share/`` filters refused with 0x9E).

Layout: this module is the listener and the life of one connection (CONNECT, read loop,
cleanup); :mod:`.connection` holds a connection's state and its writer task,
:mod:`.handlers` what each later packet does, :mod:`.exchange` the sessions, subscription
tree and retained store, and :mod:`.timers` the session expiry and Will Delay timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType

from bgpemu.mqttbroker.access import Access
from bgpemu.mqttbroker.codec import MAX_PACKET_SIZE, CodecError, UnsupportedProtocolError
from bgpemu.mqttbroker.connection import Connection
from bgpemu.mqttbroker.exchange import (
    DEFAULT_MAX_RETAINED_BYTES,
    DEFAULT_MAX_RETAINED_TOPICS,
    Exchange,
)
from bgpemu.mqttbroker.handlers import dispatch
from bgpemu.mqttbroker.packets import (
    MAX_PACKET_ID,
    Connack,
    Connect,
    ConnectReturnCode,
    Packet,
    PropertyId,
    PropertyValue,
    ProtocolLevel,
    Pubrel,
    ReasonCode,
    first_property,
    int_property,
)
from bgpemu.mqttbroker.session import NEVER_EXPIRES, Message, Session
from bgpemu.mqttbroker.timers import SessionTimers
from bgpemu.mqttbroker.topics import topic_problem

__all__ = [
    "DEFAULT_MAX_INFLIGHT",
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_MAX_RETAINED_BYTES",
    "DEFAULT_MAX_RETAINED_TOPICS",
    "DEFAULT_PACKET_TIMEOUT",
    "Broker",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_QUEUED = 100_000
"""Default bound of each client's outgoing queue (messages)."""

DEFAULT_MAX_INFLIGHT = 1_000
"""Default bound of unacknowledged QoS 1/2 messages per client (5.0 clients may ask less)."""

DEFAULT_PACKET_TIMEOUT = 30.0
"""Default seconds of silence allowed inside a packet (after its first byte)."""

_CLOSE_TIMEOUT = 1.0
_V5 = ProtocolLevel.MQTT_5


class Broker:
    """An MQTT broker for a local lab: ``async with Broker(port=0) as broker: ...``.

    ``port=0`` picks a free port, readable from :attr:`port` once started.
    ``max_queued_messages`` bounds each client's outgoing queue (drops are logged);
    ``max_inflight`` bounds unacknowledged QoS 1/2 messages per client;
    ``max_packet_size`` bounds incoming packets (announced to 5.0 clients when lowered).
    ``users`` (user name -> password) turns authentication on: anonymous clients are
    accepted (unless ``allow_anonymous`` is False) but may not publish on the
    ``protected`` topic filters (:mod:`.access`).

    Limits against misbehaving clients: ``connect_timeout`` bounds the wait for the
    CONNECT; ``packet_timeout`` the silence inside a packet once begun (a packet that
    announces 256 MB and stops is closed then, and its bytes were never allocated up
    front); ``max_retained_topics`` and ``max_retained_bytes`` bound the retained store
    (:mod:`.exchange`: the defaults, 10^6 topics and 8 GiB, hold the biggest benchmark
    lab, about 1.5 GB over 10^4 to 10^5 topics, several times over).
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
        packet_timeout: float = DEFAULT_PACKET_TIMEOUT,
        max_retained_topics: int = DEFAULT_MAX_RETAINED_TOPICS,
        max_retained_bytes: int = DEFAULT_MAX_RETAINED_BYTES,
        users: Mapping[str, str] | None = None,
        protected: Sequence[str] = (),
        allow_anonymous: bool = True,
    ) -> None:
        self.access = Access(users, protected, allow_anonymous=allow_anonymous)
        if max_queued_messages < 1 or not 1 <= max_inflight <= MAX_PACKET_ID:
            raise ValueError("max_queued_messages must be >= 1, max_inflight in 1..65535")
        self.host = host
        self._port = port
        self.max_queued_messages = max_queued_messages
        self.max_inflight = max_inflight
        self.max_packet_size = max_packet_size
        self.connect_timeout = connect_timeout
        self.packet_timeout = packet_timeout
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._exchange = Exchange(
            max_retained_topics=max_retained_topics, max_retained_bytes=max_retained_bytes
        )
        self._timers = SessionTimers(self._exchange)
        self._online: dict[str, Connection] = {}
        self._connections: set[Connection] = set()

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
        return len(self._exchange.retained)

    @property
    def retained_bytes(self) -> int:
        """Payload and topic bytes of the retained messages."""
        return self._exchange.retained_bytes

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
        self._timers.cancel_all()

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
        connection = Connection(reader, writer, self.max_packet_size, window=DEFAULT_MAX_INFLIGHT)
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

    async def _serve(self, connection: Connection) -> None:
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
            connection.write_loop(), name=f"mqtt-writer-{connection.client_id}"
        )
        try:
            await self._read_loop(connection, pending)
        finally:
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer_task

    async def _read_connect(self, connection: Connection) -> tuple[Connect, list[Packet]] | None:
        """The CONNECT (3.1.1 §3.1: first packet) and any packets pipelined after it."""
        while True:
            data = await connection.receive()
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

    def _refuse_protocol(self, connection: Connection, exc: UnsupportedProtocolError) -> None:
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

    async def _accept(self, connection: Connection, connect: Connect) -> bool:
        """Validate the CONNECT, take over or create the session, send CONNACK (§3.1-3.2)."""
        connection.level = connect.protocol_level
        v5 = connection.v5
        properties = connect.properties
        if v5 and first_property(properties, PropertyId.AUTHENTICATION_METHOD) is not None:
            connection.send(Connack(reason_code=ReasonCode.BAD_AUTHENTICATION_METHOD))
            return False  # 5.0 §4.12: no enhanced authentication offered
        refusal = self.access.authenticate(connect.username, connect.password)
        if refusal is not None:
            logger.warning(
                "MQTT client %r (%s) user %r refused: %s",
                connect.client_id,
                connection.peer,
                connect.username,
                refusal,
            )
            connection.send(Connack(reason_code=_refusal_code(refusal, v5)))
            return False
        user = connect.username if self.access.enabled else None
        if connect.will is not None and not self.access.may_publish(user, connect.will.topic):
            logger.warning(
                "MQTT client %r (%s): anonymous will on protected topic %r refused",
                connect.client_id,
                connection.peer,
                connect.will.topic,
            )
            connection.send(Connack(reason_code=_refusal_code("not authorised", v5)))
            return False
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
            expiry = int_property(properties, PropertyId.SESSION_EXPIRY_INTERVAL, 0)
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
        self._timers.reconnected(client_id)  # before the Will Delay (5.0 §3.1.2.5)
        session = self._exchange.sessions.get(client_id)
        if session is not None and connect.clean_start:
            self._timers.end_session(session)
            session = None
        present = session is not None
        if session is None:
            session = Session(client_id, max_queued=self.max_queued_messages, expiry_interval=0)
            self._exchange.sessions[client_id] = session
        session.expiry_interval = expiry
        connection.client_id = client_id
        connection.session = session
        connection.user = user
        connection.may_publish = functools.partial(self.access.may_publish, user)
        connection.will = connect.will
        connection.keep_alive = connect.keep_alive
        receive_maximum = int_property(properties, PropertyId.RECEIVE_MAXIMUM, MAX_PACKET_ID)
        connection.window = min(self.max_inflight, receive_maximum)
        connection.peer_max_packet_size = int_property(
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
            publish = connection.publish_for(entry.delivery, packet_id, dup=True)
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

    async def _read_loop(self, connection: Connection, pending: list[Packet]) -> None:
        """Dispatch packets until the connection ends (keepalive: 3.1.1 §3.1.2.10)."""
        packets = pending
        while True:
            try:
                for packet in packets:
                    now = asyncio.get_running_loop().time()
                    if not dispatch(self._exchange, connection, packet, now):
                        return
            except CodecError as exc:
                logger.warning("MQTT client %s: %s; disconnecting", connection.name, exc)
                connection.refuse(exc.reason_code)
                return
            limit = connection.keep_alive * 1.5 if connection.keep_alive else None
            partial = connection.decoder.partial
            if partial is not None and (limit is None or limit > self.packet_timeout):
                limit = self.packet_timeout
            try:
                async with asyncio.timeout(limit):
                    data = await connection.receive()
            except TimeoutError:
                if partial is not None and limit == self.packet_timeout:
                    received, announced = partial
                    logger.warning(
                        "MQTT client %s: packet of %s bytes begun, %d received, then nothing "
                        "for %gs; disconnecting",
                        connection.name,
                        announced if announced is not None else "unknown",
                        received,
                        limit,
                    )
                    connection.refuse(ReasonCode.MALFORMED_PACKET)
                    return
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

    async def _cleanup(self, connection: Connection) -> None:
        """Detach the session, publish the will if due, close the socket."""
        self._connections.discard(connection)
        client_id = connection.client_id
        if connection.connected and self._online.get(client_id) is connection:
            del self._online[client_id]
            session = self._exchange.sessions[client_id]
            session.on_ready = None
            self._timers.detached(session, connection.will, stopping=self._stopping)
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

    # --- routing ------------------------------------------------------------------------------

    def route(self, message: Message) -> None:
        """Store ``message`` if retained, and queue it for every matching subscriber.

        See :meth:`Exchange.route` (3.1.1 §3.3.1.3, 5.0 §3.3.1.3).
        """
        refusal = self._exchange.route(message)
        if refusal is not None:
            logger.warning("MQTT broker: %s", refusal)


def _refusal_code(refusal: str, v5: bool) -> int:
    """The CONNACK code of an :meth:`Access.authenticate` refusal (3.1.1 §3.2.2.3 table
    3.1, 5.0 §3.2.2.2)."""
    if refusal == "not authorised":
        return ReasonCode.NOT_AUTHORIZED if v5 else ConnectReturnCode.NOT_AUTHORIZED
    return (
        ReasonCode.BAD_USER_NAME_OR_PASSWORD if v5 else ConnectReturnCode.BAD_USER_NAME_OR_PASSWORD
    )
