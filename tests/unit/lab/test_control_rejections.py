"""Every refusal and every checked result of the control topic's operations, and of the
same operations in change files, byte for byte (tests/data/control/rejections.json;
``BGPEMU_UPDATE_GOLDEN=1`` rewrites it).

The cases are made from a copy of the operations' fields kept here on purpose (the
golden file must not follow the code it checks): for each op, no arguments, every field good, every
field bad alone, every field bad at once and in reverse order, unknown fields, arguments
that are not a mapping.  The golden file was written by the two parsers before they
shared their field checks (commands.py's ``FIELDS``/``OPS``, questions.py's
``_FIELDS``/``_OPS``/``_PORTS``): the shared code words every problem the same and in
the same order."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.roles import compile_network
from bgpemu.lab.control import parse_command
from bgpemu.lab.questions import parse_question
from bgpemu.lab.targets import Names
from bgpemu.testing.changes import Step, parse_changes
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "data" / "control" / "rejections.json"

_GOOD: dict[str, Any] = {
    "a": "nva1",
    "b": "ars",
    "node": "nva1",
    "peer": "ars",
    "circuit": "Circuit",
    "silent": True,
    "prefix": "10.9.0.0/16",
    "as_path_prepend": 2,
    "count": 3,
    "med": 5,
    "communities": ["65000:1", "no-export"],
    "index": 0,
    "seconds": 1.5,
    "topology": "name: x\n",
    "file": "f.yaml",
    "source": "VM1",
    "destination": "10.2.0.10",
    "nic": "VM1",
    "remote": "1.2.3.4",
    "local": "10.0.1.4",
    "interfaces": True,
    "port": 443,
    "source_port": 4000,
    "local_port": 1,
    "remote_port": 2,
    "protocol": "udp",
    "direction": "Inbound",
}
_BAD: list[Any] = [{"x": 1}, "", -1, 1.5, None, True, "x" * 300, ["65000:1", {}], "10.0.0.1/8"]
_INJECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fail_link": (("a", "b"), ("silent",)),
    "restore_link": (("a", "b"), ("silent",)),
    "reset_session": (("a", "b"), ()),
    "reset": (("a", "b"), ("silent",)),
    "crash": (("node",), ()),
    "restart": (("node",), ()),
    "announce": (("node", "prefix"), ("as_path_prepend", "med", "communities")),
    "withdraw": (("node", "prefix"), ("as_path_prepend",)),
    "prepend": (("node", "peer", "count"), ()),
    "instance_down": (("node", "index"), ("silent",)),
    "instance_up": (("node", "index"), ()),
    "er_private_peering_down": (("circuit",), ()),
    "er_private_peering_up": (("circuit",), ()),
    "advance": (("seconds",), ()),
    "apply": (("topology",), ("file",)),
}
_QUESTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trace": (("source", "destination"), ("port", "protocol", "source_port")),
    "next_hop": (("source", "destination"), ()),
    "ip_flow": (("nic", "remote"), ("direction", "protocol", "local_port", "remote_port", "local")),
    "effective_nsg": (("nic",), ()),
    "reachability": ((), ("port", "protocol", "interfaces")),
}


def _variants(required: tuple[str, ...], optional: tuple[str, ...]) -> list[Any]:
    fields = (*required, *optional)
    good = {name: _GOOD[name] for name in fields}
    cases: list[Any] = [{}, "x", None, [1], {name: _GOOD[name] for name in required}, good]
    cases.append(dict(reversed(good.items())))
    for name in fields:
        for bad in _BAD:
            cases.append({**good, name: bad})
        cases.append({key: value for key, value in good.items() if key != name})
    for bad in _BAD[:3]:
        cases.append(dict.fromkeys(reversed(fields), bad))
        cases.append(dict.fromkeys(fields[1:], bad))
    cases.append({**good, "zz": 1, "aa": [1] * 100})
    cases.append({"zz": 1, **dict.fromkeys(optional, _BAD[0])})
    for protocol in ("icmp", "Tcp", "ESP", "bogus", 6):
        if "protocol" in fields:
            ports = ("port", "local_port", "remote_port", "source_port")
            bare = {k: v for k, v in good.items() if k not in ports}
            cases.append({**bare, "protocol": protocol})
            cases.append(dict.fromkeys(required, _BAD[0]) | {"protocol": protocol})
    return cases


def _command(names: Names, op: Any, args: Any) -> Any:
    got = parse_command(names, {"op": op, "args": args})
    if isinstance(got, list):
        return got
    return {"describe": got.describe(), "args": list(map(list, got.args.items()))}


def _change(names: Names, op: Any, args: Any) -> Any:
    got = parse_changes(f"- {json.dumps({op: args})}\n", "c.yaml", names)
    return [step.describe() if isinstance(step, Step) else step for step in got]


def _question(op: str, args: Any) -> Any:
    got = parse_question(op, args)
    if isinstance(got, list):
        return got
    return {"op": got.op, "args": {k: str(v) for k, v in sorted(got.args.items())}}


def _document() -> dict[str, Any]:
    network = load_topology(ROOT / "topologies" / "nva-ha-route-server.yaml")
    names = Names(network, compile_network(network))
    commands: list[Any] = []
    for op, (required, optional) in _INJECTIONS.items():
        for args in _variants(required, optional):
            commands.append([op, args, _command(names, op, args), _change(names, op, args)])
    odd: tuple[Any, ...] = ("nope", 3, None, "trace", "add_node")
    for other in odd:
        for args in ({}, {"name": "Spoke9", "role": "vnet"}):
            commands.append(
                [other, args, _command(names, other, args), _change(names, other, args)]
            )
    questions = [
        [op, args, _question(op, args)]
        for op, (required, optional) in _QUESTIONS.items()
        for args in _variants(required, optional)
    ]
    return {"commands": commands, "questions": questions}


def test_every_refusal_and_result_is_as_before() -> None:
    text = json.dumps(_document(), indent=0, sort_keys=False) + "\n"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


@pytest.mark.parametrize("kind", ["commands", "questions"])
def test_the_golden_file_holds_refusals_and_results(kind: str) -> None:
    """The cases reach both outcomes (a golden file of refusals only would prove little)."""
    cases = json.loads(GOLDEN.read_text())[kind]
    refused = [case for case in cases if isinstance(case[2], list)]
    assert 0 < len(refused) < len(cases)
