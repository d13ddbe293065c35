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
No input raises.  The handlers receive the session's
:class:`~bgpemu.session.machine.Machine`, the state record they mutate through its
public fields and steps; the Session owns it privately and hands its effects back.

Bytes arrive through :meth:`Session.receive_data`: the connection's
:class:`~bgpemu.session.reader.FrameReader` cuts them into messages, the codec
decodes each, and each becomes one message input (BgpOpen, KeepAliveMsg, UpdateMsg,
NotifMsg, RouteRefreshMsg, or the error input that matches the decoder's
MessageError).  Timers are deadlines (:mod:`bgpemu.session.timers`):
the shell sleeps until :meth:`Session.next_deadline` and calls
:meth:`Session.on_timer`, which turns every expired timer into its input.

Every fall to Idle releases the connection and all timers.  Unless the fall was a
ManualStop, and ``auto_restart`` is set, the IdleHoldTimer is armed; its expiry is
an AutomaticStart (RFC 4271 §8.1.1 IdleHoldTime), so reconnection is the FSM's own.

Documented deviations from the RFC 4271 §8.2.2 text:

* A passive session (config ``passive`` or ``ManualStart(passive=True)``) never
  leaves Active on ConnectRetryTimer expiry; it only restarts the timer (BIRD's
  ``passive on``).  A collision candidate is such a session until it wins (RFC 4271
  §6.8); then :meth:`Session.succeed` gives it the passive mode of the session it
  replaces.
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
from bgpemu.session.effects import Effect, Send
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
from bgpemu.session.machine import Machine
from bgpemu.session.negotiation import Negotiated
from bgpemu.session.state import CONNECTED_STATES, SessionState
from bgpemu.session.timers import Timer
from bgpemu.session.transitions import TRANSITIONS, unexpected
from bgpemu.types import Family
from bgpemu.wire.constants import (
    HEADER_LEN,
    CeaseSubcode,
    ErrorCode,
    MessageType,
    OpenErrorSubcode,
)
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

    The state lives in a private :class:`~bgpemu.session.machine.Machine`, the record
    the transition handlers mutate; everything else reads it through the members below.
    """

    __slots__ = ("_m", "codec", "config", "counters")

    def __init__(self, config: SessionConfig, rng: random.Random) -> None:
        self._m = machine = Machine(config, rng)
        self.config: SessionConfig = machine.config
        """The peering's configuration (fixed for the session's life)."""
        self.counters: SessionCounters = machine.counters
        """What the session has sent and received, across connections."""
        self.codec = machine.codec
        """The codec of the current connection (its context follows the agreement)."""

    # -- observation -------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The current RFC 4271 §8.2.2 state."""
        return self._m.state

    @property
    def negotiated(self) -> Negotiated | None:
        """What the OPENs agreed, in Established only."""
        m = self._m
        return m.agreed if m.state is _S.ESTABLISHED else None

    @property
    def local_open(self) -> Open:
        """The OPEN this session sends."""
        return self._m.local_open

    @property
    def peer_open(self) -> Open | None:
        """The peer's OPEN on the current connection, once accepted (RFC 4271 §6.8)."""
        return self._m.peer_open

    @property
    def passive(self) -> bool:
        """Whether a start waits in Active for the peer instead of connecting out (RFC
        4271 §8.1.1 PassiveTcpEstablishment: the configuration's, or the ManualStart's)."""
        return self._m.passive

    @property
    def held_down(self) -> str | None:
        """Why the session is held down by a ManualStop (RFC 4271 §8.1.2: e.g. a
        max-prefix trip, RFC 4486 §4), until the next ManualStart; None otherwise."""
        return self._m.held_down

    @property
    def armed_timers(self) -> frozenset[Timer]:
        """The timers that are running."""
        return self._m.timers.armed()

    def timer_deadline(self, timer: Timer) -> float | None:
        """The deadline of ``timer``, or None when it is not running."""
        return self._m.timers.deadline(timer)

    def next_deadline(self) -> float | None:
        """The earliest armed timer deadline (absolute, same clock as ``now``)."""
        return self._m.timers.next_deadline()

    # -- inputs ------------------------------------------------------------------------

    def handle(self, event: Input, now: float) -> list[Effect]:
        """Apply one input (RFC 4271 §8.1 event) and return the effects, in order."""
        if isinstance(event, NotifMsg | NotifMsgVerErr):
            self.counters.last_notification_received = event.notification
        m = self._m
        handler = TRANSITIONS.get((m.state, type(event)), unexpected)
        handler(m, event, now)
        return m.take_effects()

    def on_timer(self, now: float) -> list[Effect]:
        """Fire every timer whose deadline is at or before ``now``, earliest first."""
        timers = self._m.timers
        effects: list[Effect] = []
        for timer, deadline in timers.due(now):
            if timers.deadline(timer) != deadline:
                continue  # stopped or re-armed by an earlier expiry
            timers.stop(timer)
            effects.extend(self.handle(_TIMER_INPUTS[timer](), now))
        return effects

    def receive_data(self, data: bytes, now: float) -> list[Effect]:
        """Frame and decode received bytes and feed each message to the FSM in order.

        Stops at the first message after which the session is no longer connected.
        A framing error (RFC 4271 §6.1 header error, RFC 7313 §5 ROUTE-REFRESH length)
        is handled after the complete messages that precede it.  Bytes that arrive
        when there is no connection (Idle, Connect, Active) are dropped.
        """
        m = self._m
        if m.state not in CONNECTED_STATES:
            return []
        frames, error = m.reader.feed(data)
        effects: list[Effect] = []
        for frame in frames:
            if m.state not in CONNECTED_STATES:
                return effects
            effects.extend(self.handle(self._classify(frame), now))
        if error is not None and m.state in CONNECTED_STATES:
            effects.extend(
                self.handle(_ERROR_INPUTS.get(error.code, BgpHeaderErr).from_error(error), now)
            )
        return effects

    def send_update_frames(self, frames: Sequence[bytes], now: float) -> list[Effect]:
        """Send pre-encoded UPDATE frames (Established only, else nothing).

        RFC 4271 §10: each UPDATE sent restarts the KeepaliveTimer.
        """
        m = self._m
        agreed = m.agreed
        if m.state is not _S.ESTABLISHED or agreed is None or not frames:
            return []
        effects: list[Effect] = [Send(data=bytes(frame), message=None) for frame in frames]
        self.counters.messages_sent[MessageType.UPDATE] += len(frames)
        self.counters.updates_sent += len(frames)
        m.restart_keepalive(agreed, now)
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
        self._m.send(RouteRefresh(family=family))
        return self._m.take_effects()

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
        self._m.send(RouteRefresh(family=family, subtype=subtype))
        return self._m.take_effects()

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
        m = self._m
        if m.state is _S.IDLE:
            return []
        sent = None
        if m.state in CONNECTED_STATES:
            sent = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.OUT_OF_RESOURCES)
        m.drop(now, reason, sent=sent)
        return m.take_effects()

    def succeed(self, previous: Session) -> None:
        """Become the neighbour's session in place of ``previous``: the connection
        collision kept this session's connection (RFC 4271 §6.8).

        A collision candidate is started passive (its connection is up already and it
        must never dial); from now on it restarts as ``previous`` would have, after
        every fall to Idle: waiting in Active only when the peering is passive (RFC
        4271 §8.1.1 PassiveTcpEstablishment, from the configuration or the
        ManualStart), else connecting out.  A candidate left passive never dialled
        again, and two ends that had both promoted theirs waited in Active for each
        other for ever.  Its count of internal errors continues ``previous``'s.
        """
        self._m.passive = previous.passive
        self.counters.internal_errors += previous.counters.internal_errors

    # -- decoding ----------------------------------------------------------------------

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
        if version_error and self._m.state in (_S.OPEN_SENT, _S.OPEN_CONFIRM):
            return NotifMsgVerErr(notification=message)
        return NotifMsg(notification=message)


def _raw_notification(frame: bytes) -> Notification:
    """The code, subcode and data of a NOTIFICATION that failed to decode (RFC 4271 §4.5)."""
    body = frame[HEADER_LEN:]
    code = body[0] if len(body) > 0 else 0
    subcode = body[1] if len(body) > 1 else 0
    return Notification(code=code, subcode=subcode, data=bytes(body[2:]))
