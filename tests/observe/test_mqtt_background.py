"""observe.mqtt.background: what ``async with`` starts, it ends, even when entering fails."""

from __future__ import annotations

import asyncio

import pytest

from bgpemu.observe.mqtt import Observer
from bgpemu.observe.mqtt import observer as observer_module
from tests.helpers import free_port


async def test_an_observer_that_never_subscribes_leaves_no_task_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(observer_module, "SUBSCRIBE_TIMEOUT", 0.3)
    observer = Observer(f"mqtt://127.0.0.1:{free_port()}", lab="t", backoff=(0.01, 0.05))
    with pytest.raises(TimeoutError):
        async with observer:
            pass
    left = [task for task in asyncio.all_tasks() if task.get_name() == "mqtt-observer"]
    for task in left:  # do not leak into the next test
        task.cancel()
    assert left == []
