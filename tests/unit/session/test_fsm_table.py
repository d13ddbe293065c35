"""Properties of the transition table: every (state, input) pair, and random input sequences."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from bgpemu.session import (
    AutomaticStart,
    BgpHeaderErr,
    BgpOpen,
    BgpOpenMsgErr,
    ConnectRetryTimerExpires,
    Effect,
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
    Send,
    Session,
    SessionState,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    Timer,
    UpdateMsg,
    UpdateMsgErr,
)
from bgpemu.session.inputs import INPUT_TYPES
from bgpemu.session.transitions import TRANSITIONS
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import Codec
from bgpemu.wire.messages import (
    Keepalive,
    Notification,
    RouteRefresh,
    RouteRefreshSubtype,
    Update,
)

from .helpers import drive, make_config, new_session, notifications, peer_open

S = SessionState
CONNECTED = frozenset({S.OPEN_SENT, S.OPEN_CONFIRM, S.ESTABLISHED})
FSM_SUBCODE = {S.OPEN_SENT: 1, S.OPEN_CONFIRM: 2, S.ESTABLISHED: 3}
ALLOWED_TIMERS = {
    S.IDLE: {Timer.IDLE_HOLD},
    S.CONNECT: {Timer.CONNECT_RETRY},
    S.ACTIVE: {Timer.CONNECT_RETRY},
    S.OPEN_SENT: {Timer.HOLD},
    S.OPEN_CONFIRM: {Timer.HOLD, Timer.KEEPALIVE},
    S.ESTABLISHED: {Timer.HOLD, Timer.KEEPALIVE},
}
EFFECT_TYPES = Effect.__args__

_error_fields: dict[str, Any] = {
    "subcode": st.integers(0, 12),
    "data": st.binary(max_size=4),
    "reason": st.sampled_from(["", "why"]),
}
_notification = st.builds(
    Notification, code=st.integers(0, 8), subcode=st.integers(0, 8), data=st.binary(max_size=4)
)
_open = st.builds(
    peer_open,
    asn=st.sampled_from([65002, 65099, 4200000001]),
    hold_time=st.sampled_from([0, 1, 2, 3, 90, 240]),
    bgp_identifier=st.sampled_from(["10.0.0.2", "10.0.0.1", "0.0.0.0"]),
    version=st.sampled_from([4, 4, 3]),
)
INPUTS: dict[type[Any], st.SearchStrategy[Any]] = {
    ManualStart: st.builds(ManualStart, passive=st.booleans()),
    ManualStop: st.builds(ManualStop, subcode=st.integers(1, 8)),
    AutomaticStart: st.builds(AutomaticStart, passive=st.booleans()),
    ConnectRetryTimerExpires: st.just(ConnectRetryTimerExpires()),
    HoldTimerExpires: st.just(HoldTimerExpires()),
    KeepaliveTimerExpires: st.just(KeepaliveTimerExpires()),
    IdleHoldTimerExpires: st.just(IdleHoldTimerExpires()),
    TcpCrAcked: st.just(TcpCrAcked()),
    TcpConnectionConfirmed: st.just(TcpConnectionConfirmed()),
    TcpConnectionFails: st.just(TcpConnectionFails()),
    BgpOpen: st.builds(BgpOpen, message=_open),
    BgpHeaderErr: st.builds(BgpHeaderErr, code=st.just(1), **_error_fields),
    BgpOpenMsgErr: st.builds(BgpOpenMsgErr, code=st.just(2), **_error_fields),
    OpenCollisionDump: st.just(OpenCollisionDump()),
    NotifMsgVerErr: st.builds(NotifMsgVerErr, notification=_notification),
    NotifMsg: st.builds(NotifMsg, notification=_notification),
    KeepAliveMsg: st.just(KeepAliveMsg()),
    UpdateMsg: st.builds(
        UpdateMsg, update=st.sampled_from([Update(), Update(withdrawn=("10.0.0.0/8",))])
    ),
    UpdateMsgErr: st.builds(UpdateMsgErr, code=st.just(3), **_error_fields),
    RouteRefreshMsg: st.builds(
        RouteRefreshMsg,
        refresh=st.builds(
            RouteRefresh,
            family=st.sampled_from([IPV4_UNICAST, IPV6_UNICAST]),
            subtype=st.sampled_from(RouteRefreshSubtype),
        ),
    ),
    RouteRefreshMsgErr: st.builds(RouteRefreshMsgErr, code=st.just(7), **_error_fields),
}
PAIRS = list(itertools.product(SessionState, INPUT_TYPES))
TYPICAL: dict[type[Any], Input] = {
    type(event): event
    for event in (
        ManualStart(),
        ManualStop(),
        AutomaticStart(),
        ConnectRetryTimerExpires(),
        HoldTimerExpires(),
        KeepaliveTimerExpires(),
        IdleHoldTimerExpires(),
        TcpCrAcked(),
        TcpConnectionConfirmed(),
        TcpConnectionFails(),
        BgpOpen(message=peer_open()),
        BgpHeaderErr(code=1, subcode=1),
        BgpOpenMsgErr(code=2, subcode=4),
        OpenCollisionDump(),
        NotifMsgVerErr(notification=Notification(code=2, subcode=1)),
        NotifMsg(notification=Notification(code=6, subcode=2)),
        KeepAliveMsg(),
        UpdateMsg(update=Update()),
        UpdateMsgErr(code=3, subcode=1),
        RouteRefreshMsg(refresh=RouteRefresh(family=IPV4_UNICAST)),
        RouteRefreshMsgErr(code=7, subcode=1),
    )
}


def test_every_input_type_has_a_strategy_and_an_example() -> None:
    assert set(INPUTS) == set(INPUT_TYPES) == set(TYPICAL)


def check_invariants(session: Session, effects: list[Effect]) -> None:
    """What must hold after any call, whatever came before."""
    assert isinstance(session.state, SessionState)
    assert all(isinstance(e, EFFECT_TYPES) for e in effects)
    deadline = session.next_deadline()
    assert deadline is None or math.isfinite(deadline)
    assert (session.state is S.ESTABLISHED) == (session.negotiated is not None)
    assert session.armed_timers <= ALLOWED_TIMERS[session.state]
    codec = Codec(session.codec.context)
    for effect in effects:
        if isinstance(effect, Send) and effect.message is not None:
            assert codec.decode(effect.data) == effect.message


def _check_pair(state: SessionState, event: Input) -> None:
    session = new_session()
    drive(session, state)
    effects = session.handle(event, 1.0)
    check_invariants(session, effects)
    if (state, type(event)) not in TRANSITIONS and state in CONNECTED:
        assert notifications(effects) == [Notification(code=5, subcode=FSM_SUBCODE[state])]
        assert session.state is S.IDLE
    if (state, type(event)) not in TRANSITIONS and state not in CONNECTED:
        assert notifications(effects) == []


@pytest.mark.parametrize(("state", "input_type"), PAIRS)
def test_every_pair_with_a_typical_input(state: SessionState, input_type: type[Any]) -> None:
    """All 6 x 21 pairs once, with a fixed example input."""
    _check_pair(state, TYPICAL[input_type])


@given(pair=st.sampled_from(PAIRS), data=st.data())
def test_every_pair_never_raises(pair: tuple[SessionState, type[Any]], data: st.DataObject) -> None:
    state, input_type = pair
    _check_pair(state, data.draw(INPUTS[input_type]))


def test_fsm_errors_exist_in_every_connected_state() -> None:
    """The table leaves some pairs to the FSM-error path in each connected state."""
    for state in CONNECTED:
        missing = [t for t in INPUT_TYPES if (state, t) not in TRANSITIONS]
        assert UpdateMsg in missing or state is S.ESTABLISHED
        assert missing


def test_idle_has_an_explicit_entry_for_every_input() -> None:
    assert all((S.IDLE, t) in TRANSITIONS for t in INPUT_TYPES)


_codec = Codec()
_WIRE = [
    _codec.encode(Keepalive()),
    _codec.encode(peer_open()),
    _codec.encode(peer_open(hold_time=3)),
    _codec.encode(Update()),
    _codec.encode(Notification(code=6, subcode=2)),
    _codec.encode(Notification(code=2, subcode=1, data=b"\x00\x04")),
    _codec.encode(RouteRefresh(family=IPV4_UNICAST)),
]
_action = st.one_of(
    st.tuples(st.just("input"), st.one_of(*INPUTS.values())),
    st.tuples(st.just("wait"), st.floats(min_value=0.0, max_value=300.0)),
    st.tuples(st.just("wire"), st.lists(st.sampled_from(_WIRE), max_size=3).map(b"".join)),
    st.tuples(st.just("bytes"), st.binary(max_size=40)),
)


@settings(max_examples=300)
@given(
    actions=st.lists(_action, max_size=40),
    passive=st.booleans(),
    hold_time=st.sampled_from([0, 3, 90]),
    seed=st.integers(0, 2**16),
    start=st.sampled_from(SessionState),
)
def test_random_sequences_keep_invariants(
    actions: list[tuple[str, Any]], passive: bool, hold_time: int, seed: int, start: SessionState
) -> None:
    session = new_session(make_config(passive=passive, hold_time=hold_time), seed=seed)
    if passive and start is S.CONNECT:
        start = S.ACTIVE  # a passive session never enters Connect by itself
    check_invariants(session, drive(session, start))
    now = 0.0
    for kind, value in actions:
        if kind == "input":
            effects = session.handle(value, now)
        elif kind == "wait":
            now += value
            effects = session.on_timer(now)
        else:
            effects = session.receive_data(value, now)
        check_invariants(session, effects)
        deadline = session.next_deadline()
        assert deadline is None or deadline >= now - 300.0
    event(f"final state {session.state.value}")
    event(f"reached Established {session.counters.established_transitions > 0}")
