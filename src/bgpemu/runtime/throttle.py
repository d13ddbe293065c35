"""Log lines a peer can provoke, bounded: at most one per interval, the rest counted.

A flood of malformed UPDATEs (RFC 7606 §6 asks for a log line with the whole message,
up to 64 KiB with RFC 8654) or of connections from unconfigured addresses must not
flood the log: the first event is logged at once, later ones at most once per interval,
and that line says how many were held back since the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LogThrottle"]


@dataclass(slots=True)
class LogThrottle:
    """At most one log line per ``interval`` seconds (``now`` is passed in)."""

    interval: float
    held: int = 0
    """Events held back since the last line."""
    _last: float | None = None

    def allow(self, now: float) -> int | None:
        """None if this event is held back (and counted); otherwise the number of events
        held back since the previous line, which the caller's line should report."""
        if self._last is not None and now - self._last < self.interval:
            self.held += 1
            return None
        held, self.held, self._last = self.held, 0, now
        return held
