"""The web view's traffic and injections against a real lab and a real mosquitto, with a
real WebSocket client (issue 16): the snapshot carries the timeline and the matrix, a
trace's highlight names only drawn elements, an injection from the socket takes the
session down on the broker and comes back as timeline entries and changed flows, and a
bad name is refused naming its field."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.traffic.intents import Intent
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.traffic import Intents
from bgpemu.observe.mqtt import Observer
from bgpemu.topology import load_topology
from bgpemu.web.elements import session_edge_id
from bgpemu.web.server import WebServer
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.web_page import WAIT, open_page

pytestmark = pytest.mark.integration

TOPOLOGY = (
    Path(__file__).resolve().parents[1] / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
)
INTENTS = Intents(
    file="intents.yaml",
    intents=(Intent(name="vm1-to-siteb", source="VM1", destination="10.2.0.10", port=443),),
)
LINK = session_edge_id("HubGW", "SiteB")


async def test_trace_and_injection_from_the_socket(mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGY)
    async with (
        TcpLab(network, processes=1, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url, intents=INTENTS),
        WebServer(mosquitto.url, network.name, listen=("127.0.0.1", 0)) as server,
        Observer(mosquitto.url, lab=network.name) as observer,
    ):
        view = server.view

        def ready() -> bool:  # the topology drawn (in a thread) and the session up
            element = view.element(LINK)
            up = element is not None and element["data"]["state"] == "Established"
            return up and view.element("vnet:Hub") is not None

        assert await server.wait_until(ready, WAIT)
        async with open_page(server) as page:
            snapshot = await page.next(lambda m: m["type"] == "snapshot")
            drawn = {e["data"]["id"] for e in snapshot["elements"]}
            assert [e["event"] for e in snapshot["timeline"]] == ["lab_converged"]
            assert snapshot["traffic"]["reachability"]["summary"] == {"reachable": 2}
            assert snapshot["traffic"]["intents"]["ok"] == 1

            choices = await page.request(request="endpoints")
            assert {
                "name": "VM1",
                "kind": "interface",
                "address": "10.0.1.4",
                "subnet": "Hub/Workload",
            } in choices["data"]

            traced = await page.request(request="trace", source="VM1", destination="10.2.0.10")
            assert traced["ok"], traced
            assert traced["data"]["trace"]["verdict"] == "reachable"
            highlight = traced["data"]["highlight"]
            assert set(highlight["nodes"]) | set(highlight["edges"]) <= drawn
            assert highlight == {"nodes": ["vnet:Hub", "HubGW", "SiteB"], "edges": [LINK]}

            refused = await page.request(
                request="inject", op="fail_link", args={"a": "HubGW", "b": "Nowhere"}
            )
            assert refused["ok"] is False
            assert refused["error"].startswith("b: no node or speaker 'Nowhere'")

            injected = await page.request(
                request="inject", op="fail_link", args={"a": "HubGW", "b": "SiteB"}
            )
            assert injected["ok"], injected
            assert injected["data"]["event"] == "converged"
            assert [a["event"] for a in injected["data"]["answers"]] == ["injected", "converged"]
            # The lab took the session down: its own sessions document says so on the broker.
            await observer.wait_for(lambda: _session_down(observer.documents, network.name), WAIT)

            def seen(pushes: list[dict[str, Any]]) -> bool:
                kinds = {(m["type"], (m.get("entry") or {}).get("event")) for m in pushes}
                changed = [m for m in pushes if m["type"] == "flows-changed"]
                return (
                    {("timeline", "injected"), ("timeline", "converged")} <= kinds
                    and any(m["data"]["intents"] for m in changed)
                    and any(m["data"]["matrix"] for m in changed)
                )

            pushes = await page.pushed_until(seen)
            entries = [m["entry"] for m in pushes if m["type"] == "timeline"]
            converged = next(e for e in entries if e["event"] == "converged")
            assert converged["op"] == "fail_link"
            assert isinstance(converged["duration"], float)
            assert converged["best_path_changes"] == 2
            changed = [m["data"] for m in pushes if m["type"] == "flows-changed"]
            intents = next(c["intents"] for c in changed if c["intents"])
            assert intents[0]["name"] == "vm1-to-siteb"
            assert intents[0]["after"] == "dropped_none_route"

            after = await page.request(request="trace", source="VM1", destination="10.2.0.10")
            assert after["data"]["trace"]["verdict"] == "dropped_none_route"


def _session_down(documents: dict[str, dict[str, Any]], lab: str) -> bool:
    doc = documents.get(f"bgpemu/v1/{lab}/nodes/HubGW/sessions", {})
    states = [e.get("state") for e in doc.get("sessions", ()) if e.get("peer") == "SiteB"]
    return bool(states) and states[0] != "Established"


async def test_an_injection_nobody_answers_is_refused_in_seconds(mosquitto: Mosquitto) -> None:
    """A lab that does not hear the page (gone, or a broker that drops the page's control
    messages) is found out as ``bgpemu fail`` finds it: no first answer within seconds,
    not after the convergence timeout (300 s)."""
    async with (
        WebServer(mosquitto.url, "nolab", listen=("127.0.0.1", 0)) as server,
        open_page(server) as page,
    ):
        await page.next(lambda m: m["type"] == "snapshot")
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.timeout(20):
            refused = await page.request(request="inject", op="crash", args={"node": "SiteB"})
        assert refused["ok"] is False
        assert refused["error"] == (
            "lab 'nolab' did not answer crash within 5 s, or did not converge within 300 s"
        )
        assert loop.time() - start < 15
