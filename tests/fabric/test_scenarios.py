"""Fabric scenarios of issue 3: real sessions and codec, virtual time, exact outcomes."""

from __future__ import annotations

import struct
import time

import pytest

from bgpemu.fabric import ConvergenceError, Fabric
from bgpemu.policy import (
    NO_EXPORT,
    AddCommunities,
    MaxPrefix,
    PrefixList,
    PrefixListEntry,
    Prepend,
    RoutePolicy,
    SetLocalPref,
    Statement,
)
from bgpemu.policy.route_policy import Result
from bgpemu.rib.decision import DecisionConfig, Step
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.session import SessionState, Timer
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode, MessageType

from .helpers import Node, best, build, v4

P = "10.1.0.0/24"
ESTABLISHED = SessionState.ESTABLISHED


def _prepend(count: int) -> RoutePolicy:
    return RoutePolicy(
        statements=(Statement(actions=(Prepend(count=count),)),), default=Result.ACCEPT
    )


def _entry(fabric: Fabric, node: str, prefix: str = P) -> dict[str, object]:
    entry = best(fabric.router(node).table(), prefix)
    assert entry is not None, f"{node} has no route to {prefix}"
    return entry


def _best_path(fabric: Fabric, node: str, prefix: str = P) -> dict[str, object]:
    path = _entry(fabric, node, prefix)["best"]
    assert isinstance(path, dict)
    return path


def _triangle() -> Fabric:
    """A (65001) originates P; A-C is the primary link, A-B-C the backup, prepended by B."""
    nodes = [
        Node("a", 1, 65001, routes=(v4(P),)),
        Node("b", 2, 65002, policies={"c": NeighborPolicy(name="", export_policy=_prepend(2))}),
        Node("c", 3, 65003),
    ]
    return Fabric(build(nodes, [("a", "b"), ("b", "c"), ("a", "c")]))


def test_triangle_direct_path_wins_on_as_path_length() -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    entry = _entry(fabric, "c")
    assert entry["reason"] == Step.AS_PATH_LENGTH.value
    assert _best_path(fabric, "c") == {
        "next_hop": "10.0.0.1",
        "as_path": [65001],
        "origin": "igp",
        "med": None,
        "local_pref": None,
        "communities": [],
        "large_communities": [],
        "peer": "a",
    }
    rib_in = fabric.router("c").adj_rib_in("b")
    assert rib_in is not None
    backup = rib_in.post(IPV4_UNICAST, P)
    assert backup is not None
    assert backup.attributes.as_path_asns() == (65002, 65002, 65002, 65001)


@pytest.mark.parametrize("silent", [False, True])
def test_triangle_cut_primary_then_restore(silent: bool) -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    fabric.cut_link("a", "c", silent=silent)
    if silent:
        fabric.advance(90)  # the hold time: only then does anyone notice
    fabric.run_until_idle()
    assert fabric.sessions("c")["a"].state is not ESTABLISHED
    assert _best_path(fabric, "c")["as_path"] == [65002, 65002, 65002, 65001]
    assert _entry(fabric, "c")["reason"] == Step.ONLY_PATH.value
    fabric.restore_link("a", "c")
    fabric.run_until_idle()
    assert fabric.sessions("c")["a"].state is ESTABLISHED
    assert _best_path(fabric, "c")["as_path"] == [65001]
    assert _entry(fabric, "c")["reason"] == Step.AS_PATH_LENGTH.value


def _diamond(*, relax: bool) -> Fabric:
    """A originates P; D hears it through B and through C, equal length, different paths."""
    nodes = [
        Node("a", 1, 65001, routes=(v4(P),)),
        Node("b", 2, 65002),
        Node("c", 3, 65003),
        Node("d", 4, 65004, decision=DecisionConfig(max_paths=2, multipath_relax=relax)),
    ]
    return Fabric(build(nodes, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]))


def test_ecmp_across_two_equal_paths_then_collapse() -> None:
    fabric = _diamond(relax=True)
    fabric.run_until_idle()
    entry = _entry(fabric, "d")
    assert entry["reason"] == Step.ROUTER_ID.value
    multipath = entry["multipath"]
    assert isinstance(multipath, list)
    assert [(p["peer"], p["as_path"]) for p in multipath] == [
        ("b", [65002, 65001]),
        ("c", [65003, 65001]),
    ]
    fabric.cut_link("a", "b", silent=False)  # b withdraws P from d
    fabric.run_until_idle()
    entry = _entry(fabric, "d")
    multipath = entry["multipath"]
    assert isinstance(multipath, list)
    assert [p["peer"] for p in multipath] == ["c"]
    assert entry["reason"] == Step.ONLY_PATH.value


def test_ecmp_needs_equal_as_paths_without_relax() -> None:
    fabric = _diamond(relax=False)
    fabric.run_until_idle()
    multipath = _entry(fabric, "d")["multipath"]
    assert isinstance(multipath, list)
    assert len(multipath) == 1


def test_route_leak_stopped_by_no_export() -> None:
    """B (65002, two routers) must keep a route A tagged NO_EXPORT inside its AS."""
    tag = NeighborPolicy(
        name="",
        export_policy=RoutePolicy(
            statements=(
                Statement(
                    match=PrefixList((PrefixListEntry(P),)),
                    actions=(AddCommunities((NO_EXPORT,)),),
                ),
            ),
            default=Result.ACCEPT,
        ),
    )
    nodes = [
        Node("a", 1, 65001, routes=(v4(P), v4("10.2.0.0/24")), policies={"b1": tag}),
        Node("b1", 2, 65002),
        Node("b2", 3, 65002),
        Node("c", 4, 65003),
    ]
    fabric = Fabric(build(nodes, [("a", "b1"), ("b1", "b2"), ("b1", "c"), ("b2", "c")]))
    fabric.run_until_idle()
    assert _best_path(fabric, "b1")["communities"] == ["65535:65281"]
    assert _best_path(fabric, "b2")["peer"] == "b1"  # iBGP inside AS 65002: allowed
    assert best(fabric.router("c").table(), P) is None  # never leaves AS 65002
    assert _best_path(fabric, "c", "10.2.0.0/24")["as_path"] == [65002, 65001]


def test_loop_stopped_by_as_path() -> None:
    """C prefers the path through B and offers it to A, whose own ASN is in it."""
    prefer_b = RoutePolicy(
        statements=(Statement(actions=(SetLocalPref(200),)),), default=Result.ACCEPT
    )
    nodes = [
        Node("a", 1, 65001, routes=(v4(P),)),
        Node("b", 2, 65002),
        Node("c", 3, 65003, policies={"b": NeighborPolicy(name="", import_policy=prefer_b)}),
    ]
    fabric = Fabric(build(nodes, [("a", "b"), ("b", "c"), ("a", "c")]))
    fabric.run_until_idle()
    assert _best_path(fabric, "c")["as_path"] == [65002, 65001]
    rib_in = fabric.router("a").adj_rib_in("c")
    assert rib_in is not None
    looped = rib_in.pre(IPV4_UNICAST, P)
    assert looped is not None
    assert looped.attributes.as_path_asns() == (65003, 65002, 65001)
    assert rib_in.post(IPV4_UNICAST, P) is None  # RFC 4271 §9.1.2: excluded
    assert _entry(fabric, "a")["reason"] == Step.ONLY_PATH.value


def test_max_prefix_trips_the_session() -> None:
    nodes = [
        Node("a", 1, 65001, routes=tuple(v4(f"10.{i}.0.0/24") for i in range(1, 4))),
        Node("b", 2, 65002, policies={"a": NeighborPolicy(name="", max_prefix=MaxPrefix(2))}),
    ]
    fabric = Fabric(build(nodes, [("a", "b")]))
    fabric.run_until_idle()
    b_session, a_session = fabric.sessions("b")["a"], fabric.sessions("a")["b"]
    assert b_session.state is SessionState.IDLE
    assert a_session.state is not ESTABLISHED
    received = a_session.counters.last_notification_received
    assert received is not None
    assert (received.code, received.subcode) == (
        ErrorCode.CEASE,
        CeaseSubcode.MAXIMUM_PREFIXES_REACHED,
    )
    assert received.data == struct.pack("!HBI", 1, 1, 2)  # AFI 1, SAFI 1, limit 2
    assert fabric.tables()["b"] == []
    # Stopped for good (no restart configured): still down much later.
    fabric.advance(600)
    fabric.run_until_idle()
    assert b_session.state is SessionState.IDLE
    assert b_session.counters.established_transitions == 1


def test_max_prefix_restart_after_trips_again() -> None:
    nodes = [
        Node("a", 1, 65001, routes=tuple(v4(f"10.{i}.0.0/24") for i in range(1, 4))),
        Node(
            "b",
            2,
            65002,
            policies={"a": NeighborPolicy(name="", max_prefix=MaxPrefix(2, restart_after=60))},
        ),
    ]
    fabric = Fabric(build(nodes, [("a", "b")]))
    with pytest.raises(ConvergenceError):
        fabric.run_until_idle(max_time=100)  # it keeps flapping: never idle
    assert fabric.sessions("b")["a"].counters.established_transitions == 2
    trips = [t for t, node, text in fabric.events if node == "b" and "Maximum" in text]
    restarts = [t for t, node, text in fabric.events if "restarting after max-prefix" in text]
    assert restarts[0] == trips[0] + 60


def test_silent_cut_detected_after_exactly_the_hold_time() -> None:
    nodes = [Node("a", 1, 65001, routes=(v4(P),)), Node("b", 2, 65002)]
    fabric = Fabric(build(nodes, [("a", "b")], hold_time=180))
    fabric.run_until_idle()
    fabric.advance(100)  # some keepalives have been exchanged meanwhile
    session = fabric.sessions("b")["a"]
    deadline = session.timer_deadline(Timer.HOLD)
    assert deadline is not None
    last_heard = deadline - 180  # RFC 4271 §10: the hold timer restarts on every message
    assert 100 - 60 <= last_heard <= fabric.now
    started = time.perf_counter()
    fabric.cut_link("a", "b", silent=True)
    fabric.advance(deadline - fabric.now - 1e-6)
    assert session.state is ESTABLISHED
    assert best(fabric.router("b").table(), P) is not None
    fabric.advance(2e-6)
    assert session.state is SessionState.IDLE
    assert time.perf_counter() - started < 0.5
    sent = session.counters.last_notification_sent
    assert sent is not None
    assert sent.code == ErrorCode.HOLD_TIMER_EXPIRED
    downs = [t for t, node, text in fabric.events if node == "b" and "hold timer expired" in text]
    assert downs == [deadline]
    assert best(fabric.router("b").table(), P) is None


def test_stop_and_start_node() -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    fabric.stop_node("a")
    fabric.run_until_idle()
    assert best(fabric.router("c").table(), P) is None
    assert fabric.sessions("c")["a"].counters.last_notification_received is not None
    fabric.start_node("a")
    fabric.run_until_idle()
    assert _best_path(fabric, "c")["as_path"] == [65001]


def test_silent_node_crash_and_reboot() -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    fabric.stop_node("a", silent=True)
    fabric.run_until_idle()
    assert best(fabric.router("c").table(), P) is not None  # nobody knows yet
    fabric.advance(90)
    fabric.run_until_idle()
    assert best(fabric.router("c").table(), P) is None
    fabric.start_node("a")
    fabric.run_until_idle()
    assert _best_path(fabric, "c")["as_path"] == [65001]


def test_unmatched_neighbors_are_reported_and_do_not_block_idle() -> None:
    nodes = [Node("a", 1, 65001, routes=(v4(P),)), Node("b", 2, 65002)]
    specs = build(nodes, [("a", "b")])
    lonely = build([Node("x", 9, 65009), Node("a", 1, 65001)], [("x", "a")])[0]
    fabric = Fabric([*specs, lonely])
    assert fabric.unmatched == [("x", "a")]
    assert fabric.run_until_idle() < 1.0
    assert fabric.sessions("x")["a"].state is not ESTABLISHED
    assert _best_path(fabric, "b")["as_path"] == [65001]


def test_announce_and_withdraw_through_the_fabric() -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    fabric.announce("b", v4("10.7.0.0/24"))
    fabric.run_until_idle()
    assert _best_path(fabric, "a", "10.7.0.0/24")["as_path"] == [65002]
    fabric.withdraw("b", IPV4_UNICAST, "10.7.0.0/24")
    fabric.run_until_idle()
    assert all(best(t, "10.7.0.0/24") is None for t in fabric.tables().values())


def test_large_fabric_converges_fast_in_wall_time() -> None:
    nodes = [
        Node(f"n{i:02}", i + 1, 65000 + i, routes=tuple(v4(f"10.{i}.{j}.0/24") for j in range(5)))
        for i in range(12)
    ]
    links = [(f"n{i:02}", f"n{(i + 1) % 12:02}") for i in range(12)]
    started = time.perf_counter()
    fabric = Fabric(build(nodes, links))
    fabric.run_until_idle()
    assert time.perf_counter() - started < 5.0
    assert all(len(table) == 60 for table in fabric.tables().values())


def test_route_refresh_resends_without_changing_tables() -> None:
    fabric = _triangle()
    fabric.run_until_idle()
    tables = fabric.tables()
    sender = fabric.sessions("a")["c"]
    updates_before = sender.counters.updates_sent
    fabric.request_route_refresh("c", "a", IPV4_UNICAST)
    fabric.run_until_idle()
    assert sender.counters.updates_sent == updates_before + 1  # P once more, no End-of-RIB
    refreshes = fabric.sessions("c")["a"].counters.messages_received
    assert refreshes[MessageType.ROUTE_REFRESH] == 2  # BoRR and EoRR (RFC 7313)
    assert fabric.tables() == tables
