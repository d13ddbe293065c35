"""What TCP-MD5 (RFC 2385) costs a bgpemu session: the same route load with and without a key.

Two speakers in one process on loopback (127.0.0.51 -> 127.0.0.52): b originates N
consecutive /24s, a receives them.  Timed from the start of both speakers until a holds
all N (session set-up plus the transfer), median of ``--repeat`` runs per mode.

    PYTHONPATH=src .venv/bin/python bench/bench_tcp_md5.py [--routes 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import statistics
import time

from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.runtime import Speaker
from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, TcpMd5Key

A, B, PORT = "127.0.0.51", "127.0.0.52", 11851


def _spec(
    name: str, me: str, other: str, asn: int, peer_as: int, routes: int, key: TcpMd5Key | None
) -> SpeakerSpec:
    base = ipaddress.IPv4Network("10.0.0.0/24")
    originated = tuple(
        OriginatedRoute(
            prefix=str(ipaddress.IPv4Network((int(base.network_address) + 256 * i, 24))),
            family=IPV4_UNICAST,
        )
        for i in range(routes)
    )
    session = SessionConfig(
        local_as=asn,
        peer_as=peer_as,
        bgp_identifier=me,
        connect_retry_time=1.0,
        idle_hold_time=0.2,
        families=(IPV4_UNICAST,),
        peer_name="peer",
    )
    return SpeakerSpec(
        name=name,
        local_address=me,
        port=PORT,
        router=RouterConfig(asn=asn, router_id=me, next_hop_v4="192.0.2.1", routes=originated),
        neighbors=(
            NeighborSpec(name="peer", address=other, port=PORT, session=session, tcp_md5_key=key),
        ),
    )


async def _run(routes: int, key: TcpMd5Key | None) -> float:
    a = Speaker(_spec("a", A, B, 65051, 65052, 0, key))
    b = Speaker(_spec("b", B, A, 65052, 65051, routes, key))
    start = time.perf_counter()
    tasks = [asyncio.create_task(s.run()) for s in (a, b)]
    try:
        await a.wait_for(lambda: len(a.received_paths()) >= routes, timeout=600)
        return time.perf_counter() - start
    finally:
        for s in (a, b):
            s.request_stop()
        await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # collision and shutdown NOTIFICATIONs are normal
    for label, key in (("no key", None), ("TCP-MD5", TcpMd5Key(b"bench-key"))):
        times = [asyncio.run(_run(args.routes, key)) for _ in range(args.repeat)]
        print(
            f"{label:8} {args.routes} routes: median {statistics.median(times):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
