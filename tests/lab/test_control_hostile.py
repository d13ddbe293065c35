"""A hostile control message against a running lab (issue 12 item 3): the 10-byte
recursive alias in ``apply`` killed the lab's supervisor; now it is answered ``rejected``
and the lab goes on serving commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer, send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing

HUB_SPOKE = Path(__file__).resolve().parents[2] / "topologies" / "hub-spoke-transit.yaml"
pytestmark = pytest.mark.integration


async def test_a_recursive_alias_on_the_control_topic_is_rejected_and_the_lab_runs_on(
    mosquitto: Mosquitto,
) -> None:
    network = load_topology(HUB_SPOKE)
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url) as publisher,
    ):
        async with Observer(mosquitto.url, lab=lab.name) as observer:
            await observer.wait_for(lambda: observer.topics.state in observer.documents, timeout=30)
        plan, version = lab.plan, lab.version
        hostile = control_payload("r1", "apply", topology="a: &a [*a]", file="loop.yaml")
        answers = await send_control(mosquitto.url, lab.name, hostile, 30)
        assert [a["event"] for a in answers] == ["rejected"]
        assert answers[0]["detail"].startswith(
            "loop.yaml:1: alias *a is inside the node &a it refers to (a recursive alias)"
        )
        assert lab.plan is plan
        assert lab.version == version
        assert not publisher.done()
        # The lab still serves commands.
        cut = control_payload("r2", "fail_link", a="HubGW", b="OnPrem")
        answers = await send_control(mosquitto.url, lab.name, cut, 60)
        assert [a["event"] for a in answers] == ["injected", "converged"]
