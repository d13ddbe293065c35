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
    external_sessions,
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


def test_expected_sessions_leave_out_external_neighbors() -> None:
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


def test_a_report_from_before_the_crash_does_not_settle_the_surviving_end() -> None:
    """A lab worker was killed while its speaker's session came up: the gateway's report
    at the crash (OpenSent, nothing yet to SiteA) matched SiteA's, but the gateway then
    read the dead peer's KEEPALIVE and UPDATE, sent the route on to SiteA and withdrew it
    again.  The verdict said converged in between, with SiteA holding the route."""
    before = {
        "gw": _report("gw", b=("OpenSent", 0, 0), a=("Established", 4, 4)),
        "a": _report("a", gw=("Established", 4, 4)),
    }
    sessions = {("a", "gw")}
    verdict = decide(before, sessions, down={("gw", "b")}, unconfirmed={"gw"})
    assert not verdict.converged
    assert verdict.waiting == ("gw: no report yet since b went down",)
    assert decide(before, sessions, down={("gw", "b")}).converged  # once it reported again


def test_an_open_confirm_with_a_peer_that_went_down_is_not_settled() -> None:
    """The OPEN came before the peer went: its KEEPALIVE and UPDATEs may be unread."""
    reports = {"a": _report("a", b=("OpenConfirm", 0, 0))}
    verdict = decide(reports, set(), down={("a", "b")})
    assert verdict.waiting == ("a: still OpenConfirm with b",)


# -- sessions held down on purpose, sessions to external routers (issue 12, item 5) ------


def _held(name: str, peer: str, reason: str) -> SpeakerReport:
    return SpeakerReport(name=name, peers={peer: PeerCounters(state="Idle", held=reason)})


def test_a_session_held_down_on_purpose_is_settled_and_named() -> None:
    """A max-prefix trip without restart (RFC 4486 §4) keeps a session down by design:
    convergence does not wait for it, and the verdict says which and why."""
    reason = "Cease / Maximum Number of Prefixes Reached"
    reports = {
        "gw": SpeakerReport(
            name="gw",
            peers={
                "site": PeerCounters(state="Idle", held=reason),
                "vnet": PeerCounters(state="Established", updates_sent=1, updates_received=1),
            },
        ),
        "site": _report("site", gw=("Active", 0, 0)),
        "vnet": _report("vnet", gw=("Established", 1, 1)),
    }
    verdict = decide(reports, {("gw", "site"), ("gw", "vnet")})
    assert verdict.converged, verdict.waiting
    assert (verdict.established, verdict.expected) == (1, 1)
    assert verdict.held == (f"gw-site: held down by gw ({reason})",)


def test_a_held_session_still_established_at_the_other_end_is_waited_for() -> None:
    reports = {
        "gw": _held("gw", "site", "Cease / Maximum Number of Prefixes Reached"),
        "site": _report("site", gw=("Established", 5000, 0)),
    }
    verdict = decide(reports, {("gw", "site")})
    assert not verdict.converged
    assert verdict.waiting == ("gw-site: held down by gw, still Established at site",)


def test_sessions_to_external_routers_are_waited_for_and_named() -> None:
    """An external router's session counts: not converged, "sessions": 0, before it
    connects (it was converged with nothing expected)."""
    reports = {"gw.0": _report("gw.0", onprem=("Active", 0, 0))}
    verdict = decide(reports, set(), external={("gw.0", "onprem")})
    assert not verdict.converged
    assert (verdict.established, verdict.expected) == (0, 1)
    assert verdict.external_waiting == ("onprem (from gw.0)",)
    assert verdict.waiting == ("gw.0: waiting for external peer onprem (Active)",)
    up = {"gw.0": _report("gw.0", onprem=("Established", 3, 1))}
    verdict = decide(up, set(), external={("gw.0", "onprem")})
    assert verdict.converged
    assert (verdict.established, verdict.expected, verdict.external_waiting) == (1, 1, ())


def test_without_waiting_for_external_routers_they_are_named_not_connected() -> None:
    reports = {"gw.0": _report("gw.0", onprem=("Connect", 0, 0))}
    verdict = decide(reports, set(), external={("gw.0", "onprem")}, wait_external=False)
    assert verdict.converged
    assert (verdict.established, verdict.expected) == (0, 0)
    assert verdict.not_connected == ("onprem (from gw.0)",)


def test_external_sessions_of_a_plan_are_those_to_external_endpoints() -> None:
    assert external_sessions({"a": ["b", "x", "y"], "b": ["a"]}, externals={"x"}) == {("a", "x")}


def test_a_stopped_session_reports_why_it_is_held_down() -> None:
    """The session of the end that tripped the limit says why it is down; a session that
    was never stopped, or started again, holds nothing."""
    import random

    from bgpemu.session import ManualStart, ManualStop, Session, SessionConfig

    config = SessionConfig(local_as=65001, peer_as=65002, bgp_identifier="10.0.0.1")
    session = Session(config, random.Random(0))
    assert session.held_down is None
    session.handle(ManualStart(), 0.0)
    session.handle(ManualStop(subcode=1, reason="Cease / Maximum Number of Prefixes Reached"), 1.0)
    report = report_from_sessions("gw", {"site": session}, busy=False)
    assert report.peers["site"].held == "Cease / Maximum Number of Prefixes Reached"
    session.handle(ManualStart(), 2.0)
    assert report_from_sessions("gw", {"site": session}, busy=False).peers["site"].held is None
