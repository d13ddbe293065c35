"""How a count and a duration read in what bgpemu prints (L0; issue 15).

One place for both, used by every command, summary and message: ``1 session``,
``2 sessions`` (never ``session(s)``), and a session uptime as FRR's ``show bgp summary``
prints it (bgpd's ``peer_uptime``): ``00:03:12`` under a day, ``1d02h03m`` under a week,
``01w0d01h`` under a year, ``01y01w1d`` beyond.
"""

from __future__ import annotations

__all__ = ["counted", "duration"]

_DAY = 86400
_WEEK = 7 * _DAY
_YEAR = 365 * _DAY


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun`` in agreement: ``1 prefix``, ``3 prefixes``; ``plural`` when
    adding ``s`` (``es`` after s, x, z, ch, sh) is not the plural."""
    if count == 1:
        return f"{count} {noun}"
    if plural is None:
        plural = noun + ("es" if noun.endswith(("s", "x", "z", "ch", "sh")) else "s")
    return f"{count} {plural}"


def duration(seconds: float) -> str:
    """``seconds`` (whole seconds count; negative is 0) as FRR prints a peer's uptime."""
    total = max(0, int(seconds))
    if total < _DAY:
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    if total < _WEEK:
        return f"{total // _DAY}d{total % _DAY // 3600:02d}h{total % 3600 // 60:02d}m"
    if total < _YEAR:
        return f"{total // _WEEK:02d}w{total % _WEEK // _DAY}d{total % _DAY // 3600:02d}h"
    rest = total % _YEAR
    return f"{total // _YEAR:02d}y{rest // _WEEK:02d}w{rest % _WEEK // _DAY}d"
