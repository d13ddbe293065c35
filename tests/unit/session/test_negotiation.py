"""negotiate(): RFC 4271 §6.2 OPEN checks and the capability intersections."""

from __future__ import annotations

import pytest

from bgpemu.errors import MessageError
from bgpemu.session import negotiate
from bgpemu.session.negotiation import local_open
from bgpemu.types import AS_TRANS, IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire.constants import ErrorCode, OpenErrorSubcode
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import AddPathMode, Capabilities, GracefulRestart, Open

from .helpers import LOCAL_AS, LOCAL_ID, PEER_AS, PEER_ID, make_config, peer_capabilities, peer_open


def _reject(remote: Open, **config: object) -> MessageError:
    cfg = make_config(**config)
    with pytest.raises(MessageError) as info:
        negotiate(cfg, local_open(cfg), remote)
    assert info.value.code == ErrorCode.OPEN_MESSAGE_ERROR
    return info.value


def test_negotiate_hold_time_is_the_minimum() -> None:
    cfg = make_config(hold_time=90)
    agreed = negotiate(cfg, local_open(cfg), peer_open(hold_time=30))
    assert (agreed.hold_time, agreed.keepalive_time) == (30, 10)
    agreed = negotiate(cfg, local_open(cfg), peer_open(hold_time=180))
    assert (agreed.hold_time, agreed.keepalive_time) == (90, 30)


def test_negotiate_hold_time_zero_disables_keepalive() -> None:
    cfg = make_config()
    agreed = negotiate(cfg, local_open(cfg), peer_open(hold_time=0))
    assert (agreed.hold_time, agreed.keepalive_time) == (0, 0)
    cfg0 = make_config(hold_time=0)
    assert negotiate(cfg0, local_open(cfg0), peer_open(hold_time=90)).hold_time == 0


def test_negotiate_keepalive_rounds_down() -> None:
    cfg = make_config(hold_time=10)
    assert negotiate(cfg, local_open(cfg), peer_open(hold_time=10)).keepalive_time == 3


@pytest.mark.parametrize("hold_time", [1, 2])
def test_negotiate_rejects_hold_time_one_and_two(hold_time: int) -> None:
    error = _reject(peer_open(hold_time=hold_time))
    assert error.subcode == OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME


def test_negotiate_accepts_hold_time_three() -> None:
    cfg = make_config()
    assert negotiate(cfg, local_open(cfg), peer_open(hold_time=3)).hold_time == 3


def test_negotiate_rejects_other_versions_with_our_version_as_data() -> None:
    error = _reject(peer_open(version=3))
    assert error.subcode == OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER
    assert error.data == b"\x00\x04"


def test_negotiate_rejects_peer_as_mismatch() -> None:
    error = _reject(peer_open(asn=65099))
    assert error.subcode == OpenErrorSubcode.BAD_PEER_AS
    assert error.data == b""


def test_negotiate_four_octet_peer_as_via_as_trans() -> None:
    remote = peer_open(asn=4200000001)
    assert remote.my_as == AS_TRANS
    cfg = make_config(peer_as=4200000001)
    agreed = negotiate(cfg, local_open(cfg), remote)
    assert agreed.peer_as == 4200000001
    assert agreed.four_octet_as


def test_negotiate_as_trans_without_capability_is_bad_peer_as() -> None:
    remote = Open(my_as=AS_TRANS, hold_time=90, bgp_identifier=PEER_ID, capabilities=Capabilities())
    error = _reject(remote, peer_as=4200000001)
    assert error.subcode == OpenErrorSubcode.BAD_PEER_AS


def test_negotiate_two_octet_peer_has_no_four_octet_as() -> None:
    remote = Open(my_as=PEER_AS, hold_time=90, bgp_identifier=PEER_ID, capabilities=Capabilities())
    cfg = make_config()
    agreed = negotiate(cfg, local_open(cfg), remote)
    assert not agreed.four_octet_as
    assert not agreed.codec_context.four_octet_as


def test_local_open_uses_as_trans_for_four_octet_asn() -> None:
    cfg = make_config(local_as=4200000001)
    mine = local_open(cfg)
    assert mine.my_as == AS_TRANS
    assert mine.asn == 4200000001
    assert mine.capabilities.four_octet_as == 4200000001
    assert local_open(make_config()).my_as == LOCAL_AS


@pytest.mark.parametrize("identifier", ["0.0.0.0", "not-an-ip", "256.1.1.1"])
def test_negotiate_rejects_bad_identifier(identifier: str) -> None:
    error = _reject(peer_open(bgp_identifier=identifier))
    assert error.subcode == OpenErrorSubcode.BAD_BGP_IDENTIFIER


def test_negotiate_rejects_own_identifier_for_ibgp() -> None:
    remote = peer_open(asn=LOCAL_AS, bgp_identifier=LOCAL_ID)
    error = _reject(remote, peer_as=LOCAL_AS)
    assert error.subcode == OpenErrorSubcode.BAD_BGP_IDENTIFIER


def test_negotiate_allows_same_identifier_for_ebgp() -> None:
    """RFC 6286 §2.2: uniqueness is only required within an AS."""
    cfg = make_config()
    agreed = negotiate(cfg, local_open(cfg), peer_open(bgp_identifier=LOCAL_ID))
    assert agreed.peer_bgp_identifier == LOCAL_ID


def test_negotiate_families_are_the_intersection_in_our_order() -> None:
    cfg = make_config(families=(IPV6_UNICAST, IPV4_UNICAST))
    caps = peer_capabilities(multiprotocol=(IPV4_UNICAST, IPV6_UNICAST))
    agreed = negotiate(cfg, local_open(cfg), peer_open(capabilities=caps))
    assert agreed.families == (IPV6_UNICAST, IPV4_UNICAST)
    caps = peer_capabilities(multiprotocol=(IPV6_UNICAST,))
    assert negotiate(cfg, local_open(cfg), peer_open(capabilities=caps)).families == (IPV6_UNICAST,)


def test_negotiate_no_multiprotocol_capability_means_ipv4_unicast() -> None:
    """RFC 4760 §8."""
    cfg = make_config(families=(IPV4_UNICAST, IPV6_UNICAST))
    caps = peer_capabilities(multiprotocol=())
    assert negotiate(cfg, local_open(cfg), peer_open(capabilities=caps)).families == (IPV4_UNICAST,)
    v6_only = make_config(families=(IPV6_UNICAST,))
    assert negotiate(v6_only, local_open(v6_only), peer_open(capabilities=caps)).families == ()


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        (True, True, True),
        (True, False, False),
        (False, True, False),
    ],
)
def test_negotiate_boolean_capabilities_need_both(ours: bool, theirs: bool, expected: bool) -> None:
    cfg = make_config(route_refresh=ours, enhanced_route_refresh=ours, extended_message=ours)
    caps = peer_capabilities(
        route_refresh=theirs, enhanced_route_refresh=theirs, extended_message=theirs
    )
    agreed = negotiate(cfg, local_open(cfg), peer_open(capabilities=caps))
    assert agreed.route_refresh is expected
    assert agreed.enhanced_route_refresh is expected
    assert agreed.extended_message is expected
    assert agreed.codec_context.max_message_size == (65535 if expected else 4096)


def test_negotiate_graceful_restart_is_what_the_peer_advertised() -> None:
    cfg = make_config()
    plain = negotiate(cfg, local_open(cfg), peer_open())
    assert not plain.graceful_restart
    caps = peer_capabilities(graceful_restart=GracefulRestart())
    assert negotiate(cfg, local_open(cfg), peer_open(capabilities=caps)).graceful_restart


def test_local_open_graceful_restart_capability() -> None:
    gr = local_open(make_config(graceful_restart=True)).capabilities.graceful_restart
    assert gr == GracefulRestart(restart_time=120, families=((IPV4_UNICAST, False),))
    assert local_open(make_config()).capabilities.graceful_restart is None


@pytest.mark.parametrize(
    ("ours", "theirs", "receive", "send"),
    [
        (AddPathMode.RECEIVE, AddPathMode.SEND, True, False),
        (AddPathMode.RECEIVE, AddPathMode.RECEIVE, False, False),
        (AddPathMode.SEND, AddPathMode.RECEIVE, False, True),
        (AddPathMode.SEND, AddPathMode.SEND, False, False),
        (AddPathMode.BOTH, AddPathMode.BOTH, True, True),
        (AddPathMode.BOTH, AddPathMode.SEND, True, False),
        (AddPathMode.BOTH, AddPathMode.RECEIVE, False, True),
        (AddPathMode.RECEIVE, AddPathMode.BOTH, True, False),
        (None, AddPathMode.BOTH, False, False),
        (AddPathMode.BOTH, None, False, False),
    ],
)
def test_negotiate_add_path_per_rfc7911(
    ours: AddPathMode | None, theirs: AddPathMode | None, receive: bool, send: bool
) -> None:
    cfg = make_config(add_path=() if ours is None else ((IPV4_UNICAST, ours),))
    caps = peer_capabilities(add_path=() if theirs is None else ((IPV4_UNICAST, theirs),))
    agreed = negotiate(cfg, local_open(cfg), peer_open(capabilities=caps))
    assert (IPV4_UNICAST in agreed.add_path_receive) is receive
    assert (IPV4_UNICAST in agreed.add_path_send) is send
    assert agreed.codec_context == CodecContext(
        add_path_receive=agreed.add_path_receive,
        add_path_send=agreed.add_path_send,
        external=True,
    )


@pytest.mark.parametrize(("peer_as", "external"), [(LOCAL_AS, False), (LOCAL_AS + 1, True)])
def test_codec_context_says_whether_the_peer_is_external(peer_as: int, external: bool) -> None:
    """RFC 7606 §7.5, §7.9, §7.10 discard LOCAL_PREF etc. from external peers only."""
    cfg = make_config(peer_as=peer_as)
    agreed = negotiate(cfg, local_open(cfg), peer_open(asn=peer_as))
    assert agreed.codec_context.external is external


def test_negotiate_add_path_only_on_negotiated_families() -> None:
    cfg = make_config(
        families=(IPV4_UNICAST, IPV6_UNICAST), add_path=((IPV6_UNICAST, AddPathMode.BOTH),)
    )
    caps = peer_capabilities(
        multiprotocol=(IPV4_UNICAST,), add_path=((IPV6_UNICAST, AddPathMode.BOTH),)
    )
    agreed = negotiate(cfg, local_open(cfg), peer_open(capabilities=caps))
    assert agreed.add_path_receive == frozenset()
    assert agreed.add_path_send == frozenset()


def test_negotiate_keeps_both_opens() -> None:
    cfg = make_config()
    mine, theirs = local_open(cfg), peer_open()
    agreed = negotiate(cfg, mine, theirs)
    assert (agreed.local_open, agreed.remote_open) == (mine, theirs)
    assert (agreed.peer_as, agreed.peer_bgp_identifier) == (PEER_AS, PEER_ID)
