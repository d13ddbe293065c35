"""The lab's retained ``topology`` document (docs/mqtt.md): published at start and again
after a topology change, as validated YAML that loads back to the network the lab runs."""

from __future__ import annotations

import pytest

from bgpemu.config.keys import KeySources
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.edit import apply_edit
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.observe.schemas import validate, validators
from tests.unit.web.helpers import TOPOLOGIES

pytestmark = pytest.mark.integration

WAIT = 30.0


async def test_the_topology_is_retained_at_start_and_after_a_change(mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGIES / "hub-spoke-transit.yaml")
    async with (
        TcpLab(network, processes=1, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
        Observer(mosquitto.url, lab=network.name) as observer,
    ):
        topic = observer.topics.topology
        await observer.wait_for(lambda: topic in observer.documents, WAIT)
        first = observer.documents[topic]
        validate(validators(), first)
        assert first["file"] == "hub-spoke-transit.yaml"
        loaded = parse_topology(first["topology"], "doc", KeySources(references=False))
        assert {n.name for n in loaded.nodes} == {n.name for n in network.nodes}

        spoke = {"role": "vnet", "addressSpace": ["10.9.0.0/16"]}
        changed = apply_edit(network, "add_node", {"name": "Spoke9", **spoke})
        await lab.change_topology(changed)
        await observer.wait_for(lambda: "Spoke9" in observer.documents[topic]["topology"], WAIT)
        again = parse_topology(observer.documents[topic]["topology"], "doc")
        assert {n.name for n in again.nodes} == {n.name for n in network.nodes} | {"Spoke9"}
