"""The garbage-collector tuning (a speaker's, solve's) is scoped to the block that asked for it."""

from __future__ import annotations

import gc

import pytest

from bgpemu.runtime.daemon_gc import DAEMON_GC_THRESHOLDS, batch_gc, converging, daemon_gc


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


def test_converging_pauses_the_collector_and_freezes_what_it_built() -> None:
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    try:
        with batch_gc():
            with converging():
                assert not gc.isenabled()
                built: list[list[int]] = [[] for _ in range(3)]  # tracked, alive after the block
            assert gc.isenabled()
            assert gc.get_freeze_count() >= len(built)
            assert not any(item is built for item in gc.get_objects())  # frozen: skipped
        assert gc.get_freeze_count() == 0  # given back when the command is done
        assert any(item is built for item in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.enable()


def test_converging_freezes_nothing_when_the_run_fails() -> None:
    try:
        with pytest.raises(RuntimeError), converging():
            raise RuntimeError("no convergence")
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_converging_leaves_a_paused_collector_paused_and_frozen_objects_frozen() -> None:
    try:
        gc.disable()
        with converging():
            pass
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
        gc.enable()
        gc.freeze()  # someone else's objects, frozen before: neither added to nor thawed
        frozen = gc.get_freeze_count()
        with batch_gc():
            with converging():
                extra: list[list[int]] = [[] for _ in range(3)]
            assert gc.get_freeze_count() == frozen
            assert any(item is extra for item in gc.get_objects())
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.enable()
