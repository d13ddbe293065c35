"""The BGP finite state machine of one peering (RFC 4271 §8), sans-IO.

Theory of operation
-------------------
A :class:`Session` is a plain object: the shell feeds it inputs and bytes, each call
with the current time ``now`` (float seconds on a monotonic clock), and it returns a
list of effects for the shell to apply in order (open or close TCP, write bytes,
report state changes, UPDATEs and ROUTE-REFRESH requests).  It never reads a clock,
never touches a socket and draws randomness only from the ``random.Random`` it was
given (RFC 4271 §10 jitter).

Every decision is in :data:`bgpemu.session.transitions.TRANSITIONS`, a read-only map of
``(SessionState, input type) -> handler``: the single source of truth.  Inputs the
RFC tells a state to ignore are explicit no-op entries.  A pair missing from the
table is an unexpected event and gets RFC 4271 §8.2.2's "any other event"
reaction (:func:`~bgpemu.session.transitions.unexpected`): Connect and Active drop
to Idle; OpenSent, OpenConfirm and Established send NOTIFICATION Finite State
Machine Error with the RFC 6608 §3 subcode of the state, then close and go to Idle.
No input raises.

Bytes arrive through :meth:`Session.receive_data`: the framer cuts them into
messages, the codec decodes each, and each becomes one message input (BgpOpen,
KeepAliveMsg, UpdateMsg, NotifMsg, RouteRefreshMsg, or the error input that matches
the decoder's MessageError).  Timers are deadlines (:mod:`bgpemu.session.timers`):
the shell sleeps until :meth:`Session.next_deadline` and calls
:meth:`Session.on_timer`, which turns every expired timer into its input.

Every fall to Idle releases the connection and all timers.  Unless the fall was a
ManualStop, and ``auto_restart`` is set, the IdleHoldTimer is armed; its expiry is
an AutomaticStart (RFC 4271 §8.1.1 IdleHoldTime), so reconnection is the FSM's own.

Documented deviations from the RFC 4271 §8.2.2 text:

* A passive session (config ``passive`` or ``ManualStart(passive=True)``) never
  leaves Active on ConnectRetryTimer expiry; it only restarts the timer (BIRD's
  ``passive on``).
* A NOTIFICATION received in OpenSent is not answered with an FSM-error
  NOTIFICATION (RFC 4271 §6.4: a NOTIFICATION is never answered by one).
* A message header error in Established is answered with its own code and subcode
  (RFC 4271 §6.1) rather than an FSM error.
* With ``connect_retry_max`` set (the lab profile), a failed connection attempt in
  Connect leaves the session in Active with the ConnectRetryTimer running (the branch
  RFC 4271 §8.2.2 takes when the DelayOpenTimer runs: keep listening for the peer),
  and the ConnectRetryTime and IdleHoldTime double after every consecutive attempt
  that did not reach Established, up to that bound (§8.1.1 DampPeerOscillations).
* A ConnectRetryTimer is never left running in Idle (RFC 4271 restarts it when Active
  falls to Idle on TcpConnectionFails, where its expiry is then ignored anyway).
* ROUTE-REFRESH is accepted in Established only; BoRR/EoRR demarcations (RFC 7313 §4)
  and requests for families not negotiated (RFC 2918 §4) are ignored.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from bgpemu.errors import MessageError
from bgpemu.session.config import SessionConfig
from bgpemu.session.counters import SessionCounters
from bgpemu.session.effects import (
    CloseTcp,
    ConnectTcp,
    Effect,
    Send,
    SessionDown,
    StateChanged,
)
from bgpemu.session.inputs import (
    BgpHeaderErr,
    BgpOpen,
    BgpOpenMsgErr,
    ConnectRetryTimerExpires,
    HoldTimerExpires,
    IdleHoldTimerExpires,
    Input,
    KeepAliveMsg,
    KeepaliveTimerExpires,
    ManualStop,
    NotifMsg,
    NotifMsgVerErr,
    RouteRefreshMsg,
    RouteRefreshMsgErr,
    UpdateMsg,
    UpdateMsgErr,
)
from bgpemu.session.negotiation import Negotiated, local_open
from bgpemu.session.state import CONNECTED_STATES, SessionState
from bgpemu.session.timers import Timer, Timers, jittered
from bgpemu.session.transitions import TRANSITIONS, unexpected
from bgpemu.types import Family
from bgpemu.wire import Codec, Framer
from bgpemu.wire.constants import (
    HEADER_LEN,
    MAX_MESSAGE_SIZE,
    CeaseSubcode,
    ErrorCode,
    MessageType,
    OpenErrorSubcode,
)
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import (
    Keepalive,
    Message,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshSubtype,
    Update,
)

__all__ = ["Session"]

_S = SessionState

_TIMER_INPUTS: Mapping[Timer, Callable[[], Input]] = MappingProxyType(
    {
        Timer.CONNECT_RETRY: ConnectRetryTimerExpires,
        Timer.HOLD: HoldTimerExpires,
        Timer.KEEPALIVE: KeepaliveTimerExpires,
        Timer.IDLE_HOLD: IdleHoldTimerExpires,
    }
)

_ERROR_INPUTS: Mapping[
    int, type[BgpHeaderErr] | type[BgpOpenMsgErr] | type[UpdateMsgErr] | type[RouteRefreshMsgErr]
] = MappingProxyType(
    {
        ErrorCode.MESSAGE_HEADER_ERROR: BgpHeaderErr,
        ErrorCode.OPEN_MESSAGE_ERROR: BgpOpenMsgErr,
        ErrorCode.UPDATE_MESSAGE_ERROR: UpdateMsgErr,
        ErrorCode.ROUTE_REFRESH_MESSAGE_ERROR: RouteRefreshMsgErr,
    }
)


class Session:
    """One peering's FSM (RFC 4271 §8). Sans-IO: inputs in, effects out, ``now`` passed in.

    Driver contract: call :meth:`handle` with shell events (ManualStart, TcpCrAcked,
    TcpConnectionConfirmed, TcpConnectionFails, OpenCollisionDump...), pass every
    received chunk of bytes to :meth:`receive_data`, and call :meth:`on_timer` once
    ``now`` reaches :meth:`next_deadline`.  Apply the returned effects in order.
    """

    def __init__(self, config: SessionConfig, rng: random.Random) -> None:
        self.config = config
        self.counters = SessionCounters()
        self.codec = Codec(CodecContext())
        self.peer_open: Open | None = None
        """The peer's OPEN on the current connection, once accepted (RFC 4271 §6.8)."""
        self._rng = rng
        self._state = SessionState.IDLE
        self._local_open = local_open(config)
        self._agreed: Negotiated | None = None
        self._framer = Framer(max_message_size=MAX_MESSAGE_SIZE)
        self._tail = b""
        self._timers = Timers()
        self._passive = config.passive
        self._enabled = False
        self._failures = 0
        """Consecutive attempts that did not reach Established (the retry backoff)."""
        self.held_down: str | None = None
        """Why the session is held down by a ManualStop (RFC 4271 §8.1.2: e.g. a
        max-prefix trip, RFC 4486 §4), until the next ManualStart; None otherwise."""
        self._out: list[Effect] = []

    # -- observation -------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The current RFC 4271 §8.2.2 state."""
        return self._state

    @property
    def negotiated(self) -> Negotiated | None:
        """What the OPENs agreed, in Established only."""
        return self._agreed if self._state is _S.ESTABLISHED else None

    @property
    def local_open(self) -> Open:
        """The OPEN this session sends."""
        return self._local_open

    @property
    def armed_timers(self) -> frozenset[Timer]:
        """The timers that are running."""
        return self._timers.armed()

    def timer_deadline(self, timer: Timer) -> float | None:
        """The deadline of ``timer``, or None when it is not running."""
        return self._timers.deadline(timer)

    def next_deadline(self) -> float | None:
        """The earliest armed timer deadline (absolute, same clock as ``now``)."""
        return self._timers.next_deadline()

    # -- inputs ------------------------------------------------------------------------

    def handle(self, event: Input, now: float) -> list[Effect]:
        """Apply one input (RFC 4271 §8.1 event) and return the effects, in order."""
        if isinstance(event, NotifMsg | NotifMsgVerErr):
            self.counters.last_notification_received = event.notification
        handler = TRANSITIONS.get((self._state, type(event)), unexpected)
        handler(self, event, now)
        effects, self._out = self._out, []
        return effects

    def on_timer(self, now: float) -> list[Effect]:
        """Fire every timer whose deadline is at or before ``now``, earliest first."""
        effects: list[Effect] = []
        for timer, deadline in self._timers.due(now):
            if self._timers.deadline(timer) != deadline:
                continue  # stopped or re-armed by an earlier expiry
            self._timers.stop(timer)
            effects.extend(self.handle(_TIMER_INPUTS[timer](), now))
        return effects

    def receive_data(self, data: bytes, now: float) -> list[Effect]:
        """Frame and decode received bytes and feed each message to the FSM in order.

        Stops at the first message after which the session is no longer connected.
        A framing error (RFC 4271 §6.1 header error, RFC 7313 §5 ROUTE-REFRESH length)
        is handled after the complete messages that precede it.  Bytes that arrive
        when there is no connection (Idle, Connect, Active) are dropped.
        """
        if self._state not in CONNECTED_STATES:
            return []
        error: MessageError | None = None
        try:
            frames = self._framer.feed(data)
        except MessageError as exc:
            error = exc
            frames = _frames_before_error(self._tail + data, self._framer.max_message_size)
        else:
            self._remember_tail(data)
        effects: list[Effect] = []
        for frame in frames:
            if self._state not in CONNECTED_STATES:
                return effects
            effects.extend(self.handle(self._classify(frame), now))
        if error is not None and self._state in CONNECTED_STATES:
            effects.extend(
                self.handle(_ERROR_INPUTS.get(error.code, BgpHeaderErr).from_error(error), now)
            )
        return effects

    def _remember_tail(self, data: bytes) -> None:
        """Keep the bytes the framer holds back, to re-frame them after an error."""
        pending = self._framer.buffered
        if pending == 0:
            self._tail = b""
        elif pending <= len(data):
            self._tail = data[len(data) - pending :]
        else:
            self._tail = self._tail[len(self._tail) - (pending - len(data)) :] + data

    def send_update_frames(self, frames: Sequence[bytes], now: float) -> list[Effect]:
        """Send pre-encoded UPDATE frames (Established only, else nothing).

        RFC 4271 §10: each UPDATE sent restarts the KeepaliveTimer.
        """
        agreed = self._agreed
        if self._state is not _S.ESTABLISHED or agreed is None or not frames:
            return []
        effects: list[Effect] = [Send(data=bytes(frame), message=None) for frame in frames]
        self.counters.messages_sent[MessageType.UPDATE] += len(frames)
        self.counters.updates_sent += len(frames)
        self._restart_keepalive(agreed, now)
        return effects

    def request_route_refresh(self, family: Family, now: float) -> list[Effect]:
        """Send ROUTE-REFRESH for ``family`` when the peer supports it (RFC 2918 §4)."""
        agreed = self.negotiated
        if (
            agreed is None
            or not agreed.remote_open.capabilities.route_refresh
            or family not in agreed.families
        ):
            return []
        self._send(RouteRefresh(family=family))
        effects, self._out = self._out, []
        return effects

    def demarcate_refresh(
        self, family: Family, subtype: RouteRefreshSubtype, now: float
    ) -> list[Effect]:
        """Send a BoRR or EoRR marker around a re-advertisement (RFC 7313 §4).

        Only when both ends advertised Enhanced Route Refresh; otherwise nothing.
        """
        agreed = self.negotiated
        if (
            agreed is None
            or not agreed.enhanced_route_refresh
            or family not in agreed.families
            or subtype == RouteRefreshSubtype.NORMAL
        ):
            return []
        self._send(RouteRefresh(family=family, subtype=subtype))
        effects, self._out = self._out, []
        return effects

    def stop(self, now: float, subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN) -> list[Effect]:
        """ManualStop: Cease with ``subcode`` when OPENs were exchanged, close, stay Idle."""
        return self.handle(ManualStop(subcode=subcode), now)

    def internal_error(self, now: float, reason: str) -> list[Effect]:
        """An unexpected error of bgpemu while serving this session: reset it alone.

        Counted in :attr:`SessionCounters.internal_errors`; when connected, Cease /
        Out of Resources (RFC 4486 §4, subcode 8: the speaker cannot serve the session
        any more) is sent; then the connection closes and, as after any session error,
        the IdleHoldTimer brings the session back (RFC 4271 §8.1.1).
        """
        self.counters.internal_errors += 1
        if self._state is _S.IDLE:
            return []
        sent = None
        if self._state in CONNECTED_STATES:
            sent = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.OUT_OF_RESOURCES)
        self._drop(now, reason, sent=sent)
        effects, self._out = self._out, []
        return effects

    # -- helpers used by the handlers --------------------------------------------------

    def _classify(self, frame: bytes) -> Input:
        """The FSM input for one framed message (RFC 4271 §6.1-§6.4, RFC 7313 §5)."""
        type_code = frame[HEADER_LEN - 1] if len(frame) >= HEADER_LEN else 0
        with contextlib.suppress(ValueError):
            self.counters.messages_received[MessageType(type_code)] += 1
        try:
            message: Message = self.codec.decode(frame)
        except MessageError as error:
            if type_code == MessageType.NOTIFICATION:
                return NotifMsg(notification=_raw_notification(frame))
            return _ERROR_INPUTS.get(error.code, BgpHeaderErr).from_error(error)
        if isinstance(message, Open):
            return BgpOpen(message=message)
        if isinstance(message, Keepalive):
            return KeepAliveMsg()
        if isinstance(message, Update):
            return UpdateMsg(update=message)
        if isinstance(message, RouteRefresh):
            return RouteRefreshMsg(refresh=message)
        version_error = (message.code, message.subcode) == (
            ErrorCode.OPEN_MESSAGE_ERROR,
            OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER,
        )
        if version_error and self._state in (_S.OPEN_SENT, _S.OPEN_CONFIRM):
            return NotifMsgVerErr(notification=message)
        return NotifMsg(notification=message)

    def _send(self, message: Message) -> None:
        self._out.append(Send(data=self.codec.encode(message), message=message))
        self.counters.messages_sent[message.type] += 1
        if isinstance(message, Notification):
            self.counters.last_notification_sent = message

    def _goto(self, new: SessionState, now: float) -> None:
        old = self._state
        if new is old:
            return
        self._state = new
        if new is _S.ESTABLISHED:
            self._failures = 0
        self.counters.last_state_change = now
        self._out.append(StateChanged(old=old, new=new))

    def _backoff(self, base: float) -> float:
        """``base`` doubled for every consecutive failed attempt after the first, up to
        ``connect_retry_max`` (RFC 4271 §8.1.1 DampPeerOscillations); ``base`` without
        a bound or a failure."""
        bound = self.config.connect_retry_max
        if bound is None or self._failures <= 1:
            return base
        return min(base * 2.0 ** min(self._failures - 1, 32), max(bound, base))

    def _start_connect_retry(self, now: float) -> None:
        interval = jittered(self._backoff(self.config.connect_retry_time), self._rng)
        self._timers.start(Timer.CONNECT_RETRY, now, interval)

    def _attempt_failed(self) -> None:
        """Count a connection attempt that did not reach Established (the backoff)."""
        if self.config.connect_retry_max is not None:
            self._failures += 1

    def _restart_hold(self, agreed: Negotiated, now: float) -> None:
        if agreed.hold_time:
            self._timers.start(Timer.HOLD, now, agreed.hold_time)

    def _restart_keepalive(self, agreed: Negotiated, now: float) -> None:
        if agreed.keepalive_time:
            self._timers.start(Timer.KEEPALIVE, now, jittered(agreed.keepalive_time, self._rng))

    def _start(self, passive: bool, now: float) -> None:
        """ManualStart / AutomaticStart in Idle (RFC 4271 §8.2.2 Idle, events 1, 3-5)."""
        self._timers.stop_all()
        self._enabled = True
        self._passive = passive
        self.counters.connect_retry_counter = 0
        self._start_connect_retry(now)
        if passive:
            self._goto(_S.ACTIVE, now)
        else:
            self._goto(_S.CONNECT, now)
            self._out.append(ConnectTcp())

    def _drop(
        self,
        now: float,
        reason: str,
        *,
        sent: Notification | None = None,
        received: Notification | None = None,
        count: bool = True,
        to: SessionState = _S.IDLE,
    ) -> None:
        """Send ``sent`` if any, drop the TCP connection, release resources, go to ``to``.

        ``count`` increments the ConnectRetryCounter (RFC 4271 §8.2.2).  Leaving a
        connected state reports SessionDown.  Idle arms the IdleHoldTimer when
        automatic restart is on and the session was not stopped by hand.
        """
        was_connected = self._state in CONNECTED_STATES
        if self._state is not _S.ESTABLISHED and self._enabled:
            self._attempt_failed()
        if sent is not None:
            self._send(sent)
        self._out.append(CloseTcp())
        self._timers.stop_all()
        if count:
            self.counters.connect_retry_counter += 1
        self._agreed = None
        self.peer_open = None
        self._goto(to, now)
        if was_connected:
            self._out.append(SessionDown(reason=reason, sent=sent, received=received))
        if to is _S.IDLE and self._enabled and self.config.auto_restart:
            self._timers.start(Timer.IDLE_HOLD, now, self._backoff(self.config.idle_hold_time))


def _frames_before_error(stream: bytes, max_message_size: int) -> list[bytes]:
    """The complete, well-framed messages at the front of ``stream`` (slow path).

    Used only after the framer rejected a chunk: a fresh framer is fed one message
    at a time, so the messages before the bad one are still processed in order.
    """
    probe = Framer(max_message_size=max_message_size)
    frames: list[bytes] = []
    pos = 0
    while len(stream) - pos >= HEADER_LEN:
        step = max(int.from_bytes(stream[pos + 16 : pos + 18], "big"), HEADER_LEN)
        try:
            got = probe.feed(stream[pos : pos + step])
        except MessageError:
            break
        if not got:
            break
        frames.extend(got)
        pos += step
    return frames


def _raw_notification(frame: bytes) -> Notification:
    """The code, subcode and data of a NOTIFICATION that failed to decode (RFC 4271 §4.5)."""
    body = frame[HEADER_LEN:]
    code = body[0] if len(body) > 0 else 0
    subcode = body[1] if len(body) > 1 else 0
    return Notification(code=code, subcode=subcode, data=bytes(body[2:]))
