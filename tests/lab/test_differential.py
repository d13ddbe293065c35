"""The TCP lab converges to exactly the tables the fabric computes (architecture decision 5).

Every reference topology runs twice: in the in-memory fabric (virtual time) and as a
real TCP lab (speakers in two worker processes, on 127.0.10.N).  Loc-RIB, Adj-RIB-In
and Adj-RIB-Out of every speaker must be identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.lab.supervisor import TcpLab
from bgpemu.topology import load_topology
from tests.helpers import free_port

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"
NAMES = sorted(p.stem for p in TOPOLOGIES.glob("*.yaml"))


@pytest.mark.parametrize("name", NAMES)
async def test_tcp_lab_converges_to_the_fabric_tables(name: str) -> None:
    network = load_topology(TOPOLOGIES / f"{name}.yaml")
    expected = solve(network).snapshots
    async with TcpLab(network, processes=2, port=free_port("127.0.10.1", "127.0.10.2")) as lab:
        verdict = await lab.converged(timeout=60)
        assert verdict.converged
        assert verdict.established == verdict.expected
        got = await lab.snapshots()
    assert sorted(got) == sorted(expected)
    for speaker, snap in expected.items():
        assert got[speaker].loc_rib == snap.loc_rib, speaker
        assert got[speaker].adj_rib_in == snap.adj_rib_in, speaker
        assert got[speaker].adj_rib_out == snap.adj_rib_out, speaker
