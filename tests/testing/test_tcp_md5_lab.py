"""A TCP lab whose ExpressRoute circuit and customer bgp session carry TCP-MD5 keys
(RFC 2385) converges to the fabric's tables: both ends of every keyed session got the
same key, on the lab addresses the speakers really use, across worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.testing import start_lab
from bgpemu.topology import load_topology
from tests.testing.helpers import node_hops
from tests.unit.topology.test_tcp_md5 import SECRET, _text


async def test_a_keyed_topology_converges_over_tcp_like_the_fabric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BGPEMU_TEST_ER_KEY", SECRET)
    path = tmp_path / "md5.yaml"
    path.write_text(
        _text(circuit_key="sharedKey: {env: BGPEMU_TEST_ER_KEY}", bgp_key=f'password: "{SECRET}"')
    )
    network = load_topology(path)
    async with await start_lab(network, "fabric") as fabric:
        await fabric.converged()
        expected = fabric.snapshot()
    async with await start_lab(network, "tcp", processes=2) as lab:
        await lab.converged()
        # Branch's prefix crossed both keyed hops: Branch -> CE -> both MSEEs -> ErGW.
        assert node_hops(lab, "ErGW", "10.30.0.0/24") == ["192.168.11.18", "192.168.11.22"]
        assert not lab.diff(expected, lab.snapshot()), lab.diff(expected, lab.snapshot())
