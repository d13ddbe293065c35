"""A hand-driven BGP peer for runtime tests: it speaks correctly until told to send garbage."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST
from bgpemu.wire import Codec, Framer
from bgpemu.wire.messages import (
    Capabilities,
    Keepalive,
    Message,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshSubtype,
)

__all__ = ["RawPeer", "connect_raw_peer"]


@dataclass
class RawPeer:
    """One TCP connection to a speaker, past the OPEN/KEEPALIVE exchange."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    codec: Codec = field(default_factory=Codec)
    framer: Framer = field(default_factory=Framer)
    received: list[Message] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def next_message(self, timeout: float = 10.0) -> Message | None:
        """The next message from the speaker, or None when it closed the connection."""
        async with asyncio.timeout(timeout):
            while not self.received:
                data = await self.reader.read(65536)
                if not data:
                    return None
                self.received.extend(self.codec.decode(f) for f in self.framer.feed(data))
        return self.received.pop(0)

    async def until(self, kind: type, timeout: float = 10.0) -> Message | None:
        """Skip messages until one of ``kind`` arrives; None if the speaker closes first."""
        while True:
            message = await self.next_message(timeout)
            if message is None or isinstance(message, kind):
                return message

    async def until_refresh_done(self, timeout: float = 10.0) -> bool:
        """Skip messages until an EoRR (RFC 7313 §4); False if the speaker closes first."""
        while True:
            message = await self.next_message(timeout)
            if message is None:
                return False
            if (
                isinstance(message, RouteRefresh)
                and message.subtype == RouteRefreshSubtype.END_OF_RIB
            ):
                return True

    async def closing_notification(self, timeout: float = 10.0) -> Notification | None:
        """Read to EOF; the NOTIFICATION seen on the way (None if the speaker sent none)."""
        notification = None
        while (message := await self.next_message(timeout)) is not None:
            if isinstance(message, Notification):
                notification = message
        return notification

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def connect_raw_peer(
    host: str, port: int, *, local: str, asn: int, router_id: str, timeout: float = 15.0
) -> RawPeer:
    """Connect (retrying while the speaker refuses, e.g. during its IdleHold) and establish."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                reader, writer = await asyncio.open_connection(host, port, local_addr=(local, 0))
            except OSError:
                await asyncio.sleep(0.05)
                continue
            peer = RawPeer(reader, writer)
            capabilities = Capabilities(
                multiprotocol=(IPV4_UNICAST, IPV6_UNICAST),
                route_refresh=True,
                enhanced_route_refresh=True,
                four_octet_as=asn,
            )
            peer.send(peer.codec.encode(Open.for_asn(asn, 90, router_id, capabilities)))
            peer.send(peer.codec.encode(Keepalive()))
            first = await peer.next_message()
            if not isinstance(first, Open):  # refused (closed) while the speaker was Idle
                await peer.close()
                await asyncio.sleep(0.05)
                continue
            if await peer.until(Keepalive) is None:
                await peer.close()
                continue
            return peer
