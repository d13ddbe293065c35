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


async def test_a_convergence_reads_in_the_clock_unit_its_engine_gives() -> None:
    """The engine says its clock's unit (virtual seconds in the fabric, wall seconds over
    TCP); a convergence report carries it instead of guessing it from the engine's kind."""
    from bgpemu.lab.engine import FabricEngine
    from bgpemu.testing import start_lab

    assert (FabricEngine.clock_unit, TcpEngine.clock_unit) == ("virtual s", "s")
    lab = await start_lab(TOPOLOGIES / "s2s-bgp.yaml")
    try:
        report = await lab.converged()
    finally:
        await lab.stop()
    assert report.clock_unit == "virtual s"
    assert str(report).startswith(f"converged in {report.duration_s:.3f} virtual s (fabric): ")
