"""A speaker's outgoing connection does not keep its port from a listener afterwards.

The side that closes a TCP connection first keeps its end in TIME_WAIT for a minute.
A connection a speaker dialled (``runtime.tcp_md5.open_connection``, from its own
address and an ephemeral port) and closed first held that address and port that long
against any listener without ``SO_REUSEADDR`` on the dialling socket: a speaker started
on that address and port meanwhile failed with "address already in use" (seen in a
fresh-clone run of ``tests/lab/test_topology_change.py``: a lab's free port had been an
earlier lab's ephemeral port on the added speaker's address).  With and without a
TCP-MD5 key (RFC 2385: both paths dial the same way).
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from bgpemu.runtime.listener import Listener
from bgpemu.runtime.tcp_md5 import open_connection, set_md5_key
from bgpemu.types import TcpMd5Key

LOCAL, REMOTE = "127.0.0.51", "127.0.0.52"


@pytest.mark.parametrize("key", [None, TcpMd5Key(b"dial-reuse-key")])
async def test_a_listener_binds_the_port_a_closed_dial_left_in_time_wait(
    key: TcpMd5Key | None,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def keep(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(keep, REMOTE, 0)
    if key is not None:
        for sock in server.sockets:
            set_md5_key(sock, LOCAL, key, who="test")
    port = server.sockets[0].getsockname()[1]
    _reader, writer = await open_connection(REMOTE, port, local_address=LOCAL, key=key, who="t")
    used = writer.get_extra_info("sockname")[1]
    writer.close()  # closed here first: this end is in TIME_WAIT
    await writer.wait_closed()
    await asyncio.sleep(0.05)
    for far in accepted:
        far.close()
    server.close()
    await server.wait_closed()

    listener = Listener("reuses")  # a speaker's listener, as it opens at start
    await listener.open(LOCAL, used, [])
    try:
        assert listener.bound_port == used
        probe = socket.create_connection((LOCAL, used), timeout=5)
        probe.close()
    finally:
        listener.close()
        await listener.wait_closed()
