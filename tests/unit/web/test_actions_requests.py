"""The web view's requests (issue 16): trace, inject and endpoints checked field by field
before anything reaches the lab, the lab's answers and refusals passed on, and its
silence a refusal naming the lab."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.graph import topology_graph
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.lab.questions import Question, answer, parse_question
from bgpemu.observe.payloads import lab_event_payload, traffic_event_payload
from bgpemu.observe.topics import TopicRef
from bgpemu.topology import load_topology
from bgpemu.web.activity import TimelinePart, TrafficPart
from bgpemu.web.elements import elements
from bgpemu.web.extensions import PARTS, REQUESTS
from bgpemu.web.protocol import RequestError

TOPOLOGY = (
    Path(__file__).resolve().parents[2] / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
)
LAB = "lab-vpn-site"
SOLUTION = solve(load_topology(TOPOLOGY))


class _View:
    def __init__(self, topology: bool = True) -> None:
        self.parts = tuple(factory() for factory in PARTS)
        drawn = elements(topology_graph(SOLUTION.network, SOLUTION.plan), {}, {})
        self._by_id = {e["data"]["id"]: e for e in drawn}
        if topology:
            doc = {
                "schema": "bgpemu/v1/topology",
                "lab": LAB,
                "file": TOPOLOGY.name,
                "topology": TOPOLOGY.read_text(),
            }
            for part in self.parts:
                part.receive(TopicRef(lab=LAB, kind="topology"), doc, 0.0)

    @property
    def element_ids(self) -> frozenset[str]:
        return frozenset(self._by_id)

    def element(self, ident: str) -> dict[str, Any] | None:
        return self._by_id.get(ident)


class _Ctx:
    """A lab that answers like the running one (the pure functions it calls), or as told."""

    def __init__(
        self, answers: list[dict[str, Any]] | Exception | None = None, *, topology: bool = True
    ) -> None:
        self.view = _View(topology)
        self.sent: list[tuple[str, dict[str, Any], float, float | None]] = []
        self._answers = answers

    @property
    def lab(self) -> str:
        return LAB

    def now(self) -> float:
        return 0.0

    async def control(
        self, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
    ) -> list[dict[str, Any]]:
        self.sent.append((op, dict(args), timeout, first))
        if isinstance(self._answers, Exception):
            raise self._answers
        if self._answers is not None:
            return self._answers
        question = parse_question(op, dict(args))
        assert isinstance(question, Question), question
        ctx = TrafficContext(SOLUTION.network, SOLUTION.plan, SOLUTION.snapshots)
        data = answer(ctx, question)
        if isinstance(data, list):
            return [lab_event_payload(LAB, event="rejected", op=op, detail="; ".join(data))]
        return [traffic_event_payload(LAB, event="answered", op=op, data=data)]


async def _refused(ctx: _Ctx, request: dict[str, Any]) -> str:
    with pytest.raises(RequestError) as refused:
        await REQUESTS[request["request"]](ctx, {"id": 1, **request})
    return str(refused.value)


async def test_a_trace_is_answered_with_its_path_on_the_graph() -> None:
    ctx = _Ctx()
    data = await REQUESTS["trace"](
        ctx, {"id": 1, "request": "trace", "source": "VM1", "destination": "10.2.0.10"}
    )
    assert ctx.sent == [
        (
            "trace",
            {"source": "VM1", "destination": "10.2.0.10", "protocol": "tcp", "port": 443},
            60.0,
            None,  # a converging lab answers a question once converged
        )
    ]
    assert data["connectivityCheck"]["connectionStatus"] == "Reachable"
    assert data["trace"]["verdict"] == "reachable"
    assert data["highlight"] == {
        "nodes": ["vnet:Hub", "HubGW", "SiteB"],
        "edges": ["session:HubGW|SiteB"],
    }
    assert set(data["highlight"]["nodes"]) <= ctx.view.element_ids
    assert [h["node"] for h in data["hops"] if h["direction"] == "forward"] == [
        "vnet:Hub",
        "HubGW",
        "SiteB",
    ]


async def test_every_bad_trace_field_is_named_and_nothing_is_sent() -> None:
    ctx = _Ctx()
    message = await _refused(
        ctx, {"request": "trace", "source": 7, "port": "443", "protocol": "gre", "colour": "red"}
    )
    assert message.startswith("unknown field(s) colour")
    message = await _refused(
        ctx, {"request": "trace", "source": 7, "port": "443", "protocol": "gre"}
    )
    for field in (
        "source: must be",
        "destination: an interface",
        "port: must be a port number",
        "protocol: must be a protocol",
    ):
        assert field in message
    assert "args." not in message
    assert ctx.sent == []


async def test_the_labs_refusal_of_a_trace_is_passed_on() -> None:
    message = await _refused(_Ctx(), {"request": "trace", "source": "VM9", "destination": "VM1"})
    assert message.startswith(f"refused by lab {LAB!r}: source: ")
    assert "VM9" in message


async def test_an_injection_is_sent_as_the_cli_sends_it_and_its_answers_returned() -> None:
    answers = [
        lab_event_payload(
            LAB, event="injected", request="r", op="fail_link", detail="fail_link HubGW-SiteB"
        ),
        lab_event_payload(
            LAB,
            event="converged",
            request="r",
            op="fail_link",
            detail="fail_link HubGW-SiteB",
            duration=0.03,
            updates=2,
            prefixes=1,
            best_path_changes=2,
        ),
    ]
    ctx = _Ctx(answers)
    data = await REQUESTS["inject"](
        ctx, {"id": 4, "request": "inject", "op": "fail_link", "args": {"a": "HubGW", "b": "SiteB"}}
    )
    assert ctx.sent == [("fail_link", {"a": "HubGW", "b": "SiteB"}, 300.0, 5.0)]
    assert (data["event"], data["duration"], data["updates"]) == ("converged", 0.03, 2)
    assert data["answers"] == answers


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"op": "apply", "args": {}}, "op: one of fail_link, restore_link, crash"),
        ({"op": "reset", "args": {"a": "HubGW", "b": "SiteB"}}, "op: one of"),
        ({"args": {}}, "op: one of"),
        ({"op": "crash", "args": ["SiteB"]}, "args: a mapping"),
        ({"op": "crash", "args": {"node": "SiteB"}, "why": 1}, "unknown field(s) why"),
        ({"op": "fail_link", "args": {"a": "HubGW"}}, "b: a node or speaker name is required"),
        (
            {"op": "fail_link", "args": {"a": "HubGW", "b": "Nowhere"}},
            "b: no node or speaker 'Nowhere'",
        ),
        (
            {"op": "instance_down", "args": {"node": "HubGW", "index": "0"}},
            "index: must be an instance number",
        ),
        ({"op": "announce", "args": {"node": "SiteB", "prefix": "10.300.0.0/16"}}, "prefix:"),
        (
            {"op": "withdraw", "args": {"node": "SiteB", "prefix": "10.9.0.0/16", "x": 1}},
            "unknown field(s) x",
        ),
    ],
)
async def test_every_bad_injection_field_is_named_and_nothing_is_sent(
    request_: dict[str, Any], expected: str
) -> None:
    ctx = _Ctx([])
    message = await _refused(ctx, {"request": "inject", **request_})
    assert expected in message
    assert ctx.sent == []


async def test_without_the_topology_the_lab_checks_the_names() -> None:
    refusal = [
        lab_event_payload(
            LAB, event="rejected", op="crash", detail="args.node: no node or speaker 'X' runs"
        )
    ]
    ctx = _Ctx(refusal, topology=False)
    message = await _refused(ctx, {"request": "inject", "op": "crash", "args": {"node": "X"}})
    assert message == f"refused by lab {LAB!r}: node: no node or speaker 'X' runs"
    assert ctx.sent == [("crash", {"node": "X"}, 300.0, 5.0)]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (
            TimeoutError(),
            f"lab {LAB!r} did not answer crash within 5 s, or did not converge within 300 s",
        ),
        (RequestError("broker gone"), "crash could not be sent to lab"),
    ],
)
async def test_a_silent_lab_or_a_lost_broker_is_a_refusal(
    failure: Exception, expected: str
) -> None:
    message = await _refused(
        _Ctx(failure), {"request": "inject", "op": "crash", "args": {"node": "SiteB"}}
    )
    assert expected in message


async def test_no_answer_at_all_is_a_refusal() -> None:
    assert "gave no answer" in await _refused(
        _Ctx([]), {"request": "inject", "op": "crash", "args": {"node": "SiteB"}}
    )


async def test_the_endpoints_are_the_topologys_and_the_matrixs() -> None:
    ctx = _Ctx()
    found = await REQUESTS["endpoints"](ctx, {"id": 2, "request": "endpoints"})
    assert {
        "name": "VM1",
        "kind": "interface",
        "address": "10.0.1.4",
        "subnet": "Hub/Workload",
    } in found
    assert (
        await _refused(ctx, {"request": "endpoints", "x": 1})
        == "unknown field(s) x (this request takes: )"
    )


def test_the_parts_follow_the_labs_documents() -> None:
    timeline, traffic = (factory() for factory in PARTS)
    assert isinstance(timeline, TimelinePart)
    assert isinstance(traffic, TrafficPart)
    event = lab_event_payload(LAB, event="injected", op="crash", detail="crash SiteB")
    pushed = timeline.receive(TopicRef(lab=LAB, kind="events"), event, 5.0)
    assert pushed == [
        {"type": "timeline", "entry": {**pushed[0]["entry"], "time": 5.0, "event": "injected"}}
    ]
    assert timeline.snapshot() == {"timeline": [pushed[0]["entry"]]}
    assert traffic.receive(TopicRef(lab=LAB, kind="events"), event, 5.0) == []
    assert traffic.snapshot() == {"traffic": {"reachability": None, "intents": None, "changes": []}}


def test_a_bad_topology_document_is_a_problem_not_a_traceback() -> None:
    traffic = TrafficPart()
    for doc in (
        {"topology": 3},
        {"topology": "nodes: [1"},
        {"topology": "name: x\nnodes: {A: {role: vnet}}"},
    ):
        traffic.receive(TopicRef(lab=LAB, kind="topology"), doc, 0.0)
        assert traffic.model() is None
        assert traffic.problem is not None
        assert traffic.problem.startswith("the lab's topology document cannot be read: ")


def test_a_new_topology_document_replaces_the_model_and_its_problem() -> None:
    traffic = TrafficPart()
    ref = TopicRef(lab=LAB, kind="topology")
    traffic.receive(ref, {"topology": 3}, 0.0)
    assert traffic.model() is None
    assert traffic.problem is not None
    traffic.receive(ref, {"topology": TOPOLOGY.read_text(), "file": TOPOLOGY.name}, 1.0)
    assert traffic.problem is None  # not tried yet for this document
    model = traffic.model()
    assert model is not None
    assert model[0].name == "lab-vpn-site"
    assert traffic.model() is model  # compiled once per document
    traffic.receive(ref, None, 2.0)  # cleared
    assert traffic.model() is None


async def test_a_huge_name_is_not_echoed_whole() -> None:
    ctx = _Ctx([])
    message = await _refused(
        ctx, {"request": "inject", "op": "crash", "args": {"node": "N" * 60_000}}
    )
    assert message.startswith("node: no node or speaker 'NNN")
    assert len(message) <= 1000
    refusal = [lab_event_payload(LAB, event="rejected", op="crash", detail="x" * 60_000)]
    message = await _refused(
        _Ctx(refusal, topology=False), {"request": "inject", "op": "crash", "args": {"node": "X"}}
    )
    assert len(message) <= 1000
