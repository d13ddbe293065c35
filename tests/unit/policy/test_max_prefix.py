"""Max-prefix: the limit check and the RFC 4486 §4 Cease NOTIFICATION bytes."""

from __future__ import annotations

import pytest

from bgpemu.policy import (
    MaxPrefix,
    MaxPrefixAction,
    max_prefix_action,
    max_prefix_exceeded,
    max_prefix_notification,
)
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire import Codec
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.context import CodecContext


@pytest.mark.parametrize(
    ("limit", "count", "exceeded", "action"),
    [
        (MaxPrefix(10), 9, False, MaxPrefixAction.NONE),
        (MaxPrefix(10), 10, False, MaxPrefixAction.NONE),  # the limit itself is allowed
        (MaxPrefix(10), 11, True, MaxPrefixAction.CEASE),
        (MaxPrefix(10, restart_after=30.0), 11, True, MaxPrefixAction.CEASE),
        (MaxPrefix(10, warning_only=True), 11, True, MaxPrefixAction.WARN),
        (MaxPrefix(10, warning_only=True), 10, False, MaxPrefixAction.NONE),
        (MaxPrefix(0), 0, False, MaxPrefixAction.NONE),
        (MaxPrefix(0), 1, True, MaxPrefixAction.CEASE),
    ],
)
def test_max_prefix_check(
    limit: MaxPrefix, count: int, exceeded: bool, action: MaxPrefixAction
) -> None:
    assert max_prefix_exceeded(limit, count) is exceeded
    assert max_prefix_action(limit, count) is action


@pytest.mark.parametrize(
    ("family", "limit", "data"),
    [
        (IPV4_UNICAST, 100, bytes.fromhex("0001 01 00000064")),
        (IPV6_UNICAST, 5, bytes.fromhex("0002 01 00000005")),
        (IPV4_UNICAST, 0xFFFFFFFF, bytes.fromhex("0001 01 ffffffff")),
    ],
)
def test_max_prefix_notification_data_rfc_4486(family: Family, limit: int, data: bytes) -> None:
    note = max_prefix_notification(family, limit)
    assert (note.code, note.subcode, note.data) == (6, 1, data)
    assert note.code == ErrorCode.CEASE
    assert note.subcode == CeaseSubcode.MAXIMUM_PREFIXES_REACHED


def test_max_prefix_notification_wire_bytes() -> None:
    wire = Codec(CodecContext()).encode(max_prefix_notification(IPV4_UNICAST, 1000))
    # marker, length 28, type 3, Cease 6 / subcode 1, AFI 1, SAFI 1, limit 1000
    assert wire == b"\xff" * 16 + bytes.fromhex("001c 03 06 01 0001 01 000003e8")


def test_max_prefix_validation_and_describe() -> None:
    with pytest.raises(ValueError, match="limit"):
        MaxPrefix(-1)
    with pytest.raises(ValueError, match="limit"):
        MaxPrefix(2**32)
    with pytest.raises(ValueError, match="restart_after"):
        MaxPrefix(10, restart_after=0)
    with pytest.raises(ValueError, match="4 octets"):
        max_prefix_notification(IPV4_UNICAST, 2**32)
    assert str(MaxPrefix(100)) == "max-prefix 100"
    assert str(MaxPrefix(100, restart_after=30)) == "max-prefix 100 (restart after 30s)"
    assert str(MaxPrefix(100, warning_only=True)) == "max-prefix 100 (warning only)"
