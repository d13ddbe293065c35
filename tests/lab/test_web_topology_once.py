"""The web server compiles a ``topology`` document once: the same document again (the
broker's retained one after a reconnect, an ``apply`` of the same file) is taken as it
was prepared, and a new one is prepared again, once (docs/web.md)."""

from __future__ import annotations

import json
from functools import partial

import pytest

from bgpemu.observe.payloads import topology_payload
from bgpemu.web.activity import TrafficPart
from bgpemu.web.server import WebServer
from bgpemu.web.view import LabView, Topology, prepare_topology
from tests.lab.conftest import Mosquitto
from tests.lab.web_page import WAIT
from tests.unit.web.helpers import TOPOLOGIES

pytestmark = pytest.mark.integration

LAB = "once"


def _at_least(taken: list[Topology], count: int) -> bool:
    return len(taken) >= count


def _payload(name: str) -> bytes:
    text = (TOPOLOGIES / "s2s-bgp.yaml").read_text()
    text = text.replace("name: s2s-bgp", f"name: {name}", 1)
    assert f"name: {name}" in text
    return json.dumps(topology_payload(LAB, file="s2s-bgp.yaml", topology=text)).encode()


async def test_the_same_topology_document_again_is_not_compiled_again(
    mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgpemu.observe.mqtt.connect import mqtt_client
    from bgpemu.observe.url import parse_mqtt_url

    prepared: list[bytes] = []
    taken: list[Topology] = []
    real_prepare = prepare_topology
    real_take = LabView.take_topology

    def prepare(payload: bytes) -> Topology:
        prepared.append(payload)
        return real_prepare(payload)

    def take(view: LabView, *args: object) -> list[dict[str, object]]:
        taken.append(args[1])  # type: ignore[arg-type]
        return real_take(view, *args)  # type: ignore[arg-type]

    monkeypatch.setattr("bgpemu.web.view.prepare_topology", prepare)
    monkeypatch.setattr(LabView, "take_topology", take)
    topic = f"bgpemu/v1/{LAB}/topology"
    async with (
        mqtt_client(parse_mqtt_url(mosquitto.url)) as client,
        WebServer(mosquitto.url, LAB, listen=("127.0.0.1", 0), requests={}) as server,
    ):
        (traffic,) = (p for p in server.view.parts if isinstance(p, TrafficPart))
        for publication, (name, compilations) in enumerate(
            [("first", 1), ("first", 1), ("second", 2)], start=1
        ):
            await client.publish(topic, _payload(name), qos=1, retain=True)
            assert await server.wait_until(partial(_at_least, taken, publication), WAIT)
            assert len(prepared) == compilations
            assert server.view.graph is not None
            model = traffic.model()
            assert model is not None
            assert model[0].name == name
        assert taken[0] is taken[1]
        await client.publish(topic, b"", qos=1, retain=True)
