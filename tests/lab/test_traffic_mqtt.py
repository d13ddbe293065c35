"""The running lab's traffic answers over MQTT (issue 14): the retained reachability and
intents documents, the ``intents_changed`` event after an injection, and the traffic
questions of the control topic, answered like the pure functions, hostile ones refused
naming the request and the field while the lab runs on."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.traffic.flow import Flow
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.intents import Intent
from bgpemu.azure.traffic.matrix import reachability_matrix
from bgpemu.azure.traffic.trace import trace
from bgpemu.cli import main
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.traffic import Intents
from bgpemu.observe.mqtt import Observer, send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.topology import load_topology
from tests.cli_process import bgpemu_env
from tests.helpers import free_port
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing
from tests.observe.schemas import validate, validators

TOPOLOGY = (
    Path(__file__).resolve().parents[1] / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
)
INTENTS = Intents(
    file="lab-vpn-site.intents.yaml",
    intents=(
        Intent(name="vm1-to-siteb", source="VM1", destination="10.2.0.10", port=443),
        Intent(
            name="siteb-to-vm1-ssh",
            source="10.2.0.10",
            destination="VM1",
            port=22,
            expect="denied",
        ),
        Intent(name="vm1-to-internet", source="VM1", destination="13.107.21.200", port=443),
    ),
)
CHECKERS = validators()
pytestmark = pytest.mark.integration


def _lab(mosquitto: Mosquitto) -> TcpLab:
    return TcpLab(
        load_topology(TOPOLOGY), processes=1, port=free_port("127.0.10.1"), mqtt=mosquitto.url
    )


def _pure() -> TrafficContext:
    """The same network solved in the fabric (both engines converge to the same tables)."""
    solution = solve(load_topology(TOPOLOGY))
    return TrafficContext(solution.network, solution.plan, solution.snapshots)


async def test_reachability_and_intents_follow_every_convergence(mosquitto: Mosquitto) -> None:
    async with (
        _lab(mosquitto) as lab,
        publishing(lab, mosquitto.url, intents=INTENTS),
        Observer(mosquitto.url, lab=lab.name) as observer,
    ):
        topics = [f"bgpemu/v1/{lab.name}/traffic/{v}" for v in ("reachability", "intents")]
        await observer.wait_for(lambda: all(t in observer.documents for t in topics), 30)
        reachability, intents = (observer.documents[t] for t in topics)
        for document in (reachability, intents):
            validate(CHECKERS, document)
        assert reachability["data"] == reachability_matrix(_pure()).to_json()
        assert reachability["data"]["summary"] == {"reachable": 2}
        verdicts = {i["name"]: (i["actual"], i["ok"]) for i in intents["data"]["intents"]}
        assert verdicts == {
            "vm1-to-siteb": ("reachable", True),
            # AllowVnetInBound: SiteB's range is in VM1's VirtualNetwork tag (§9.1)
            "siteb-to-vm1-ssh": ("reachable", False),
            "vm1-to-internet": ("reachable", True),
        }
        assert (intents["data"]["ok"], intents["data"]["violated"]) == (2, 1)

        cut = control_payload("cut", "fail_link", a="HubGW", b="SiteB")
        answers = await send_control(mosquitto.url, lab.name, cut, 60)
        assert [a["event"] for a in answers] == ["injected", "converged"]

        def changed() -> list[dict[str, Any]]:
            return [e for e in observer.lab_events if e.get("event") == "intents_changed"]

        await observer.wait_for(lambda: bool(changed()), 30)
        (event,) = changed()
        validate(CHECKERS, event)
        assert [
            (c["name"], c["before"], c["after"], c["ok"]) for c in event["data"]["changed"]
        ] == [
            ("vm1-to-siteb", "reachable", "dropped_none_route", False),
            ("siteb-to-vm1-ssh", "reachable", "no_route", False),  # SiteB has no route back
        ]
        assert "10.0.0.0/8" in event["data"]["changed"][0]["reason"]
        await observer.wait_for(
            lambda: (
                observer.documents[topics[1]]["data"]["violated"] == 2
                and "reachable" not in observer.documents[topics[0]]["data"]["summary"]
            ),
            30,
        )
        for document in (observer.documents[t] for t in topics):
            validate(CHECKERS, document)


async def test_questions_are_answered_like_the_pure_functions(mosquitto: Mosquitto) -> None:
    pure = _pure()
    async with _lab(mosquitto) as lab, publishing(lab, mosquitto.url):
        ask = control_payload("t1", "trace", source="VM1", destination="10.2.0.10", port=443)
        (answered,) = await send_control(mosquitto.url, lab.name, ask, 30)
        validate(CHECKERS, answered)
        assert (answered["event"], answered["request"], answered["op"]) == (
            "answered",
            "t1",
            "trace",
        )
        expected = trace(pure, Flow.parse("Tcp", "10.0.1.4", 50000, "10.2.0.10", 443))
        assert answered["data"] == {
            "connectivityCheck": expected.to_connectivity_check(),
            "trace": expected.to_json(),
        }
        ask = control_payload("n1", "next_hop", source="VM1", destination="10.2.0.10")
        (answered,) = await send_control(mosquitto.url, lab.name, ask, 30)
        assert answered["data"]["nextHopType"] == "VirtualNetworkGateway"
        ask = control_payload("e1", "effective_nsg", nic="VM1")
        (answered,) = await send_control(mosquitto.url, lab.name, ask, 30)
        assert answered["data"]["value"][0]["networkSecurityGroup"]["id"].endswith(
            "/networkSecurityGroups/Workload-nsg"
        )
        ask = control_payload(
            "i1", "ip_flow", nic="VM1", remote="13.107.21.200", local_port=60000, remote_port=80
        )
        (answered,) = await send_control(mosquitto.url, lab.name, ask, 30)
        assert answered["data"] == {
            "access": "Allow",
            "ruleName": "defaultSecurityRules/AllowInternetOutBound",
        }


HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("trace", {"source": "VM1", "destination": "10.2.0.10", "port": "443"}, "args.port: must"),
    ("trace", {"source": "VM9", "destination": "10.2.0.10", "port": 1}, "args.source: no "),
    ("trace", {"source": "VM1", "destination": "10.0.1.99", "port": 1}, "args.destination: "),
    (
        "trace",
        {"source": "VM1", "destination": "1.1.1.1", "port": 1, "protocol": "gre"},
        "args.protocol: must",
    ),
    ("next_hop", {"source": ["VM1"], "destination": "10.2.0.10"}, "args.source: must"),
    ("ip_flow", {"nic": "VM1", "remote": "x", "local_port": 1, "remote_port": 2}, "args.remote:"),
    ("effective_nsg", {"nic": "SiteB"}, "args.nic: "),
    ("effective_nsg", {"nic": "VM1", "extra": {"a": [1] * 1000}}, "args: unknown field(s) extra"),
]


async def test_hostile_questions_are_rejected_naming_request_and_field(
    mosquitto: Mosquitto,
) -> None:
    async with _lab(mosquitto) as lab, publishing(lab, mosquitto.url) as publisher:
        for number, (op, args, problem) in enumerate(HOSTILE):
            request = f"bad{number}"
            answers = await send_control(
                mosquitto.url, lab.name, control_payload(request, op, **args), 30
            )
            assert [(a["event"], a["request"], a["op"]) for a in answers] == [
                ("rejected", request, op)
            ], answers
            assert answers[0]["detail"].startswith(problem), answers[0]["detail"]
        assert not publisher.done()
        ask = control_payload("ok", "next_hop", source="10.0.1.4", destination="13.107.21.200")
        (answered,) = await send_control(mosquitto.url, lab.name, ask, 30)
        assert answered["data"]["nextHopType"] == "Internet"


async def _cli(*argv: str) -> tuple[int, str, str]:
    """``bgpemu ARGV`` in a thread (it runs its own event loop): status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    status = await asyncio.to_thread(run)
    return status, out.getvalue(), err.getvalue()


COMMANDS: list[tuple[str, ...]] = [
    ("trace", "VM1", "10.2.0.10", "--port", "443"),
    ("trace", "VM1", "10.2.0.10", "--port", "443", "-o", "table"),
    ("trace", "10.2.0.10", "VM1", "--port", "22", "--full", "--query", "verdict"),
    ("next-hop", "VM1", "10.2.0.10", "-o", "json"),
    (
        "ip-flow",
        "VM1",
        "--direction",
        "Outbound",
        "--protocol",
        "TCP",
        "--local",
        "10.0.1.4:60000",
        "--remote",
        "13.107.21.200:80",
    ),
    ("effective-nsg", "VM1", "-o", "yaml"),
    ("reachability", "--port", "22", "--protocol", "udp"),
]


async def test_the_commands_ask_a_running_lab_and_print_alike(mosquitto: Mosquitto) -> None:
    """Each traffic command without TOPOLOGY asks the lab; its output is the topology-file
    form's, byte for byte."""
    async with _lab(mosquitto) as lab, publishing(lab, mosquitto.url):
        target = ("--lab", lab.name, "--mqtt", mosquitto.url, "--timeout", "30")
        for command in COMMANDS:
            verb, *rest = command
            from_file = await _cli(verb, str(TOPOLOGY), *rest)
            from_lab = await _cli(verb, *rest, *target)
            assert from_file[0] == 0, from_file
            assert from_file[1].strip(), command
            assert from_lab == from_file, command
        status, out, err = await _cli("trace", "VM1", "10.0.1.99", *target)
        assert (status, out) == (2, "")
        assert err.startswith(f"error: lab '{lab.name}': args.destination: destination 10.0.1.99")
        status, _, err = await _cli(
            "ip-flow",
            "VM1",
            "--direction",
            "Inbound",
            "--protocol",
            "tcp",
            "--local",
            "10.0.1.4:x",
            "--remote",
            "1.1.1.1:1",
            *target,
        )
        assert (status, err) == (2, "error: --local: 'x' is not a port number\n")
        status, _, err = await _cli("next-hop", str(TOPOLOGY), "VM1", "1.1.1.1", *target)
        assert (status, err) == (2, "error: give TOPOLOGY or --lab, not both\n")


INTENTS_FILE = """\
intents:
  - {name: vm1-to-siteb, source: VM1, destination: 10.2.0.10, port: 443, expect: reachable}
  - {name: siteb-to-vm1-ssh, source: 10.2.0.10, destination: VM1, port: 22, expect: denied}
"""


def _lab_up(state: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgpemu", "lab", "up", str(TOPOLOGY), *argv],
        env=bgpemu_env(state),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_lab_up_with_intents_publishes_their_verdicts(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(INTENTS_FILE)
    run = await asyncio.to_thread(
        _lab_up,
        tmp_path / "state",
        "--mqtt",
        mosquitto.url,
        "--port",
        str(free_port("127.0.10.1")),
        "--processes",
        "1",
        "--exit-after-converged",
        "--intents",
        str(intents),
    )
    assert run.returncode == 0, run.stderr
    async with Observer(mosquitto.url, lab="lab-vpn-site") as observer:
        topic = "bgpemu/v1/lab-vpn-site/traffic/intents"
        await observer.wait_for(lambda: topic in observer.documents, 30)
        document = observer.documents[topic]
        validate(CHECKERS, document)
        assert document["data"]["file"] == str(intents)
        assert [(i["name"], i["actual"], i["ok"]) for i in document["data"]["intents"]] == [
            ("vm1-to-siteb", "reachable", True),
            ("siteb-to-vm1-ssh", "reachable", False),
        ]


def test_lab_up_refuses_bad_intents_before_starting(mosquitto: Mosquitto, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "intents:\n  - {name: a, source: VM1, destination: VM9, port: 443, expect: reachable}\n"
    )
    run = _lab_up(tmp_path / "state", "--no-mqtt", "--intents", str(bad))
    assert (run.returncode, run.stderr) == (
        2,
        "error: --intents publishes on MQTT: not with --no-mqtt\n",
    )
    url = mosquitto.url
    port = str(free_port("127.0.10.1"))
    run = _lab_up(tmp_path / "state", "--mqtt", url, "--intents", str(bad), "--port", port)
    assert run.returncode == 2
    assert f"{bad}:2: intents[0].destination: " in run.stderr
    assert "'VM9'" in run.stderr
    assert run.stderr.endswith("1 problem found; nothing was started.\n")
    bad.write_text("intents:\n  - {name: a, source: VM1}\n")
    run = _lab_up(tmp_path / "state", "--mqtt", url, "--intents", str(bad))
    assert run.returncode == 2
    assert "intents[0]" in run.stderr
    assert "nothing was started." in run.stderr


async def test_a_topology_change_reports_the_intents_it_breaks_and_clears_what_is_gone(
    mosquitto: Mosquitto,
) -> None:
    """``apply`` without VM1: its intents cannot be traced any more (violated, verdict
    null); then without any traffic declaration: the retained traffic documents go."""
    text = TOPOLOGY.read_text()
    without_vm = text.replace(
        "        networkInterfaces: [{name: VM1, privateIpAddress: 10.0.1.4}]\n", ""
    )
    assert without_vm != text
    without_traffic = without_vm.replace(
        "networkSecurityGroups:\n  Workload-nsg: {}\n", ""
    ).replace("        networkSecurityGroup: Workload-nsg\n", "")
    async with (
        _lab(mosquitto) as lab,
        publishing(lab, mosquitto.url, intents=INTENTS),
        Observer(mosquitto.url, lab=lab.name) as observer,
    ):
        topics = [f"bgpemu/v1/{lab.name}/traffic/{v}" for v in ("reachability", "intents")]
        await observer.wait_for(lambda: all(t in observer.documents for t in topics), 30)
        change = control_payload("a1", "apply", topology=without_vm, file="no-vm.yaml")
        answers = await send_control(mosquitto.url, lab.name, change, 60)
        assert answers[-1]["event"] == "converged", answers

        def changed() -> list[dict[str, Any]]:
            return [e for e in observer.lab_events if e.get("event") == "intents_changed"]

        await observer.wait_for(lambda: bool(changed()), 30)
        after = {c["name"]: c["after"] for c in changed()[0]["data"]["changed"]}
        assert after == {"vm1-to-siteb": None, "siteb-to-vm1-ssh": None, "vm1-to-internet": None}
        await observer.wait_for(lambda: observer.documents[topics[1]]["data"]["ok"] == 0, 30)
        entry = observer.documents[topics[1]]["data"]["intents"][0]
        assert entry["reason"].startswith("cannot be traced: ")
        validate(CHECKERS, observer.documents[topics[1]])

        change = control_payload("a2", "apply", topology=without_traffic, file="bare.yaml")
        answers = await send_control(mosquitto.url, lab.name, change, 60)
        assert answers[-1]["event"] == "converged", answers
        # The intents stay (the lab was started with them); the matrix is gone with the
        # traffic declarations.
        await observer.wait_for(lambda: topics[0] not in observer.documents, 30)
        assert topics[1] in observer.documents
