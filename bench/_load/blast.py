"""``blast``: a minimal BGP sender that pre-encodes its UPDATEs and writes them all at once.

Method of ``shared/perf.md`` §2: N consecutive /24s from a start prefix, one attribute set
(ORIGIN IGP, AS_PATH <asn>, NEXT_HOP 192.0.2.10), packed to 4096 octets (or one prefix per
UPDATE with ``--per-update 1``).  The UPDATE bytes are built with bgpemu's
``Codec.pack_announce`` before the TCP connection is opened, so the receiver is the
bottleneck.  Run as its own process; it reports on stdout (flushed, one record per line):

``ENCODED <frames> <octets>`` · ``ESTABLISHED <unix time>`` (our OPEN and KEEPALIVE
exchanged, RFC 4271 §8.2.2) · ``SENT <unix time>`` (the last byte handed to the kernel) ·
``SINGLE <i> <unix time>`` (after each ``single`` command read on stdin: one more UPDATE
with one new prefix) · ``ERROR <text>``.  EOF or ``quit`` on stdin: Cease and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import time

from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import (
    AsPathSegment,
    Capabilities,
    Codec,
    CodecContext,
    Framer,
    Keepalive,
    MessageType,
    Notification,
    Open,
    Origin,
    PathAttributes,
    SegmentType,
)

NEXT_HOP = "192.0.2.10"
HOLD_TIME = 240
KEEPALIVE_EVERY = 60.0
CONNECT_TIMEOUT = 30.0
ESTABLISH_TIMEOUT = 60.0


def prefixes(start: str, count: int) -> list[str]:
    """``count`` consecutive /24s from ``start``."""
    base = int(ipaddress.IPv4Address(start))
    return [f"{ipaddress.IPv4Address(base + (i << 8))}/24" for i in range(count)]


def attributes(asn: int) -> PathAttributes:
    """The one attribute set of every route (perf.md §2)."""
    return PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (asn,)),),
        next_hop=NEXT_HOP,
    )


def encode_frames(asn: int, start: str, count: int, per_update: int) -> list[bytes]:
    """Every UPDATE of the feed; ``per_update`` 0 packs as many as fit in 4096 octets."""
    codec = Codec(CodecContext(four_octet_as=True))
    attrs = attributes(asn)
    routes = prefixes(start, count)
    if per_update <= 0:
        return codec.pack_announce(IPV4_UNICAST, attrs, routes)
    frames: list[bytes] = []
    for i in range(0, count, per_update):
        frames.extend(codec.pack_announce(IPV4_UNICAST, attrs, routes[i : i + per_update]))
    return frames


def emit(*words: object) -> None:
    """One record on stdout."""
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


async def establish(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, asn: int, router_id: str
) -> Framer:
    """OPEN → OPEN + KEEPALIVE → KEEPALIVE (RFC 4271 §8.2.2); returns the framer in use."""
    codec = Codec()
    caps = Capabilities(multiprotocol=(IPV4_UNICAST,), route_refresh=True, four_octet_as=asn)
    writer.write(codec.encode(Open.for_asn(asn, HOLD_TIME, router_id, caps)))
    framer = Framer()
    got_open = False
    while True:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("connection closed before Established")
        for frame in framer.feed(data):
            kind = frame[18]
            if kind == MessageType.OPEN:
                got_open = True
                writer.write(codec.encode(Keepalive()))
            elif kind == MessageType.KEEPALIVE and got_open:
                return framer
            elif kind == MessageType.NOTIFICATION:
                note = codec.decode(frame)
                raise ConnectionError(f"NOTIFICATION received: {note}")


async def drain_input(reader: asyncio.StreamReader) -> None:
    """Read and discard what the receiver sends (KEEPALIVEs, its own UPDATEs)."""
    while await reader.read(65536):
        pass


async def keepalives(writer: asyncio.StreamWriter) -> None:
    frame = Codec().encode(Keepalive())
    while True:
        await asyncio.sleep(KEEPALIVE_EVERY)
        writer.write(frame)


async def run(args: argparse.Namespace) -> None:
    frames = encode_frames(args.asn, args.start, args.count, args.per_update)
    emit("ENCODED", len(frames), sum(map(len, frames)))
    singles_start = int(ipaddress.IPv4Address(args.single_start))
    codec = Codec(CodecContext(four_octet_as=True))
    attrs = attributes(args.asn)
    async with asyncio.timeout(CONNECT_TIMEOUT):
        while True:
            try:
                reader, writer = await asyncio.open_connection(
                    args.remote, args.port, local_addr=(args.local, 0)
                )
                break
            except OSError:
                await asyncio.sleep(0.05)
    async with asyncio.timeout(ESTABLISH_TIMEOUT):
        await establish(reader, writer, args.asn, args.local)
    emit("ESTABLISHED", f"{time.time():.6f}")
    writer.write(b"".join(frames))
    await writer.drain()
    emit("SENT", f"{time.time():.6f}")
    del frames
    drainer = asyncio.create_task(drain_input(reader))
    ticker = asyncio.create_task(keepalives(writer))
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    sent = 0
    while line := (await stdin.readline()).decode().strip():
        if line == "quit":
            break
        if line == "single":
            prefix = f"{ipaddress.IPv4Address(singles_start + (sent << 8))}/24"
            (frame,) = codec.pack_announce(IPV4_UNICAST, attrs, [prefix])
            writer.write(frame)
            await writer.drain()
            emit("SINGLE", sent, f"{time.time():.6f}")
            sent += 1
    writer.write(codec.encode(Notification(code=6, subcode=2, data=b"")))
    drainer.cancel()
    ticker.cancel()
    try:
        async with asyncio.timeout(2.0):
            await writer.drain()
            writer.close()
            await writer.wait_closed()
    except (OSError, TimeoutError):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--local", default="127.0.0.10")
    parser.add_argument("--remote", default="127.0.0.20")
    parser.add_argument("--port", type=int, default=179)
    parser.add_argument("--asn", type=int, default=65010)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--start", default="10.0.0.0")
    parser.add_argument("--per-update", type=int, default=0, help="0 = pack to 4096 octets")
    parser.add_argument("--single-start", default="100.64.0.0")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except (OSError, TimeoutError, ConnectionError) as exc:
        emit("ERROR", repr(exc))
        sys.exit(1)


if __name__ == "__main__":
    main()
