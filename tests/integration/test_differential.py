"""Differential: real BIRD/GoBGP + bgpemu labs converge to the best paths the fabric predicts.

Each topology is described once (nodes with AS, router id, address, originated prefix and
implementation; links).  The fabric converges it with bgpemu Routers in every node; the
real lab runs the same topology over loopback TCP with some nodes played by BIRD 2 or
GoBGP.  Every node's best AS_PATH per prefix must then be the same in both.  Topologies
avoid steps where implementations legitimately differ (they decide by AS_PATH length, or
by lowest router id, which BIRD, GoBGP and bgpemu all apply last).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import pytest

from bgpemu.fabric import Fabric
from bgpemu.runtime import Speaker, SpeakerSpec
from bgpemu.types import IPV4_UNICAST
from tests.helpers import free_port, neighbor, running, speaker_spec
from tests.integration.daemons import (
    Bird,
    BirdNeighbor,
    GoBgp,
    GoBgpNeighbor,
    bird_config,
    gobgp_config,
    require_binary,
)

pytestmark = pytest.mark.integration
T = TypeVar("T")
Kind = Literal["emu", "bird", "gobgp"]


@dataclass(frozen=True)
class Node:
    name: str
    kind: Kind
    asn: int
    address: str
    prefix: str

    @property
    def router_id(self) -> str:
        return "10.255.0." + self.address.rsplit(".", 1)[1]

    @property
    def next_hop(self) -> str:
        return "192.0.2." + self.address.rsplit(".", 1)[1]


Topology = tuple[tuple[Node, ...], tuple[tuple[str, str], ...]]

CHAIN: Topology = (
    (
        Node("c1", "bird", 65101, "127.0.0.101", "10.101.0.0/24"),
        Node("c2", "emu", 65102, "127.0.0.102", "10.102.0.0/24"),
        Node("c3", "gobgp", 65103, "127.0.0.103", "10.103.0.0/24"),
        Node("c4", "emu", 65104, "127.0.0.104", "10.104.0.0/24"),
    ),
    (("c1", "c2"), ("c2", "c3"), ("c3", "c4")),
)

# d1 on top, d2 (BIRD) and d3 (GoBGP) on the sides, d4 below: d4 reaches d1's prefix over two
# equal-length paths and d1 reaches d4's the same way: the lowest router id (d2's) decides.
DIAMOND: Topology = (
    (
        Node("d1", "emu", 65111, "127.0.0.111", "10.111.0.0/24"),
        Node("d2", "bird", 65112, "127.0.0.112", "10.112.0.0/24"),
        Node("d3", "gobgp", 65113, "127.0.0.113", "10.113.0.0/24"),
        Node("d4", "emu", 65114, "127.0.0.114", "10.114.0.0/24"),
    ),
    (("d1", "d2"), ("d1", "d3"), ("d2", "d4"), ("d3", "d4")),
)


def _neighbors(topology: Topology, name: str) -> list[Node]:
    nodes = {n.name: n for n in topology[0]}
    return [nodes[b if a == name else a] for a, b in topology[1] if name in (a, b)]


def _spec(topology: Topology, node: Node, port: int) -> SpeakerSpec:
    return speaker_spec(
        node.name,
        node.address,
        port,
        asn=node.asn,
        router_id=node.router_id,
        routes=[node.prefix],
        next_hop_v4=node.next_hop,
        neighbors=[
            neighbor(
                peer.name,
                peer.address,
                port,
                local_as=node.asn,
                peer_as=peer.asn,
                router_id=node.router_id,
                families=(IPV4_UNICAST,),
            )
            for peer in _neighbors(topology, node.name)
        ],
    )


def _predicted(topology: Topology, port: int) -> dict[str, dict[str, list[int]]]:
    fabric = Fabric([_spec(topology, n, port) for n in topology[0]], seed=1)
    fabric.run_until_idle()
    return {
        node: {e["prefix"]: e["best"]["as_path"] for e in entries}
        for node, entries in fabric.tables().items()
    }


async def _thread(fn: Callable[..., T], *args: object) -> T:
    return await asyncio.to_thread(fn, *args)


@contextlib.contextmanager
def _daemons(topology: Topology, port: int, workdir: Path) -> Iterator[dict[str, Bird | GoBgp]]:
    daemons: dict[str, Bird | GoBgp] = {}
    with contextlib.ExitStack() as stack:
        for node in topology[0]:
            peers = _neighbors(topology, node.name)
            if node.kind == "bird":
                require_binary("bird")
                config = bird_config(
                    router_id=node.router_id,
                    asn=node.asn,
                    neighbors=[
                        BirdNeighbor(
                            name=p.name,
                            address=p.address,
                            port=port,
                            asn=p.asn,
                            local_address=node.address,
                            local_port=port,
                            ipv6=False,
                        )
                        for p in peers
                    ],
                    routes_v4=[node.prefix],
                    next_hop_v4=node.next_hop,
                    reexport=True,
                )
                daemons[node.name] = stack.enter_context(Bird(workdir / node.name, config))
            elif node.kind == "gobgp":
                require_binary("gobgpd")
                config = gobgp_config(
                    router_id=node.router_id,
                    asn=node.asn,
                    port=port,
                    local_address=node.address,
                    neighbors=[
                        GoBgpNeighbor(
                            address=p.address,
                            asn=p.asn,
                            port=port,
                            local_address=node.address,
                            ipv6=False,
                        )
                        for p in peers
                    ],
                )
                gobgp = stack.enter_context(GoBgp(workdir / node.name, config))
                gobgp.add_route(node.prefix, node.next_hop)
                daemons[node.name] = gobgp
        yield daemons


def _holds(speaker: Speaker, prefixes: set[str]) -> Callable[[], bool]:
    return lambda: set(_observed_emu(speaker)) == prefixes


def _observed_emu(speaker: Speaker) -> dict[str, list[int]]:
    return {e["prefix"]: e["best"]["as_path"] for e in speaker.router.table()}


def _observed_daemon(daemon: Bird | GoBgp) -> dict[str, list[int]]:
    if isinstance(daemon, Bird):
        return {p: r.as_path for p, r in daemon.routes("master4").items()}
    return {p: r.as_path for p, r in daemon.rib("ipv4").items()}


@pytest.mark.parametrize("topology", [CHAIN, DIAMOND], ids=["chain", "diamond"])
async def test_real_lab_matches_the_fabric(topology: Topology, tmp_path: Path) -> None:
    nodes = topology[0]
    port = free_port(*(n.address for n in nodes))
    predicted = _predicted(topology, port)
    everything = {n.prefix for n in nodes}
    assert all(set(table) == everything for table in predicted.values()), predicted
    emu_specs = [_spec(topology, n, port) for n in nodes if n.kind == "emu"]
    with _daemons(topology, port, tmp_path) as daemons:
        async with running(*emu_specs) as speakers:
            emus = {s.spec.name: s for s in speakers}
            for speaker in speakers:
                await speaker.wait_for(_holds(speaker, everything), timeout=60)
            for daemon in daemons.values():
                table = "master4" if isinstance(daemon, Bird) else "ipv4"
                await _thread(daemon.wait_routes, table, lambda r: set(r) == everything, 60)
            # Every node has every prefix; a better path may still be on its way (a slow
            # daemon under load), so compare until the best AS_PATHs match or 60 s pass.
            observed: dict[str, dict[str, list[int]]] = {}
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while True:
                observed = {name: _observed_emu(s) for name, s in emus.items()}
                for name, daemon in daemons.items():
                    observed[name] = await _thread(_observed_daemon, daemon)
                if observed == predicted or loop.time() > deadline:
                    break
                await asyncio.sleep(0.2)
    assert observed == predicted
