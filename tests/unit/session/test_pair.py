"""Two sessions over the real codec (SessionPair), and receive_data on raw bytes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgpemu.session import (
    ManualStart,
    RouteRefreshReceived,
    Send,
    SessionDown,
    SessionEstablished,
    SessionState,
    TcpCrAcked,
    Timer,
    UpdateReceived,
)
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import Codec
from bgpemu.wire.constants import MARKER, MessageType
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import (
    AddPathMode,
    AsPathSegment,
    Keepalive,
    Notification,
    Origin,
    PathAttributes,
    RouteRefresh,
    SegmentType,
    Update,
)

from .helpers import (
    LOCAL_AS,
    PEER_AS,
    PEER_ID,
    SessionPair,
    make_config,
    notifications,
    of_type,
    peer_capabilities,
    peer_open,
    sent,
    session_in,
    state_of,
)

S = SessionState
ATTRS = PathAttributes(
    origin=Origin.IGP,
    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (LOCAL_AS,)),),
    next_hop="192.0.2.1",
)


def _established_pair(**b_overrides: object) -> SessionPair:
    b_config = make_config(
        local_as=PEER_AS, peer_as=LOCAL_AS, bgp_identifier=PEER_ID, passive=True, **b_overrides
    )
    pair = SessionPair.create(b=b_config)
    pair.start()
    assert (pair.a.state, pair.b.state) == (S.ESTABLISHED, S.ESTABLISHED)
    return pair


def _counts_match(pair: SessionPair) -> None:
    """Architecture §3.7: what one end sent, the other received."""
    assert pair.a.counters.messages_sent == pair.b.counters.messages_received
    assert pair.b.counters.messages_sent == pair.a.counters.messages_received


# -- SessionPair -----------------------------------------------------------------------------


def test_pair_reaches_established_with_matching_negotiation() -> None:
    pair = _established_pair(hold_time=30)
    a, b = pair.a.negotiated, pair.b.negotiated
    assert a is not None
    assert b is not None
    assert (a.hold_time, b.hold_time) == (30, 30)
    assert (a.peer_as, b.peer_as) == (PEER_AS, LOCAL_AS)
    assert a.families == b.families == (IPV4_UNICAST,)
    assert a.route_refresh
    assert b.route_refresh
    assert a.four_octet_as
    assert b.four_octet_as
    assert len(of_type(pair.effects_of("a"), SessionEstablished)) == 1
    assert [m.type for m in sent(pair.effects_of("a")) if m is not None] == [
        MessageType.OPEN,
        MessageType.KEEPALIVE,
    ]
    _counts_match(pair)


def test_pair_exchanges_updates() -> None:
    pair = _established_pair()
    frames = pair.a.codec.pack_announce(IPV4_UNICAST, ATTRS, ["10.1.0.0/24", "10.2.0.0/16"])
    pair.feed(pair.a, pair.a.send_update_frames(frames, pair.now))
    received = of_type(pair.effects_of("b"), UpdateReceived)
    assert [u.update.nlri for u in received] == [("10.1.0.0/24", "10.2.0.0/16")]
    assert received[0].update.attributes.next_hop == "192.0.2.1"
    withdraw = pair.b.codec.pack_withdraw(IPV4_UNICAST, ["10.9.0.0/16"])
    pair.feed(pair.b, pair.b.send_update_frames(withdraw, pair.now))
    back = of_type(pair.effects_of("a"), UpdateReceived)
    assert [u.update.withdrawn for u in back] == [("10.9.0.0/16",)]
    assert pair.b.counters.updates_received == 1
    assert pair.a.counters.updates_received == 1
    _counts_match(pair)


def test_pair_ipv6_and_add_path_and_extended_message() -> None:
    families = (IPV4_UNICAST, IPV6_UNICAST)
    a_config = make_config(
        families=families,
        add_path=((IPV6_UNICAST, AddPathMode.SEND),),
        extended_message=True,
    )
    b_config = make_config(
        local_as=PEER_AS,
        peer_as=LOCAL_AS,
        bgp_identifier=PEER_ID,
        passive=True,
        families=families,
        add_path=((IPV6_UNICAST, AddPathMode.RECEIVE),),
        extended_message=True,
    )
    pair = SessionPair.create(a_config, b_config)
    pair.start()
    assert pair.a.codec.context == CodecContext(
        add_path_send=frozenset({IPV6_UNICAST}), extended_message=True, external=True
    )
    assert pair.b.codec.context == CodecContext(
        add_path_receive=frozenset({IPV6_UNICAST}), extended_message=True, external=True
    )
    attrs = PathAttributes(origin=Origin.IGP, next_hop="2001:db8::1")
    frames = pair.a.codec.pack_announce(
        IPV6_UNICAST, attrs, ["2001:db8:1::/48", "2001:db8:1::/48"], path_ids=[1, 2]
    )
    pair.feed(pair.a, pair.a.send_update_frames(frames, pair.now))
    (got,) = of_type(pair.effects_of("b"), UpdateReceived)
    assert got.update.mp_reach is not None
    assert got.update.mp_reach.path_ids == (1, 2)


def test_pair_stays_up_for_an_hour_of_virtual_time() -> None:
    pair = _established_pair()
    pair.advance_to(3600.0)
    assert (pair.a.state, pair.b.state) == (S.ESTABLISHED, S.ESTABLISHED)
    assert pair.a.counters.established_transitions == 1
    keepalives = pair.a.counters.messages_sent[MessageType.KEEPALIVE]
    assert 3600 / 30 <= keepalives <= 3600 / 22.5 + 2
    _counts_match(pair)


def test_pair_route_refresh() -> None:
    pair = _established_pair()
    pair.feed(pair.a, pair.a.request_route_refresh(IPV4_UNICAST, pair.now))
    assert of_type(pair.effects_of("b"), RouteRefreshReceived) == [
        RouteRefreshReceived(refresh=RouteRefresh(family=IPV4_UNICAST))
    ]


def test_pair_manual_stop_and_restart() -> None:
    pair = _established_pair()
    pair.now = 10.0
    pair.feed(pair.a, pair.a.stop(pair.now))
    assert pair.a.state is S.IDLE
    assert pair.b.state is S.IDLE
    (down,) = of_type(pair.effects_of("b"), SessionDown)
    assert down.received == Notification(code=6, subcode=2)
    assert pair.a.next_deadline() is None  # ManualStop: no automatic restart
    pair.advance_to(20.0)
    assert state_of(pair.b) is S.ACTIVE  # passive B restarted and waits
    assert pair.a.state is S.IDLE
    pair.feed(pair.a, pair.a.handle(ManualStart(), pair.now))
    assert (state_of(pair.a), state_of(pair.b)) == (S.ESTABLISHED, S.ESTABLISHED)
    assert pair.a.counters.established_transitions == 2
    _counts_match(pair)


def test_pair_recovers_after_hold_timer_expiry() -> None:
    """Peer goes silent: both hold timers expire, both restart, and they meet again."""
    pair = _established_pair()
    pair.connected = False  # a silent black hole: nothing is delivered any more
    pair.advance_to(95.0)
    assert (pair.a.state, pair.b.state) != (S.ESTABLISHED, S.ESTABLISHED)
    assert pair.a.counters.last_notification_sent == Notification(code=4, subcode=0)
    assert pair.b.counters.last_notification_sent == Notification(code=4, subcode=0)
    pair.advance_to(400.0)
    assert (state_of(pair.a), state_of(pair.b)) == (S.ESTABLISHED, S.ESTABLISHED)
    assert pair.a.counters.established_transitions == 2


# -- receive_data on raw bytes ---------------------------------------------------------------

CODEC = Codec()


def _header(length: int, msg_type: int) -> bytes:
    return MARKER + length.to_bytes(2, "big") + bytes([msg_type])


def test_receive_data_is_ignored_without_a_connection() -> None:
    for state in (S.IDLE, S.CONNECT, S.ACTIVE):
        session = session_in(state)
        assert session.receive_data(CODEC.encode(Keepalive()), 0.0) == []
        assert session.counters.messages_received[MessageType.KEEPALIVE] == 0


def test_receive_data_open_byte_by_byte() -> None:
    session = session_in(S.OPEN_SENT)
    data = CODEC.encode(peer_open())
    effects = []
    for i in range(len(data)):
        effects.extend(session.receive_data(data[i : i + 1], 1.0))
    assert session.state is S.OPEN_CONFIRM
    assert sent(effects) == [Keepalive()]
    assert session.peer_open == peer_open()
    assert session.counters.messages_received[MessageType.OPEN] == 1


def test_receive_data_open_and_keepalive_in_one_chunk() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.receive_data(CODEC.encode(peer_open()) + CODEC.encode(Keepalive()), 1.0)
    assert session.state is S.ESTABLISHED
    assert of_type(effects, SessionEstablished)


def test_receive_data_bad_marker_is_header_error() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.receive_data(b"\x00" * 19, 1.0)
    assert notifications(effects) == [Notification(code=1, subcode=1)]
    assert session.state is S.IDLE


def test_receive_data_bad_length_is_header_error_with_length_data() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.receive_data(_header(5000, 2), 1.0)
    assert notifications(effects) == [Notification(code=1, subcode=2, data=b"\x13\x88")]


def test_receive_data_malformed_open_is_open_error() -> None:
    session = session_in(S.OPEN_SENT)
    good = CODEC.encode(peer_open())
    # Corrupt the optional parameters length (last octet of the fixed OPEN part).
    bad = good[:28] + bytes([good[28] + 1]) + good[29:]
    effects = session.receive_data(bad, 1.0)
    (notification,) = notifications(effects)
    assert notification.code == 2
    assert session.state is S.IDLE


def test_receive_data_open_with_wrong_as_is_bad_peer_as() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.receive_data(CODEC.encode(peer_open(asn=65099)), 1.0)
    assert notifications(effects) == [Notification(code=2, subcode=2)]


def test_receive_data_version_error_notification_in_open_sent() -> None:
    session = session_in(S.OPEN_SENT)
    data = CODEC.encode(Notification(code=2, subcode=1, data=b"\x00\x03"))
    effects = session.receive_data(data, 1.0)
    assert sent(effects) == []
    assert session.state is S.IDLE
    assert session.counters.connect_retry_counter == 0  # NotifMsgVerErr: not counted


def test_receive_data_undecodable_notification_is_never_answered() -> None:
    session = session_in(S.ESTABLISHED)
    # A NOTIFICATION whose 21-octet length passes the framer; if the decoder rejects it,
    # it must still be NotifMsg (RFC 4271 §6.1 / §6.4), never answered.
    effects = session.receive_data(_header(21, 3) + b"\x06\x02", 1.0)
    assert sent(effects) == []
    assert session.state is S.IDLE
    (down,) = of_type(effects, SessionDown)
    assert down.received is not None
    assert (down.received.code, down.received.subcode) == (6, 2)


def test_receive_data_malformed_update_is_update_error() -> None:
    session = session_in(S.ESTABLISHED)
    # Withdrawn routes length 200 in a 23-octet UPDATE: malformed attribute list (3/1).
    effects = session.receive_data(_header(23, 2) + b"\x00\xc8\x00\x00", 1.0)
    (notification,) = notifications(effects)
    assert notification.code == 3
    assert session.state is S.IDLE


def test_receive_data_route_refresh_bad_length_is_7_1() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.receive_data(_header(24, 5) + b"\x00\x01\x00\x01\x00", 1.0)
    (notification,) = notifications(effects)
    assert (notification.code, notification.subcode) == (7, 1)


def test_receive_data_update_in_open_sent_is_fsm_error() -> None:
    session = session_in(S.OPEN_SENT)
    effects = session.receive_data(CODEC.encode(Update()), 1.0)
    assert notifications(effects) == [Notification(code=5, subcode=1)]


def test_receive_data_stops_after_leaving_connected_states() -> None:
    session = session_in(S.ESTABLISHED)
    data = (
        CODEC.encode(Keepalive())
        + CODEC.encode(Notification(code=6, subcode=4))
        + CODEC.encode(Keepalive())
        + CODEC.encode(Update())
    )
    effects = session.receive_data(data, 1.0)
    assert len(of_type(effects, SessionDown)) == 1
    assert not of_type(effects, UpdateReceived)
    assert session.counters.messages_received[MessageType.KEEPALIVE] == 1
    assert session.counters.messages_received[MessageType.NOTIFICATION] == 1


def test_receive_data_updates_and_route_refresh_in_established() -> None:
    session = session_in(S.ESTABLISHED)
    frames = CODEC.pack_announce(IPV4_UNICAST, ATTRS, ["10.1.0.0/24"])
    data = b"".join(frames) + CODEC.encode(RouteRefresh(family=IPV4_UNICAST))
    effects = session.receive_data(data, 12.0)
    assert [type(e) for e in effects] == [UpdateReceived, RouteRefreshReceived]
    assert session.timer_deadline(Timer.HOLD) == 12.0 + 90


@pytest.mark.parametrize(("extended", "accepted"), [(True, True), (False, False)])
def test_receive_data_extended_message_size(extended: bool, accepted: bool) -> None:
    config = make_config(extended_message=extended)
    session = session_in(S.OPEN_SENT, config)
    caps = peer_capabilities(extended_message=True)
    session.receive_data(
        CODEC.encode(peer_open(capabilities=caps)) + CODEC.encode(Keepalive()), 0.0
    )
    assert session.state is S.ESTABLISHED
    big = Codec(CodecContext(extended_message=True))
    prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(2000)]
    (frame,) = big.pack_announce(IPV4_UNICAST, ATTRS, prefixes)
    assert len(frame) > 4096
    effects = session.receive_data(frame, 1.0)
    if accepted:
        (update,) = of_type(effects, UpdateReceived)
        assert len(update.update.nlri) == 2000
    else:
        assert notifications(effects)[0].code == 1
        assert state_of(session) is S.IDLE


def test_new_connection_resets_codec_context() -> None:
    session = session_in(S.OPEN_SENT, make_config(extended_message=True))
    caps = peer_capabilities(extended_message=True)
    session.receive_data(
        CODEC.encode(peer_open(capabilities=caps)) + CODEC.encode(Keepalive()), 0.0
    )
    assert session.codec.context.extended_message
    session.stop(1.0)
    session.handle(TcpCrAcked(), 1.0)  # ignored in Idle
    assert session.state is S.IDLE
    session.handle(ManualStart(), 2.0)
    effects = session.handle(TcpCrAcked(), 2.0)
    assert session.codec.context == CodecContext()
    assert len(of_type(effects, Send)) == 1


GARBAGE = b"\x00" * 19  # bad marker: 1/1


def test_receive_data_handles_messages_before_a_framing_error() -> None:
    session = session_in(S.ESTABLISHED)
    update = b"".join(CODEC.pack_announce(IPV4_UNICAST, ATTRS, ["10.1.0.0/24"]))
    effects = session.receive_data(update + GARBAGE, 1.0)
    assert isinstance(effects[0], UpdateReceived)
    assert notifications(effects) == [Notification(code=1, subcode=1)]
    assert session.state is S.IDLE


def test_receive_data_notification_before_garbage_closes_quietly() -> None:
    session = session_in(S.ESTABLISHED)
    effects = session.receive_data(CODEC.encode(Notification(code=6, subcode=3)) + GARBAGE, 1.0)
    assert sent(effects) == []
    assert of_type(effects, SessionDown)[0].received == Notification(code=6, subcode=3)


def test_receive_data_reframes_a_message_split_across_chunks_before_an_error() -> None:
    session = session_in(S.ESTABLISHED)
    update = b"".join(CODEC.pack_announce(IPV4_UNICAST, ATTRS, ["10.1.0.0/24"]))
    keepalive = CODEC.encode(Keepalive())
    assert session.receive_data(keepalive + update[:10], 1.0) == []
    assert session.receive_data(update[10:30], 1.0) == []
    effects = session.receive_data(update[30:] + keepalive + GARBAGE, 2.0)
    assert isinstance(effects[0], UpdateReceived)
    assert effects[0].update.nlri == ("10.1.0.0/24",)
    assert notifications(effects) == [Notification(code=1, subcode=1)]
    assert session.counters.messages_received[MessageType.KEEPALIVE] == 2


_STREAM_PARTS = [
    CODEC.encode(Keepalive()),
    b"".join(CODEC.pack_announce(IPV4_UNICAST, ATTRS, ["10.1.0.0/24", "10.3.0.0/16"])),
    CODEC.encode(RouteRefresh(family=IPV4_UNICAST)),
    CODEC.encode(Update(withdrawn=("10.1.0.0/24",))),
]


@given(
    parts=st.lists(st.sampled_from(_STREAM_PARTS), max_size=6),
    trailer=st.sampled_from([b"", GARBAGE, CODEC.encode(Notification(code=6, subcode=2))]),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
)
def test_receive_data_does_not_depend_on_chunking(
    parts: list[bytes], trailer: bytes, cuts: list[int]
) -> None:
    stream = b"".join(parts) + trailer
    whole = session_in(S.ESTABLISHED)
    expected = whole.receive_data(stream, 1.0)
    chunked = session_in(S.ESTABLISHED)
    got = []
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    for start, end in itertools.pairwise(bounds):
        got.extend(chunked.receive_data(stream[start:end], 1.0))
    assert got == expected
    assert chunked.state is whole.state
    assert chunked.counters.messages_received == whole.counters.messages_received
