"""One background task per MQTT object, held open by ``async with``.

A :class:`~bgpemu.observe.mqtt.publisher.Publisher` and an
:class:`~bgpemu.observe.mqtt.observer.Observer` each run their ``run()`` loop as one
named task in a TaskGroup of their own while ``async with`` holds them open
(architecture §5: every task belongs to a TaskGroup and has a name, no
fire-and-forget).  Entering and leaving are written here once.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

__all__ = ["Background"]


class Background:
    """Runs :meth:`run` as task :meth:`_background_name` while ``async with`` holds it.

    Entering returns once :meth:`_started` has (by default at once); if that fails, the
    task is cancelled and ended before the error goes on, so a failed ``async with``
    leaves no task behind.  Leaving asks the task to end (:meth:`_stop_background`:
    cancel it, unless the subclass has a gentler way) and waits for it in the TaskGroup,
    which re-raises what the task raised.
    """

    _task_group: asyncio.TaskGroup | None = None
    _task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """The loop that works in the background (the subclass's)."""
        raise NotImplementedError

    def _background_name(self) -> str:
        """The name of the task (the subclass's)."""
        raise NotImplementedError

    async def _started(self) -> None:
        """Wait, on entering, until the task is ready (the subclass's; by default not)."""

    def _stop_background(self) -> None:
        """Ask :meth:`run` to end; by default the task is cancelled."""
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> Self:
        group = self._task_group = asyncio.TaskGroup()
        await group.__aenter__()
        self._task = group.create_task(self.run(), name=self._background_name())
        try:
            await self._started()
        except BaseException:
            self._task.cancel()
            self._task_group = None
            await group.__aexit__(None, None, None)  # wait for the cancelled task to end
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_background()
        group, self._task_group = self._task_group, None
        if group is not None:
            await group.__aexit__(exc_type, exc, tb)
