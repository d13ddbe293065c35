"""The lab's ``topology`` document is compiled once for the whole web view: the graph
(:func:`bgpemu.web.view.prepare_topology`) and the traffic requests (the traffic part's
network and plan, :mod:`bgpemu.web.extensions`) share one compilation, and a new document
(a live topology change) is compiled again, once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import bgpemu.topology
from bgpemu.azure.model import Network
from bgpemu.observe.payloads import topology_payload
from bgpemu.web.activity import TrafficPart
from bgpemu.web.extensions import PARTS, REQUESTS
from bgpemu.web.protocol import RequestError
from bgpemu.web.view import LabView

LAB = "lab-vpn-site"
BASE = f"bgpemu/v1/{LAB}"
TOPOLOGY = (
    Path(__file__).resolve().parents[2] / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
)


def _message(text: str) -> bytes:
    return json.dumps(topology_payload(LAB, file=TOPOLOGY.name, topology=text)).encode()


class _Ctx:
    """What the requests may use; the lab is never asked (the checks refuse first)."""

    def __init__(self, view: LabView) -> None:
        self.view = view

    @property
    def lab(self) -> str:
        return LAB

    def now(self) -> float:
        return 0.0

    async def control(
        self, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
    ) -> list[dict[str, Any]]:
        raise AssertionError(f"the lab was asked {op}")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The topology texts parsed (``bgpemu.topology.parse_topology``, the first step of
    every compilation of a document, whether it succeeds or not), by their ``name``."""
    names: list[str] = []
    real: Callable[..., Network] = bgpemu.topology.parse_topology

    def counting(text: str, *args: Any, **kwargs: Any) -> Network:
        found = re.search(r"^name: (.*)$", text, re.MULTILINE)
        names.append(found[1] if found else "?")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(bgpemu.topology, "parse_topology", counting)
    return names


def _traffic(view: LabView) -> TrafficPart:
    (part,) = (p for p in view.parts if isinstance(p, TrafficPart))
    return part


async def _ask_traffic_requests(view: LabView) -> None:
    ctx = _Ctx(view)
    found = await REQUESTS["endpoints"](ctx, {"id": 1, "request": "endpoints"})
    assert any(choice["name"] == "VM1" for choice in found)
    with pytest.raises(RequestError, match="no node or speaker 'Nowhere'"):
        await REQUESTS["inject"](
            ctx, {"id": 2, "request": "inject", "op": "crash", "args": {"node": "Nowhere"}}
        )


async def test_one_document_is_compiled_once_for_the_graph_and_the_traffic_requests(
    parsed: list[str],
) -> None:
    view = LabView(LAB, [make() for make in PARTS])
    view.receive(f"{BASE}/topology", _message(TOPOLOGY.read_text()), 1.0)
    assert view.graph is not None
    assert parsed == ["lab-vpn-site"]
    await _ask_traffic_requests(view)
    await _ask_traffic_requests(view)
    model = _traffic(view).model()
    assert model is not None
    assert model[0].name == "lab-vpn-site"
    assert parsed == ["lab-vpn-site"]  # the graph's compilation, shared

    # A live topology change: the new document is compiled again, once.
    changed = TOPOLOGY.read_text().replace("name: lab-vpn-site", "name: lab-vpn-site-2", 1)
    assert changed != TOPOLOGY.read_text()
    view.receive(f"{BASE}/topology", _message(changed), 2.0)
    await _ask_traffic_requests(view)
    model = _traffic(view).model()
    assert model is not None
    assert model[0].name == "lab-vpn-site-2"
    assert parsed == ["lab-vpn-site", "lab-vpn-site-2"]


async def test_a_document_that_does_not_compile_is_tried_once(parsed: list[str]) -> None:
    view = LabView(LAB, [make() for make in PARTS])
    bad = "name: bad\nnodes: {A: {role: vpn_gateway}}\n"
    view.receive(f"{BASE}/topology", _message(bad), 1.0)
    assert view.graph is None
    assert view.problems
    traffic = _traffic(view)
    assert traffic.model() is None
    assert traffic.problem is not None
    assert traffic.problem.startswith("the lab's topology document cannot be read: ")
    found = await REQUESTS["endpoints"](_Ctx(view), {"id": 1, "request": "endpoints"})
    assert found == []
    assert parsed == ["bad"]
