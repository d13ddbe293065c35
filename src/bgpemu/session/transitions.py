"""The RFC 4271 §8.2.2 transition table: (state, input type) → handler.

Theory of operation: each handler is a small function that mutates a
:class:`~bgpemu.session.fsm.Session` through its private helpers (send a message,
arm or stop a timer, change state, drop the connection) and appends effects to the
session's pending list; :data:`TRANSITIONS` maps every (state, input type) pair the
RFC gives a reaction to its handler.  Pairs the RFC says to ignore map to
:func:`_ignore`; a pair missing from the table goes to :func:`unexpected`, the
RFC's "any other event" / FSM-error reaction.  See :mod:`bgpemu.session.fsm` for
the documented deviations from the RFC text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from bgpemu.errors import MessageError
from bgpemu.session.effects import (
    CloseTcp,
    ConnectTcp,
    RouteRefreshReceived,
    SessionEstablished,
    UpdateReceived,
)
from bgpemu.session.inputs import (
    INPUT_TYPES,
    AutomaticStart,
    BgpHeaderErr,
    BgpOpen,
    BgpOpenMsgErr,
    ConnectRetryTimerExpires,
    HoldTimerExpires,
    IdleHoldTimerExpires,
    Input,
    KeepAliveMsg,
    KeepaliveTimerExpires,
    ManualStart,
    ManualStop,
    NotifMsg,
    NotifMsgVerErr,
    OpenCollisionDump,
    RouteRefreshMsg,
    RouteRefreshMsgErr,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    UpdateMsg,
    UpdateMsgErr,
)
from bgpemu.session.negotiation import negotiate
from bgpemu.session.state import CONNECTED_STATES, SessionState
from bgpemu.session.timers import Timer
from bgpemu.wire import Framer
from bgpemu.wire.constants import (
    MAX_MESSAGE_SIZE,
    CeaseSubcode,
    ErrorCode,
    FsmErrorSubcode,
    MessageType,
)
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import Keepalive, Notification, RouteRefreshSubtype

if TYPE_CHECKING:
    from bgpemu.session.fsm import Session

__all__ = ["LARGE_HOLD_TIME", "TRANSITIONS", "Handler", "unexpected"]

_S = SessionState
LARGE_HOLD_TIME = 240.0
"""RFC 4271 §8.2.2: the HoldTimer "large value" used in OpenSent (4 minutes suggested)."""

_FSM_SUBCODES = {
    _S.OPEN_SENT: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPEN_SENT,
    _S.OPEN_CONFIRM: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM,
    _S.ESTABLISHED: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED,
}
"""RFC 6608 §3: the FSM error subcode by the state the unexpected event arrived in."""


Handler = Callable[["Session", Input, float], None]
"""A transition: mutates the session and appends to its pending effects."""


# -- handlers (RFC 4271 §8.2.2, one per row of the transition table) ------------------


def _ignore(s: Session, event: Input, now: float) -> None:
    """The RFC says this event does not change the state here."""


def _start(s: Session, event: Input, now: float) -> None:
    """Idle + ManualStart / AutomaticStart: Connect (ConnectTcp) or, passive, Active."""
    assert isinstance(event, ManualStart | AutomaticStart)
    if isinstance(event, ManualStart):
        s._failures = 0  # an operator's start: no backoff left from earlier failures
        s.held_down = None
    s._start(event.passive or s.config.passive, now)


def _idle_hold_expired(s: Session, event: Input, now: float) -> None:
    """Idle + IdleHoldTimer_Expires: the AutomaticStart of RFC 4271 §8.1.1."""
    if s._enabled and s.config.auto_restart:
        s._start(s._passive, now)


def _stop_in_idle(s: Session, event: Input, now: float) -> None:
    """Idle + ManualStop: ignored by RFC 4271, but it cancels any automatic restart."""
    assert isinstance(event, ManualStop)
    s._enabled = False
    s.held_down = event.reason
    s._timers.stop(Timer.IDLE_HOLD)


def _manual_stop(s: Session, event: Input, now: float) -> None:
    """ManualStop: Cease NOTIFICATION after an OPEN was sent, close, Idle, no restart."""
    assert isinstance(event, ManualStop)
    s._enabled = False
    s.held_down = event.reason
    s.counters.connect_retry_counter = 0
    sent = None
    if s._state in CONNECTED_STATES:
        sent = Notification(code=ErrorCode.CEASE, subcode=event.subcode, data=event.data)
    s._drop(now, event.reason, sent=sent, count=False)


def _connect_retry_in_connect(s: Session, event: Input, now: float) -> None:
    """Connect + ConnectRetryTimer_Expires: drop the attempt, retry, restart the timer
    (backed off with ``connect_retry_max``: the attempt failed)."""
    s._out.append(CloseTcp())
    s._attempt_failed()
    s._start_connect_retry(now)
    s._out.append(ConnectTcp())


def _connect_retry_in_active(s: Session, event: Input, now: float) -> None:
    """Active + ConnectRetryTimer_Expires: connect out (Connect); passive only re-arms."""
    s._start_connect_retry(now)
    if not s._passive:
        s._goto(_S.CONNECT, now)
        s._out.append(ConnectTcp())


def _tcp_established(s: Session, event: Input, now: float) -> None:
    """Connect/Active + Tcp_CR_Acked / TcpConnectionConfirmed: send OPEN, OpenSent.

    RFC 4271 §8.2.2: the ConnectRetryTimer stops and the HoldTimer is set to a large
    value (4 minutes).  A new connection starts with a fresh framer and the default
    codec context (RFC 8654: 4096-octet messages until Established).
    """
    s._timers.stop(Timer.CONNECT_RETRY)
    s._framer = Framer(max_message_size=MAX_MESSAGE_SIZE)
    s._tail = b""
    s.codec.context = CodecContext()
    s.peer_open = None
    s._send(s._local_open)
    s._timers.start(Timer.HOLD, now, LARGE_HOLD_TIME)
    s._goto(_S.OPEN_SENT, now)


def _tcp_fails_in_connect(s: Session, event: Input, now: float) -> None:
    """Connect + TcpConnectionFails: Idle (ConnectRetryCounter unchanged).

    With ``connect_retry_max`` (a documented deviation, the branch RFC 4271 §8.2.2
    takes while the DelayOpenTimer runs): Active, listening for the peer, until the
    ConnectRetryTimer, backed off, expires.
    """
    if s.config.connect_retry_max is None:
        s._drop(now, "TCP connection failed", count=False)
        return
    s._out.append(CloseTcp())
    s._timers.stop_all()
    s._attempt_failed()
    s._start_connect_retry(now)
    s._goto(_S.ACTIVE, now)


def _tcp_fails(s: Session, event: Input, now: float) -> None:
    """Active/OpenConfirm/Established + TcpConnectionFails: Idle, counter + 1."""
    s._drop(now, "TCP connection closed")


def _tcp_fails_in_open_sent(s: Session, event: Input, now: float) -> None:
    """OpenSent + TcpConnectionFails: close, restart ConnectRetryTimer, Active."""
    s._drop(now, "TCP connection closed in OpenSent", count=False, to=_S.ACTIVE)
    s._start_connect_retry(now)


def _open_received(s: Session, event: Input, now: float) -> None:
    """OpenSent + BGPOpen: negotiate (RFC 4271 §6.2); KEEPALIVE and OpenConfirm, or reject."""
    assert isinstance(event, BgpOpen)
    try:
        agreed = negotiate(s.config, s._local_open, event.message)
    except MessageError as error:
        sent = Notification(code=error.code, subcode=error.subcode, data=error.data)
        s._drop(now, f"OPEN rejected: {error.reason}", sent=sent)
        return
    s.peer_open = event.message
    s._agreed = agreed
    s._timers.stop(Timer.CONNECT_RETRY)
    s._send(Keepalive())
    s._timers.stop(Timer.HOLD)
    s._restart_hold(agreed, now)
    s._restart_keepalive(agreed, now)
    s._goto(_S.OPEN_CONFIRM, now)


def _keepalive_in_open_confirm(s: Session, event: Input, now: float) -> None:
    """OpenConfirm + KeepAliveMsg: Established; the codec and framer take the agreement."""
    agreed = s._agreed
    assert agreed is not None
    s._restart_hold(agreed, now)
    context = agreed.codec_context
    s.codec.context = context
    s._framer.max_message_size = context.max_message_size
    s.counters.established_transitions += 1
    s.counters.established_at = now
    s.counters.updates_sent_before = s.counters.messages_sent[MessageType.UPDATE]
    s.counters.updates_received_before = s.counters.updates_received
    s._goto(_S.ESTABLISHED, now)
    s._out.append(SessionEstablished(negotiated=agreed))


def _send_keepalive(s: Session, event: Input, now: float) -> None:
    """OpenConfirm/Established + KeepaliveTimer_Expires: KEEPALIVE, restart (RFC 4271 §10)."""
    s._send(Keepalive())
    if s._agreed is not None:
        s._restart_keepalive(s._agreed, now)


def _keepalive_in_established(s: Session, event: Input, now: float) -> None:
    """Established + KeepAliveMsg: restart the HoldTimer."""
    if s._agreed is not None:
        s._restart_hold(s._agreed, now)


def _update_in_established(s: Session, event: Input, now: float) -> None:
    """Established + UpdateMsg: restart the HoldTimer, hand the UPDATE up."""
    assert isinstance(event, UpdateMsg)
    if s._agreed is not None:
        s._restart_hold(s._agreed, now)
    s.counters.updates_received += 1
    s._out.append(UpdateReceived(update=event.update))


def _route_refresh_in_established(s: Session, event: Input, now: float) -> None:
    """Established + ROUTE-REFRESH: a request for a negotiated family (RFC 2918 §4)."""
    assert isinstance(event, RouteRefreshMsg)
    agreed = s._agreed
    refresh = event.refresh
    if (
        agreed is not None
        and refresh.family in agreed.families
        and refresh.subtype == RouteRefreshSubtype.NORMAL
    ):
        s._out.append(RouteRefreshReceived(refresh=refresh))


def _hold_expired(s: Session, event: Input, now: float) -> None:
    """HoldTimer_Expires: NOTIFICATION Hold Timer Expired (4/0), close, Idle."""
    sent = Notification(code=ErrorCode.HOLD_TIMER_EXPIRED, subcode=0)
    s._drop(now, "hold timer expired", sent=sent)


def _message_error(s: Session, event: Input, now: float) -> None:
    """A malformed message: its NOTIFICATION (RFC 4271 §6), close, Idle."""
    assert isinstance(event, BgpHeaderErr | BgpOpenMsgErr | UpdateMsgErr | RouteRefreshMsgErr)
    reason = event.reason or f"error {event.code}/{event.subcode}"
    s._drop(now, f"malformed message: {reason}", sent=event.notification)


def _collision_dump(s: Session, event: Input, now: float) -> None:
    """OpenCollisionDump: NOTIFICATION Cease / Connection Collision Resolution (RFC 4271 §6.8)."""
    sent = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.CONNECTION_COLLISION_RESOLUTION)
    s._drop(now, "connection collision", sent=sent)


def _notification_received(s: Session, event: Input, now: float) -> None:
    """NotifMsg: close, Idle; never answered with a NOTIFICATION (RFC 4271 §6.4)."""
    assert isinstance(event, NotifMsg | NotifMsgVerErr)
    n = event.notification
    s._drop(now, f"NOTIFICATION {n.code}/{n.subcode} received", received=n)


def _version_error_received(s: Session, event: Input, now: float) -> None:
    """OpenSent/OpenConfirm + NotifMsgVerErr: Idle without counting a retry."""
    assert isinstance(event, NotifMsgVerErr)
    n = event.notification
    s._drop(now, f"NOTIFICATION {n.code}/{n.subcode} received", received=n, count=False)


def unexpected(s: Session, event: Input, now: float) -> None:
    """Any other event (RFC 4271 §8.2.2): an FSM error.

    Idle ignores it.  Connect and Active drop the connection and go to Idle.
    OpenSent, OpenConfirm and Established send NOTIFICATION Finite State Machine
    Error with the RFC 6608 §3 subcode of the state, close, and go to Idle.
    """
    state = s._state
    name = type(event).__name__
    if state is _S.IDLE:
        return
    subcode = _FSM_SUBCODES.get(state)
    sent = None if subcode is None else Notification(code=ErrorCode.FSM_ERROR, subcode=subcode)
    s._drop(now, f"FSM error: {name} in {state.value}", sent=sent)


# -- the transition table --------------------------------------------------------------

_STARTS = (ManualStart, AutomaticStart)
_TCP_UP = (TcpCrAcked, TcpConnectionConfirmed)
_ROWS: tuple[tuple[tuple[SessionState, ...], tuple[type[Input], ...], Handler], ...] = (
    # Idle (RFC 4271 §8.2.2): start, or ignore everything else.
    ((_S.IDLE,), _STARTS, _start),
    ((_S.IDLE,), (IdleHoldTimerExpires,), _idle_hold_expired),
    ((_S.IDLE,), (ManualStop,), _stop_in_idle),
    # Every state but Idle ignores a start; ManualStop closes.
    ((_S.CONNECT, _S.ACTIVE, *CONNECTED_STATES), _STARTS, _ignore),
    ((_S.CONNECT, _S.ACTIVE, *CONNECTED_STATES), (ManualStop,), _manual_stop),
    # Connect and Active: wait for TCP.
    ((_S.CONNECT,), (ConnectRetryTimerExpires,), _connect_retry_in_connect),
    ((_S.ACTIVE,), (ConnectRetryTimerExpires,), _connect_retry_in_active),
    ((_S.CONNECT, _S.ACTIVE), _TCP_UP, _tcp_established),
    ((_S.CONNECT,), (TcpConnectionFails,), _tcp_fails_in_connect),
    ((_S.ACTIVE,), (TcpConnectionFails,), _tcp_fails),
    # A second TCP connection in a connected state is tracked by the shell (§6.8).
    (tuple(CONNECTED_STATES), _TCP_UP, _ignore),
    (tuple(CONNECTED_STATES), (HoldTimerExpires,), _hold_expired),
    (tuple(CONNECTED_STATES), (OpenCollisionDump,), _collision_dump),
    (tuple(CONNECTED_STATES), (NotifMsg,), _notification_received),
    (tuple(CONNECTED_STATES), (BgpHeaderErr,), _message_error),
    # OpenSent.
    ((_S.OPEN_SENT,), (BgpOpen,), _open_received),
    ((_S.OPEN_SENT, _S.OPEN_CONFIRM), (BgpOpenMsgErr,), _message_error),
    ((_S.OPEN_SENT, _S.OPEN_CONFIRM), (NotifMsgVerErr,), _version_error_received),
    ((_S.OPEN_SENT,), (TcpConnectionFails,), _tcp_fails_in_open_sent),
    # OpenConfirm and Established.
    ((_S.OPEN_CONFIRM, _S.ESTABLISHED), (TcpConnectionFails,), _tcp_fails),
    ((_S.OPEN_CONFIRM, _S.ESTABLISHED), (KeepaliveTimerExpires,), _send_keepalive),
    ((_S.OPEN_CONFIRM,), (KeepAliveMsg,), _keepalive_in_open_confirm),
    ((_S.ESTABLISHED,), (KeepAliveMsg,), _keepalive_in_established),
    ((_S.ESTABLISHED,), (UpdateMsg,), _update_in_established),
    ((_S.ESTABLISHED,), (RouteRefreshMsg,), _route_refresh_in_established),
    ((_S.ESTABLISHED,), (UpdateMsgErr, RouteRefreshMsgErr), _message_error),
    ((_S.ESTABLISHED,), (NotifMsgVerErr,), _notification_received),
)


def _build_table() -> Mapping[tuple[SessionState, type[Input]], Handler]:
    table: dict[tuple[SessionState, type[Input]], Handler] = {}
    for states, types, handler in _ROWS:
        for state in states:
            for input_type in types:
                key = (state, input_type)
                if key in table:
                    raise AssertionError(f"duplicate transition {key}")
                table[key] = handler
    # RFC 4271 §8.2.2 Idle: "Any other events ... does not cause change in the state".
    for input_type in INPUT_TYPES:
        table.setdefault((_S.IDLE, input_type), _ignore)
    return MappingProxyType(table)


TRANSITIONS: Mapping[tuple[SessionState, type[Input]], Handler] = _build_table()
"""(state, input type) → handler; a missing pair is handled by :func:`_unexpected`."""
