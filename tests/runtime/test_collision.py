"""Connection collision (RFC 4271 §6.8) when the winning connection brings everything at once.

The peer dials in while our own connection to it waits in OpenSent; its OPEN, KEEPALIVE
and first UPDATE arrive in one read.  The inbound connection (the peer has the higher
BGP Identifier) wins, and the router must see that session come up and its routes: a
candidate used to reach Established before it was promoted, so the router missed both.
"""

from __future__ import annotations

import asyncio

from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import Codec, Framer
from bgpemu.wire.messages import (
    AsPathSegment,
    Capabilities,
    Keepalive,
    Open,
    Origin,
    PathAttributes,
    SegmentType,
    Update,
)
from tests.helpers import free_port, neighbor, running, speaker_spec

SPEAKER, PEER = "127.0.0.31", "127.0.0.32"
PEER_AS = 65002


async def test_a_winning_candidate_that_is_established_in_one_read_brings_its_routes() -> None:
    port = free_port(SPEAKER, PEER)
    dialled: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await dialled.put((reader, writer))

    server = await asyncio.start_server(accept, PEER, port)
    spec = speaker_spec(
        "a",
        SPEAKER,
        port,
        asn=65001,
        router_id="10.0.0.1",
        neighbors=[
            neighbor("b", PEER, port, local_as=65001, peer_as=PEER_AS, router_id="10.0.0.1")
        ],
    )
    async with server, running(spec) as (speaker,):
        # The speaker dials us and sends its OPEN: that session is in OpenSent, unanswered.
        out_reader, out_writer = await asyncio.wait_for(dialled.get(), 10)
        framer, codec = Framer(), Codec()
        first = codec.decode(next(iter(framer.feed(await out_reader.read(4096)))))
        assert isinstance(first, Open)
        assert _state(speaker.peers["b"].state) == SessionState.OPEN_SENT

        _, writer = await asyncio.open_connection(SPEAKER, port, local_addr=(PEER, 0))
        capabilities = Capabilities(multiprotocol=(IPV4_UNICAST,), four_octet_as=PEER_AS)
        attributes = PathAttributes(
            origin=Origin.IGP,
            as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (PEER_AS,)),),
            next_hop="192.0.2.2",
        )
        writer.write(
            codec.encode(Open.for_asn(PEER_AS, 90, "10.0.0.2", capabilities))
            + codec.encode(Keepalive())
            + codec.encode(Update(attributes=attributes, nlri=("10.9.0.0/24",)))
        )
        await speaker.wait_for(
            lambda: any(p.prefix == "10.9.0.0/24" for p in speaker.received_paths()), 10
        )
        assert _state(speaker.peers["b"].state) == SessionState.ESTABLISHED
        assert [r["prefix"] for r in speaker.router.table()] == ["10.9.0.0/24"]
        # The speaker's own connection lost the collision: closed (after a NOTIFICATION).
        assert await asyncio.wait_for(_read_to_eof(out_reader), 10)
        writer.close()
        out_writer.close()


def _state(state: SessionState) -> SessionState:
    """The state as read now (mypy narrows a property read twice in one function)."""
    return state


async def _read_to_eof(reader: asyncio.StreamReader) -> bool:
    while await reader.read(4096):
        pass
    return True
