"""The cyclic garbage collector tuned for a long-lived routing daemon."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["DAEMON_GC_THRESHOLDS", "daemon_gc"]

DAEMON_GC_THRESHOLDS = (50_000, 20, 100)
"""Garbage-collector thresholds while a speaker runs (see :func:`daemon_gc`)."""


@contextlib.contextmanager
def daemon_gc() -> Iterator[None]:
    """Tune the cyclic garbage collector for a long-lived routing daemon, then restore it.

    A speaker holds one long-lived, GC-tracked path object per route.  With the
    default thresholds (700, 10, 10) a full collection runs every time the tracked
    objects grow by a quarter, and each one walks the whole table: loading a million
    routes spent about half its time there.  Routes are freed by reference counting
    (they form no cycles), so collections are made rarer instead: young objects every
    50 000 allocations, a full collection at most every 100 million.  The previous
    thresholds come back when the block ends, unless something else changed them
    meanwhile (e.g. another speaker of the same process still running).
    """
    previous = gc.get_threshold()
    tuned = previous[0] < DAEMON_GC_THRESHOLDS[0]
    if tuned:
        gc.set_threshold(*DAEMON_GC_THRESHOLDS)
    try:
        yield
    finally:
        if tuned and gc.get_threshold() == DAEMON_GC_THRESHOLDS:
            gc.set_threshold(*previous)
