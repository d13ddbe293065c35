"""``lab up --broker-port PORT`` (issue 15): the embedded broker listens where the user
says, and every command on that machine finds it through the lab's state file, with no
``--mqtt`` and no ``--lab`` (they went to port 1883, or asked for ``--lab``)."""

from __future__ import annotations

import json

import pytest

from bgpemu.cli import main
from tests.cli_process import ROOT, embedded_lab, run_bgpemu
from tests.helpers import free_port

TOPOLOGY = ROOT / "topologies" / "s2s-bgp.yaml"
pytestmark = pytest.mark.integration


async def test_the_broker_port_and_commands_that_find_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port("127.0.0.1")
    async with embedded_lab(
        TOPOLOGY, "brokerport", tmp_path, extra=("--broker-port", str(port))
    ) as lab:
        assert lab.port == port
        status, out, err = await run_bgpemu("inspect", "-o", "json", env=lab.env)
        assert status == 0, err
        assert {s["speaker"] for s in json.loads(out)} >= {"Site5"}
        status, out, err = await run_bgpemu("announce", "Site5", "10.77.0.0/16", env=lab.env)
        assert status == 0, err
        assert out.splitlines()[-1].startswith("converged after "), out
        status, out, err = await run_bgpemu(
            "routes", "VNet1GW", "-o", "json", "--query", "*[].prefix", env=lab.env
        )
        assert status == 0, err
        assert "10.77.0.0/16" in json.loads(out)


def test_a_broker_port_needs_the_embedded_broker(capsys: pytest.CaptureFixture[str]) -> None:
    for other in (["--mqtt", "mqtt://127.0.0.1:1"], ["--no-mqtt"]):
        status = main(["lab", "up", str(TOPOLOGY), "--broker-port", "1884", *other])
        err = capsys.readouterr().err
        assert status == 2, err
        assert "--broker-port" in err
        assert other[0] in err
