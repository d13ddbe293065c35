"""``bgpemu inspect [LAB]`` (issue 15): every speaker of a running lab with what a real
router needs to peer with it, read from the lab's retained ``info`` and ``sessions``."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.cli import main
from bgpemu.cli._observe_mqtt import Docs
from bgpemu.cli.inspect import inspect_json, render_inspect
from bgpemu.lab.supervisor import TcpLab
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


async def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out):
            return main(list(argv))

    status = await asyncio.to_thread(run)
    return status, out.getvalue()


@pytest.mark.integration
async def test_inspect_lists_every_speaker_where_a_router_connects(mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGIES / "er-vpn-backup.yaml")
    plan = solve(network).plan
    port = free_port("127.0.10.1")  # the default lab_base, as the plan's addresses
    async with (
        TcpLab(network, processes=2, port=port, mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
    ):
        status, out = await _cli("inspect", network.name, "--mqtt", mosquitto.url, "-o", "json")
        assert status == 0, out
        speakers = json.loads(out)
        expected = {e.speaker: e for e in plan.endpoints.values() if not e.external}
        assert [s["speaker"] for s in speakers] == sorted(expected)
        for entry in speakers:
            endpoint = expected[entry["speaker"]]
            assert (entry["node"], entry["instance"], entry["role"], entry["asn"]) == (
                endpoint.node,
                endpoint.instance,
                endpoint.role,
                endpoint.asn,
            )
            assert (entry["address"], entry["port"], entry["azureAddress"]) == (
                endpoint.lab_address,
                port,
                endpoint.azure_address,
            )
            assert entry["sessions"], entry
            assert {s["state"] for s in entry["sessions"]} == {"Established"}
        # The table: one row per speaker; --query as every observer.
        status, table = await _cli("inspect", "--mqtt", mosquitto.url)
        assert status == 0
        lines = table.splitlines()
        assert lines[0].split() == [
            "Speaker", "Node", "Role", "ASN", "Address", "Port", "AzureAddress", "Sessions",
        ]  # fmt: skip
        assert len(lines) == 2 + len(speakers)
        status, out = await _cli(
            "inspect", "--mqtt", mosquitto.url, "--query", "[?node=='VpnGW'].port", "-o", "json"
        )
        assert json.loads(out) == [port, port]


def test_an_info_without_the_new_fields_is_shown_with_blanks() -> None:
    """A lab from a bgpemu before issue 15 publishes ``info`` without node and port."""
    old = {"role": "onprem", "asn": 65001, "router_id": "1.1.1.1", "addresses": ["10.0.0.1"]}
    docs = Docs(lab="old", state={"nodes": ["CE"]}, nodes={"CE": {"info": old}})
    (entry,) = inspect_json(docs)
    assert (entry["node"], entry["port"], entry["address"], entry["sessions"]) == (
        None,
        None,
        "10.0.0.1",
        [],
    )
    row = render_inspect([entry]).splitlines()[2].split()
    assert row == ["CE", "onprem", "65001", "10.0.0.1", "10.0.0.1"]


@pytest.mark.integration
async def test_instance_down_and_up_from_the_cli(mosquitto: Mosquitto) -> None:
    """``bgpemu instance-down NODE INDEX [--silent]`` / ``instance-up``: the control op of
    the testing API's ``instance_down`` / ``instance_up`` and the change files."""
    network = load_topology(TOPOLOGIES / "er-vpn-backup.yaml")
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
    ):
        target = ("--mqtt", mosquitto.url, "--timeout", "60")

        def instance_sessions() -> set[tuple[str, str]]:
            """The lab's sessions expected up that VpnGW.1 is an end of."""
            return {pair for pair in lab.sessions if "VpnGW.1" in pair}

        before = instance_sessions()
        assert len(before) == 2  # ErGW and Firewall
        status, out = await _cli("instance-down", "VpnGW", "1", *target)
        assert status == 0, out
        assert out.splitlines()[0].startswith("injected: instance_down VpnGW.1-"), out
        assert out.splitlines()[-1].startswith("converged after ")
        assert instance_sessions() == set()  # held down on purpose
        status, out = await _cli("instance-up", "VpnGW", "1", *target)
        assert status == 0, out
        assert instance_sessions() == before
        status, out = await _cli("instance-down", "VpnGW", "7", "--silent", *target)
        assert status == 2, out
        assert "instances 0 and 1, not 7" in out, out
