"""One TCP connection from the harness to the speaker under test (fuzz/tcp)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from fuzz.tcp import wire as w
from fuzz.tcp.options import CONNECT_TIMEOUT


class Conn:
    """A TCP connection to the SUT with a reader task: NOTIFICATION, close, KEEPALIVE."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.framer = w.Framer()
        self.notification: tuple[int, int] | None = None
        self.closed = asyncio.Event()
        self.keepalive = asyncio.Event()
        self.got_open = asyncio.Event()
        self.on_update: Callable[[bytes], None] | None = None
        self.bad_frame: str | None = None
        self.task = asyncio.create_task(self._read(), name="fuzz-conn-reader")

    @classmethod
    async def connect(cls, host: str, port: int, local: str) -> Conn:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(local, 0))
        return cls(reader, writer)

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                for kind, body in self.framer.feed(data):
                    if kind == w.NOTIFICATION:
                        self.notification = w.decode_notification(body)
                    elif kind == w.KEEPALIVE:
                        self.keepalive.set()
                    elif kind == w.OPEN:
                        self.got_open.set()
                    elif kind == w.UPDATE and self.on_update is not None:
                        self.on_update(body)
        except ValueError as exc:
            self.bad_frame = str(exc)
        except OSError:
            pass
        finally:
            self.closed.set()

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def close(self, cease: bool = True) -> None:
        if cease and not self.closed.is_set():
            self.send(w.notification(6, 2))
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def outcome(self) -> str:
        if self.notification is not None:
            return f"notify:{self.notification[0]}/{self.notification[1]}"
        return "close"


async def first(timeout: float, *events: asyncio.Event) -> None:
    """Wait until one of ``events`` is set, or ``timeout`` seconds pass."""
    tasks = {asyncio.create_task(e.wait()) for e in events}
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


async def establish(conn: Conn, open_msg: bytes) -> bool:
    """Send our OPEN and KEEPALIVE; True once the SUT's KEEPALIVE arrives (Established)."""
    conn.send(open_msg + w.keepalive())
    await first(CONNECT_TIMEOUT, conn.keepalive, conn.closed)
    return conn.keepalive.is_set() and not conn.closed.is_set()
