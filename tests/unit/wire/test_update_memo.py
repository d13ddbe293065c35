"""UpdateMemo: an UPDATE frame decoded once for every session that shares the memo.

The fabric hands one memo to all its sessions: a hub sends the very same frames to
each of its peers, and decoding is a function of the frame and the codec context
alone.  A hit must be the result a codec of that context would have decoded itself.
"""

from __future__ import annotations

import pytest

from bgpemu.errors import MessageError
from bgpemu.wire import Codec, CodecContext, Update
from bgpemu.wire.codec import UpdateMemo

from .factories import MANDATORY, NLRI_10_24, attr, update

LOCAL_PREF_200 = attr(0x40, 5, (200).to_bytes(4, "big"))
FRAME = update(attrs=MANDATORY + LOCAL_PREF_200, nlri=NLRI_10_24)


def _codec(memo: UpdateMemo, *, external: bool = False) -> Codec:
    codec = Codec(CodecContext(external=external))
    codec.memo = memo
    return codec


def test_the_same_frame_is_decoded_once_for_every_sharing_session() -> None:
    memo = UpdateMemo()
    first = _codec(memo).decode(FRAME)
    second = _codec(memo).decode(FRAME)
    assert isinstance(first, Update)
    assert second is first
    assert second == Codec(CodecContext()).decode(FRAME)


def test_another_context_decodes_for_itself() -> None:
    # An external peer's LOCAL_PREF is discarded (RFC 7606 §7.5): the same bytes
    # decode differently, so the memo must not hand one context's result to the other.
    memo = UpdateMemo()
    internal = _codec(memo).decode(FRAME)
    external = _codec(memo, external=True).decode(FRAME)
    assert isinstance(internal, Update)
    assert isinstance(external, Update)
    assert internal.attributes.local_pref == 200
    assert external.attributes.local_pref is None
    assert external == Codec(CodecContext(external=True)).decode(FRAME)


def test_a_malformed_frame_raises_for_every_session() -> None:
    memo = UpdateMemo()
    bad = update(attrs=MANDATORY + b"\x40\x01")  # truncated attribute header: 3/1
    for _ in range(2):
        with pytest.raises(MessageError):
            _codec(memo).decode(bad)
    assert len(memo) == 0


def test_the_memo_is_bounded_in_entries_and_bytes() -> None:
    memo = UpdateMemo(max_entries=8, max_bytes=10_000)
    codec = _codec(memo)
    for number in range(100):
        nlri = bytes((24, 10, number, 0))
        codec.decode(update(attrs=MANDATORY, nlri=nlri))
    assert len(memo) == 8
    big = UpdateMemo(max_entries=1_000, max_bytes=2_000)
    codec = _codec(big)
    for number in range(100):
        codec.decode(update(attrs=MANDATORY, nlri=bytes((24, 10, number, 0))))
    assert 0 < big.size <= 2_000
