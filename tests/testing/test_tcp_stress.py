"""Must show (TCP side): bursts of announces and withdraws on a real TCP lab, with no wait
between the operations of a burst; after converged() the tables equal the fabric's for
the same final state (every speaker's Loc-RIB, and every Azure view through lab.diff)."""

from __future__ import annotations

import random

from bgpemu.testing import Lab, start_lab
from tests.testing.helpers import TOPOLOGIES

POOL = [f"10.{50 + i // 8}.{i % 8}.0/24" for i in range(24)]
NODES = ("CE", "Firewall")


async def _play(lab: Lab, rng: random.Random, bursts: int, size: int) -> None:
    held: dict[str, set[str]] = {node: set() for node in NODES}
    for burst in range(bursts):
        for _ in range(size):
            node = rng.choice(NODES)
            if held[node] and rng.random() < 0.4:
                prefix = rng.choice(sorted(held[node]))
                await lab.withdraw(node, prefix)
                held[node].discard(prefix)
            else:
                prefix = rng.choice(POOL)
                await lab.announce(node, prefix, as_path_prepend=rng.randrange(3))
                held[node].add(prefix)
        if burst % 2:
            await lab.converged()
    await lab.converged()


async def test_announce_withdraw_bursts_converge_to_the_fabric_tables() -> None:
    path = TOPOLOGIES / "er-vpn-backup.yaml"
    async with await start_lab(path, "tcp", processes=2) as tcp:
        await tcp.converged()
        await _play(tcp, random.Random(7), bursts=6, size=25)
        report = tcp.history[-1]
        got = tcp.snapshot()
    async with await start_lab(path, "fabric") as fabric:
        await fabric.converged()
        await _play(fabric, random.Random(7), bursts=6, size=25)
        expected = fabric.snapshot()
    for speaker, snap in expected.routers.items():
        assert got.routers[speaker].loc_rib == snap.loc_rib, speaker
    assert not Lab.diff(expected, got), Lab.diff(expected, got)
    assert any(r.prefix in POOL for r in got.routers["VpnGW.0"].loc_rib)
    print(f"tcp stress: last burst {report}")
