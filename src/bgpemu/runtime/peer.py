"""The asyncio driver of one BGP neighbour: TCP in and out, timers, effects applied.

Theory of operation: a :class:`PeerDriver` owns the sockets of one neighbour and
moves bytes and time only.  Sockets, timers and the speaker post events into one
bounded queue; the driver's loop takes them one at a time and hands them, with
``now`` from the loop's monotonic clock, to the speaker's sans-IO
:class:`~bgpemu.router.node.Node` (which owns the sessions and the router), then
carries out the effects it returns (write bytes to connection X, open or close a
connection).  Between events it sleeps until the node's next deadline for this
neighbour, so every timer of RFC 4271 §10 is the FSM's own; reconnection is the
FSM's ConnectRetry / IdleHold timers.

Connections are numbered; the node decides what each carries.  A second TCP
connection from the same peer while the first is in OpenSent or OpenConfirm is a
collision (RFC 4271 §6.8): the node gives it a candidate session and, once its OPEN
has arrived, the two BGP Identifiers decide which connection survives
(:class:`~bgpemu.router.node_effects.Promote`, :class:`~bgpemu.router.node_effects.Drop`).

A session is a fault domain (architecture decision 12): an unexpected exception while
serving it (decoding, the router, a policy, encoding its exports) never leaves the
driver.  It is logged once with its traceback and counted, and it resets this
neighbour's session alone (:meth:`Session.internal_error
<bgpemu.session.fsm.Session.internal_error>`: Cease / Out of Resources, RFC 4486 §4),
which the IdleHoldTimer brings back; every other session keeps running.  What
glues the session to the router (exports packed with the target peer's codec, so a
route that cannot be encoded toward one peer resets that peer, not the one it came
from) is the speaker's sans-IO :class:`~bgpemu.router.node.Node`, shared with the
fabric; the driver carries out the effects it returns.

Back-pressure: the event queue is bounded, so a reader whose peer sends faster than
the driver processes waits on it, stops reading, and TCP flow control holds the peer
(at most ``_QUEUE_SIZE`` chunks of ``_READ_CHUNK`` octets are buffered per neighbour).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from bgpemu.router.node import Node
from bgpemu.router.node_effects import NodeEffect
from bgpemu.router.spec import NeighborSpec
from bgpemu.runtime import tcp_md5
from bgpemu.runtime.throttle import LogThrottle
from bgpemu.session import (
    CloseTcp,
    ConnectTcp,
    Effect,
    Send,
    Session,
    SessionDown,
    SessionEstablished,
    SessionState,
    StateChanged,
)
from bgpemu.types import Family
from bgpemu.wire import Update
from bgpemu.wire.describe import describe_issues, describe_notification
from bgpemu.wire.messages import Notification

__all__ = ["PeerDriver"]

logger = logging.getLogger(__name__)

_READ_CHUNK = 65536
_QUEUE_SIZE = 256
_CONNECT_TIMEOUT = 10.0
_FLUSH_TIMEOUT = 2.0
_ISSUE_LOG_INTERVAL = 10.0
"""Seconds between two RFC 7606 §6 log lines of one neighbour (a flood of malformed
UPDATEs, each up to 64 KiB of hex, must not flood the log)."""
_INTERNAL_ERROR_PAUSE = 1.0
"""Seconds the driver's timers wait after an internal error: a fault that recurs at
once (with an IdleHoldTime of 0) is retried once a second, not in a busy loop."""
_ids = itertools.count(1)


@dataclass(eq=False, slots=True)
class _Connection:
    """One TCP connection and the session that speaks on it."""

    id: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    inbound: bool
    reader_task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Data:
    conn_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class _Eof:
    conn_id: int


@dataclass(frozen=True, slots=True)
class _Connected:
    attempt: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass(frozen=True, slots=True)
class _ConnectFailed:
    attempt: int
    error: str


@dataclass(frozen=True, slots=True)
class _Incoming:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


@dataclass(frozen=True, slots=True)
class _Stop:
    subcode: int


@dataclass(frozen=True, slots=True)
class _Refresh:
    family: Family


_Event = _Data | _Eof | _Connected | _ConnectFailed | _Incoming | _Stop | _Refresh


class PeerDriver:
    """Runs the session(s) of one neighbour inside the speaker's TaskGroup."""

    def __init__(
        self,
        spec: NeighborSpec,
        *,
        local_address: str,
        node: Node,
        carry_out: Callable[[list[NodeEffect], float], None],
        rng: random.Random,
        task_group: asyncio.TaskGroup,
        on_change: Callable[[], None],
        speaker_name: str = "",
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self._local_address = local_address
        self._node = node
        self._carry_out = carry_out
        self._rng = rng
        self._tg = task_group
        self._on_change = on_change
        self._log = logging.LoggerAdapter(logger, {"peer": f"{speaker_name}>{spec.name}"})
        self._issue_log = LogThrottle(_ISSUE_LOG_INTERVAL)
        self._queue: asyncio.Queue[_Event] = asyncio.Queue(_QUEUE_SIZE)
        self.session = Session(spec.session, rng)
        """The primary session (the speaker attaches it to the node)."""
        self._conn: _Connection | None = None
        self._candidate: _Connection | None = None
        self._pending: dict[int, _Connection] = {}
        """Connections the node has not yet accepted or refused (see :meth:`accepted`)."""
        self._attempt = 0
        self._attempt_task: asyncio.Task[None] | None = None
        self._stopped = False
        self.last_notification_received: str | None = None
        self.last_notification_sent: str | None = None
        self._paused_until = 0.0
        """Timers wait until then after an internal error (see _next_deadline)."""
        self._unanswered_logged = False
        self._who = f"speaker {speaker_name}, neighbour {spec.name}"

    # -- API for the speaker (may be called from any task) ------------------------------

    @property
    def state(self) -> SessionState:
        """The RFC 4271 §8.2.2 state of the neighbour's session."""
        return self.session.state

    def incoming(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A TCP connection from this neighbour's address was accepted."""
        self._post_nowait(_Incoming(reader, writer), writer)

    async def request_route_refresh(self, family: Family) -> None:
        """Ask the peer to re-send its routes of ``family`` (RFC 2918)."""
        await self._queue.put(_Refresh(family))

    async def stop(self, subcode: int = 2) -> None:
        """Close the session with a Cease NOTIFICATION and end :meth:`run`."""
        await self._queue.put(_Stop(subcode))

    # -- the owner loop -----------------------------------------------------------------

    async def run(self) -> None:
        """Process events and timers until stopped."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._carry_out(self._node.start_peer(self.name, now), now)
        while not self._stopped:
            deadline = self._next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            event: _Event | None
            if timeout == 0 or not self._queue.empty():
                # Something is due: take what is queued without waiting (a wait of 0
                # never gets it), after letting the other tasks run once.
                await asyncio.sleep(0)
                event = None if self._queue.empty() else self._queue.get_nowait()
            else:
                try:
                    event = await asyncio.wait_for(self._queue.get(), timeout)
                except TimeoutError:
                    event = None
            now = loop.time()
            try:
                if event is not None:
                    self._dispatch(event, now)
                self._fire_timers(now)
                self._on_change()
                await self._drain()
            except Exception as exc:  # a bug of ours: this session alone pays (decision 12)
                self.internal_error(exc, now)
        await self._close_all()

    @property
    def internal_errors(self) -> int:
        """How many unexpected errors have reset this neighbour's session so far."""
        return self.session.counters.internal_errors

    def internal_error(self, exc: BaseException, now: float) -> None:
        """Log ``exc`` once with its traceback and reset this neighbour's session alone.

        Cease / Out of Resources (RFC 4486 §4, subcode 8) on the session (a collision
        candidate is stopped with it, see :meth:`on_fault`); nothing raised while
        doing so escapes either.
        """
        try:
            self._carry_out(self._node.internal_error(self.name, exc, now), now)
        except Exception as again:
            self._log.error("internal error while resetting the session: %r", again)
            for conn in (self._conn, self._candidate):
                if conn is not None:
                    self._detach(conn)

    def on_fault(self, exc: BaseException, now: float, *, resetting: bool) -> None:
        """The node reports an internal error while serving this neighbour (decision 12):
        logged with its traceback, and the timers pause (no busy loop on a fault that
        recurs at once).  ``resetting``: the reset itself failed."""
        if resetting:
            self._log.error("internal error while resetting the session: %r", exc)
            return
        self._log.error(
            "internal error, resetting this session (Cease / Out of Resources): %r",
            exc,
            exc_info=exc,
        )
        self._paused_until = now + _INTERNAL_ERROR_PAUSE

    def _next_deadline(self) -> float | None:
        deadline = self._node.next_deadline(self.name)
        if deadline is not None and deadline < self._paused_until:
            deadline = self._paused_until  # just after an internal error: no busy loop
        return deadline

    def _fire_timers(self, now: float) -> None:
        self._carry_out(self._node.on_timers(self.name, now), now)

    def _dispatch(self, event: _Event, now: float) -> None:
        match event:
            case _Data(conn_id, data):
                if self._find(conn_id) is not None:
                    self._carry_out(self._node.received(self.name, conn_id, data, now), now)
            case _Eof(conn_id):
                conn = self._find(conn_id)
                if conn is not None:
                    self._log.info("TCP connection closed by the peer")
                    self._carry_out(self._node.closed(self.name, conn_id, now), now)
                    self._detach(conn)
            case _Connected(attempt, reader, writer):
                self._attempt_task = None
                if attempt != self._attempt or self._stopped:
                    writer.close()
                else:  # the peer may have connected to us meanwhile: a collision (§6.8)
                    self._connected(reader, writer, inbound=False, now=now)
            case _ConnectFailed(attempt, error):
                self._attempt_task = None
                if attempt == self._attempt and self._conn is None:
                    self._log.debug("connect failed: %s", error)
                    self._carry_out(self._node.connect_failed(self.name, now), now)
            case _Incoming(reader, writer):
                if self._stopped:
                    writer.close()
                else:
                    self._connected(reader, writer, inbound=True, now=now)
            case _Refresh(family):
                self._carry_out(self._node.request_route_refresh(self.name, family, now), now)
            case _Stop(subcode):
                self._carry_out(self._node.stop_peer(self.name, now, subcode), now)
                self._cancel_attempt()
                self._stopped = True

    def _connected(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        inbound: bool,
        now: float,
    ) -> None:
        """A TCP connection is up; the node decides what it carries (RFC 4271 §6.8).

        An outgoing attempt still in flight is kept: if it completes too, the two
        connections are resolved as a collision.
        """
        conn = _Connection(next(_ids), reader, writer, inbound)
        self._pending[conn.id] = conn
        try:
            self._carry_out(self._node.connected(self.name, conn.id, inbound=inbound, now=now), now)
        finally:
            if self._pending.pop(conn.id, None) is not None:  # neither accepted nor refused
                writer.close()

    def accepted(self, conn_id: int, *, primary: bool) -> None:
        """The node put connection ``conn_id`` to use: the primary one, or a candidate's."""
        conn = self._pending.pop(conn_id, None)
        if conn is None:
            return
        conn.reader_task = self._tg.create_task(
            self._read(conn.id, conn.reader), name=f"bgp-read-{self.name}-{conn.id}"
        )
        if primary:
            self._conn = conn
        else:
            self._candidate = conn

    def refused(self, conn_id: int, state: SessionState) -> None:
        """The node refused connection ``conn_id`` (a second one it cannot take)."""
        conn = self._pending.pop(conn_id, None)
        if conn is not None:
            self._log.info("refusing a second TCP connection in state %s", state.name)
            conn.writer.close()

    def drop(self, conn_id: int) -> None:
        """Close connection ``conn_id`` now."""
        conn = self._find(conn_id)
        if conn is not None:
            self._detach(conn)

    def collision(self, inbound: bool) -> None:
        """RFC 4271 §6.8: the node closes one of two connections."""
        self._log.info(
            "connection collision: closing the %s connection", "inbound" if inbound else "outbound"
        )

    def promote(self, conn_id: int) -> None:
        """The candidate on ``conn_id`` won the collision: its session is the primary one."""
        candidate = self._candidate
        if candidate is None or candidate.id != conn_id:
            return
        if self._conn is not None:
            self._detach(self._conn)
        self._conn = candidate
        self._candidate = None
        self.session = self._node.sessions[self.name]

    # -- effects ------------------------------------------------------------------------

    def io(self, effect: Effect, conn_id: int | None = None) -> None:
        """Carry out one session effect on its connection (``conn_id`` None: the primary
        one, else a collision candidate's), or log it."""
        conn = self._conn if conn_id is None else self._find(conn_id)
        match effect:
            case Send(data=data):
                if conn is not None and not conn.writer.is_closing():
                    conn.writer.write(data)
            case CloseTcp():
                if conn is not None:
                    self._detach(conn)
                elif conn_id is None:
                    pending = self._attempt_task is not None and not self._attempt_task.done()
                    if pending and self.session.state == SessionState.CONNECT:
                        self._connect_unanswered()  # the ConnectRetryTimer ran out first
                    self._cancel_attempt()
            case ConnectTcp():
                if conn is None and conn_id is None:
                    self._start_attempt()
            case StateChanged(old=old, new=new):
                self._log.info("state %s -> %s", old.name, new.name)
            case SessionEstablished(negotiated=negotiated):
                self._log.info(
                    "established: hold %ss, families %s",
                    negotiated.hold_time,
                    ", ".join(str(f) for f in sorted(negotiated.families)),
                )
            case SessionDown(reason=reason, sent=sent, received=received):
                if received is not None:
                    self.last_notification_received = describe_notification(
                        received.code, received.subcode, received.data
                    )
                    self._log.warning("NOTIFICATION received: %s", self.last_notification_received)
                if sent is not None:
                    self.last_notification_sent = describe_notification(
                        sent.code, sent.subcode, sent.data
                    )
                    self._log.warning("NOTIFICATION sent: %s", self.last_notification_sent)
                self._log.info("session down: %s", reason)
            case _:
                pass

    def malformed(self, update: Update, now: float) -> None:
        """Log an UPDATE's RFC 7606 issues (§6), at most one line per interval."""
        if (held := self._issue_log.allow(now)) is not None:
            more = f" ({held} more such UPDATEs since the last line)" if held else ""
            self._log.warning("%s%s", describe_issues(update), more)

    def not_announced(self, text: str) -> None:
        """An Announce went out as a withdrawal (RFC 8654 §4); the node says so once."""
        self._log.warning("%s (logged once per neighbour)", text)

    def resetting(self) -> None:
        """The node stops the session (maximum prefixes, RFC 4486 §4, or the operator):
        a pending connection attempt must not come back later as the session."""
        self._cancel_attempt()

    def reset(self, notification: Notification, now: float) -> None:
        """Stop the session with ``notification`` (an operator's Cease, RFC 4486 §4).

        Called from outside the owner loop, so it tells the speaker's watchers itself
        (its MQTT feed, ``wait_for``), as the loop does after every event."""
        self._carry_out(self._node.reset(self.name, notification, now), now)
        self._on_change()

    def restart(self, now: float) -> None:
        """Start the session again after a :meth:`reset` (watchers told, as above)."""
        self._carry_out(self._node.restart(self.name, now), now)
        self._on_change()

    def blackhole(self) -> None:
        """Let nothing through on the current connection any more, and say nothing.

        Emulates a silent failure of the path (a dead link, a crashed middlebox): the
        connection stays open but nothing is read from it (and what we write is never
        read at the other end, which does the same), so only the hold timers (RFC
        4271 §6.5) find out.  The next connection, if any, is normal.
        """
        if self._conn is not None:
            transport = self._conn.writer.transport
            if isinstance(transport, asyncio.ReadTransport):
                transport.pause_reading()

    # -- connections ----------------------------------------------------------------------

    def _detach(self, conn: _Connection) -> None:
        if conn.reader_task is not None:
            conn.reader_task.cancel()
        conn.writer.close()
        if conn is self._conn:
            self._conn = None
        if conn is self._candidate:
            self._candidate = None

    def _find(self, conn_id: int) -> _Connection | None:
        for conn in (self._conn, self._candidate):
            if conn is not None and conn.id == conn_id:
                return conn
        return None

    async def _read(self, conn_id: int, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(_READ_CHUNK):
                await self._queue.put(_Data(conn_id, data))
        except (ConnectionError, OSError):
            pass
        except Exception as exc:  # not the transport's: a bug, logged, the connection ends
            self._log.error("reading the connection failed: %r", exc, exc_info=exc)
        await self._queue.put(_Eof(conn_id))

    def _start_attempt(self) -> None:
        self._cancel_attempt()
        self._attempt += 1
        self._attempt_task = self._tg.create_task(
            self._connect(self._attempt), name=f"bgp-connect-{self.name}-{self._attempt}"
        )

    def _cancel_attempt(self) -> None:
        if self._attempt_task is not None:
            self._attempt_task.cancel()
            self._attempt_task = None
        self._attempt += 1

    async def _connect(self, attempt: int) -> None:
        try:
            async with asyncio.timeout(_CONNECT_TIMEOUT):
                reader, writer = await tcp_md5.open_connection(
                    self.spec.address,
                    self.spec.port,
                    local_address=self._local_address,
                    key=self.spec.tcp_md5_key,
                    who=self._who,
                )
        except tcp_md5.Md5UnavailableError as exc:
            if not self._unanswered_logged:
                self._unanswered_logged = True
                self._log.error("%s", exc)
            await self._queue.put(_ConnectFailed(attempt, str(exc)))
            return
        except (OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError | ConnectionResetError):
                self._connect_unanswered()
            await self._queue.put(_ConnectFailed(attempt, str(exc) or type(exc).__name__))
            return
        except Exception as exc:  # not the network's: a bug, logged, counts as a failure
            self._log.error("connecting failed: %r", exc, exc_info=exc)
            await self._queue.put(_ConnectFailed(attempt, repr(exc)))
            return
        await self._queue.put(_Connected(attempt, reader, writer))

    def _connect_unanswered(self) -> None:
        """A connection attempt timed out or was reset: say why that may be, once.

        RFC 2385 §2, §4: a segment without the MD5 signature the receiver expects, or
        with a wrong one, is dropped without an answer.  A key on one end only, or two
        different keys, therefore look exactly like a peer that never answers.
        """
        if self._unanswered_logged:
            return
        self._unanswered_logged = True
        where = f"{self.spec.address} port {self.spec.port}"
        if self.spec.tcp_md5_key is not None:
            self._log.warning(
                "connection attempts to %s time out or are reset, and this neighbour has "
                "TCP-MD5 (RFC 2385) configured: segments signed with another key (or "
                "unsigned) are dropped without an answer; check the key on both ends",
                where,
            )
        else:
            self._log.warning(
                "connection attempts to %s time out or are reset: is the neighbour up and "
                "reachable? If it has TCP-MD5 (RFC 2385) configured, it drops our unsigned "
                "segments without an answer: give this neighbour the same password",
                where,
            )

    def _post_nowait(self, event: _Event, writer: asyncio.StreamWriter) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._log.warning("event queue full: refusing a TCP connection")
            writer.close()

    async def _drain(self) -> None:
        for conn in (self._conn, self._candidate):
            if conn is None or conn.writer.is_closing():
                continue
            try:
                async with asyncio.timeout(_FLUSH_TIMEOUT * 5):
                    await conn.writer.drain()
            except (ConnectionError, OSError, TimeoutError):
                now = asyncio.get_running_loop().time()
                self._carry_out(self._node.closed(self.name, conn.id, now), now)
                self._detach(conn)

    def abort(self) -> None:
        """Drop every connection at once, without a NOTIFICATION (the driver failed)."""
        self._stopped = True
        self._cancel_attempt()
        for conn in (self._conn, self._candidate):
            if conn is not None:
                self._detach(conn)

    async def _close_all(self) -> None:
        self._cancel_attempt()
        for conn in (self._conn, self._candidate):
            if conn is None:
                continue
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                async with asyncio.timeout(_FLUSH_TIMEOUT):
                    await conn.writer.drain()
            self._detach(conn)
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                async with asyncio.timeout(_FLUSH_TIMEOUT):
                    await conn.writer.wait_closed()
