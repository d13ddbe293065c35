"""The cyclic garbage collector tuned for a long-lived routing daemon, and for ``solve``."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["DAEMON_GC_THRESHOLDS", "batch_gc", "converging", "daemon_gc"]

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


@contextlib.contextmanager
def converging() -> Iterator[None]:
    """Pause the cyclic collector while a bounded run (``solve``'s fabric) converges,
    then freeze what it built (``gc.freeze``: kept out of every later collection).

    Even with :data:`DAEMON_GC_THRESHOLDS` every path object is walked twice as it
    ages (once in a young collection, once in a generation-1 one) and none is ever
    collected: routes form no cycles.  On vWAN 2 x 50 x 200 (2,060,408 ``Path``
    objects, 97 % of the tracked objects) that was 44 young and 2 generation-1
    collections, 0.32 s of the 2.9 s CPU of compiling and converging, which reclaimed
    181 objects; paused, compile+converge takes 0.45 s less CPU (bench/README.md,
    "round 6: the garbage collector while converging") and the peak RSS is the same.
    The pause is bounded by the run (the fabric stops at its time limit) and ends
    with the block, an error included.  Everything alive when it converged is the
    network and its fabric, alive until the report is written: frozen, the
    collections of the report skip it, where resuming the collector without it would
    walk all of it once more.  Nothing is frozen if the collector was paused already,
    or if something else was frozen (giving ours back would give theirs back too).
    Use it inside :func:`batch_gc`, which gives the frozen objects back to the
    collector when the command is done.
    """
    enabled = gc.isenabled()
    freeze = enabled and gc.get_freeze_count() == 0
    gc.disable()
    try:
        yield
        if freeze:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def batch_gc() -> Iterator[None]:
    """The collector of a command that converges once and reports (``solve``):
    :func:`daemon_gc`'s thresholds, and at the end, what :func:`converging` froze
    given back to the collector (``gc.unfreeze``), so that a process that goes on
    (tests call the CLI in-process) frees the converged fabric, a graph with cycles,
    once it is garbage.  Objects frozen before the block are left as they are."""
    thaw = gc.get_freeze_count() == 0
    with daemon_gc():
        try:
            yield
        finally:
            if thaw:
                gc.unfreeze()
