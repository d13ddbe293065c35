"""The decoded-attribute cache of a Codec is bounded in bytes, not only in entries.

A peer that negotiated Extended Message (RFC 8654) can send UPDATEs whose attribute
block is close to 64 KB; 4,096 cached blocks of that size would hold over 250 MB per
session.  Decoding hundreds of distinct large blocks must leave little memory behind.
"""

from __future__ import annotations

import tracemalloc

from bgpemu.wire import Codec, CodecContext, Update

from .factories import MANDATORY, NLRI_10_24, attr, update

BIG = 60_000


def _frame(number: int) -> bytes:
    # A distinct unrecognized optional transitive attribute of BIG octets (kept as is).
    value = number.to_bytes(4, "big") + bytes(BIG - 4)
    return update(attrs=MANDATORY + attr(0xD0, 99, value), nlri=NLRI_10_24)


def test_large_distinct_attribute_sets_do_not_pile_up() -> None:
    codec = Codec(CodecContext(extended_message=True))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(300):
            msg = codec.decode(_frame(number))
            assert isinstance(msg, Update)
            assert len(msg.attributes.unknown[0].value) == BIG
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 300 blocks of 60 KB are 18 MB (36 MB with their decoded values) if all are kept.
    assert kept < 10_000_000, f"{kept:,} bytes kept by the codec"
