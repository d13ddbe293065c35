"""The traffic questions of the control topic (issue 14), checked and answered without a
lab: each answer is the pure function's for the same network, plan and snapshots; every
bad field is a problem naming it (``args.FIELD: ...``), never an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.converge import solve
from bgpemu.azure.security import Direction
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.nexthop import next_hop
from bgpemu.azure.traffic.nsg import effective_security_rules, ip_flow_verify
from bgpemu.azure.traffic.trace import trace
from bgpemu.lab.questions import QUESTIONS, Question, answer, parse_question
from bgpemu.topology import load_topology

TOPOLOGY = (
    Path(__file__).resolve().parents[2] / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
)


@pytest.fixture(scope="module")
def ctx() -> TrafficContext:
    solution = solve(load_topology(TOPOLOGY))
    return TrafficContext(solution.network, solution.plan, solution.snapshots)


def _ask(ctx: TrafficContext, op: str, **args: Any) -> dict[str, Any] | list[str]:
    question = parse_question(op, args)
    return question if isinstance(question, list) else answer(ctx, question)


def test_a_trace_is_the_pure_trace_of_the_flow(ctx: TrafficContext) -> None:
    expected = trace(ctx, Flow.parse("Tcp", "10.0.1.4", 50000, "10.2.0.10", 443))
    assert expected.verdict.value == "reachable"
    got = _ask(ctx, "trace", source="VM1", destination="10.2.0.10", port=443)
    assert got == {
        "connectivityCheck": expected.to_connectivity_check(),
        "trace": expected.to_json(),
    }
    udp = _ask(
        ctx,
        "trace",
        source="10.0.1.4",
        destination="10.2.0.10",
        port=53,
        protocol="UDP",
        source_port=4000,
    )
    assert isinstance(udp, dict)
    assert udp["trace"]["flow"] == {
        "protocol": "Udp",
        "source": "10.0.1.4",
        "sourcePort": 4000,
        "destination": "10.2.0.10",
        "destinationPort": 53,
    }
    icmp = _ask(ctx, "trace", source="VM1", destination="10.2.0.10", protocol="icmp")
    assert isinstance(icmp, dict)
    assert icmp["trace"]["flow"]["destinationPort"] == 0


def test_next_hop_ip_flow_and_effective_nsg_are_the_pure_answers(ctx: TrafficContext) -> None:
    assert _ask(ctx, "next_hop", source="VM1", destination="10.2.0.10") == next_hop(
        ctx, "VM1", "10.2.0.10"
    )
    flow = Flow.parse("Tcp", "172.31.0.100", 60000, "10.0.1.4", 80)
    assert _ask(
        ctx,
        "ip_flow",
        nic="VM1",
        direction="Inbound",
        remote="172.31.0.100",
        remote_port=60000,
        local_port=80,
    ) == ip_flow_verify(ctx.network, ctx.plan, ctx.snapshots, "VM1", flow, Direction.INBOUND)
    assert _ask(ctx, "effective_nsg", nic="10.0.1.4") == effective_security_rules(
        ctx.network, ctx.plan, ctx.snapshots, "VM1"
    )


HOSTILE: list[tuple[str, Any, str]] = [
    ("trace", [], "args: must be a mapping"),
    ("trace", {"source": "VM1", "destination": "10.2.0.10"}, "args.port: a port number"),
    ("trace", {"source": "VM1", "destination": "x", "port": 70000}, "args.port: must be a port"),
    ("trace", {"source": "VM1", "destination": "x", "port": True}, "args.port: must be a port"),
    ("trace", {"source": "VM1", "destination": "x", "port": "443"}, "args.port: must be a port"),
    (
        "trace",
        {"source": "VM1", "destination": "x", "port": 1, "protocol": "sctp"},
        "args.protocol: must be a protocol",
    ),
    (
        "trace",
        {"source": 4, "destination": "x" * 10_000, "port": 1},
        "args.source: must be an interface",
    ),
    ("trace", {"destination": "10.2.0.10", "port": 1, "bogus": 1}, "args: unknown field(s) bogus"),
    ("trace", {"source": "VM9", "destination": "10.2.0.10", "port": 1}, "args.source: "),
    ("trace", {"source": "10.9.9.9", "destination": "10.2.0.10", "port": 1}, "args.source: "),
    ("trace", {"source": "VM1", "destination": "Hub/Nope", "port": 1}, "args.destination: "),
    ("trace", {"source": "VM1", "destination": "10.0.1.99", "port": 1}, "args.destination: "),
    ("next_hop", {"source": "HubGW", "destination": "10.2.0.10"}, "args.source: "),
    ("next_hop", {"source": "VM1", "destination": "1.2.3.4/8"}, "args.destination: "),
    (
        "ip_flow",
        {
            "nic": "VM1",
            "remote": "1.2.3.4",
            "local_port": 1,
            "remote_port": 2,
            "direction": "Sideways",
        },
        "args.direction: must be 'Inbound' or 'Outbound'",
    ),
    (
        "ip_flow",
        {"nic": "VM1", "remote": "nowhere", "local_port": 1, "remote_port": 2},
        "args.remote: ",
    ),
    (
        "ip_flow",
        {"nic": "HubGW", "remote": "1.2.3.4", "local_port": 1, "remote_port": 2},
        "args.nic: ",
    ),
    ("ip_flow", {"nic": "VM1", "remote": "1.2.3.4"}, "args.local_port: a port number"),
    ("effective_nsg", {"nic": "VM7"}, "args.nic: "),
    ("effective_nsg", {"nic": None}, "args.nic: must be"),
]


@pytest.mark.parametrize(("op", "args", "problem"), HOSTILE)
def test_bad_questions_name_the_field(
    ctx: TrafficContext, op: str, args: Any, problem: str
) -> None:
    question = parse_question(op, args)
    got = question if isinstance(question, list) else answer(ctx, question)
    assert isinstance(got, list), got
    assert any(p.startswith(problem) for p in got), got
    assert all(len(p) < 1000 for p in got)


def test_every_problem_at_once() -> None:
    got = parse_question("trace", {"source": 1, "destination": 2, "port": -1})
    assert isinstance(got, list)
    assert [p.split(":")[0] for p in got] == ["args.source", "args.destination", "args.port"]


def test_an_unexpected_error_is_a_problem_not_an_exception(ctx: TrafficContext) -> None:
    got = answer(ctx, Question("trace", {"source": "VM1"}))  # what parse_question refuses
    assert isinstance(got, list)
    assert got[0].startswith("internal error while answering (KeyError")


def test_the_ops() -> None:
    assert QUESTIONS == ("trace", "next_hop", "ip_flow", "effective_nsg", "reachability")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
_NAMES = st.sampled_from(
    ["VM1", "VM9", "10.0.1.4", "10.2.0.10", "10.0.1.99", "1.1.1.1", "Hub/Workload", "x", ""]
)
_NAME = st.one_of(_NAMES, _NAMES, _NAMES, _JSON)  # mostly names: deeper into the answers
_PORT = st.one_of(st.sampled_from([443, 0, 22]), st.integers(-5, 70000), _JSON)
_WORD = st.one_of(st.sampled_from(["tcp", "ICMP", "Udp", "Inbound", "Outbound", True]), _JSON)
_FIELD_VALUES = {
    "source": _NAME,
    "destination": _NAME,
    "nic": _NAME,
    "remote": _NAME,
    "local": _NAME,
    "port": _PORT,
    "source_port": _PORT,
    "local_port": _PORT,
    "remote_port": _PORT,
    "protocol": _WORD,
    "direction": _WORD,
    "interfaces": _WORD,
}
_OP_FIELDS = {  # (required, optional): a required field is always sent, maybe bad
    "trace": (("source", "destination", "port"), ("protocol", "source_port")),
    "next_hop": (("source", "destination"), ()),
    "ip_flow": (
        ("nic", "remote", "local_port", "remote_port"),
        ("local", "protocol", "direction"),
    ),
    "effective_nsg": (("nic",), ()),
    "reachability": ((), ("port", "protocol", "interfaces")),
}
_QUESTION = st.one_of(
    [
        st.tuples(
            st.just(op),
            st.fixed_dictionaries(
                {f: _FIELD_VALUES[f] for f in required},
                optional={f: _FIELD_VALUES[f] for f in optional},
            ),
        )
        for op, (required, optional) in _OP_FIELDS.items()
    ]
)


@settings(max_examples=400, deadline=None)
@given(asked=_QUESTION | st.tuples(st.sampled_from(QUESTIONS), _JSON))
def test_whatever_a_client_sends_is_answered_or_refused(
    ctx: TrafficContext, asked: tuple[str, Any]
) -> None:
    """Architecture decision 12: any JSON as the args of any question gets an answer or
    problems naming fields, never an exception (and never an internal error)."""
    op, args = asked
    question = parse_question(op, args)
    got = question if isinstance(question, list) else answer(ctx, question)
    if isinstance(got, list):
        assert got
        assert all(p.startswith("args") for p in got), got
    else:
        assert isinstance(got, dict)


def test_an_unknown_op_lists_the_questions_too() -> None:
    """The control topic's refusal of an unknown op names every op it serves, the traffic
    questions included (they are dispatched before the injections' parser)."""
    from bgpemu.lab.control import parse_command
    from bgpemu.lab.targets import Names

    solution = solve(load_topology(TOPOLOGY))
    problems = parse_command(Names(solution.network, solution.plan), {"op": "tracee"})
    assert isinstance(problems, list)
    assert problems[0].startswith("op: unknown operation 'tracee' (one of: fail_link, ")
    assert problems[0].endswith(
        "; traffic questions: trace, next_hop, ip_flow, effective_nsg, reachability)"
    )
