"""A TCP lab publishing on a broker for the duration of a test block (test helper).

One start-up for every lab test that reads the broker or talks on the control topic:
``publish_lab`` in a task, the block entered once the lab has converged and its first
converged publication (tables, views and the lab ``state``) has reached the broker, and
the task cancelled and awaited after the block, whatever happened in it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bgpemu.lab.publish import publish_lab
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.traffic import Intents

__all__ = ["publishing"]


@contextlib.asynccontextmanager
async def publishing(
    lab: TcpLab,
    url: str,
    *,
    converge: float = 60.0,
    publish: float = 30.0,
    intents: Intents | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """``publish_lab(lab, url)`` running for the block, which is entered once the lab has
    converged (within ``converge`` seconds) and published once (within ``publish``
    seconds); yields the publisher's task.  ``intents``: checked after each convergence
    (``lab up --intents``)."""
    published = asyncio.Event()
    task = asyncio.create_task(publish_lab(lab, url, 0.0, published, intents=intents))
    try:
        await lab.converged(timeout=converge)
        await lab.flush()
        async with asyncio.timeout(publish):
            await published.wait()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
