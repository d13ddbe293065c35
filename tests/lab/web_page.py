"""A page's side of the web view's WebSocket, for the tests that drive the server with
a real client: the first frames read by type, requests answered by id."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from bgpemu.web.server import WebServer

WAIT = 30.0


class PageSocket:
    """A page's side of the socket: pushes kept in order, replies found by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pushed: list[dict[str, Any]] = []
        self.next_id = 1

    async def next(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next message ``wanted``; the others read on the way are kept as pushed."""
        async with asyncio.timeout(WAIT):
            while True:
                message: dict[str, Any] = json.loads(await self.ws.recv())
                if wanted(message):
                    return message
                self.pushed.append(message)

    async def request(self, **fields: Any) -> dict[str, Any]:
        ident = self.next_id
        self.next_id += 1
        await self.ws.send(json.dumps({"id": ident, **fields}))
        return await self.next(lambda m: m.get("type") == "reply" and m.get("id") == ident)

    async def pushed_until(
        self, found: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        """Read pushes until ``found(pushes so far)`` holds; every push read."""
        while not found(self.pushed):
            self.pushed.append(await self.next(lambda m: True))
        return self.pushed


@contextlib.asynccontextmanager
async def open_page(server: WebServer) -> AsyncIterator[PageSocket]:
    """A WebSocket to ``server`` as its page opens it (the run's token, its own Origin)."""
    host = f"127.0.0.1:{server.port}"
    async with connect(
        f"ws://{host}/ws?token={server.token}", origin=Origin(f"http://{host}")
    ) as ws:
        yield PageSocket(ws)
