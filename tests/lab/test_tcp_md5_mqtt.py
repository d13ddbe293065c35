"""A TCP lab with TCP-MD5 keyed sessions publishes no key over MQTT (real mosquitto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.unit.topology.test_tcp_md5 import SECRET, _text

pytestmark = pytest.mark.integration


async def test_no_retained_document_holds_a_key(tmp_path: Path, mosquitto: Mosquitto) -> None:
    path = tmp_path / "md5.yaml"
    path.write_text(_text(circuit_key=f'sharedKey: "{SECRET}"', bgp_key=f'password: "{SECRET}"'))
    network = load_topology(path)
    async with (
        TcpLab(network, processes=2, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
        Observer(mosquitto.url, lab=network.name) as observer,
    ):
        await observer.wait_for(
            lambda: (
                all(
                    observer.node(s).get("sessions") and observer.node(s).get("rib/loc")
                    for s in ("CE", "Branch", "Circuit.primary", "Circuit.secondary")
                )
                and observer.topics.state in observer.documents
            ),
            timeout=30,
        )
        text = json.dumps(observer.documents)
    assert "Circuit.primary" in text
    assert "10.30.0.0/24" in text
    assert SECRET not in text
