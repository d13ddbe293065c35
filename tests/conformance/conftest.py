"""One engine per test, parametrised over both (docs/testing.md, "Engine conformance").

Each test of this directory runs once on the fabric (virtual time) and once on the TCP
lab (one worker process per speaker), through the one engine interface
(:class:`bgpemu.lab.engine.Engine`), and asserts the same observable result on both.
Timers are short (keepalive 1 s, hold 3 s) so that a silent failure costs the TCP lab
3 wall seconds, not 180.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bgpemu.azure.model import Network
from bgpemu.lab.engine import ENGINES, Engine, FabricEngine, TcpEngine
from bgpemu.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "s2s-transit.yaml"
KEEPALIVE, HOLD = 1, 3
SETTLE = 60.0
"""Bound of every convergence wait (virtual seconds in the fabric, wall in TCP)."""


def make(network: Network, kind: str) -> Engine:
    """An engine of ``kind`` for ``network`` with the suite's timers (not started)."""
    if kind == "fabric":
        return FabricEngine(network, seed=0, keepalive=KEEPALIVE, hold=HOLD, latency=0.001)
    return TcpEngine.create(
        network,
        seed=0,
        keepalive=KEEPALIVE,
        hold=HOLD,
        processes=None,  # one per speaker: a crash hits one speaker
        port=None,
        lab_base="127.0.10.1",
    )


@pytest.fixture
def network() -> Network:
    return load_topology(TOPOLOGY)


@pytest.fixture(params=ENGINES)
async def engine(request: pytest.FixtureRequest, network: Network) -> AsyncIterator[Engine]:
    """A started engine of s2s-transit, converged once."""
    running = make(network, request.param)
    await running.start()
    try:
        await running.settle(SETTLE)
        yield running
    finally:
        await running.stop()
