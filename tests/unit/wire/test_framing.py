"""Framer: RFC 4271 §4.1 / §6.1 header errors and stream splitting."""

from __future__ import annotations

import random

import pytest

from bgpemu.errors import MessageError
from bgpemu.wire import Framer

from .factories import MARKER, header, message, update

KEEPALIVE = header(0, 4)


def test_splits_stream_in_random_chunks() -> None:
    frames = [
        message(1, bytes(10)),
        KEEPALIVE,
        update(nlri=b"\x18\x0a\x00\x00"),
        message(3, b"\x06\x02"),
        message(5, b"\x00\x01\x00\x01"),
    ]
    stream = b"".join(frames)
    rng = random.Random(7)
    framer = Framer()
    got: list[bytes] = []
    pos = 0
    while pos < len(stream):
        step = rng.randint(1, 40)
        got += framer.feed(stream[pos : pos + step])
        pos += step
    assert got == frames
    assert framer.buffered == 0


def test_partial_tail_is_buffered() -> None:
    framer = Framer()
    assert framer.feed(KEEPALIVE + KEEPALIVE[:7]) == [KEEPALIVE]
    assert framer.buffered == 7
    assert framer.feed(KEEPALIVE[7:]) == [KEEPALIVE]


@pytest.mark.parametrize(
    ("data", "subcode", "err_data"),
    [
        (b"\x00" * 16 + b"\x00\x13\x04", 1, b""),
        (MARKER + b"\x00\x12\x04", 2, b"\x00\x12"),
        (MARKER + b"\x10\x01\x02", 2, b"\x10\x01"),
        (MARKER + b"\x00\x13\x06", 3, b"\x06"),
        (MARKER + b"\x00\x13\x00", 3, b"\x00"),
        (MARKER + b"\x00\x14\x04" + b"\x00", 2, b"\x00\x14"),  # KEEPALIVE != 19
        (MARKER + b"\x00\x1c\x01", 2, b"\x00\x1c"),  # OPEN < 29
        (MARKER + b"\x00\x16\x02", 2, b"\x00\x16"),  # UPDATE < 23
        (MARKER + b"\x00\x14\x03", 2, b"\x00\x14"),  # NOTIFICATION < 21
    ],
)
def test_header_errors(data: bytes, subcode: int, err_data: bytes) -> None:
    framer = Framer()
    with pytest.raises(MessageError) as info:
        framer.feed(data)
    assert (info.value.code, info.value.subcode, info.value.data) == (1, subcode, err_data)
    with pytest.raises(MessageError) as again:  # the framer is dead afterwards
        framer.feed(KEEPALIVE)
    assert again.value is info.value


def test_route_refresh_bad_length_is_7_1_with_whole_message() -> None:
    bad = message(5, b"\x00\x01\x00\x01\x00")
    framer = Framer()
    with pytest.raises(MessageError) as info:
        framer.feed(bad)
    assert (info.value.code, info.value.subcode, info.value.data) == (7, 1, bad)


def test_max_message_size_is_settable() -> None:
    big = update(nlri=b"\x18\x0a\x00\x00" * 1100)
    framer = Framer()
    with pytest.raises(MessageError):
        framer.feed(big)
    framer = Framer()
    framer.max_message_size = 65535
    assert framer.feed(big) == [big]
