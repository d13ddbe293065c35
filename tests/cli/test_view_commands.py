"""One observer command per Azure view the lab publishes (issue 15), derived from the
catalog (bgpemu.azure.catalog.AzureView): BGP peer status, Route Server learned and
advertised routes and ExpressRoute circuit routes join effective, learned and hub routes.
Each prints the ``data`` of its retained document (``-o json``), as ``solve`` does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.catalog import AzureView
from bgpemu.cli import main, parse
from bgpemu.cli._observe_verbs import VIEW_COMMANDS
from bgpemu.lab.publish import LAB_NODE
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.payloads import azure_view_payload, lab_state_payload
from bgpemu.observe.topics import LabTopics
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto

LAB = "views"

# (node, view as published, data)
DOCS: list[tuple[str, str, Any]] = [
    ("VpnGW", "bgp-peer-status", {"value": [{"neighbor": "10.0.0.1", "state": "Connected"}]}),
    ("ARS", "routes.nva1", {"learned": {"RouteServiceRole_IN_0": [{"network": "10.9.0.0/16"}]},
                            "advertised": {"RouteServiceRole_IN_0": []}}),
    ("Circuit", "circuit-routes.primary", {"value": [{"network": "10.1.0.0/16"}]}),
    ("Circuit", "circuit-routes.secondary", {"value": []}),
]  # fmt: skip


def test_every_view_of_the_catalog_has_its_command() -> None:
    assert set(VIEW_COMMANDS) == set(AzureView)
    for view in AzureView:
        assert parse([view.command, "X"]).command == view.command, view


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(require_binary("mosquitto"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.integration
async def test_the_new_view_commands_print_the_published_views(
    broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Publisher(broker.url, lab=LAB, node=LAB_NODE, node_status=False) as publisher:
        state = lab_state_payload(LAB, converged=True, nodes=[], since=1.0)
        publisher.update(LabTopics(lab=LAB).state, state)
        for node, view, data in DOCS:
            publisher.update(
                LabTopics(lab=LAB).node(node).azure(view), azure_view_payload(node, view, data)
            )
        await publisher.flush(10)

    async def run(*argv: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, [*argv, "--mqtt", broker.url, "-o", "json"])
        out, err = capsys.readouterr()
        return status, out, err

    status, out, err = await run("bgp-peer-status", "VpnGW")
    assert status == 0, err
    assert json.loads(out) == DOCS[0][2]
    status, out, err = await run("route-server-routes", "ARS/nva1")
    assert status == 0, err
    assert json.loads(out) == DOCS[1][2]["learned"]
    status, out, err = await run("route-server-routes", "ARS", "--direction", "advertised")
    assert status == 0, err
    assert json.loads(out) == DOCS[1][2]["advertised"]
    status, out, err = await run("circuit-routes", "Circuit")  # primary by default
    assert status == 0, err
    assert json.loads(out) == DOCS[2][2]
    status, out, err = await run("circuit-routes", "Circuit/secondary")
    assert status == 0, err
    assert json.loads(out) == DOCS[3][2]
    status, out, err = await run("circuit-routes", "Circuit/tertiary")
    assert status == 2
    assert "primary, secondary" in err
