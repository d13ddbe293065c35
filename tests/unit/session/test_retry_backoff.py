"""The bounded ConnectRetry backoff (RFC 4271 §8.1.1 DampPeerOscillations, §8.2.2, §10).

With ``connect_retry_max`` set (the lab profile: 1 s doubling to 30 s), a session whose
connection attempts keep failing (an external router that is down, a neighbour held
down after a max-prefix trip) waits in Active, accepting the peer's own connection,
for a ConnectRetryTimer that doubles after every failed attempt up to the bound, and
starts again from ConnectRetryTime once a session is Established.
"""

from __future__ import annotations

import pytest

from bgpemu.session import (
    BgpOpen,
    ConnectTcp,
    KeepAliveMsg,
    ManualStart,
    NotifMsg,
    Session,
    SessionState,
    TcpConnectionFails,
    TcpCrAcked,
    Timer,
)
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import Notification

from .helpers import make_config, new_session, peer_open, state_of

S = SessionState


def _lab_session() -> Session:
    return new_session(make_config(connect_retry_time=1.0, connect_retry_max=30.0))


def _fail_attempts(session: Session, count: int, now: float) -> list[float]:
    """Let ``count`` connection attempts be refused; the wait armed after each."""
    waits: list[float] = []
    for _ in range(count):
        assert state_of(session) is S.CONNECT
        session.handle(TcpConnectionFails(), now)
        assert state_of(session) is S.ACTIVE  # still listening for the peer (RFC 4271 §8.2.2)
        assert session.armed_timers == {Timer.CONNECT_RETRY}
        deadline = session.timer_deadline(Timer.CONNECT_RETRY)
        assert deadline is not None
        waits.append(deadline - now)
        now = deadline
        assert ConnectTcp() in session.on_timer(now)
    return waits


def test_refused_attempts_back_off_from_connect_retry_time_to_the_bound() -> None:
    session = _lab_session()
    session.handle(ManualStart(), 0.0)
    waits = _fail_attempts(session, 10, 0.0)
    bounds = [1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    for wait, bound in zip(waits, bounds, strict=True):
        assert 0.75 * bound <= wait <= bound  # jittered (RFC 4271 §10)


def test_backoff_starts_again_once_established() -> None:
    session = _lab_session()
    session.handle(ManualStart(), 0.0)
    _fail_attempts(session, 6, 0.0)
    session.handle(TcpCrAcked(), 100.0)
    session.handle(BgpOpen(message=peer_open()), 100.0)
    session.handle(KeepAliveMsg(), 100.0)
    assert state_of(session) is S.ESTABLISHED
    cease = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.ADMINISTRATIVE_RESET)
    session.handle(NotifMsg(notification=cease), 101.0)
    assert state_of(session) is S.IDLE
    idle_hold = session.next_deadline()
    assert idle_hold is not None
    session.on_timer(idle_hold)
    assert state_of(session) is S.CONNECT
    (wait,) = _fail_attempts(session, 1, idle_hold)
    assert 0.75 <= wait <= 1.0


def test_idle_hold_backs_off_while_sessions_fail_before_established() -> None:
    """A peer that accepts TCP but keeps rejecting the session (RFC 4271 §8.1.1
    DampPeerOscillations): the IdleHoldTime doubles up to the bound too."""
    session = new_session(
        make_config(connect_retry_time=1.0, connect_retry_max=30.0, idle_hold_time=0.2)
    )
    session.handle(ManualStart(), 0.0)
    now = 0.0
    holds: list[float] = []
    reject = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.CONNECTION_REJECTED)
    for _ in range(10):
        assert state_of(session) is S.CONNECT
        session.handle(TcpCrAcked(), now)
        session.handle(NotifMsg(notification=reject), now)
        assert state_of(session) is S.IDLE
        deadline = session.timer_deadline(Timer.IDLE_HOLD)
        assert deadline is not None
        holds.append(deadline - now)
        now = deadline
        session.on_timer(now)
    assert holds[0] == pytest.approx(0.2)
    assert holds[1] == pytest.approx(0.4)
    assert max(holds) == pytest.approx(30.0)


def test_without_a_bound_connect_failure_is_rfc_idle() -> None:
    """The default (no ``connect_retry_max``) keeps RFC 4271 §8.2.2's Idle and a fixed
    IdleHoldTime, as speaker configs without the lab profile expect."""
    session = new_session()
    session.handle(ManualStart(), 0.0)
    for at in (1.0, 7.0, 13.0):
        session.handle(TcpConnectionFails(), at)
        assert state_of(session) is S.IDLE
        assert session.next_deadline() == at + 5.0
        session.on_timer(at + 5.0)


def test_connect_retry_expiry_in_connect_counts_as_a_failed_attempt() -> None:
    """An attempt that hangs (no answer within the ConnectRetryTimer) is a failed one."""
    session = _lab_session()
    session.handle(ManualStart(), 0.0)
    deadlines = []
    for _ in range(3):
        deadline = session.timer_deadline(Timer.CONNECT_RETRY)
        assert deadline is not None
        deadlines.append(deadline)
        assert ConnectTcp() in session.on_timer(deadline)  # dropped and dialled again
        assert state_of(session) is S.CONNECT
    last = session.timer_deadline(Timer.CONNECT_RETRY)
    assert last is not None
    assert 0.75 <= deadlines[1] - deadlines[0] <= 1.0
    assert 1.5 <= deadlines[2] - deadlines[1] <= 2.0
    assert 3.0 <= last - deadlines[2] <= 4.0


def test_config_rejects_a_bound_below_connect_retry_time() -> None:
    with pytest.raises(ValueError, match="connect_retry_max"):
        make_config(connect_retry_time=5.0, connect_retry_max=1.0)
