"""Session FSM micro-benchmark: the per-message path of an Established session.

Not a test.  Two sessions are connected in memory and brought to Established; then
the receiving one is fed chunks of small UPDATEs (``Session.receive_data``: framing,
decoding, the transition table, the HoldTimer restart; decoding dominates), KEEPALIVE
inputs (``Session.handle``: the transition table and the HoldTimer restart alone), and
the sending one sends pre-encoded UPDATE frames (``Session.send_update_frames``).
Each figure is the fastest of REPEATS runs (the least disturbed by other load on a
shared machine), in µs per message.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_session.py``; to compare two trees,
run it with PYTHONPATH pointing at each, alternately, on a quiet machine.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

from bgpemu.session import (
    ConnectTcp,
    Effect,
    KeepAliveMsg,
    ManualStart,
    Send,
    Session,
    SessionConfig,
    SessionState,
    TcpConnectionConfirmed,
    TcpCrAcked,
)
from bgpemu.wire import AsPathSegment, Origin, PathAttributes, SegmentType, Update

REPEATS = 15
CHUNK = 200
LOOPS = 25


def established_pair() -> tuple[Session, Session]:
    """Two sessions (AS 65001 active, AS 65002 passive) in Established."""
    a = Session(
        SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="10.0.0.1"), random.Random(1)
    )
    b = Session(
        SessionConfig(local_as=65002, peer_as=65001, bgp_identifier="10.0.0.2", passive=True),
        random.Random(2),
    )
    queue: deque[tuple[Session, Effect]] = deque()
    queue.extend((a, e) for e in a.handle(ManualStart(), 0.0))
    queue.extend((b, e) for e in b.handle(ManualStart(passive=True), 0.0))
    while queue:
        origin, effect = queue.popleft()
        peer = b if origin is a else a
        if isinstance(effect, ConnectTcp):
            queue.extend((origin, e) for e in origin.handle(TcpCrAcked(), 0.0))
            queue.extend((peer, e) for e in peer.handle(TcpConnectionConfirmed(), 0.0))
        elif isinstance(effect, Send):
            queue.extend((peer, e) for e in peer.receive_data(effect.data, 0.0))
    assert a.state is b.state is SessionState.ESTABLISHED, (a.state, b.state)
    return a, b


def update_frames(session: Session, count: int) -> list[bytes]:
    """``count`` one-prefix UPDATEs encoded with ``session``'s agreed codec."""
    attrs = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),),
        next_hop="192.0.2.1",
    )
    return [
        session.codec.encode(
            Update(nlri=(f"10.{i // 256 % 256}.{i % 256}.0/24",), attributes=attrs)
        )
        for i in range(count)
    ]


def best_us(func: Callable[[], object], per_call: int) -> float:
    """The fastest over REPEATS of the time of one message, in µs."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(LOOPS):
            func()
        runs.append((time.perf_counter() - start) / (LOOPS * per_call) * 1e6)
    return min(runs)


def main() -> None:
    a, b = established_pair()
    frames = update_frames(a, CHUNK)
    chunk = b"".join(frames)
    now = [1.0]

    def receive() -> None:
        now[0] += 0.001
        b.receive_data(chunk, now[0])

    keepalive = KeepAliveMsg()

    def handle() -> None:
        now[0] += 0.001
        for _ in range(CHUNK):
            b.handle(keepalive, now[0])

    def send() -> None:
        now[0] += 0.001
        a.send_update_frames(frames, now[0])

    print(f"receive_data, {CHUNK} UPDATEs a chunk: {best_us(receive, CHUNK):.2f} µs/message")
    print(f"handle(KeepAliveMsg), Established:  {best_us(handle, CHUNK):.3f} µs/message")
    print(f"send_update_frames, {CHUNK} a call:   {best_us(send, CHUNK):.3f} µs/message")


if __name__ == "__main__":
    main()
