"""The web view's server against a real lab and a real mosquitto, with a real WebSocket
client: the snapshot draws every speaker and session, a failed link reaches the page as
a session push (not a new graph), a table page, and bad requests are answered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.topology import load_topology
from bgpemu.web.elements import session_edge_id
from bgpemu.web.server import WebServer
from bgpemu.web.view import LabView
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.lab.web_page import WAIT, open_page
from tests.unit.web.helpers import TOPOLOGIES

pytestmark = pytest.mark.integration


async def test_snapshot_session_push_and_a_table_page(mosquitto: Mosquitto) -> None:
    network = load_topology(TOPOLOGIES / "er-vpn-backup.yaml")
    async with (
        TcpLab(network, processes=1, port=free_port("127.0.10.1"), mqtt=mosquitto.url) as lab,
        publishing(lab, mosquitto.url),
        WebServer(
            mosquitto.url, network.name, listen=("127.0.0.1", 0), parts=(), requests={}
        ) as server,
    ):
        view = server.view
        edges = {session_edge_id(s.name, n.name) for s in lab.plan.speakers for n in s.neighbors}

        def drawn(v: LabView) -> bool:
            return all(
                (e := v.element(ident)) is not None and e["data"]["state"] == "Established"
                for ident in edges
            )

        assert await server.wait_until(lambda: drawn(view), WAIT)
        async with open_page(server) as page:
            snapshot = await page.next(lambda m: m["type"] == "snapshot")
            data = {e["data"]["id"]: e["data"] for e in snapshot["elements"]}
            assert set(lab.plan.endpoints) <= set(data)
            assert {data[e]["state"] for e in edges} == {"Established"}
            assert snapshot["state"]["converged"] is True
            assert "routes" not in json.dumps(snapshot)

            tables = await page.request(request="tables", node="VpnGW.0")
            assert tables["ok"], tables
            ids = [t["id"] for t in tables["data"]]
            assert ids[0] == "rib/loc"
            assert "rib/in/Firewall" in ids
            assert "azure/learned-routes" in ids
            loc = await page.request(request="table", node="VpnGW.0", table="rib/loc", limit=500)
            assert loc["ok"], loc
            assert "Reason" in loc["data"]["columns"]
            before = loc["data"]["total"]
            assert before > 0
            learned = await page.request(
                request="table", node="VpnGW.0", table="azure/learned-routes", filter="10.1."
            )
            assert learned["data"]["columns"][:2] == ["Network", "NextHop"]
            assert learned["data"]["rows"]

            page.pushed.clear()
            # What `bgpemu fail link VpnGW Firewall` sends.
            fail = control_payload("web-test", "fail_link", a="VpnGW", b="Firewall")
            answers = await send_control(mosquitto.url, network.name, fail, timeout=WAIT)
            assert answers[-1]["event"] == "converged", answers
            cut = {session_edge_id("Firewall", "VpnGW.0"), session_edge_id("Firewall", "VpnGW.1")}
            seen: dict[str, str] = {}
            while not (cut <= set(seen) and all(seen[e] != "Established" for e in cut)):
                push = await page.next(lambda m: m["type"] == "sessions")
                assert {e["id"] for e in push["edges"]} <= edges
                seen.update({e["id"]: e["state"] for e in push["edges"]})
            assert not any(m["type"] == "elements" for m in page.pushed)

            refusals: list[tuple[dict[str, Any], str]] = [
                (
                    {"request": "table", "node": "VpnGW.0", "table": "rib/loc", "limit": 501},
                    "limit",
                ),
                ({"request": "table", "node": "nope", "table": "rib/loc"}, "node"),
                ({"request": "frobnicate"}, "unknown request"),
            ]
            for bad, error in refusals:
                answer = await page.request(**bad)
                assert answer["ok"] is False
                assert error in answer["error"]
            await page.ws.send("not json")
            garbage = await page.next(lambda m: m.get("type") == "reply")
            assert garbage["id"] is None
            # The server is alive: the same table, after the cut, through a fresh request.
            after = await page.request(request="table", node="VpnGW.0", table="rib/loc", limit=500)
            assert after["ok"]
            assert after["data"]["total"] <= before


async def test_a_page_without_the_token_or_from_another_site_is_refused(
    mosquitto: Mosquitto,
) -> None:
    async with WebServer(
        mosquitto.url, "nolab", listen=("127.0.0.1", 0), parts=(), requests={}
    ) as server:
        host = f"127.0.0.1:{server.port}"
        for path, origin in [
            ("/ws", None),
            ("/ws?token=wrong", None),
            (f"/ws?token={server.token}", Origin("http://evil.example")),
        ]:
            async with connect(f"ws://{host}{path}", origin=origin) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1008
        # A huge frame closes that page only (1009); the server still serves.
        async with connect(f"ws://{host}/ws?token={server.token}", max_size=None) as ws:
            await ws.recv()  # the snapshot
            await ws.send("x" * 200_000)
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009
        async with connect(f"ws://{host}/ws?token={server.token}") as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"


async def test_a_handler_that_fails_or_answers_no_json_is_an_error_reply(
    mosquitto: Mosquitto,
) -> None:
    async def broken(_ctx: Any, _request: Any) -> Any:
        raise KeyError("oops")

    async def not_json(_ctx: Any, _request: Any) -> Any:
        return {"x": object()}

    async with (
        WebServer(
            mosquitto.url,
            "nolab",
            listen=("127.0.0.1", 0),
            parts=(),
            requests={"broken": broken, "odd": not_json},
        ) as server,
        open_page(server) as page,
    ):
        await page.next(lambda m: m["type"] == "snapshot")
        failed = await page.request(request="broken")
        assert failed["ok"] is False
        assert "internal error: KeyError" in failed["error"]
        odd = await page.request(request="odd")
        assert odd["ok"] is False
        assert "not JSON" in odd["error"]
        alive = await page.request(request="tables", node="nowhere")
        assert "node" in alive["error"]


async def test_a_large_table_is_decoded_off_the_loop_and_paged(mosquitto: Mosquitto) -> None:
    """A table document over 64 KiB (a vWAN hub's Loc-RIB is 8 MB) is decoded in a thread;
    the page gets it, paged, as any other."""
    from bgpemu.observe.mqtt.connect import mqtt_client
    from bgpemu.observe.payloads import info_payload
    from bgpemu.observe.url import parse_mqtt_url
    from bgpemu.web.server import LARGE

    base = "bgpemu/v1/big"
    routes = [
        {
            "prefix": f"10.{i // 256}.{i % 256}.0/24",
            "next_hop": "10.0.0.1",
            "as_path": [65001],
            "origin": "igp",
            "local_pref": 100,
            "med": None,
            "peer": "r2",
            "best": True,
            "multipath": False,
            "reason": "only path",
        }
        for i in range(3000)
    ]
    rib = json.dumps({"schema": "bgpemu/v1/rib-loc", "node": "r1", "seq": 1, "routes": routes})
    assert len(rib) > LARGE
    info = json.dumps(info_payload("r1", role="onprem", asn=65001, router_id="1.1.1.1"))
    async with mqtt_client(parse_mqtt_url(mosquitto.url)) as client:
        await client.publish(f"{base}/nodes/r1/info", info.encode(), qos=1, retain=True)
        await client.publish(f"{base}/nodes/r1/rib/loc", rib.encode(), qos=1, retain=True)
    async with WebServer(
        mosquitto.url, "big", listen=("127.0.0.1", 0), parts=(), requests={}
    ) as server:
        assert await server.wait_until(lambda: server.view.element("r1") is not None, WAIT)
        async with open_page(server) as page:
            await page.next(lambda m: m["type"] == "snapshot")
            answer = await page.request(
                request="table", node="r1", table="rib/loc", offset=2900, limit=500
            )
            assert answer["ok"], answer
            assert answer["data"]["total"] == 3000
            assert len(answer["data"]["rows"]) == 100
            assert answer["data"]["rows"][-1][0] == "10.11.183.0/24"
