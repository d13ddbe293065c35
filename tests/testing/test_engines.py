"""Engine plumbing: a TCP lab whose automatically chosen port is taken meanwhile moves on."""

from __future__ import annotations

import socket

from bgpemu.lab.engine import TcpEngine, free_port
from bgpemu.topology import load_topology
from tests.testing.helpers import TOPOLOGIES


def test_free_port_is_below_the_ephemeral_range_and_free() -> None:
    port = free_port(["127.0.10.1", "127.0.10.2"])
    assert 20000 <= port < 32000
    with socket.socket() as probe:
        probe.bind(("127.0.10.2", port))


async def test_a_port_taken_before_start_is_replaced() -> None:
    network = load_topology(TOPOLOGIES / "s2s-bgp.yaml")
    engine = TcpEngine.create(
        network, seed=0, keepalive=60, hold=180, processes=2, port=None, lab_base="127.0.10.1"
    )
    taken = engine.lab.options["port"]
    with socket.socket() as blocker:
        blocker.bind(("127.0.10.2", taken))
        blocker.listen()
        await engine.start()
        try:
            assert engine.lab.options["port"] != taken
            await engine.settle(60)
        finally:
            await engine.stop()
