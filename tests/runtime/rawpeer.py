"""A hand-driven BGP peer for runtime tests: it speaks correctly until told to send garbage."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bgpemu.runtime import Speaker
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire import Codec, Framer
from bgpemu.wire.constants import MAX_EXTENDED_MESSAGE_SIZE
from bgpemu.wire.context import CodecContext
from bgpemu.wire.messages import (
    AddPathMode,
    Capabilities,
    Keepalive,
    Message,
    Notification,
    Open,
    RouteRefresh,
    RouteRefreshSubtype,
)
from tests.helpers import free_port, neighbor, running, speaker_spec

__all__ = ["RAW_AS", "RawPeer", "bystander_lab", "connect_raw_peer"]

RAW_AS = 65099
"""The raw peer's AS number in :func:`bystander_lab`."""


@dataclass
class RawPeer:
    """One TCP connection to a speaker, past the OPEN/KEEPALIVE exchange."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    codec: Codec = field(default_factory=Codec)
    framer: Framer = field(default_factory=Framer)
    received: list[bytes] = field(default_factory=list)
    """Frames read but not returned yet: decoded when returned, with the codec's context
    of that moment (the context changes once the OPENs are known)."""

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def next_message(self, timeout: float = 10.0) -> Message | None:
        """The next message from the speaker, or None when it closed the connection."""
        async with asyncio.timeout(timeout):
            while not self.received:
                data = await self.reader.read(65536)
                if not data:
                    return None
                self.received.extend(self.framer.feed(data))
        return self.codec.decode(self.received.pop(0))

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
    host: str,
    port: int,
    *,
    local: str,
    asn: int,
    router_id: str,
    timeout: float = 15.0,
    add_path: tuple[tuple[Family, AddPathMode], ...] = (),
    extended_message: bool = False,
) -> RawPeer:
    """Connect (retrying while the speaker refuses, e.g. during its IdleHold) and establish.

    With ``add_path`` / ``extended_message`` the OPEN offers those capabilities and the
    peer's codec reads the speaker's UPDATEs as both ends then agree (RFC 7911, RFC 8654).
    """
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
                add_path=add_path,
                extended_message=extended_message,
            )
            peer.send(peer.codec.encode(Open.for_asn(asn, 90, router_id, capabilities)))
            peer.send(peer.codec.encode(Keepalive()))
            first = await peer.next_message()
            if not isinstance(first, Open):  # refused (closed) while the speaker was Idle
                await peer.close()
                await asyncio.sleep(0.05)
                continue
            theirs = dict(first.capabilities.add_path)
            peer.codec.context = CodecContext(
                add_path_receive=frozenset(
                    f for f, m in add_path if m & AddPathMode.RECEIVE and theirs.get(f, 0) & 2
                ),
                add_path_send=frozenset(
                    f for f, m in add_path if m & AddPathMode.SEND and theirs.get(f, 0) & 1
                ),
                extended_message=extended_message and first.capabilities.extended_message,
            )
            if peer.codec.context.extended_message:
                peer.framer = Framer(max_message_size=MAX_EXTENDED_MESSAGE_SIZE)
            if await peer.until(Keepalive) is None:
                await peer.close()
                continue
            return peer


@contextlib.asynccontextmanager
async def bystander_lab(
    speaker: str,
    good: str,
    raw: str,
    *,
    good_routes: Sequence[str] = ("10.2.0.0/24",),
    hold_time: float | None = None,
    **raw_session: Any,
) -> AsyncIterator[tuple[Speaker, Speaker, int]]:
    """The speaker under test (AS 65001 at ``speaker``, originating 10.1.0.0/24) with a
    well-behaved bgpemu bystander ("good", AS 65002 at ``good``, originating
    ``good_routes``) and a passive neighbour "raw" at ``raw`` (AS :data:`RAW_AS`, no idle
    hold so a :class:`RawPeer` may reconnect at once; ``raw_session`` overrides its
    SessionConfig).  ``hold_time`` sets the bystander session's at both ends.  Yields
    (speaker, good, port) once the bystander session is Established at both ends.
    """
    port = free_port(speaker, good)
    good_timers: dict[str, Any] = {} if hold_time is None else {"hold_time": hold_time}
    under_test = speaker_spec(
        "speaker",
        speaker,
        port,
        asn=65001,
        router_id="10.0.0.1",
        routes=["10.1.0.0/24"],
        neighbors=[
            neighbor(
                "good",
                good,
                port,
                local_as=65001,
                peer_as=65002,
                router_id="10.0.0.1",
                **good_timers,
            ),
            neighbor(
                "raw",
                raw,
                port,
                local_as=65001,
                peer_as=RAW_AS,
                router_id="10.0.0.1",
                passive=True,
                idle_hold_time=0.0,
                **raw_session,
            ),
        ],
    )
    bystander = speaker_spec(
        "good",
        good,
        port,
        asn=65002,
        router_id="10.0.0.2",
        routes=good_routes,
        neighbors=[
            neighbor(
                "speaker",
                speaker,
                port,
                local_as=65002,
                peer_as=65001,
                router_id="10.0.0.2",
                **good_timers,
            )
        ],
    )
    async with running(under_test, bystander) as (s, g):
        await s.wait_established("good", timeout=10)
        await g.wait_established("speaker", timeout=10)
        yield s, g, port
