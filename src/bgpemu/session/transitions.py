"""The RFC 4271 §8.2.2 transition table: (state, input type) → handler.

Theory of operation: each handler is a small function that mutates the session's
:class:`~bgpemu.session.machine.Machine` through its public fields and steps (send a
message, arm or stop a timer, change state, drop the connection), which append
effects to the machine's pending list; :data:`TRANSITIONS` maps every (state, input
type) pair the RFC gives a reaction to its handler.  Pairs the RFC says to ignore map to
:func:`_ignore`; a pair missing from the table goes to :func:`unexpected`, the
RFC's "any other event" / FSM-error reaction.  See :mod:`bgpemu.session.fsm` for
the documented deviations from the RFC text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

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
from bgpemu.session.machine import Machine
from bgpemu.session.negotiation import negotiate
from bgpemu.session.state import CONNECTED_STATES, SessionState
from bgpemu.session.timers import Timer
from bgpemu.wire.constants import (
    CeaseSubcode,
    ErrorCode,
    FsmErrorSubcode,
    MessageType,
)
from bgpemu.wire.messages import Keepalive, Notification, RouteRefreshSubtype

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


Handler = Callable[[Machine, Input, float], None]
"""A transition: mutates the machine, which collects the effects."""


# -- handlers (RFC 4271 §8.2.2, one per row of the transition table) ------------------


def _ignore(m: Machine, event: Input, now: float) -> None:
    """The RFC says this event does not change the state here."""


def _start(m: Machine, event: Input, now: float) -> None:
    """Idle + ManualStart / AutomaticStart: Connect (ConnectTcp) or, passive, Active."""
    assert isinstance(event, ManualStart | AutomaticStart)
    if isinstance(event, ManualStart):
        m.failures = 0  # an operator's start: no backoff left from earlier failures
        m.held_down = None
    m.start(event.passive or m.config.passive, now)


def _idle_hold_expired(m: Machine, event: Input, now: float) -> None:
    """Idle + IdleHoldTimer_Expires: the AutomaticStart of RFC 4271 §8.1.1."""
    if m.enabled and m.config.auto_restart:
        m.start(m.passive, now)


def _stop_in_idle(m: Machine, event: Input, now: float) -> None:
    """Idle + ManualStop: ignored by RFC 4271, but it cancels any automatic restart."""
    assert isinstance(event, ManualStop)
    m.enabled = False
    m.held_down = event.reason
    m.timers.stop(Timer.IDLE_HOLD)


def _manual_stop(m: Machine, event: Input, now: float) -> None:
    """ManualStop: Cease NOTIFICATION after an OPEN was sent, close, Idle, no restart."""
    assert isinstance(event, ManualStop)
    m.enabled = False
    m.held_down = event.reason
    m.counters.connect_retry_counter = 0
    sent = None
    if m.state in CONNECTED_STATES:
        sent = Notification(code=ErrorCode.CEASE, subcode=event.subcode, data=event.data)
    m.drop(now, event.reason, sent=sent, count=False)


def _connect_retry_in_connect(m: Machine, event: Input, now: float) -> None:
    """Connect + ConnectRetryTimer_Expires: drop the attempt, retry, restart the timer
    (backed off with ``connect_retry_max``: the attempt failed)."""
    m.emit(CloseTcp())
    m.attempt_failed()
    m.start_connect_retry(now)
    m.emit(ConnectTcp())


def _connect_retry_in_active(m: Machine, event: Input, now: float) -> None:
    """Active + ConnectRetryTimer_Expires: connect out (Connect); passive only re-arms."""
    m.start_connect_retry(now)
    if not m.passive:
        m.goto(_S.CONNECT, now)
        m.emit(ConnectTcp())


def _tcp_established(m: Machine, event: Input, now: float) -> None:
    """Connect/Active + Tcp_CR_Acked / TcpConnectionConfirmed: send OPEN, OpenSent.

    RFC 4271 §8.2.2: the ConnectRetryTimer stops and the HoldTimer is set to a large
    value (4 minutes).  A new connection starts with a fresh framer and the default
    codec context (RFC 8654: 4096-octet messages until Established).
    """
    m.timers.stop(Timer.CONNECT_RETRY)
    m.new_connection()
    m.send(m.local_open)
    m.timers.start(Timer.HOLD, now, LARGE_HOLD_TIME)
    m.goto(_S.OPEN_SENT, now)


def _tcp_fails_in_connect(m: Machine, event: Input, now: float) -> None:
    """Connect + TcpConnectionFails: Idle (ConnectRetryCounter unchanged).

    With ``connect_retry_max`` (a documented deviation, the branch RFC 4271 §8.2.2
    takes while the DelayOpenTimer runs): Active, listening for the peer, until the
    ConnectRetryTimer, backed off, expires.
    """
    if m.config.connect_retry_max is None:
        m.drop(now, "TCP connection failed", count=False)
        return
    m.emit(CloseTcp())
    m.timers.stop_all()
    m.attempt_failed()
    m.start_connect_retry(now)
    m.goto(_S.ACTIVE, now)


def _tcp_fails(m: Machine, event: Input, now: float) -> None:
    """Active/OpenConfirm/Established + TcpConnectionFails: Idle, counter + 1."""
    m.drop(now, "TCP connection closed")


def _tcp_fails_in_open_sent(m: Machine, event: Input, now: float) -> None:
    """OpenSent + TcpConnectionFails: close, restart ConnectRetryTimer, Active."""
    m.drop(now, "TCP connection closed in OpenSent", count=False, to=_S.ACTIVE)
    m.start_connect_retry(now)


def _open_received(m: Machine, event: Input, now: float) -> None:
    """OpenSent + BGPOpen: negotiate (RFC 4271 §6.2); KEEPALIVE and OpenConfirm, or reject."""
    assert isinstance(event, BgpOpen)
    try:
        agreed = negotiate(m.config, m.local_open, event.message)
    except MessageError as error:
        sent = Notification(code=error.code, subcode=error.subcode, data=error.data)
        m.drop(now, f"OPEN rejected: {error.reason}", sent=sent)
        return
    m.peer_open = event.message
    m.agreed = agreed
    m.timers.stop(Timer.CONNECT_RETRY)
    m.send(Keepalive())
    m.timers.stop(Timer.HOLD)
    m.restart_hold(agreed, now)
    m.restart_keepalive(agreed, now)
    m.goto(_S.OPEN_CONFIRM, now)


def _keepalive_in_open_confirm(m: Machine, event: Input, now: float) -> None:
    """OpenConfirm + KeepAliveMsg: Established; the codec and framer take the agreement."""
    agreed = m.agreed
    assert agreed is not None
    m.restart_hold(agreed, now)
    m.adopt(agreed)
    m.counters.established_transitions += 1
    m.counters.established_at = now
    m.counters.updates_sent_before = m.counters.messages_sent[MessageType.UPDATE]
    m.counters.updates_received_before = m.counters.updates_received
    m.goto(_S.ESTABLISHED, now)
    m.emit(SessionEstablished(negotiated=agreed))


def _send_keepalive(m: Machine, event: Input, now: float) -> None:
    """OpenConfirm/Established + KeepaliveTimer_Expires: KEEPALIVE, restart (RFC 4271 §10)."""
    m.send(Keepalive())
    if m.agreed is not None:
        m.restart_keepalive(m.agreed, now)


def _keepalive_in_established(m: Machine, event: Input, now: float) -> None:
    """Established + KeepAliveMsg: restart the HoldTimer."""
    if m.agreed is not None:
        m.restart_hold(m.agreed, now)


def _update_in_established(m: Machine, event: Input, now: float) -> None:
    """Established + UpdateMsg: restart the HoldTimer, hand the UPDATE up."""
    assert isinstance(event, UpdateMsg)
    if m.agreed is not None:
        m.restart_hold(m.agreed, now)
    m.counters.updates_received += 1
    m.emit(UpdateReceived(update=event.update))


def _route_refresh_in_established(m: Machine, event: Input, now: float) -> None:
    """Established + ROUTE-REFRESH: a request for a negotiated family (RFC 2918 §4)."""
    assert isinstance(event, RouteRefreshMsg)
    agreed = m.agreed
    refresh = event.refresh
    if (
        agreed is not None
        and refresh.family in agreed.families
        and refresh.subtype == RouteRefreshSubtype.NORMAL
    ):
        m.emit(RouteRefreshReceived(refresh=refresh))


def _hold_expired(m: Machine, event: Input, now: float) -> None:
    """HoldTimer_Expires: NOTIFICATION Hold Timer Expired (4/0), close, Idle."""
    sent = Notification(code=ErrorCode.HOLD_TIMER_EXPIRED, subcode=0)
    m.drop(now, "hold timer expired", sent=sent)


def _message_error(m: Machine, event: Input, now: float) -> None:
    """A malformed message: its NOTIFICATION (RFC 4271 §6), close, Idle."""
    assert isinstance(event, BgpHeaderErr | BgpOpenMsgErr | UpdateMsgErr | RouteRefreshMsgErr)
    reason = event.reason or f"error {event.code}/{event.subcode}"
    m.drop(now, f"malformed message: {reason}", sent=event.notification)


def _collision_dump(m: Machine, event: Input, now: float) -> None:
    """OpenCollisionDump: NOTIFICATION Cease / Connection Collision Resolution (RFC 4271 §6.8)."""
    sent = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.CONNECTION_COLLISION_RESOLUTION)
    m.drop(now, "connection collision", sent=sent)


def _notification_received(m: Machine, event: Input, now: float) -> None:
    """NotifMsg: close, Idle; never answered with a NOTIFICATION (RFC 4271 §6.4)."""
    assert isinstance(event, NotifMsg | NotifMsgVerErr)
    n = event.notification
    m.drop(now, f"NOTIFICATION {n.code}/{n.subcode} received", received=n)


def _version_error_received(m: Machine, event: Input, now: float) -> None:
    """OpenSent/OpenConfirm + NotifMsgVerErr: Idle without counting a retry."""
    assert isinstance(event, NotifMsgVerErr)
    n = event.notification
    m.drop(now, f"NOTIFICATION {n.code}/{n.subcode} received", received=n, count=False)


def unexpected(m: Machine, event: Input, now: float) -> None:
    """Any other event (RFC 4271 §8.2.2): an FSM error.

    Idle ignores it.  Connect and Active drop the connection and go to Idle.
    OpenSent, OpenConfirm and Established send NOTIFICATION Finite State Machine
    Error with the RFC 6608 §3 subcode of the state, close, and go to Idle.
    """
    state = m.state
    name = type(event).__name__
    if state is _S.IDLE:
        return
    subcode = _FSM_SUBCODES.get(state)
    sent = None if subcode is None else Notification(code=ErrorCode.FSM_ERROR, subcode=subcode)
    m.drop(now, f"FSM error: {name} in {state.value}", sent=sent)


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
"""(state, input type) → handler; a missing pair is handled by :func:`unexpected`."""
