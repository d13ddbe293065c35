"""The four session timers as plain deadlines (RFC 4271 §8, §10).

Theory of operation: a timer is armed by storing an absolute deadline (same clock
as every ``now`` the shell passes in) and disarmed by forgetting it.  Nothing here
reads a clock or sleeps: the shell asks for :meth:`Timers.next_deadline`, sleeps
until then, and calls ``Session.on_timer(now)``, which asks :meth:`Timers.due` for
the expired timers and feeds the matching inputs to the FSM.
"""

from __future__ import annotations

import random
from enum import Enum

__all__ = ["JITTER_RANGE", "Timer", "Timers", "jittered"]

JITTER_RANGE = (0.75, 1.0)
"""RFC 4271 §10: ConnectRetry and Keepalive intervals are multiplied by a random
factor uniformly distributed in this range (the Hold timer is not jittered)."""


class Timer(Enum):
    """The timers of RFC 4271 §8.1.3 (IdleHold from §8.1.1)."""

    CONNECT_RETRY = "ConnectRetryTimer"
    HOLD = "HoldTimer"
    KEEPALIVE = "KeepaliveTimer"
    IDLE_HOLD = "IdleHoldTimer"


def jittered(interval: float, rng: random.Random) -> float:
    """``interval`` times a factor uniform in :data:`JITTER_RANGE` (RFC 4271 §10)."""
    low, high = JITTER_RANGE
    return interval * rng.uniform(low, high)


class Timers:
    """Deadlines of the armed timers."""

    __slots__ = ("_deadlines",)

    def __init__(self) -> None:
        self._deadlines: dict[Timer, float] = {}

    def start(self, timer: Timer, now: float, interval: float) -> None:
        """Arm (or re-arm) ``timer`` to expire ``interval`` seconds after ``now``."""
        self._deadlines[timer] = now + interval

    def stop(self, timer: Timer) -> None:
        """Disarm ``timer`` (RFC 4271 "sets the timer to zero")."""
        self._deadlines.pop(timer, None)

    def stop_all(self) -> None:
        """Disarm every timer."""
        self._deadlines.clear()

    def deadline(self, timer: Timer) -> float | None:
        """The deadline of ``timer``, or None when it is not armed."""
        return self._deadlines.get(timer)

    def armed(self) -> frozenset[Timer]:
        """The timers that are armed."""
        return frozenset(self._deadlines)

    def next_deadline(self) -> float | None:
        """The earliest deadline, or None when no timer is armed."""
        return min(self._deadlines.values(), default=None)

    def due(self, now: float) -> list[tuple[Timer, float]]:
        """The (timer, deadline) pairs expired at ``now``, earliest first."""
        expired = [(t, d) for t, d in self._deadlines.items() if d <= now]
        return sorted(expired, key=lambda item: item[1])
