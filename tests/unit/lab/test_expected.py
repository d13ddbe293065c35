"""The sessions a TCP lab expects, and which are down on purpose (bgpemu.lab.expected)."""

from __future__ import annotations

from pathlib import Path

from bgpemu.azure.replan import replan
from bgpemu.azure.roles import compile_network
from bgpemu.lab.convergence import PeerCounters, SpeakerReport
from bgpemu.lab.expected import ExpectedSessions
from bgpemu.topology import load_topology
from bgpemu.topology.edit import apply_edit

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"
HUB_A = ("HubGW", "SiteA")
HUB_B = ("HubGW", "SiteB")


def _s2s() -> ExpectedSessions:
    """s2s-transit: HubGW peers with SiteA and SiteB (SiteC has no BGP session)."""
    plan = compile_network(load_topology(TOPOLOGIES / "s2s-transit.yaml"))
    expected = ExpectedSessions(plan, tuple(sorted(s.name for s in plan.speakers)))
    assert expected.all == expected.sessions == {HUB_A, HUB_B}
    return expected


def test_a_cut_link_is_down_at_both_ends_until_restored() -> None:
    expected = _s2s()
    expected.cut.add(HUB_A)
    expected.recompute()
    assert expected.sessions == {HUB_B}
    assert expected.down == {("HubGW", "SiteA"), ("SiteA", "HubGW")}
    expected.cut.discard(HUB_A)
    expected.recompute()
    assert expected.sessions == {HUB_A, HUB_B}
    assert expected.down == set()


def test_a_crashed_speaker_must_be_noticed_only_by_the_surviving_end() -> None:
    expected = _s2s()
    expected.crashed.add("SiteA")
    expected.recompute()
    assert expected.sessions == {HUB_B}
    assert expected.down == {("HubGW", "SiteA")}
    expected.crashed.add("HubGW")  # both ends gone: nobody is left to notice
    expected.recompute()
    assert expected.sessions == set()
    assert expected.down == {("SiteB", "HubGW")}


def test_a_lost_speaker_s_surviving_ends_must_report_again() -> None:
    """The reports held when a crash is learned may predate it (see lose)."""
    expected = _s2s()
    assert expected.lose(["SiteB"]) == ("HubGW",)
    assert expected.down == {("HubGW", "SiteB")}
    assert expected.sessions == {HUB_A}
    assert expected.lose(["SiteA"]) == ("HubGW",)  # a second loss: a second report asked
    assert expected.unconfirmed == {"HubGW": 2}
    expected.confirmed("HubGW")
    assert expected.unconfirmed == {"HubGW": 1}
    expected.confirmed("HubGW")
    assert expected.unconfirmed == {}


def test_a_stale_report_of_the_surviving_end_is_not_converged() -> None:
    expected = _s2s()
    at_crash = {
        "HubGW": SpeakerReport(
            name="HubGW",
            peers={
                "SiteA": PeerCounters(state="Established", updates_sent=2, updates_received=2),
                "SiteB": PeerCounters(state="OpenSent"),
            },
        ),
        "SiteA": SpeakerReport(
            name="SiteA",
            peers={"HubGW": PeerCounters(state="Established", updates_sent=2, updates_received=2)},
        ),
    }
    expected.lose(["SiteB"])
    verdict = expected.decide(at_crash, wait_external=True)
    assert verdict.waiting == ("HubGW: no report yet since SiteB went down",)
    expected.confirmed("HubGW")  # the report asked after the crash is in
    assert expected.decide(at_crash, wait_external=True).converged


def test_a_pair_is_named_in_either_order_and_only_if_it_exists() -> None:
    expected = _s2s()
    assert expected.pair("SiteA", "HubGW") == expected.pair("HubGW", "SiteA") == HUB_A
    assert expected.pair("SiteA", "SiteB") is None
    assert expected.pair("HubGW", "Nope") is None


def test_a_topology_change_forgets_what_no_longer_exists() -> None:
    network = load_topology(TOPOLOGIES / "s2s-transit.yaml")
    plan = compile_network(network)
    expected = ExpectedSessions(plan, tuple(sorted(s.name for s in plan.speakers)))
    hub = next(s for s in plan.speakers if s.name == "HubGW")
    expected.cut.update({HUB_A, HUB_B})
    expected.policies = {HUB_A: hub.router.neighbor("SiteA"), HUB_B: hub.router.neighbor("SiteB")}
    edited = apply_edit(network, "remove_connection", {"type": "site_to_site", "site": "SiteB"})
    change = replan(plan, apply_edit(edited, "remove_node", {"name": "SiteB"}))
    assert "HubGW" not in {s.name for s in change.restart_speakers}
    expected.adopt(change, tuple(sorted(s.name for s in change.new.speakers)))
    assert expected.all == {HUB_A}
    assert expected.cut == {HUB_A}  # still cut: the link exists
    assert expected.sessions == set()
    assert expected.down == {("HubGW", "SiteA"), ("SiteA", "HubGW")}
    assert expected.policies == {HUB_A: hub.router.neighbor("SiteA")}
