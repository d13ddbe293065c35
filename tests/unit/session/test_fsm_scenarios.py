"""Scenario tests of the RFC 4271 §8.2.2 FSM, driven with typed inputs in virtual time."""

from __future__ import annotations

import itertools

import pytest

from bgpemu.session import (
    AutomaticStart,
    BgpHeaderErr,
    BgpOpen,
    BgpOpenMsgErr,
    CloseTcp,
    ConnectRetryTimerExpires,
    ConnectTcp,
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
    RouteRefreshReceived,
    Send,
    SessionDown,
    SessionEstablished,
    SessionState,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    Timer,
    UpdateMsg,
    UpdateMsgErr,
    UpdateReceived,
)
from bgpemu.session.transitions import LARGE_HOLD_TIME
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import Codec
from bgpemu.wire.constants import MessageType
from bgpemu.wire.messages import (
    Capabilities,
    Keepalive,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshSubtype,
    Update,
)

from .helpers import (
    PEER_AS,
    drive,
    make_config,
    new_session,
    notifications,
    of_type,
    peer_capabilities,
    peer_open,
    sent,
    session_in,
    state_of,
    transitions,
)

S = SessionState
CONNECTED = (S.OPEN_SENT, S.OPEN_CONFIRM, S.ESTABLISHED)


# -- Idle, Connect, Active --------------------------------------------------------------


def test_manual_start_connects_and_arms_connect_retry() -> None:
    session = new_session()
    effects = session.handle(ManualStart(), 100.0)
    assert session.state is S.CONNECT
    assert transitions(effects) == [(S.IDLE, S.CONNECT)]
    assert ConnectTcp() in effects
    deadline = session.timer_deadline(Timer.CONNECT_RETRY)
    assert deadline is not None
    assert 100.0 + 0.75 * 120 <= deadline <= 100.0 + 120
    assert session.armed_timers == {Timer.CONNECT_RETRY}
    assert session.negotiated is None


@pytest.mark.parametrize(
    ("passive_config", "event"),
    [
        (True, ManualStart()),
        (False, ManualStart(passive=True)),
        (True, AutomaticStart()),
        (False, AutomaticStart(passive=True)),
    ],
)
def test_passive_start_waits_in_active(passive_config: bool, event: Input) -> None:
    session = new_session(make_config(passive=passive_config))
    effects = session.handle(event, 0.0)
    assert session.state is S.ACTIVE
    assert ConnectTcp() not in effects
    assert session.armed_timers == {Timer.CONNECT_RETRY}


def test_automatic_start_active_connects() -> None:
    session = new_session()
    assert ConnectTcp() in session.handle(AutomaticStart(), 0.0)
    assert session.state is S.CONNECT


def test_passive_active_connect_retry_only_restarts_timer() -> None:
    """Documented deviation: a passive session never connects out."""
    session = session_in(S.ACTIVE)
    first = session.next_deadline()
    assert first is not None
    effects = session.on_timer(first)
    assert effects == []
    assert session.state is S.ACTIVE
    second = session.next_deadline()
    assert second is not None
    assert first + 90 <= second <= first + 120


def test_active_connect_retry_moves_to_connect() -> None:
    """OpenSent + TcpConnectionFails → Active; ConnectRetry expiry then connects out."""
    session = session_in(S.OPEN_SENT)
    effects = session.handle(TcpConnectionFails(), 10.0)
    assert session.state is S.ACTIVE
    assert of_type(effects, SessionDown)
    assert session.armed_timers == {Timer.CONNECT_RETRY}
    deadline = session.next_deadline()
    assert deadline is not None
    effects = session.on_timer(deadline)
    assert state_of(session) is S.CONNECT
    assert ConnectTcp() in effects
    assert session.armed_timers == {Timer.CONNECT_RETRY}


def test_connect_retry_in_connect_drops_attempt_and_retries() -> None:
    session = session_in(S.CONNECT)
    deadline = session.next_deadline()
    assert deadline is not None
    effects = session.on_timer(deadline)
    assert session.state is S.CONNECT
    assert effects == [CloseTcp(), ConnectTcp()]
    again = session.next_deadline()
    assert again is not None
    assert deadline + 90 <= again <= deadline + 120


@pytest.mark.parametrize(
    ("start", "event"),
    [
        (S.CONNECT, TcpCrAcked()),
        (S.ACTIVE, TcpConnectionConfirmed()),
        (S.CONNECT, TcpConnectionConfirmed()),
        (S.ACTIVE, TcpCrAcked()),
    ],
)
def test_tcp_up_sends_open_and_arms_large_hold_timer(start: SessionState, event: Input) -> None:
    session = session_in(start)
    effects = session.handle(event, 5.0)
    assert session.state is S.OPEN_SENT
    (message,) = sent(effects)
    assert isinstance(message, Open)
    assert message == session.local_open
    assert message.asn == 65001
    assert message.hold_time == 90
    (send,) = of_type(effects, Send)
    assert Codec().decode(send.data) == message
    assert session.armed_timers == {Timer.HOLD}
    assert session.timer_deadline(Timer.HOLD) == 5.0 + LARGE_HOLD_TIME
    assert session.counters.messages_sent[MessageType.OPEN] == 1


def test_tcp_fails_in_connect_goes_idle_and_restarts_later() -> None:
    session = session_in(S.CONNECT)
    effects = session.handle(TcpConnectionFails(), 1.0)
    assert session.state is S.IDLE
    assert not of_type(effects, SessionDown)
    assert session.counters.connect_retry_counter == 0
    assert session.armed_timers == {Timer.IDLE_HOLD}
    assert session.next_deadline() == 1.0 + 5.0


def test_tcp_fails_in_active_counts_a_retry() -> None:
    session = session_in(S.ACTIVE)
    session.handle(TcpConnectionFails(), 1.0)
    assert session.state is S.IDLE
    assert session.counters.connect_retry_counter == 1


@pytest.mark.parametrize("state", [S.CONNECT, S.ACTIVE])
@pytest.mark.parametrize(
    "event", [KeepAliveMsg(), HoldTimerExpires(), UpdateMsg(update=Update()), OpenCollisionDump()]
)
def test_unexpected_event_in_connect_or_active_drops_without_notification(
    state: SessionState, event: Input
) -> None:
    session = session_in(state)
    effects = session.handle(event, 1.0)
    assert session.state is S.IDLE
    assert sent(effects) == []
    assert CloseTcp() in effects
    assert session.counters.connect_retry_counter == 1


@pytest.mark.parametrize(
    "event",
    [
        KeepAliveMsg(),
        TcpCrAcked(),
        TcpConnectionFails(),
        HoldTimerExpires(),
        NotifMsg(notification=Notification(code=6, subcode=2)),
        UpdateMsg(update=Update()),
        BgpOpen(message=peer_open()),
    ],
)
def test_idle_ignores_other_events(event: Input) -> None:
    session = new_session()
    assert session.handle(event, 0.0) == []
    assert session.state is S.IDLE
    assert session.next_deadline() is None


@pytest.mark.parametrize("state", [S.CONNECT, S.ACTIVE, *CONNECTED])
@pytest.mark.parametrize("event", [ManualStart(), AutomaticStart(), ManualStart(passive=True)])
def test_start_is_ignored_when_not_idle(state: SessionState, event: Input) -> None:
    session = session_in(state)
    assert session.handle(event, 1.0) == []
    assert session.state is state


@pytest.mark.parametrize("state", CONNECTED)
@pytest.mark.parametrize("event", [TcpCrAcked(), TcpConnectionConfirmed()])
def test_second_connection_is_left_to_the_shell(state: SessionState, event: Input) -> None:
    """RFC 4271 §6.8: a second connection is tracked by collision detection, not the FSM."""
    session = session_in(state)
    assert session.handle(event, 1.0) == []
    assert session.state is state


# -- OpenSent ----------------------------------------------------------------------------


def test_open_received_sends_keepalive_and_goes_open_confirm() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.handle(BgpOpen(message=peer_open(hold_time=30)), 2.0)
    assert session.state is S.OPEN_CONFIRM
    assert sent(effects) == [Keepalive()]
    assert session.peer_open == peer_open(hold_time=30)
    assert session.negotiated is None  # only set at Established
    assert session.armed_timers == {Timer.HOLD, Timer.KEEPALIVE}
    assert session.timer_deadline(Timer.HOLD) == 32.0
    keepalive = session.timer_deadline(Timer.KEEPALIVE)
    assert keepalive is not None
    assert 2.0 + 7.5 <= keepalive <= 2.0 + 10


def test_open_with_hold_time_zero_arms_no_hold_or_keepalive_timer() -> None:
    session = session_in(S.OPEN_SENT)
    session.handle(BgpOpen(message=peer_open(hold_time=0)), 2.0)
    assert session.state is S.OPEN_CONFIRM
    assert session.armed_timers == frozenset()
    session.handle(KeepAliveMsg(), 3.0)
    assert state_of(session) is S.ESTABLISHED
    assert session.next_deadline() is None
    negotiated = session.negotiated
    assert negotiated is not None
    assert (negotiated.hold_time, negotiated.keepalive_time) == (0, 0)


@pytest.mark.parametrize(
    ("remote", "subcode", "data"),
    [
        (peer_open(version=3), 1, b"\x00\x04"),
        (peer_open(asn=65099), 2, b""),
        (peer_open(bgp_identifier="0.0.0.0"), 3, b""),
        (peer_open(hold_time=1), 6, b""),
        (peer_open(hold_time=2), 6, b""),
    ],
)
def test_bad_open_is_rejected(remote: Open, subcode: int, data: bytes) -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.handle(BgpOpen(message=remote), 3.0)
    expected = Notification(code=2, subcode=subcode, data=data)
    assert notifications(effects) == [expected]
    assert effects.index(CloseTcp()) > next(i for i, e in enumerate(effects) if isinstance(e, Send))
    assert session.state is S.IDLE
    (down,) = of_type(effects, SessionDown)
    assert down.sent == expected
    assert down.received is None
    assert session.peer_open is None
    assert session.counters.connect_retry_counter == 1
    assert session.counters.last_notification_sent == expected
    assert session.armed_timers == {Timer.IDLE_HOLD}


def test_bad_open_rejected_for_ibgp_own_identifier() -> None:
    config = make_config(peer_as=65001)
    session = session_in(S.OPEN_SENT, config)
    remote = peer_open(asn=65001, bgp_identifier="10.0.0.1")
    effects = session.handle(BgpOpen(message=remote), 0.0)
    assert notifications(effects) == [Notification(code=2, subcode=3)]


def test_open_message_error_input_sends_its_notification() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.handle(BgpOpenMsgErr(code=2, subcode=4, data=b"\x09", reason="opt"), 0.0)
    assert notifications(effects) == [Notification(code=2, subcode=4, data=b"\x09")]
    assert session.state is S.IDLE


@pytest.mark.parametrize("state", [S.OPEN_SENT, S.OPEN_CONFIRM])
def test_version_error_notification_goes_idle_without_counting(state: SessionState) -> None:
    session = session_in(state)
    received = Notification(code=2, subcode=1, data=b"\x00\x03")
    effects = session.handle(NotifMsgVerErr(notification=received), 0.0)
    assert session.state is S.IDLE
    assert sent(effects) == []
    assert session.counters.connect_retry_counter == 0
    assert session.counters.last_notification_received == received
    (down,) = of_type(effects, SessionDown)
    assert down.received == received


@pytest.mark.parametrize("state", [S.OPEN_SENT, S.OPEN_CONFIRM])
def test_notification_in_open_states_is_not_answered(state: SessionState) -> None:
    session = session_in(state)
    received = Notification(code=6, subcode=5)
    effects = session.handle(NotifMsg(notification=received), 0.0)
    assert sent(effects) == []
    assert session.state is S.IDLE
    assert of_type(effects, SessionDown)[0].received == received


# -- OpenConfirm -------------------------------------------------------------------------


def test_keepalive_in_open_confirm_establishes() -> None:
    config = make_config(extended_message=True)
    session = session_in(S.OPEN_CONFIRM, config)
    effects = session.handle(KeepAliveMsg(), 7.0)
    assert session.state is S.ESTABLISHED
    assert transitions(effects) == [(S.OPEN_CONFIRM, S.ESTABLISHED)]
    (up,) = of_type(effects, SessionEstablished)
    assert session.negotiated == up.negotiated
    assert up.negotiated.peer_as == PEER_AS
    assert up.negotiated.families == (IPV4_UNICAST,)
    assert session.codec.context == up.negotiated.codec_context
    assert session.counters.established_transitions == 1
    assert session.counters.established_at == 7.0
    assert session.counters.last_state_change == 7.0
    assert session.timer_deadline(Timer.HOLD) == 97.0


def test_open_confirm_keepalive_timer_sends_keepalive() -> None:
    session = session_in(S.OPEN_CONFIRM)
    deadline = session.timer_deadline(Timer.KEEPALIVE)
    assert deadline is not None
    effects = session.on_timer(deadline)
    assert sent(effects) == [Keepalive()]
    assert session.state is S.OPEN_CONFIRM


@pytest.mark.parametrize("state", [S.OPEN_CONFIRM, S.ESTABLISHED])
def test_tcp_fails_after_open_goes_idle_and_counts(state: SessionState) -> None:
    session = session_in(state)
    effects = session.handle(TcpConnectionFails(), 1.0)
    assert session.state is S.IDLE
    assert sent(effects) == []
    assert session.counters.connect_retry_counter == 1
    assert session.negotiated is None
    (down,) = of_type(effects, SessionDown)
    assert (down.sent, down.received) == (None, None)


# -- Established -------------------------------------------------------------------------


def test_update_in_established_is_handed_up_and_restarts_hold() -> None:
    session = session_in(S.ESTABLISHED)
    update = Update(nlri=("10.0.0.0/24",))
    effects = session.handle(UpdateMsg(update=update), 50.0)
    assert effects == [UpdateReceived(update=update)]
    assert session.timer_deadline(Timer.HOLD) == 140.0
    assert session.counters.updates_received == 1


def test_keepalive_in_established_restarts_hold() -> None:
    session = session_in(S.ESTABLISHED)
    assert session.handle(KeepAliveMsg(), 60.0) == []
    assert session.timer_deadline(Timer.HOLD) == 150.0


def test_route_refresh_in_established_is_reported() -> None:
    session = session_in(S.ESTABLISHED)
    refresh = RouteRefresh(family=IPV4_UNICAST)
    assert session.handle(RouteRefreshMsg(refresh=refresh), 1.0) == [
        RouteRefreshReceived(refresh=refresh)
    ]


@pytest.mark.parametrize(
    "refresh",
    [
        RouteRefresh(family=IPV6_UNICAST),
        RouteRefresh(family=IPV4_UNICAST, subtype=RouteRefreshSubtype.BEGIN_OF_RIB),
        RouteRefresh(family=IPV4_UNICAST, subtype=RouteRefreshSubtype.END_OF_RIB),
    ],
)
def test_route_refresh_for_other_family_or_demarcation_is_ignored(refresh: RouteRefresh) -> None:
    session = session_in(S.ESTABLISHED)
    assert session.handle(RouteRefreshMsg(refresh=refresh), 1.0) == []
    assert session.state is S.ESTABLISHED


@pytest.mark.parametrize(
    "event",
    [
        UpdateMsgErr(code=3, subcode=1, data=b"", reason="malformed"),
        BgpHeaderErr(code=1, subcode=2, data=b"\x00\x05", reason="length"),
        RouteRefreshMsgErr(code=7, subcode=1, data=b"\xff" * 24, reason="rr length"),
    ],
)
def test_message_error_in_established_sends_its_notification(
    event: UpdateMsgErr | BgpHeaderErr | RouteRefreshMsgErr,
) -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.handle(event, 1.0)
    expected = Notification(code=event.code, subcode=event.subcode, data=event.data)
    assert notifications(effects) == [expected]
    assert session.state is S.IDLE
    assert CloseTcp() in effects
    (down,) = of_type(effects, SessionDown)
    assert down.sent == expected


def test_notification_in_established_closes() -> None:
    session = session_in(S.ESTABLISHED)
    received = Notification(code=6, subcode=2)
    effects = session.handle(NotifMsg(notification=received), 1.0)
    assert sent(effects) == []
    assert CloseTcp() in effects
    assert session.state is S.IDLE
    (down,) = of_type(effects, SessionDown)
    assert down.received == received
    assert "6/2" in down.reason


def test_hold_timer_expiry_sends_4_0_and_goes_idle() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.on_timer(90.0)
    assert session.state is S.IDLE
    assert Notification(code=4, subcode=0) in notifications(effects)
    (down,) = of_type(effects, SessionDown)
    assert down.reason == "hold timer expired"
    assert session.armed_timers == {Timer.IDLE_HOLD}
    assert session.counters.connect_retry_counter == 1


@pytest.mark.parametrize("state", CONNECTED)
def test_hold_timer_expires_event_in_connected_states(state: SessionState) -> None:
    session = session_in(state)
    effects = session.handle(HoldTimerExpires(), 1.0)
    assert notifications(effects) == [Notification(code=4, subcode=0)]
    assert session.state is S.IDLE


@pytest.mark.parametrize("state", CONNECTED)
def test_open_collision_dump_sends_cease_7(state: SessionState) -> None:
    session = session_in(state)
    effects = session.handle(OpenCollisionDump(), 1.0)
    assert notifications(effects) == [Notification(code=6, subcode=7)]
    assert session.state is S.IDLE
    assert of_type(effects, SessionDown)[0].reason == "connection collision"


@pytest.mark.parametrize(
    ("state", "event", "subcode"),
    [
        (S.OPEN_SENT, UpdateMsg(update=Update()), 1),
        (S.OPEN_SENT, KeepAliveMsg(), 1),
        (S.OPEN_SENT, RouteRefreshMsg(refresh=RouteRefresh(family=IPV4_UNICAST)), 1),
        (S.OPEN_SENT, KeepaliveTimerExpires(), 1),
        (S.OPEN_CONFIRM, UpdateMsg(update=Update()), 2),
        (S.OPEN_CONFIRM, BgpOpen(message=peer_open()), 2),
        (S.OPEN_CONFIRM, ConnectRetryTimerExpires(), 2),
        (S.ESTABLISHED, BgpOpen(message=peer_open()), 3),
        (S.ESTABLISHED, BgpOpenMsgErr(code=2, subcode=2), 3),
        (S.ESTABLISHED, IdleHoldTimerExpires(), 3),
    ],
)
def test_fsm_error_sends_rfc6608_subcode(state: SessionState, event: Input, subcode: int) -> None:
    session = session_in(state)
    effects = session.handle(event, 1.0)
    assert notifications(effects) == [Notification(code=5, subcode=subcode)]
    assert session.state is S.IDLE
    assert CloseTcp() in effects


def test_keepalive_timer_in_established_sends_and_rearms_with_jitter() -> None:
    session = session_in(S.ESTABLISHED)
    now = 0.0
    for _ in range(5):
        deadline = session.timer_deadline(Timer.KEEPALIVE)
        assert deadline is not None
        assert now + 22.5 <= deadline <= now + 30.0
        # The peer keeps the session alive.
        session.handle(KeepAliveMsg(), deadline)
        effects = session.on_timer(deadline)
        assert sent(effects) == [Keepalive()]
        now = deadline
    assert session.state is S.ESTABLISHED
    assert session.counters.messages_sent[MessageType.KEEPALIVE] == 1 + 5


def test_hold_timer_expires_90s_after_last_message_in_virtual_time() -> None:
    """Without anything from the peer, keepalives go out every ~30 s; hold expires at 90 s."""
    session = session_in(S.ESTABLISHED)
    session.handle(KeepAliveMsg(), 10.0)  # last message from the peer at t=10
    keepalive_times: list[float] = []
    while session.state is S.ESTABLISHED:
        deadline = session.next_deadline()
        assert deadline is not None
        effects = session.on_timer(deadline)
        if Keepalive() in sent(effects):
            keepalive_times.append(deadline)
    assert session.counters.last_state_change == 100.0
    assert session.counters.last_notification_sent == Notification(code=4, subcode=0)
    assert 3 <= len(keepalive_times) <= 4
    gaps = [b - a for a, b in itertools.pairwise(keepalive_times)]
    assert all(22.5 <= gap <= 30.0 for gap in gaps)


def test_on_timer_before_deadline_does_nothing() -> None:
    session = session_in(S.ESTABLISHED)
    deadline = session.next_deadline()
    assert deadline is not None
    assert session.on_timer(deadline - 0.001) == []
    assert session.next_deadline() == deadline


def test_on_timer_fires_every_expired_timer_once() -> None:
    """A late wake-up: keepalive then hold both expired; hold wins and keepalive is moot."""
    session = session_in(S.ESTABLISHED)
    effects = session.on_timer(1000.0)
    assert sent(effects) == [Keepalive(), Notification(code=4, subcode=0)]
    assert session.state is S.IDLE
    assert session.armed_timers == {Timer.IDLE_HOLD}


# -- ManualStop, automatic restart --------------------------------------------------------


@pytest.mark.parametrize("state", CONNECTED)
def test_manual_stop_sends_cease_when_open_exchanged(state: SessionState) -> None:
    session = session_in(state)
    effects = session.stop(3.0, subcode=4)
    assert notifications(effects) == [Notification(code=6, subcode=4)]
    assert session.state is S.IDLE
    assert session.next_deadline() is None
    assert session.counters.connect_retry_counter == 0
    assert of_type(effects, SessionDown)[0].sent == Notification(code=6, subcode=4)


def test_manual_stop_default_subcode_is_administrative_shutdown() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.handle(ManualStop(), 0.0)
    assert notifications(effects) == [Notification(code=6, subcode=2)]


@pytest.mark.parametrize("state", [S.CONNECT, S.ACTIVE])
def test_manual_stop_before_open_just_closes(state: SessionState) -> None:
    session = session_in(state)
    effects = session.stop(1.0)
    assert sent(effects) == []
    assert CloseTcp() in effects
    assert session.state is S.IDLE
    assert session.next_deadline() is None


def test_manual_stop_in_idle_cancels_automatic_restart() -> None:
    session = session_in(S.ESTABLISHED)
    session.handle(HoldTimerExpires(), 0.0)
    assert session.armed_timers == {Timer.IDLE_HOLD}
    assert session.stop(1.0) == []
    assert session.next_deadline() is None
    assert session.handle(IdleHoldTimerExpires(), 5.0) == []
    assert session.state is S.IDLE


def test_idle_hold_timer_restarts_an_active_session() -> None:
    session = session_in(S.ESTABLISHED)
    session.handle(NotifMsg(notification=Notification(code=6, subcode=4)), 20.0)
    assert session.next_deadline() == 25.0
    assert session.on_timer(24.9) == []
    effects = session.on_timer(25.0)
    assert session.state is S.CONNECT
    assert ConnectTcp() in effects
    assert session.armed_timers == {Timer.CONNECT_RETRY}


def test_idle_hold_timer_restarts_a_passive_session_in_active() -> None:
    session = new_session()
    drive(session, S.ACTIVE)
    session.handle(TcpConnectionConfirmed(), 0.0)
    session.handle(HoldTimerExpires(), 240.0)
    assert session.state is S.IDLE
    effects = session.on_timer(245.0)
    assert state_of(session) is S.ACTIVE
    assert ConnectTcp() not in effects


@pytest.mark.parametrize("passive", [False, True])
def test_a_session_that_succeeds_another_restarts_with_its_passive_mode(passive: bool) -> None:
    """A collision candidate starts passive; once it wins (RFC 4271 §6.8), ``succeed``
    gives it the PassiveTcpEstablishment of the session it replaces (§8.1.1): after
    its next fall to Idle an active peering connects out again."""
    previous = new_session(make_config(passive=passive))
    previous.handle(ManualStart(), 0.0)
    session = new_session()
    drive(session, S.ACTIVE)  # ManualStart(passive=True): a candidate
    session.handle(TcpConnectionConfirmed(), 0.0)
    session.succeed(previous)
    session.handle(HoldTimerExpires(), 240.0)
    assert session.state is S.IDLE
    effects = session.on_timer(245.0)
    assert state_of(session) is (S.ACTIVE if passive else S.CONNECT)
    assert (ConnectTcp() in effects) is not passive


def test_no_automatic_restart_when_disabled() -> None:
    session = session_in(S.ESTABLISHED, make_config(auto_restart=False))
    session.handle(HoldTimerExpires(), 0.0)
    assert session.state is S.IDLE
    assert session.next_deadline() is None


def test_idle_hold_time_is_configurable() -> None:
    session = session_in(S.CONNECT, make_config(idle_hold_time=30.0))
    session.handle(TcpConnectionFails(), 2.0)
    assert session.next_deadline() == 32.0


def test_connect_retry_counter_counts_failures_and_resets_on_start() -> None:
    session = session_in(S.OPEN_SENT, make_config(auto_restart=False))
    session.handle(UpdateMsg(update=Update()), 0.0)  # FSM error in OpenSent: +1
    assert session.counters.connect_retry_counter == 1
    session.handle(AutomaticStart(), 1.0)
    assert session.state is S.CONNECT
    session.handle(TcpCrAcked(), 1.0)
    session.handle(HoldTimerExpires(), 2.0)  # +1 again
    assert session.counters.connect_retry_counter == 1
    session.handle(ManualStart(), 3.0)  # RFC 4271 §8.2.2 Idle: counter set to zero
    assert session.counters.connect_retry_counter == 0
    session.handle(OpenCollisionDump(), 3.0)
    assert session.counters.connect_retry_counter == 1


# -- shell-facing helpers -------------------------------------------------------------------


def test_send_update_frames_in_established() -> None:
    session = session_in(S.ESTABLISHED)
    before = session.timer_deadline(Timer.KEEPALIVE)
    frames = [b"\xff" * 16 + b"\x00\x17\x02\x00\x00\x00\x00", b"x"]
    effects = session.send_update_frames(frames, 20.0)
    assert effects == [Send(data=frames[0], message=None), Send(data=frames[1], message=None)]
    assert session.counters.updates_sent == 2
    assert session.counters.messages_sent[MessageType.UPDATE] == 2
    after = session.timer_deadline(Timer.KEEPALIVE)
    assert after is not None
    assert before is not None
    assert after >= 20.0 + 22.5 > before


@pytest.mark.parametrize("state", [S.IDLE, S.CONNECT, S.ACTIVE, S.OPEN_SENT, S.OPEN_CONFIRM])
def test_send_update_frames_outside_established_is_nothing(state: SessionState) -> None:
    session = session_in(state)
    assert session.send_update_frames([b"frame"], 1.0) == []
    assert session.counters.updates_sent == 0


def test_request_route_refresh() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.request_route_refresh(IPV4_UNICAST, 1.0)
    assert sent(effects) == [RouteRefresh(family=IPV4_UNICAST)]
    assert session.counters.messages_sent[MessageType.ROUTE_REFRESH] == 1
    assert session.request_route_refresh(IPV6_UNICAST, 1.0) == []


def test_request_route_refresh_needs_peer_support_and_established() -> None:
    assert session_in(S.OPEN_CONFIRM).request_route_refresh(IPV4_UNICAST, 1.0) == []
    session = session_in(S.OPEN_SENT)
    caps = peer_capabilities(route_refresh=False)
    session.handle(BgpOpen(message=peer_open(capabilities=caps)), 0.0)
    session.handle(KeepAliveMsg(), 0.0)
    assert session.state is S.ESTABLISHED
    assert session.request_route_refresh(IPV4_UNICAST, 1.0) == []


def test_four_octet_local_as_open() -> None:
    session = session_in(S.CONNECT, make_config(local_as=4200000001))
    effects = session.handle(TcpCrAcked(), 0.0)
    (message,) = sent(effects)
    assert isinstance(message, Open)
    assert message.my_as == 23456
    assert message.capabilities == Capabilities(
        multiprotocol=(IPV4_UNICAST,),
        route_refresh=True,
        enhanced_route_refresh=True,
        four_octet_as=4200000001,
    )
