"""Shared test helpers: free ports, speaker specs, running speakers in a test."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from bgpemu.router import OriginatedRoute, RouterConfig
from bgpemu.runtime import NeighborSpec, Speaker, SpeakerSpec
from bgpemu.session import SessionConfig
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family

__all__ = ["ebgp_pair", "free_port", "neighbor", "running", "speaker_spec"]


def free_port(*addresses: str) -> int:
    """A TCP port that is free on every given address (127.0.0.1 when none is given; IPv6
    addresses too) right now (racy, but fine for tests)."""
    addresses = addresses or ("127.0.0.1",)
    for _ in range(50):
        with _socket(addresses[0]) as probe:
            probe.bind((addresses[0], 0))
            port: int = probe.getsockname()[1]
        ok = True
        for address in addresses[1:]:
            with _socket(address) as other:
                try:
                    other.bind((address, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise RuntimeError("no common free port")


def _socket(address: str) -> socket.socket:
    return socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)


def neighbor(
    name: str,
    address: str,
    port: int,
    *,
    local_as: int,
    peer_as: int,
    router_id: str,
    passive: bool = False,
    families: tuple[Family, ...] = (IPV4_UNICAST, IPV6_UNICAST),
    **session: object,
) -> NeighborSpec:
    """A neighbour with lab timers (fast retry, no idle hold)."""
    config = SessionConfig(
        local_as=local_as,
        peer_as=peer_as,
        bgp_identifier=router_id,
        connect_retry_time=1.0,
        idle_hold_time=0.2,
        passive=passive,
        families=families,
        peer_name=name,
    )
    return NeighborSpec(name=name, address=address, port=port, session=replace(config, **session))  # type: ignore[arg-type]


def speaker_spec(
    name: str,
    address: str,
    port: int,
    *,
    asn: int,
    router_id: str,
    neighbors: Sequence[NeighborSpec],
    routes: Sequence[str] = (),
    next_hop_v4: str = "192.0.2.1",
    next_hop_v6: str = "2001:db8::1",
) -> SpeakerSpec:
    """A speaker spec originating ``routes``."""
    originated = tuple(
        OriginatedRoute(prefix=p, family=IPV6_UNICAST if ":" in p else IPV4_UNICAST) for p in routes
    )
    return SpeakerSpec(
        name=name,
        local_address=address,
        port=port,
        router=RouterConfig(
            asn=asn,
            router_id=router_id,
            next_hop_v4=next_hop_v4,
            next_hop_v6=next_hop_v6,
            routes=originated,
        ),
        neighbors=tuple(neighbors),
    )


def ebgp_pair(address_a: str, address_b: str) -> tuple[SpeakerSpec, SpeakerSpec]:
    """Speakers ``a`` (AS 65001, 10.1.0.0/24) and ``b`` (AS 65002, 10.2.0.0/16) on
    ``address_a`` and ``address_b``, one free port, each the other's eBGP neighbour."""
    port = free_port(address_a, address_b)
    a = speaker_spec(
        "a",
        address_a,
        port,
        asn=65001,
        router_id="10.0.0.1",
        routes=["10.1.0.0/24"],
        neighbors=[
            neighbor("b", address_b, port, local_as=65001, peer_as=65002, router_id="10.0.0.1")
        ],
    )
    b = speaker_spec(
        "b",
        address_b,
        port,
        asn=65002,
        router_id="10.0.0.2",
        routes=["10.2.0.0/16"],
        neighbors=[
            neighbor("a", address_a, port, local_as=65002, peer_as=65001, router_id="10.0.0.2")
        ],
    )
    return a, b


@contextlib.asynccontextmanager
async def running(*specs: SpeakerSpec) -> AsyncIterator[list[Speaker]]:
    """Run speakers for the duration of the block and stop them cleanly after it."""
    speakers = [Speaker(spec) for spec in specs]
    tasks = [asyncio.create_task(s.run(), name=f"test-speaker-{s.spec.name}") for s in speakers]
    try:
        for speaker in speakers:
            await speaker.wait_ready()
        yield speakers
    finally:
        for speaker in speakers:
            speaker.request_stop()
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks)
