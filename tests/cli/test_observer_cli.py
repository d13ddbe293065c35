"""The observer CLI (``bgpemu routes|effective-routes|learned-routes|hub-routes|sessions|
watch``) against running TCP labs on a real mosquitto: its JSON equals ``bgpemu solve``'s
for every view of two reference topologies, and every error exits 2 naming the culprit.

Two labs (er-vpn-backup, vwan-standard-any-to-any) run for the whole module, each on its own
broker, in a background thread with its own event loop; the CLI runs in the test thread
(``main()`` calls ``asyncio.run``) or, for ``watch``, in threads of its own.  The tests
without the ``integration`` mark need no broker: they build the per-peer documents
(``rib/in/<peer>``) and events by hand and check what ``routes`` and ``watch`` make of them.
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
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.cli import main
from bgpemu.cli._observe_mqtt import Docs, UsageError, split_topic
from bgpemu.cli._observe_render import render_rib
from bgpemu.cli._observe_verbs import node_speakers, peers_of, routes_json
from bgpemu.cli._observe_watch import delta_line, table_text
from bgpemu.lab.publish import LAB_NODE, publish_lab
from bgpemu.lab.supervisor import TcpLab
from bgpemu.observe.mqtt import Observer, Publisher, send_control
from bgpemu.observe.payloads import (
    azure_view_payload,
    control_payload,
    lab_state_payload,
    sessions_payload,
    table_keys,
    table_payload,
)
from bgpemu.observe.topics import LabTopics
from bgpemu.topology import load_topology
from tests.helpers import free_port
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto
from tests.observe.schemas import validate, validators

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"
NAMES = ("er-vpn-backup", "vwan-standard-any-to-any")
WAIT = 60.0
PREFIX = "10.99.0.0/24"
"""A prefix the watch tests announce on Firewall (er-vpn-backup) and withdraw again."""
integration = pytest.mark.integration


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


@integration
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


@integration
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


@integration
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


def _adj_ribs(snap: RouterSnapshot, table: str) -> dict[str, list[dict[str, Any]]]:
    """``{peer: routes}`` of the reference documents ``<table>/<peer>`` of a snapshot."""
    return {
        key.removeprefix(table + "/"): table_payload(key, snap, seq=0)["routes"]
        for key in table_keys(snap)
        if key.startswith(table + "/")
    }


@integration
def test_routes_adj_ribs_and_peer_filter(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    er = labs["er-vpn-backup"]
    snaps = er.solution.snapshots
    speakers = ("VpnGW.0", "VpnGW.1")
    rib_in = json.loads(ok(capsys, *at(er, "routes", "VpnGW", "--rib", "in", "-o", "json")))
    assert rib_in == {s: _adj_ribs(snaps[s], "rib/in") for s in speakers}
    assert all(len(rib_in[s]) >= 2 for s in speakers)  # several per-peer documents each
    out = json.loads(
        ok(capsys, *at(er, "routes", "VpnGW", "--rib", "out", "--peer", "ErGW", "-o", "json"))
    )
    assert out == {s: {"ErGW": _adj_ribs(snaps[s], "rib/out")["ErGW"]} for s in speakers}
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


@integration
def test_sessions(labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]) -> None:
    er = labs["er-vpn-backup"]
    snaps = er.solution.snapshots
    every = json.loads(ok(capsys, *at(er, "sessions", "-o", "json")))
    assert sorted(every) == sorted(snaps)
    for speaker, sessions in every.items():
        snap = snaps[speaker]
        expected = sessions_payload(snap.name, snap.peers, seq=0)["sessions"]
        assert [s["peer"] for s in sessions] == [s["peer"] for s in expected]
        assert {s["state"] for s in sessions} == {"Established"}
    gateway = json.loads(ok(capsys, *at(er, "sessions", "VpnGW", "-o", "json")))

    def frozen(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [dict(s, uptime=None) for s in sessions]

    # The same documents, read later: the uptime is as of each read (issue 15).
    for speaker in ("VpnGW.0", "VpnGW.1"):
        assert frozen(gateway[speaker]) == frozen(every[speaker])
        for now, before in zip(gateway[speaker], every[speaker], strict=True):
            assert now["established_since"] is not None
            assert now["uptime"] >= before["uptime"]
    assert sorted(gateway) == ["VpnGW.0", "VpnGW.1"]
    table = ok(capsys, *at(er, "sessions", "CE")).splitlines()
    assert table[0].split()[:3] == ["Speaker", "Peer", "State"]
    assert len(table) == 2 + len(every["CE"])
    assert all("Established" in line for line in table[2:])


@integration
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


@integration
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


@integration
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


@integration
def test_watch_prints_the_current_state_first(
    labs: dict[str, RunningLab], capsys: pytest.CaptureFixture[str]
) -> None:
    er = labs["er-vpn-backup"]
    state = _retained_state(er)
    assert json.loads(ok(capsys, *at(er, "watch", "-o", "json", "--count", "1"))) == state
    line = ok(capsys, *at(er, "watch", "--count", "1")).strip()
    assert line.endswith(
        f"lab {er.name}: converged in {state['convergence_time']} s, 7 speakers, "
        "9/9 sessions Established"
    )
    statuses = list(
        yaml.safe_load_all(ok(capsys, *at(er, "watch", "VpnGW", "-o", "yaml", "--count", "2")))
    )
    assert statuses == [
        {"schema": "bgpemu/v1/status", "node": node, "status": "online"}
        for node in ("VpnGW.0", "VpnGW.1")
    ]


@integration
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


# --- per-peer documents built by hand --------------------------------------------------

HAND_LAB = "demo"
CHECKERS = validators()
HAND_SPEAKERS = ("VpnGW.0", "VpnGW.1", "ErGW", "Circuit.primary", "Circuit.secondary")


def _route(prefix: str, peer: str | None) -> dict[str, Any]:
    return {
        "prefix": prefix,
        "family": "ipv4-unicast",
        "next_hop": "192.0.2.1",
        "as_path": [65002] if peer else [],
        "origin": "igp",
        "local_pref": 100,
        "med": None,
        "communities": [],
        "large_communities": [],
        "weight": 0,
        "peer": peer,
        "best": peer is None,
        "multipath": False,
        "reason": None,
    }


def _session(peer: str, state: str = "Established") -> dict[str, Any]:
    return {
        "peer": peer,
        "state": state,
        "uptime": 1.0 if state == "Established" else None,
        "routes_received": 0,
        "routes_accepted": 0,
        "routes_sent": 0,
        "messages_sent": 0,
        "messages_received": 0,
    }


def _hand_topic(node: str, suffix: str) -> str:
    return f"{LabTopics(lab=HAND_LAB).node(node).base}/{suffix}"


def _hand_lab() -> dict[str, dict[str, Any]]:
    """Retained documents by topic: VpnGW (two speakers) with per-peer Adj-RIBs-In/Out.

    VpnGW.0 has a session to Firewall (Idle) without documents; VpnGW.1 has an Adj-RIB-Out
    of Old without a session; ErGW's own documents are there to be left out.
    """
    adj: dict[tuple[str, str, str], list[str]] = {
        ("VpnGW.0", "in", "ErGW"): ["10.1.0.0/16", "10.2.0.0/16"],
        ("VpnGW.0", "in", "Circuit.primary"): ["10.3.0.0/16"],
        ("VpnGW.0", "in", "Circuit.secondary"): ["10.3.0.0/16", "10.4.0.0/16"],
        ("VpnGW.0", "out", "ErGW"): ["10.9.0.0/16"],
        ("VpnGW.1", "in", "ErGW"): ["10.1.0.0/16"],
        ("VpnGW.1", "out", "ErGW"): [],
        ("VpnGW.1", "out", "Old"): ["10.8.0.0/16"],
        ("ErGW", "in", "VpnGW.0"): ["10.9.0.0/16"],
    }
    sessions = {
        "VpnGW.0": ["Circuit.primary", "Circuit.secondary", "ErGW", "Firewall"],
        "VpnGW.1": ["ErGW"],
        "ErGW": ["VpnGW.0", "VpnGW.1"],
    }
    docs: dict[str, dict[str, Any]] = {
        LabTopics(lab=HAND_LAB).state: lab_state_payload(
            HAND_LAB, converged=True, nodes=list(HAND_SPEAKERS), since=1.0
        )
    }
    for (node, rib, peer), prefixes in adj.items():
        docs[_hand_topic(node, f"rib/{rib}/{peer}")] = {
            "schema": f"bgpemu/v1/rib-{rib}",
            "node": node,
            "peer": peer,
            "seq": 2,
            "routes": [_route(p, peer) for p in prefixes],
        }
    for node, peers in sessions.items():
        docs[_hand_topic(node, "sessions")] = {
            "schema": "bgpemu/v1/sessions",
            "node": node,
            "seq": 2,
            "sessions": [_session(p, "Idle" if p == "Firewall" else "Established") for p in peers],
        }
        docs[_hand_topic(node, "rib/loc")] = {
            "schema": "bgpemu/v1/rib-loc",
            "node": node,
            "seq": 2,
            "routes": [_route("10.1.0.0/16", "ErGW"), _route("10.3.0.0/16", "Circuit.primary")],
        }
    for doc in docs.values():
        validate(CHECKERS, doc)
    return docs


def _adj_of(documents: dict[str, dict[str, Any]], node: str, table: str, *peers: str) -> Any:
    return {peer: documents[_hand_topic(node, f"{table}/{peer}")]["routes"] for peer in peers}


def test_documents_are_sorted_by_node_and_topic_suffix() -> None:
    documents = _hand_lab()
    base = LabTopics(lab=HAND_LAB).base
    assert split_topic(HAND_LAB, f"{base}/nodes/VpnGW.0/rib/in/ErGW") == (
        "VpnGW.0",
        "rib/in/ErGW",
    )
    assert split_topic(HAND_LAB, f"{base}/state") == (None, "state")
    assert split_topic(HAND_LAB, f"{base}/nodes/VpnGW.0") is None
    assert split_topic(HAND_LAB, "bgpemu/v1/other/nodes/VpnGW.0/status") is None
    docs = Docs.of(HAND_LAB, documents)
    assert docs.state == documents[LabTopics(lab=HAND_LAB).state]
    assert sorted(docs.per_peer("VpnGW.0", "rib/in")) == [
        "Circuit.primary",
        "Circuit.secondary",
        "ErGW",
    ]
    assert sorted(docs.per_peer("VpnGW.1", "rib/out")) == ["ErGW", "Old"]
    assert docs.session_peers("VpnGW.1") == ["ErGW"]
    assert docs.session_peers("Circuit.primary") is None
    assert peers_of(docs, "VpnGW.1") == {"ErGW", "Old"}


def test_routes_rib_in_gathers_every_per_peer_document() -> None:
    documents = _hand_lab()
    docs = Docs.of(HAND_LAB, documents)
    speakers = node_speakers(docs, "VpnGW")
    assert speakers == ["VpnGW.0", "VpnGW.1"]
    got = routes_json(docs, "VpnGW", speakers, "in", None)
    assert got == {
        "VpnGW.0": _adj_of(
            documents, "VpnGW.0", "rib/in", "Circuit.primary", "Circuit.secondary", "ErGW"
        ),
        "VpnGW.1": _adj_of(documents, "VpnGW.1", "rib/in", "ErGW"),
    }
    assert list(got["VpnGW.0"]) == sorted(got["VpnGW.0"])  # neighbours in name order
    assert got["VpnGW.0"]["Circuit.secondary"][1]["prefix"] == "10.4.0.0/16"
    out = routes_json(docs, "VpnGW", speakers, "out", None)
    assert out == {
        "VpnGW.0": _adj_of(documents, "VpnGW.0", "rib/out", "ErGW"),
        "VpnGW.1": _adj_of(documents, "VpnGW.1", "rib/out", "ErGW", "Old"),
    }
    loc = routes_json(docs, "VpnGW.1", ["VpnGW.1"], "loc", None)
    assert loc == {"VpnGW.1": documents[_hand_topic("VpnGW.1", "rib/loc")]["routes"]}
    # The table of --rib in: one row per route, with its speaker and neighbour.
    rows = render_rib(got).splitlines()
    assert rows[0].split()[:3] == ["Speaker", "Peer", "Prefix"]
    assert rows[2].split()[:3] == ["VpnGW.0", "Circuit.primary", "10.3.0.0/16"]
    assert len(rows) == 2 + 5 + 1


def test_routes_peer_selects_that_neighbors_documents() -> None:
    documents = _hand_lab()
    docs = Docs.of(HAND_LAB, documents)
    speakers = ["VpnGW.0", "VpnGW.1"]
    assert routes_json(docs, "VpnGW", speakers, "in", "ErGW") == {
        s: _adj_of(documents, s, "rib/in", "ErGW") for s in speakers
    }
    # A topology node as the peer: each of its speakers; VpnGW.1 has none of them.
    assert routes_json(docs, "VpnGW", speakers, "in", "Circuit") == {
        "VpnGW.0": _adj_of(documents, "VpnGW.0", "rib/in", "Circuit.primary", "Circuit.secondary"),
        "VpnGW.1": {},
    }
    assert routes_json(docs, "VpnGW.0", ["VpnGW.0"], "in", "Circuit.secondary") == {
        "VpnGW.0": _adj_of(documents, "VpnGW.0", "rib/in", "Circuit.secondary")
    }
    loc = routes_json(docs, "VpnGW", speakers, "loc", "Circuit")
    assert {r["peer"] for s in speakers for r in loc[s]} == {"Circuit.primary"}


def test_routes_unknown_peer_names_the_peers_that_exist() -> None:
    docs = Docs.of(HAND_LAB, _hand_lab())
    speakers = ["VpnGW.0", "VpnGW.1"]
    for rib in ("in", "out", "loc"):
        with pytest.raises(UsageError) as error:
            routes_json(docs, "VpnGW", speakers, rib, "Nobody")
        message = str(error.value)
        assert "'VpnGW' has no peer 'Nobody'" in message
        # From the sessions (Firewall: no documents) and the documents (Old: no session).
        assert "(peers: Circuit.primary, Circuit.secondary, ErGW, Firewall, Old)" in message
    # A speaker with neither sessions nor per-peer documents: nothing to show yet.
    with pytest.raises(
        UsageError, match=r"no rib/in/<peer> or sessions document of 'Circuit\.primary'"
    ):
        routes_json(docs, "Circuit", ["Circuit.primary"], "in", None)


def _event(node: str, seq: int, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema": "bgpemu/v1/event",
        "node": node,
        "seq": seq,
        "base": {},
        "resync": False,
        "announce": [],
        "withdraw": [],
        "sessions": [],
        "sessions_removed": [],
    }
    event.update(fields)
    validate(CHECKERS, event)
    return event


def _per_peer_event() -> dict[str, Any]:
    return _event(
        "VpnGW.0",
        7,
        base={"rib/loc": 5, "rib/in/ErGW": 6, "rib/out/Circuit.primary": 4, "sessions": 6},
        announce=[
            {
                "table": "rib/in/ErGW",
                "peer": "ErGW",
                "family": "ipv4-unicast",
                "prefix": "10.5.0.0/16",
                "routes": [_route("10.5.0.0/16", "ErGW")],
            },
            {
                "table": "rib/loc",
                "peer": None,
                "family": "ipv4-unicast",
                "prefix": "10.5.0.0/16",
                "routes": [_route("10.5.0.0/16", "ErGW"), _route("10.5.0.0/16", "Circuit.primary")],
            },
        ],
        withdraw=[
            {
                "table": "rib/out/Circuit.primary",
                "peer": "Circuit.primary",
                "family": "ipv4-unicast",
                "prefix": "10.9.0.0/16",
            }
        ],
        sessions=[_session("ErGW")],
    )


def _resync_event() -> dict[str, Any]:
    base = {f"rib/out/Branch{i}": 3 for i in range(1, 9)} | {"rib/loc": 3, "sessions": 3}
    return _event("Hub.0", 4, base=base, resync=True, sessions=[_session("Branch3")])


def test_watch_line_names_the_per_peer_tables() -> None:
    states = {("VpnGW.0", "ErGW"): "Active"}
    assert delta_line(_per_peer_event(), states) == (
        "VpnGW.0 #7: in from ErGW +10.5.0.0/16 via 192.0.2.1 path 65002; "
        "loc +10.5.0.0/16 via 192.0.2.1 path 65002 +1 path; "
        "out to Circuit.primary -10.9.0.0/16; session ErGW Established"
    )
    assert states == {("VpnGW.0", "ErGW"): "Established"}
    assert [table_text(t) for t in ("rib/loc", "rib/in/A.0", "rib/out/B", "sessions")] == [
        "loc",
        "in from A.0",
        "out to B",
        "sessions",
    ]


def test_watch_line_of_a_resync_event() -> None:
    states = {("Hub.0", "Branch3"): "OpenConfirm"}
    assert delta_line(_resync_event(), states) == (
        "Hub.0 #4: resync loc, out to Branch1, out to Branch2, out to Branch3, out to Branch4, "
        "out to Branch5 (+3 tables); session Branch3 Established"
    )
    small = _event("CE", 9, base={"rib/in/Firewall": 8}, resync=True)
    assert delta_line(small, {}) == "CE #9: resync in from Firewall"


@integration
async def test_routes_subscribes_only_to_the_documents_it_needs(
    broker: Mosquitto, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = _hand_lab()
    received: list[str] = []
    receive = Observer.receive

    def spy(self: Observer, topic: str, payload: bytes) -> None:
        received.append(topic)
        receive(self, topic, payload)

    monkeypatch.setattr(Observer, "receive", spy)

    async def run(*argv: str) -> tuple[int, str, str]:
        received.clear()
        status = await asyncio.to_thread(main, [*argv, "--mqtt", broker.url, "--lab", HAND_LAB])
        out, err = capsys.readouterr()
        return status, out, err

    async with Publisher(broker.url, lab=HAND_LAB, node=LAB_NODE, node_status=False) as pub:
        for topic, doc in documents.items():
            pub.update(topic, doc)
        await pub.flush(10)
    status, out, err = await run("routes", "VpnGW", "--rib", "in", "-o", "json")
    assert status == 0, err
    assert json.loads(out) == routes_json(
        Docs.of(HAND_LAB, documents), "VpnGW", ["VpnGW.0", "VpnGW.1"], "in", None
    )
    assert len(json.loads(out)["VpnGW.0"]) == 3
    tables = {t.partition("/nodes/")[2] for t in received if "/rib/" in t}
    assert tables == {
        "VpnGW.0/rib/in/ErGW",
        "VpnGW.0/rib/in/Circuit.primary",
        "VpnGW.0/rib/in/Circuit.secondary",
        "VpnGW.1/rib/in/ErGW",
    }
    status, out, err = await run("routes", "VpnGW", "--rib", "out", "--peer", "ErGW", "-o", "json")
    assert status == 0, err
    assert json.loads(out) == {
        s: _adj_of(documents, s, "rib/out", "ErGW") for s in ("VpnGW.0", "VpnGW.1")
    }
    tables = {t.partition("/nodes/")[2] for t in received if "/rib/" in t}
    assert tables == {"VpnGW.0/rib/out/ErGW", "VpnGW.1/rib/out/ErGW"}  # not Old's
    status, out, err = await run("routes", "VpnGW", "--rib", "in", "--peer", "Nobody")
    assert (status, out) == (2, "")
    assert "'Nobody'" in err
    assert "Circuit.primary, Circuit.secondary, ErGW, Firewall" in err
    assert not any("/rib/" in t for t in received)  # the sessions told it
    # Every Established neighbour has its documents; VpnGW.0 lacks two Adj-RIBs-Out here,
    # so the answer would be incomplete: an error naming them, not a partial table.
    status, out, err = await run("routes", "VpnGW", "--rib", "out", "--timeout", "1")
    assert (status, out) == (2, "")
    assert "2 documents did not arrive within --timeout 1 s" in err
    assert "VpnGW.0/rib/out/Circuit.primary, VpnGW.0/rib/out/Circuit.secondary" in err


@integration
def test_watch_streams_per_peer_and_resync_events(
    broker: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = _Capture()
    monkeypatch.setattr(sys, "stdout", capture)

    async def publish(node: str, *events: dict[str, Any]) -> None:
        async with Publisher(broker.url, lab=HAND_LAB, node=node) as pub:
            await pub.flush(10)  # connected: status online sent
            for event in events:
                assert pub.event(event)
            await pub.flush(10)

    asyncio.run(publish("VpnGW.0"))  # online, then offline again as it stops
    argv = ["watch", "VpnGW.0", "--count", "4", "--mqtt", broker.url, "--lab", HAND_LAB]
    watch = _Cli("watch-hand", argv)
    watch.start()
    capture.wait_lines("watch-hand", 1)  # the retained status: subscribed
    asyncio.run(
        publish(
            "VpnGW.0", _per_peer_event(), _event("VpnGW.0", 8, base={"rib/in/ErGW": 7}, resync=True)
        )
    )
    assert watch.finish() == 0
    lines = capture.lines["watch-hand"]
    assert lines[0].endswith(" VpnGW.0: offline")
    assert lines[1].endswith(" VpnGW.0: online")
    assert lines[2].endswith(
        " VpnGW.0 #7: in from ErGW +10.5.0.0/16 via 192.0.2.1 path 65002; "
        "loc +10.5.0.0/16 via 192.0.2.1 path 65002 +1 path; "
        "out to Circuit.primary -10.9.0.0/16; session ErGW Established"
    )
    assert lines[3].endswith(" VpnGW.0 #8: resync in from ErGW")
