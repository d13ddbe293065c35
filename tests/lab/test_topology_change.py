"""Topology changes applied to a running TCP lab (issue 6): no session drops, only the
routes that should change do, and nothing of a removed speaker or session lingers."""

from __future__ import annotations

import asyncio
import contextlib
import io
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bgpemu.azure.converge import solve
from bgpemu.azure.model import Network
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.cli import main
from bgpemu.lab.supervisor import LabError, TcpLab
from bgpemu.observe.mqtt import Observer
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState
from bgpemu.topology import load_topology, parse_topology
from tests.cli_process import bgpemu_env
from tests.helpers import free_port, neighbor, running, speaker_spec
from tests.lab.conftest import Mosquitto
from tests.lab.publishing import publishing

ROOT = Path(__file__).resolve().parents[2]
HUB_SPOKE = ROOT / "topologies" / "hub-spoke-transit.yaml"
EXTERNAL = "127.0.0.66"
"""Where the test runs an external on-prem router (the lab's gateway dials it)."""


def _edited(edit: Callable[[dict[str, Any]], None]) -> str:
    data = yaml.safe_load(HUB_SPOKE.read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def _add_spoke3(data: dict[str, Any]) -> None:
    nodes = data["nodes"]
    nodes["Hub"]["peerings"].append(
        {
            "remoteVirtualNetwork": "Spoke3",
            "allowForwardedTraffic": True,
            "allowGatewayTransit": True,
        }
    )
    nodes["Spoke3"] = {
        "role": "vnet",
        "addressSpace": ["10.3.0.0/16"],
        "subnets": [{"name": "App", "addressPrefix": "10.3.1.0/24"}],
        "peerings": [
            {
                "remoteVirtualNetwork": "Hub",
                "allowForwardedTraffic": True,
                "useRemoteGateways": True,
            }
        ],
    }


def _add_sites(external_port: int) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["nodes"]["Site2"] = {
            "role": "onprem",
            "asn": 65020,
            "bgpPeeringAddress": "172.16.2.1",
            "prefixes": ["192.170.0.0/16"],
        }
        data["nodes"]["Site3"] = {
            "role": "onprem",
            "asn": 65030,
            "bgpPeeringAddress": EXTERNAL,
            "prefixes": ["192.171.0.0/16"],
            "external": {"port": external_port},
        }
        for site in ("Site2", "Site3"):
            data["connections"].append(
                {"type": "site_to_site", "gateway": "HubGW", "site": site, "enableBgp": True}
            )

    return edit


def _best(snapshot: RouterSnapshot) -> dict[str, tuple[str | None, tuple[int, ...]]]:
    return {r.prefix: (r.next_hop, r.as_path) for r in snapshot.loc_rib if r.best}


def _sessions(snapshots: Mapping[str, RouterSnapshot]) -> dict[tuple[str, str], Any]:
    return {
        (name, peer.peer): (peer.state, peer.established_at)
        for name, snap in snapshots.items()
        for peer in snap.peers
    }


def _assert_no_session_dropped(
    before: Mapping[str, RouterSnapshot], after: Mapping[str, RouterSnapshot]
) -> None:
    """Every session up before is still the same Established connection (same
    established time: a session that went down and came back would have a new one)."""
    was, now = _sessions(before), _sessions(after)
    for key, (state, since) in was.items():
        assert state == "Established", key
        assert now.get(key) == (state, since), key


def _assert_fabric_tables(lab: TcpLab, got: Mapping[str, RouterSnapshot]) -> None:
    expected = solve(lab.network).snapshots
    assert set(got) == set(expected)
    for speaker, snap in expected.items():
        assert got[speaker].loc_rib == snap.loc_rib, speaker


def _lab(network: Network, **options: Any) -> TcpLab:
    return TcpLab(network, processes=2, port=free_port("127.0.10.1"), **options)


async def test_a_new_spoke_peering_adds_one_route_and_drops_no_session() -> None:
    original = load_topology(HUB_SPOKE)
    with_spoke3 = parse_topology(_edited(_add_spoke3))
    async with _lab(original) as lab:
        await lab.converged(timeout=60)
        before = await lab.snapshots()
        change = lab.plan_change(with_spoke3)
        assert change.add_speakers == change.restart_speakers == ()
        assert change.remove_speakers == ()
        assert [item.speaker for item in change.speakers] == ["HubGW"]  # it announces 10.3/16

        await lab.apply(change, network=with_spoke3)
        assert lab.plan == change.new
        assert lab.network is with_spoke3
        await lab.converged(timeout=30)
        after = await lab.snapshots()
        _assert_no_session_dropped(before, after)
        gained = _best(after["OnPrem"]).items() - _best(before["OnPrem"]).items()
        assert {prefix for prefix, _ in gained} == {"10.3.0.0/16"}
        assert _best(after["OnPrem"])["10.3.0.0/16"][1] == (65515,)
        for speaker in before:  # nothing else changed anywhere
            old = _best(before[speaker])
            assert {p: v for p, v in _best(after[speaker]).items() if p != "10.3.0.0/16"} == old
        _assert_fabric_tables(lab, after)

        back = await lab.change_topology(original)
        assert lab.plan == back.new
        await lab.converged(timeout=30)
        again = await lab.snapshots()
        _assert_no_session_dropped(before, again)
        assert {name: _best(s) for name, s in again.items()} == {
            name: _best(s) for name, s in before.items()
        }


def _external_site(lab: TcpLab, port: int) -> Any:
    """The external Site3 router, run by the test: it peers with the lab's gateway."""
    gateway = lab.plan.endpoints["HubGW"]
    return speaker_spec(
        "Site3",
        EXTERNAL,
        port,
        asn=65030,
        router_id="172.16.3.1",
        routes=["192.171.0.0/16"],
        next_hop_v4=EXTERNAL,
        neighbors=[
            neighbor(
                "HubGW",
                gateway.lab_address,
                int(lab.options["port"]),
                local_as=65030,
                peer_as=65515,
                router_id="172.16.3.1",
                hold_time=180,
            )
        ],
    )


async def test_a_site_added_then_removed_starts_and_stops_its_speaker() -> None:
    original = load_topology(HUB_SPOKE)
    port = free_port(EXTERNAL)
    with_sites = parse_topology(_edited(_add_sites(port)))
    async with _lab(original) as lab:
        await lab.converged(timeout=60)
        before = await lab.snapshots()
        sessions = set(lab.sessions)
        async with running(_external_site(lab, port)) as (site3,):
            change = await lab.change_topology(with_sites)
            assert [s.name for s in change.add_speakers] == ["Site2"]
            assert "Site2" in lab.local
            assert lab.sessions == sessions | {("HubGW", "Site2")}  # Site3 is external
            await lab.converged(timeout=30)
            await site3.wait_established("HubGW", timeout=30)
            after = await lab.snapshots()
            _assert_no_session_dropped(before, after)
            hub = _best(after["HubGW"])
            assert hub["192.170.0.0/16"][1] == (65020,)
            assert hub["192.171.0.0/16"][1] == (65030,)
            assert _best(after["OnPrem"])["192.170.0.0/16"][1] == (65515, 65020)
            assert _best(after["Site2"])["192.168.0.0/16"][1] == (65515, 65010)

            await lab.change_topology(original)
            # The gateway de-configured Site3: Cease / Peer De-configured (RFC 4486 §4).
            await site3.wait_for(
                lambda: site3.peers["HubGW"].state != SessionState.ESTABLISHED, timeout=10
            )
            assert site3.peers["HubGW"].last_notification_received == (
                "Cease (6) / Peer Deconfigured (3)"
            )
            await lab.converged(timeout=30)
            assert "Site2" not in lab.local
            assert lab.sessions == sessions
            assert set(lab.reports) == {"HubGW", "OnPrem"}
            assert all("Site2" not in r.peers for r in lab.reports.values())
            assert all("Site3" not in r.peers for r in lab.reports.values())
            again = await lab.snapshots()
            assert set(again) == {"HubGW", "OnPrem"}
            _assert_no_session_dropped(before, again)
            assert {n: _best(s) for n, s in again.items()} == {
                n: _best(s) for n, s in before.items()
            }
            assert _site_routes(site3) == set()


def _site_routes(site: Speaker) -> set[str]:
    return {p.prefix for p in site.received_paths()}


async def test_a_change_the_lab_cannot_run_leaves_it_untouched() -> None:
    original = load_topology(HUB_SPOKE)
    with_spoke3 = parse_topology(_edited(_add_spoke3))
    async with _lab(original) as lab, _lab(with_spoke3) as other:
        await lab.converged(timeout=60)
        version = lab.version
        foreign = other.plan_change(original)  # planned from another lab's plan
        with pytest.raises(LabError, match="not planned from the running plan"):
            await lab.apply(foreign)
        assert lab.version == version
        assert lab.verdict().converged


# -- the command line: bgpemu apply against `bgpemu lab up` ----------------------------


async def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    status = await asyncio.to_thread(run)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.integration
async def test_bgpemu_apply_changes_a_running_lab_up(mosquitto: Mosquitto, tmp_path: Path) -> None:
    good = tmp_path / "spoke3.yaml"
    good.write_text(_edited(_add_spoke3))
    bad = tmp_path / "bad.yaml"
    bad.write_text(_edited(lambda d: d["nodes"]["Hub"]["peerings"].append({"x": 1})))
    port = free_port("127.0.10.1")
    env = bgpemu_env(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bgpemu", "lab", "up", str(HUB_SPOKE), "--mqtt", mosquitto.url),
        *("--port", str(port), "--processes", "2"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    target = ("--lab", "hub-spoke-transit", "--mqtt", mosquitto.url, "--timeout", "60")
    try:
        async with Observer(mosquitto.url, lab="hub-spoke-transit") as observer:

            def converged() -> bool:
                state = observer.documents.get(observer.topics.state)
                return bool(state and state["converged"] and observer.node("OnPrem").get("rib/loc"))

            await observer.wait_for(converged, timeout=60)

            status, out, err = await _cli("apply", str(bad), *target)
            assert status == 2
            assert "bad.yaml" in err
            assert "nothing was sent" in err
            assert not observer.lab_events  # refused before sending: the lab saw nothing

            status, out, err = await _cli("apply", str(good), *target)
            assert status == 0, (out, err)
            lines = out.splitlines()
            assert lines[0].startswith("injected: apply spoke3.yaml")
            assert lines[-1].startswith("converged after ")

            def has_spoke3() -> bool:
                routes = observer.node("OnPrem").get("rib/loc", {}).get("routes", [])
                return any(r["prefix"] == "10.3.0.0/16" for r in routes)

            await observer.wait_for(has_spoke3, timeout=30)
            view = "azure/effective-routes.App"
            await observer.wait_for(lambda: bool(observer.node("Spoke3").get(view)), timeout=30)

            status, out, _err = await _cli("apply", str(HUB_SPOKE), *target, "-o", "json")
            assert status == 0
            await observer.wait_for(lambda: not has_spoke3(), timeout=30)
            await observer.wait_for(lambda: not observer.node("Spoke3").get(view), timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await process.wait()


def test_an_apply_command_is_validated_and_planned_before_anything_changes() -> None:
    from bgpemu.azure.replan import replan
    from bgpemu.lab.commands import Injection
    from bgpemu.lab.control import parse_command
    from bgpemu.lab.targets import Names

    network = load_topology(HUB_SPOKE)
    plan = solve(network).plan
    names = Names(network, plan)

    def planner(network: Network) -> Any:
        return replan(plan, network)

    good = {"op": "apply", "args": {"topology": _edited(_add_spoke3), "file": "spoke3.yaml"}}
    injection = parse_command(names, good, planner=planner)
    assert isinstance(injection, Injection)
    assert injection.describe() == "apply spoke3.yaml: changed HubGW"
    bad_text = _edited(lambda d: d["nodes"].pop("OnPrem"))
    problems = parse_command(
        names, {"op": "apply", "args": {"topology": bad_text, "file": "b.yaml"}}, planner=planner
    )
    assert isinstance(problems, list)
    assert problems
    assert all(p.startswith("b.yaml") for p in problems)
    assert any("OnPrem" in p for p in problems)
    assert parse_command(names, {"op": "apply", "args": {}}, planner=planner) == [
        "args.topology: the new topology (YAML text) is required"
    ]
    assert parse_command(names, good) == ["op: this lab cannot change its topology"]


@pytest.mark.integration
async def test_an_invalid_topology_on_the_control_topic_is_rejected(mosquitto: Mosquitto) -> None:
    from bgpemu.observe.mqtt import send_control
    from bgpemu.observe.payloads import control_payload

    async with _lab(load_topology(HUB_SPOKE)) as lab, publishing(lab, mosquitto.url):
        async with Observer(mosquitto.url, lab=lab.name) as observer:
            await observer.wait_for(lambda: observer.topics.state in observer.documents, timeout=30)
        plan, version = lab.plan, lab.version
        payload = control_payload("r1", "apply", topology="nodes: [", file="broken.yaml")
        answers = await send_control(mosquitto.url, lab.name, payload, 30)
        assert [a["event"] for a in answers] == ["rejected"]
        assert answers[0]["detail"].startswith("broken.yaml")
        assert lab.plan is plan
        assert lab.version == version


def test_the_lab_profile_never_turns_a_policy_change_into_a_session_reset() -> None:
    """replan compares whole neighbour specs: without the lab's retry profile applied to
    the new plan too, every kept session would look changed and be reset."""
    from bgpemu.azure.replan import replan
    from bgpemu.azure.roles import compile_network
    from bgpemu.lab.profile import lab_profile

    path = ROOT / "topologies" / "vwan-basic.yaml"
    data = yaml.safe_load(path.read_text())
    data["nodes"]["Branch3"] = {
        "role": "onprem",
        "asn": 65020,
        "bgpPeeringAddress": "10.50.3.1",
        "prefixes": ["10.50.3.0/24"],
    }
    data["connections"].append({"type": "hub_vpn", "hub": "hub1", "site": "Branch3"})
    running = lab_profile(compile_network(load_topology(path)))
    network = parse_topology(yaml.safe_dump(data))
    raw = replan(running, network)
    resets = {(item.speaker, n.name) for item in raw.speakers for n, _ in item.reset_neighbors}
    assert resets == {
        ("hub1", "Branch1"),
        ("hub1", "Branch2"),
        ("Branch1", "hub1"),
        ("Branch2", "hub1"),
    }
    change = replan(running, network, profile=lab_profile)
    (hub,) = change.speakers
    assert hub.reset_neighbors == ()
    assert [n.name for n, _ in hub.add_neighbors] == ["Branch3"]
    assert hub.add_neighbors[0][0].session.idle_hold_time == 0.2  # the lab's retry profile
    # Branch1 and Branch2 now also get Branch3's routes: an export policy change.
    assert [p.name for p in hub.policies] == ["Branch1", "Branch2"]
    assert change.new == lab_profile(raw.new)
