"""The speaker's garbage-collector tuning is scoped to the block that asked for it."""

from __future__ import annotations

import gc

from bgpemu.runtime.daemon_gc import DAEMON_GC_THRESHOLDS, daemon_gc


def test_daemon_gc_raises_thresholds_and_restores_them() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with daemon_gc():
            assert gc.get_threshold() == DAEMON_GC_THRESHOLDS
            with daemon_gc():  # nested (a second speaker in the process): unchanged
                assert gc.get_threshold() == DAEMON_GC_THRESHOLDS
            assert gc.get_threshold() == DAEMON_GC_THRESHOLDS
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_daemon_gc_leaves_a_threshold_changed_meanwhile_alone() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with daemon_gc():
            gc.set_threshold(123_456, 7, 7)
        assert gc.get_threshold() == (123_456, 7, 7)
    finally:
        gc.set_threshold(*before)
