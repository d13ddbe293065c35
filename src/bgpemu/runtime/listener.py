"""The listening socket of a speaker: each connection goes to its neighbour's driver.

A connection from a neighbour's address is handed to that neighbour's
:class:`~bgpemu.runtime.peer.PeerDriver` (its node decides what it carries, RFC 4271
§6.8); one from any other address is accepted and closed at once, counted, and logged
without flooding.  The TCP-MD5 key of each neighbour that has one is set on the
listening socket for its address before it serves (RFC 2385 §2), and changed with the
neighbours.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable

from bgpemu.runtime.peer import PeerDriver
from bgpemu.runtime.tcp_md5 import Socket, set_md5_key
from bgpemu.runtime.throttle import LogThrottle
from bgpemu.types import TcpMd5Key

__all__ = ["LISTEN_BACKLOG", "Listener", "normal_address"]

logger = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024
"""The listening socket's accept queue.  asyncio's default (100) overflows under a
burst of connections (a scan, a storm from unconfigured addresses): Linux then drops
the handshakes it cannot queue and the clients, a real neighbour among them, wait
seconds to minutes for a retransmission.  With room for the burst every connection
is accepted at once, and an unconfigured one is closed at once."""
_REFUSAL_LOG_INTERVAL = 10.0
"""Seconds between two log lines about refused connections from unconfigured addresses."""


def normal_address(address: str) -> str:
    """``address`` in its canonical text form (the key of :attr:`Listener.drivers`)."""
    return str(ipaddress.ip_address(address))


class Listener:
    """The listener of speaker ``name`` (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.drivers: dict[str, PeerDriver] = {}
        """The driver of each neighbour address (:func:`normal_address`)."""
        self.bound_port: int | None = None
        self.refused = 0
        """TCP connections from addresses that are no neighbour's, accepted and closed."""
        self._server: asyncio.Server | None = None
        self._sockets: list[Socket] = []
        self._refusal_log = LogThrottle(_REFUSAL_LOG_INTERVAL)

    async def open(
        self, address: str, port: int, keys: Iterable[tuple[str, TcpMd5Key, str]]
    ) -> None:
        """Listen on ``address`` and ``port``; ``keys``: (address, key, neighbour) of each
        neighbour with TCP-MD5, set before the first connection is accepted."""
        server = await asyncio.start_server(
            self._on_client,
            address,
            port,
            reuse_address=True,
            backlog=LISTEN_BACKLOG,
            start_serving=False,  # listen only once the TCP-MD5 keys are set
        )
        self._sockets = list(server.sockets)
        try:
            for neighbor_address, key, neighbor in keys:
                self.set_key(neighbor_address, key, neighbor)
        except OSError:
            server.close()
            raise
        await server.start_serving()
        self._server = server
        self.bound_port = server.sockets[0].getsockname()[1]
        logger.info("%s listening on %s port %d", self.name, address, self.bound_port)

    def close(self) -> None:
        """Stop accepting connections."""
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        """Wait until the listening socket is closed."""
        if self._server is not None:
            await self._server.wait_closed()

    def set_key(self, address: str, key: TcpMd5Key | None, neighbor: str) -> None:
        """Set (or, None, delete) the RFC 2385 key for ``address`` on the listening sockets.

        The kernel then drops every segment from that address that is not signed with
        it, and signs what the accepted connection sends (RFC 2385 §2).
        """
        for sock in self._sockets:
            set_md5_key(sock, address, key, who=f"speaker {self.name}, neighbour {neighbor}")

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        address = normal_address(peername[0]) if peername else "an unknown address"
        driver = self.drivers.get(address)
        if driver is None:
            writer.close()
            self._refused(address)
            return
        driver.incoming(reader, writer)

    def _refused(self, address: str) -> None:
        """Count a connection refused from an unconfigured address; log without flooding.

        The first refusal is logged at once; later ones at most once per
        ``_REFUSAL_LOG_INTERVAL`` seconds, as one line that says how many there were
        (a scan or a flood of connections must not flood the log).  The total is
        :attr:`refused`, in the speaker's dump.
        """
        self.refused += 1
        held = self._refusal_log.allow(asyncio.get_running_loop().time())
        if held is None:
            return
        if held == 0:
            logger.warning("%s: refusing a connection from unconfigured %s", self.name, address)
        else:
            logger.warning(
                "%s: refused %d connections from unconfigured addresses since the last such "
                "line (the latest from %s; %d in all)",
                self.name,
                held + 1,
                address,
                self.refused,
            )
