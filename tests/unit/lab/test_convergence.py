"""Exact convergence (architecture decision 7) decided from the speakers' counters."""

from __future__ import annotations

from pathlib import Path

from bgpemu.azure.roles import compile_network
from bgpemu.fabric import Fabric
from bgpemu.lab.convergence import (
    PeerCounters,
    SpeakerReport,
    decide,
    expected_sessions,
    report_from_sessions,
)
from bgpemu.router.config import OriginatedRoute
from bgpemu.topology import load_topology
from bgpemu.types import IPV4_UNICAST

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"


def _report(name: str, **peers: tuple[str, int, int]) -> SpeakerReport:
    return SpeakerReport(
        name=name,
        peers={
            p: PeerCounters(state=s, updates_sent=a, updates_received=b)
            for p, (s, a, b) in peers.items()
        },
    )


def test_expected_sessions_leave_out_external_neighbours() -> None:
    assert expected_sessions({"a": ["b", "x"], "b": ["a"], "c": []}) == {("a", "b")}


def test_equal_counters_on_established_sessions_are_converged() -> None:
    reports = {
        "a": _report("a", b=("Established", 3, 2)),
        "b": _report("b", a=("Established", 2, 3)),
    }
    verdict = decide(reports, {("a", "b")})
    assert verdict.converged
    assert (verdict.established, verdict.expected) == (1, 1)


def test_an_update_in_flight_or_a_session_down_or_a_timer_is_not_converged() -> None:
    in_flight = {
        "a": _report("a", b=("Established", 4, 2)),
        "b": _report("b", a=("Established", 2, 3)),
    }
    assert decide(in_flight, {("a", "b")}).waiting == ("a->b: 1 in flight",)
    down = {"a": _report("a", b=("Active", 0, 0)), "b": _report("b", a=("Idle", 0, 0))}
    assert decide(down, {("a", "b")}).waiting == ("a-b: Active/Idle",)
    busy = {
        "a": SpeakerReport(name="a", peers=in_flight["b"].peers, busy=True),
    }
    assert not decide(busy, set()).converged
    assert not decide({}, {("a", "b")}).converged


def _fabric_verdict(fabric: Fabric) -> bool:
    reports = {
        name: report_from_sessions(
            name, fabric.sessions(name), busy=fabric.router(name).next_deadline() is not None
        )
        for name in fabric.nodes()
    }
    sessions = expected_sessions({name: list(fabric.sessions(name)) for name in fabric.nodes()})
    return decide(reports, sessions).converged


def test_the_fabric_is_converged_when_idle_and_not_while_an_update_flies() -> None:
    plan = compile_network(load_topology(TOPOLOGIES / "s2s-transit.yaml"))
    fabric = Fabric(plan.speakers, latency=0.001)
    fabric.run_until_idle()
    assert _fabric_verdict(fabric)
    fabric.announce("SiteB", OriginatedRoute(prefix="10.22.0.0/16", family=IPV4_UNICAST))
    assert not _fabric_verdict(fabric)  # queued, not yet delivered
    fabric.advance(0.0015)  # delivered to the gateway, which has just re-sent it to SiteA
    assert not _fabric_verdict(fabric)
    fabric.run_until_idle()
    assert _fabric_verdict(fabric)


def test_a_crashed_peer_must_be_noticed_before_the_lab_converges() -> None:
    noticed = {"a": _report("a", b=("Active", 0, 0))}
    not_yet = {"a": _report("a", b=("Established", 3, 3))}
    assert decide(noticed, set(), down={("a", "b")}).converged
    verdict = decide(not_yet, set(), down={("a", "b")})
    assert not verdict.converged
    assert verdict.waiting == ("a: still Established with b",)
