"""Timers as deadlines and the RFC 4271 §10 jitter."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bgpemu.session.timers import Timer, Timers, jittered


def test_timers_start_stop_and_next_deadline() -> None:
    timers = Timers()
    assert timers.next_deadline() is None
    timers.start(Timer.HOLD, 10.0, 90)
    timers.start(Timer.KEEPALIVE, 10.0, 30)
    assert timers.next_deadline() == 40.0
    assert timers.armed() == {Timer.HOLD, Timer.KEEPALIVE}
    timers.stop(Timer.KEEPALIVE)
    assert timers.deadline(Timer.KEEPALIVE) is None
    assert timers.next_deadline() == 100.0
    timers.stop(Timer.KEEPALIVE)  # stopping a stopped timer is harmless
    timers.stop_all()
    assert timers.armed() == frozenset()


def test_timers_due_in_deadline_order() -> None:
    timers = Timers()
    timers.start(Timer.HOLD, 0.0, 5)
    timers.start(Timer.KEEPALIVE, 0.0, 3)
    timers.start(Timer.CONNECT_RETRY, 0.0, 50)
    assert timers.due(2.9) == []
    assert timers.due(5.0) == [(Timer.KEEPALIVE, 3.0), (Timer.HOLD, 5.0)]


@given(st.integers(min_value=0, max_value=2**32), st.floats(min_value=1.0, max_value=1e5))
def test_jitter_is_within_rfc4271_bounds(seed: int, interval: float) -> None:
    value = jittered(interval, random.Random(seed))
    assert 0.75 * interval <= value <= interval


def test_jitter_uses_the_injected_random() -> None:
    assert jittered(120.0, random.Random(7)) == jittered(120.0, random.Random(7))
    values = {jittered(120.0, random.Random(seed)) for seed in range(20)}
    assert len(values) > 1
