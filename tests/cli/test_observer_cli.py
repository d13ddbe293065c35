"""The observer CLI (``bgpemu routes|effective-routes|learned-routes|hub-routes|sessions|
watch``) against running TCP labs on a real mosquitto: its JSON equals ``bgpemu solve``'s
for every view of two reference topologies, and every error exits 2 naming the culprit.

Two labs (er-vpn-backup, vwan-standard-any-to-any) run for the whole module, each on its own
broker, in a background thread with its own event loop; the CLI runs in the test thread
(``main()`` calls ``asyncio.run``) or, for ``watch``, in threads of its own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath
import pytest
import yaml

from bgpemu.azure.converge import Solution, solve
from bgpemu.azure.model import Network
from bgpemu.azure.report import azure_views
from bgpemu.cli import main
from bgpemu.lab.publish import LAB_NODE, publish_lab
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer, Publisher, send_control
from bgpemu.observe.payloads import (
    azure_view_payload,
    control_payload,
    lab_state_payload,
    rib_in_payload,
    rib_out_payload,
    sessions_payload,
)
from bgpemu.observe.topics import LabTopics
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"
NAMES = ("er-vpn-backup", "vwan-standard-any-to-any")
WAIT = 60.0
PREFIX = "10.99.0.0/24"
"""A prefix the watch tests announce on Firewall (er-vpn-backup) and withdraw again."""
pytestmark = pytest.mark.integration


class _LabThread(threading.Thread):
    """A TcpLab publishing to ``url``, in its own thread and event loop, until :meth:`halt`."""

    def __init__(self, network: Network, url: str, lab_base: str) -> None:
        super().__init__(name=f"lab-{network.name}", daemon=True)
        self.network = network
        self.url = url
        self.lab_base = lab_base
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._halt: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._halt = asyncio.Event()
        try:
            published = asyncio.Event()
            port = free_port(self.lab_base)
            async with TcpLab(
                self.network, processes=2, port=port, lab_base=self.lab_base, mqtt=self.url
            ) as lab:
                task = asyncio.create_task(publish_lab(lab, self.url, 0.0, published))
                await lab.converged(timeout=WAIT)
                await lab.flush()
                async with asyncio.timeout(WAIT):
                    await published.wait()
                self.ready.set()
                await self._halt.wait()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        except BaseException as exc:  # reported by the fixture
            self.error = exc
        finally:
            self.ready.set()

    def halt(self) -> None:
        if self._loop is not None and self._halt is not None:
            self._loop.call_soon_threadsafe(self._halt.set)
        self.join(WAIT)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunningLab:
    name: str
    path: str
    url: str
    solution: Solution


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningLab]]:
    binary = require_binary("mosquitto")
    brokers: list[Mosquitto] = []
    threads: list[_LabThread] = []
    try:
        running = {}
        for index, name in enumerate(NAMES):
            broker = Mosquitto(binary, tmp_path_factory.mktemp(name))
            broker.start()
            brokers.append(broker)
            path = TOPOLOGIES / f"{name}.yaml"
            network = load_topology(path)
            thread = _LabThread(network, broker.url, f"127.0.{61 + index}.1")
            thread.start()
            threads.append(thread)
            running[name] = RunningLab(
                name=name, path=str(path), url=broker.url, solution=solve(network)
            )
        for thread in threads:
            assert thread.ready.wait(2 * WAIT), f"{thread.name} did not converge"
            if thread.error is not None:
                raise thread.error
        yield running
    finally:
        for thread in threads:
            thread.halt()
        for broker in brokers:
            broker.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of its own (no lab on it)."""
    server = Mosquitto(require_binary("mosquitto"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, err = cli(capsys, *argv)
    assert status == 0, (argv, err)
    return out


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, err = cli(capsys, *argv)
    assert status == 2, (argv, out, err)
    assert out == ""
    return err


def at(lab: RunningLab, *argv: str) -> list[str]:
    """``argv`` aimed at ``lab``'s broker and name."""
    return [*argv, "--mqtt", lab.url, "--lab", lab.name]


def _views(solution: Solution) -> list[tuple[str, str]]:
    """(solve option, target) of every effective-routes, learned-routes and hub-routes view."""
    report = azure_views(solution.network, solution.plan, solution.snapshots, 0.0)
    return [
        (option, key)
        for category, option in (
            ("effectiveRoutes", "effective-routes"),
            ("learnedRoutes", "learned-routes"),
            ("hubRoutes", "hub-routes"),
        )
        for key in report[category]
    ]


# --- the JSON is solve's ---------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_view_equals_solve_json(
    name: str, labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    lab = labs[name]
    views = _views(lab.solution)
    kinds = {option for option, _ in views}
    assert kinds >= ({"effective-routes", "learned-routes"} if "vpn" in name else {"hub-routes"})
    for option, target in views:
        expected = ok(capsys, "solve", lab.path, f"--{option}", target, "-o", "json")
        assert ok(capsys, *at(lab, option, target, "-o", "json")) == expected, target
        if not target.endswith("/noneRouteTable"):  # empty by definition
            assert json.loads(expected)["value"], target  # no vacuous comparison
    for option, target in dict(views).items():  # one of each kind
        table = ok(capsys, "solve", lab.path, f"--{option}", target)
        assert ok(capsys, *at(lab, option, target)).rstrip() == table.rstrip(), target


def test_the_default_lab_and_table_and_view_defaults(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    vwan, er = labs["vwan-standard-any-to-any"], labs["er-vpn-backup"]
    # HUB alone is HUB/defaultRouteTable; no --lab: the broker's only lab.
    expected = ok(
        capsys, "solve", vwan.path, "--hub-routes", "Hub1/defaultRouteTable", "-o", "json"
    )
    assert ok(capsys, "hub-routes", "Hub1", "--mqtt", vwan.url, "-o", "json") == expected
    # VNET alone: its only published subnet.
    expected = ok(capsys, "solve", er.path, "--effective-routes", "Spoke/App", "-o", "json")
    assert ok(capsys, "effective-routes", "Spoke", "--mqtt", er.url, "-o", "json") == expected


def test_routes_equal_solve_node_for_every_node(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    for lab in labs.values():
        nodes = sorted({e.node for e in lab.solution.plan.endpoints.values()})
        for node in nodes:
            expected = ok(capsys, "solve", lab.path, "--node", node, "-o", "json")
            assert ok(capsys, *at(lab, "routes", node, "-o", "json")) == expected, node
    er = labs["er-vpn-backup"]
    both = json.loads(ok(capsys, *at(er, "routes", "VpnGW", "-o", "json")))
    assert sorted(both) == ["VpnGW.0", "VpnGW.1"]
    assert json.loads(ok(capsys, *at(er, "routes", "VpnGW.1", "-o", "json"))) == {
        "VpnGW.1": both["VpnGW.1"]
    }
    table = ok(capsys, *at(er, "routes", "VpnGW"))
    assert table.splitlines()[0].split()[:3] == ["Speaker", "Prefix", "NextHop"]
    assert table == ok(capsys, "solve", er.path, "--node", "VpnGW")


def test_routes_adj_ribs_and_peer_filter(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    er = labs["er-vpn-backup"]
    snaps = er.solution.snapshots
    speakers = ("VpnGW.0", "VpnGW.1")
    rib_in = json.loads(ok(capsys, *at(er, "routes", "VpnGW", "--rib", "in", "-o", "json")))
    assert rib_in == {s: rib_in_payload(snaps[s], seq=0)["peers"] for s in speakers}
    out = json.loads(
        ok(capsys, *at(er, "routes", "VpnGW", "--rib", "out", "--peer", "ErGW", "-o", "json"))
    )
    assert out == {s: {"ErGW": rib_out_payload(snaps[s], seq=0)["peers"]["ErGW"]} for s in speakers}
    assert any(out[s]["ErGW"] for s in speakers)
    loc = json.loads(ok(capsys, *at(er, "routes", "VpnGW", "--peer", "ErGW", "-o", "json")))
    assert all(r["peer"] == "ErGW" for s in speakers for r in loc[s])
    assert all(loc[s] for s in speakers)
    # A topology node as the peer: every one of its speakers.
    via_node = json.loads(
        ok(capsys, *at(er, "routes", "ErGW", "--rib", "in", "--peer", "VpnGW", "-o", "json"))
    )
    assert sorted(via_node["ErGW"]) == ["VpnGW.0", "VpnGW.1"]
    table = ok(capsys, *at(er, "routes", "CE", "--rib", "in"))
    assert table.splitlines()[0].split()[:3] == ["Speaker", "Peer", "Prefix"]
    err = fails(capsys, *at(er, "routes", "VpnGW", "--peer", "Nobody"))
    assert "'Nobody'" in err
    assert "ErGW" in err  # the peers that exist


def test_sessions(labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]) -> None:
    er = labs["er-vpn-backup"]
    snaps = er.solution.snapshots
    every = json.loads(ok(capsys, *at(er, "sessions", "-o", "json")))
    assert sorted(every) == sorted(snaps)
    for speaker, sessions in every.items():
        expected = sessions_payload(snaps[speaker], seq=0)["sessions"]
        assert [s["peer"] for s in sessions] == [s["peer"] for s in expected]
        assert {s["state"] for s in sessions} == {"Established"}
    gateway = json.loads(ok(capsys, *at(er, "sessions", "VpnGW", "-o", "json")))
    assert gateway == {s: every[s] for s in ("VpnGW.0", "VpnGW.1")}
    table = ok(capsys, *at(er, "sessions", "CE")).splitlines()
    assert table[0].split()[:3] == ["Speaker", "Peer", "State"]
    assert len(table) == 2 + len(every["CE"])
    assert all("Established" in line for line in table[2:])


def test_yaml_and_query(labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]) -> None:
    er = labs["er-vpn-backup"]
    data = json.loads(ok(capsys, "solve", er.path, "--learned-routes", "VpnGW", "-o", "json"))
    assert yaml.safe_load(ok(capsys, *at(er, "learned-routes", "VpnGW", "-o", "yaml"))) == data
    query = "value[?origin=='EBgp'].network"
    queried = json.loads(
        ok(capsys, *at(er, "learned-routes", "VpnGW", "--query", query, "-o", "json"))
    )
    assert queried == jmespath.search(query, data)
    assert queried  # the query selects something
    as_yaml = ok(capsys, *at(er, "learned-routes", "VpnGW", "--query", query, "-o", "yaml"))
    assert yaml.safe_load(as_yaml) == queried
    # -o table of a query result: one row per object, like az.
    table = ok(
        capsys, *at(er, "sessions", "CE", "--query", "CE[].{peer: peer, state: state}")
    ).splitlines()
    assert table[0].split() == ["peer", "state"]
    assert {line.split()[1] for line in table[2:]} == {"Established"}
    scalar = ok(capsys, *at(er, "sessions", "CE", "-o", "json", "--query", "length(CE)"))
    assert json.loads(scalar) == len(er.solution.snapshots["CE"].peers)
    err = fails(capsys, *at(er, "sessions", "--query", "[?"))
    assert "invalid --query" in err


# --- errors ----------------------------------------------------------------------------


def test_unknown_names_exit_2_naming_them(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    er, vwan = labs["er-vpn-backup"], labs["vwan-standard-any-to-any"]
    err = fails(capsys, *at(er, "routes", "NoSuchNode"))
    assert "'NoSuchNode'" in err
    assert "VpnGW.0" in err  # what exists
    err = fails(capsys, *at(er, "sessions", "NoSuchNode"))
    assert "'NoSuchNode'" in err
    err = fails(capsys, "routes", "CE", "--mqtt", er.url, "--lab", "nolab")
    assert "'nolab'" in err
    assert er.name in err
    err = fails(capsys, *at(er, "effective-routes", "NoVNet/App"))
    assert "'NoVNet'" in err
    assert "Hub" in err
    assert "Spoke" in err
    err = fails(capsys, *at(er, "effective-routes", "Spoke/NoSubnet"))
    assert "'NoSubnet'" in err
    assert "App" in err
    err = fails(capsys, *at(er, "learned-routes", "NoGateway"))
    assert "'NoGateway'" in err
    assert "ErGW" in err
    err = fails(capsys, *at(vwan, "hub-routes", "Hub1/noSuchTable"))
    assert "'noSuchTable'" in err
    assert "defaultRouteTable" in err
    err = fails(capsys, *at(vwan, "hub-routes", "NoHub"))
    assert "'NoHub'" in err
    assert "Hub1" in err
    err = fails(capsys, *at(vwan, "watch", "NoSuchNode", "--count", "1"))
    assert "'NoSuchNode'" in err


def test_an_unreachable_broker_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"mqtt://127.0.0.1:{free_port('127.0.0.1')}"
    for argv in (
        ["routes", "CE"],
        ["effective-routes", "Hub/Workload"],
        ["learned-routes", "VpnGW"],
        ["hub-routes", "Hub1"],
        ["sessions"],
        ["watch"],
    ):
        err = fails(capsys, *argv, "--mqtt", url, "--timeout", "2")
        assert url in err, argv
    err = fails(capsys, "routes", "CE", "--mqtt", "http://127.0.0.1:1883")
    assert "http://127.0.0.1:1883" in err


async def test_no_lab_several_labs_and_several_subnets(
    broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    url = broker.url

    async def run(*argv: str) -> tuple[int, str, str]:
        status = await asyncio.to_thread(main, [*argv, "--mqtt", url])
        out, err = capsys.readouterr()
        return status, out, err

    status, _, err = await run("sessions")
    assert status == 2
    assert "no lab" in err
    assert url in err
    views = {"App": {"value": [{"addressPrefix": ["10.0.0.0/8"]}]}, "Web": {"value": []}}
    async with (
        Publisher(url, lab="one", node=LAB_NODE, node_status=False) as one,
        Publisher(url, lab="two", node=LAB_NODE, node_status=False) as two,
    ):
        for lab, publisher in (("one", one), ("two", two)):
            state = lab_state_payload(lab, converged=True, nodes=[], since=1.0)
            publisher.update(LabTopics(lab=lab).state, state)
        for subnet, data in views.items():
            view = f"effective-routes.{subnet}"
            one.update(
                LabTopics(lab="one").node("Spoke2").azure(view),
                azure_view_payload("Spoke2", view, data),
            )
        await one.flush(10)
        await two.flush(10)
    status, _, err = await run("effective-routes", "Spoke2")
    assert status == 2
    assert "several labs" in err
    assert "one, two" in err
    status, _, err = await run("effective-routes", "Spoke2", "--lab", "one")
    assert status == 2
    assert "'Spoke2'" in err
    assert "App, Web" in err
    status, out, _ = await run("effective-routes", "Spoke2/App", "--lab", "one", "-o", "json")
    assert status == 0
    assert json.loads(out) == views["App"]


# --- watch -----------------------------------------------------------------------------


class _Capture:
    """``sys.stdout`` for several threads: complete lines per thread name."""

    def __init__(self) -> None:
        self._partial: dict[str, str] = {}
        self.lines: dict[str, list[str]] = {}
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        name = threading.current_thread().name
        with self._changed:
            buffer = self._partial.get(name, "") + text
            *complete, self._partial[name] = buffer.split("\n")
            self.lines.setdefault(name, []).extend(complete)
            self._changed.notify_all()
        return len(text)

    def flush(self) -> None:
        pass

    def wait_lines(self, name: str, count: int) -> list[str]:
        with self._changed:
            assert self._changed.wait_for(
                lambda: len(self.lines.get(name, [])) >= count, timeout=WAIT
            ), (name, self.lines)
            return list(self.lines[name])


class _Cli(threading.Thread):
    def __init__(self, name: str, argv: list[str]) -> None:
        super().__init__(name=name, daemon=True)
        self.argv = argv
        self.status: int | None = None

    def run(self) -> None:
        self.status = main(self.argv)

    def finish(self) -> int | None:
        self.join(WAIT)
        return self.status


def _control(lab: RunningLab, op: str, **args: Any) -> None:
    payload = control_payload(uuid.uuid4().hex, op, **args)
    answers = asyncio.run(send_control(lab.url, lab.name, payload, WAIT))
    assert answers[-1]["event"] == "converged", answers


def _retained_state(lab: RunningLab) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with Observer(lab.url, lab=lab.name) as observer:
            topic = observer.topics.state
            await observer.wait_for(lambda: topic in observer.documents, timeout=WAIT)
            return observer.documents[topic]

    return asyncio.run(read())


def test_watch_prints_the_current_state_first(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    er = labs["er-vpn-backup"]
    state = _retained_state(er)
    assert json.loads(ok(capsys, *at(er, "watch", "-o", "json", "--count", "1"))) == state
    line = ok(capsys, *at(er, "watch", "--count", "1")).strip()
    assert line.endswith(
        f"lab {er.name}: converged in {state['convergence_time']} s, 7 speakers, 9/9 sessions up"
    )
    statuses = list(
        yaml.safe_load_all(ok(capsys, *at(er, "watch", "VpnGW", "-o", "yaml", "--count", "2")))
    )
    assert statuses == [
        {"schema": "bgpemu/v1/status", "node": node, "status": "online"}
        for node in ("VpnGW.0", "VpnGW.1")
    ]


def test_watch_streams_deltas_until_count(
    labs: dict[str, RunningLab], monkeypatch: pytest.MonkeyPatch
) -> None:
    er = labs["er-vpn-backup"]
    capture = _Capture()
    monkeypatch.setattr(sys, "stdout", capture)
    # Readable lines of one node: its status, then its delta announcing PREFIX.
    node = _Cli(
        "watch-node",
        at(
            er,
            "watch",
            "Firewall",
            "--count",
            "2",
            "--query",
            f"schema=='bgpemu/v1/status' || announce[?prefix=='{PREFIX}']",
        ),
    )
    # The whole lab: its state, then the lab's "injected" event.
    whole = _Cli(
        "watch-lab",
        at(
            er,
            "watch",
            "--count",
            "2",
            "--query",
            "schema=='bgpemu/v1/lab-state' && converged || event=='injected'",
        ),
    )
    node.start()
    whole.start()
    capture.wait_lines("watch-node", 1)  # subscribed, retained documents read
    capture.wait_lines("watch-lab", 1)
    _control(er, "announce", node="Firewall", prefix=PREFIX)
    assert node.finish() == 0
    assert whole.finish() == 0
    first, second = capture.lines["watch-node"]
    assert first.endswith(" Firewall: online")
    assert " Firewall #" in second
    assert f"loc +{PREFIX} via " in second
    first, second = capture.lines["watch-lab"]
    assert f"lab {er.name}: converged in " in first
    assert second.endswith(f"lab {er.name}: injected: announce Firewall {PREFIX}")
    # JSON: one payload per line; the query picks CE's delta withdrawing PREFIX.
    ce = _Cli(
        "watch-json",
        at(
            er,
            "watch",
            "CE",
            "-o",
            "json",
            "--count",
            "2",
            "--query",
            f"[@][?schema=='bgpemu/v1/status' || withdraw[?prefix=='{PREFIX}']] | [0]",
        ),
    )
    ce.start()
    capture.wait_lines("watch-json", 1)
    _control(er, "withdraw", node="Firewall", prefix=PREFIX)
    assert ce.finish() == 0
    status, delta = (json.loads(line) for line in capture.lines["watch-json"])
    assert status == {"schema": "bgpemu/v1/status", "node": "CE", "status": "online"}
    assert delta["schema"] == "bgpemu/v1/event"
    assert delta["node"] == "CE"
    assert any(w["prefix"] == PREFIX for w in delta["withdraw"])
