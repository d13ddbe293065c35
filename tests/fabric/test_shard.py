"""A Fabric converged in two shares (:mod:`bgpemu.fabric.shard`) equals the one-process run.

Both shares run in this process, on two copies of the fabric taken at the split point
(:func:`~bgpemu.fabric.shard.run_together`, what ``bgpemu solve``'s two processes do over
a pipe).  The split run must give the same virtual time, Loc-RIBs, snapshots, session
counters and event log as :meth:`Fabric.run_until_idle`, or raise
:class:`~bgpemu.fabric.shard.SplitRunError` (the caller then converges on one core).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.roles import compile_network
from bgpemu.azure.snapshot import snapshot
from bgpemu.fabric import Fabric
from bgpemu.fabric.shard import Plan, Shard, SplitRunError, Summary, run_together
from bgpemu.policy.max_prefix import MaxPrefix
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.session import SessionState
from bgpemu.session.state import CONNECTED_STATES
from bgpemu.topology import load_topology, parse_topology
from bgpemu.topology.shipped import shipped_topologies
from bgpemu.wire.constants import CeaseSubcode, ErrorCode

from .helpers import Node, build, v4

LIMIT = 3600.0

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
_generators = importlib.import_module("_lab.generators")
vwan_standard: Callable[..., str] = _generators.vwan_standard

ROUTING = [t for t in shipped_topologies() if t.folder == ""]
"""The shipped routing topologies (``traffic/`` ones have no BGP speakers)."""


def _shipped(name: str) -> list[SpeakerSpec]:
    topology = next(t for t in ROUTING if t.name == name)
    return list(compile_network(load_topology(str(topology.resource))).speakers)


def _small_vwan() -> list[SpeakerSpec]:
    text = vwan_standard(hubs=2, branches=4, prefixes=30, vnets=2)
    return list(compile_network(parse_topology(text, "vwan-2x4x30.yaml")).speakers)


def _crowded_chain() -> list[SpeakerSpec]:
    """n1 - n2 - ... - n6, each end originating four routes whose communities fill an
    UPDATE all but 12, 8, 4 and 0 octets: each AS on the path takes 4 more, so n2 to n5
    each leave one out (RFC 8654 §4) and log it, one from each end at each of four virtual
    times, in both shares of the split run."""
    nodes = [Node(f"n{i}", i, 65000 + i) for i in range(1, 7)]
    for node, octet in ((nodes[0], 1), (nodes[-1], 6)):
        node.routes = tuple(
            v4(f"10.{octet}.{k}.0/24", communities=tuple(range(1, 1009 + k))) for k in range(4)
        )
    return build(nodes, [(f"n{i}", f"n{i + 1}") for i in range(1, 6)])


CASES: dict[str, Callable[[], list[SpeakerSpec]]] = {
    **{t.name: partial(_shipped, t.name) for t in ROUTING},
    "vwan-2x4x30": _small_vwan,
    "crowded-chain": _crowded_chain,
}


def _twin(specs: list[SpeakerSpec], seed: int, mine: frozenset[str], now: float) -> Fabric:
    """A second fabric at the same split point: the same specs and seed run the same
    events (a copy.deepcopy of a fabric is not one: objects its code compares by
    identity, such as shared sentinels, would become other objects)."""
    twin = Fabric(specs, seed=seed)
    assert twin.run_to_split(mine)
    assert twin.now == now
    return twin


@dataclass(slots=True)
class SplitRun:
    """A run through :meth:`Fabric.run_to_split` and, when it split, both shares."""

    split: bool
    first: Fabric
    second: Fabric
    """A twin of ``first`` at the split point that ran the other share (``first`` itself
    when the run did not split)."""
    elapsed: float
    log: list[tuple[float, str, str]]
    """The event log merged in the one-process order."""
    logged: tuple[int, int] = (0, 0)
    """The entries each share wrote after the split."""

    def owner(self, name: str) -> Fabric:
        """The fabric that converged node ``name``."""
        return self.second if name in self.first.elsewhere else self.first


def _split_run(specs: list[SpeakerSpec], seed: int = 0) -> SplitRun:
    fabric = Fabric(specs, seed=seed)
    start = fabric.now
    mine, theirs = fabric.halves()
    assert mine
    assert theirs
    assert mine.isdisjoint(theirs)
    assert mine | theirs == set(fabric.nodes())
    if not fabric.run_to_split(mine):
        return SplitRun(False, fabric, fabric, fabric.now - start, list(fabric.events))
    other = _twin(specs, seed, mine, fabric.now)
    n0 = len(fabric.events)
    first, second = fabric.split(mine), other.split(theirs)
    run_together(first, second, start + LIMIT)
    assert other.now == fabric.now
    ours, theirs_logged = first.log_entries(n0), second.log_entries(n0)
    log = fabric.events[:n0] + [entry for _, entry in sorted(ours + theirs_logged)]
    logged = (len(ours), len(theirs_logged))
    return SplitRun(True, fabric, other, fabric.now - start, log, logged)


def _assert_same(reference: Fabric, elapsed: float, run: SplitRun) -> None:
    """Everything the one-process run gives, node by node, from whichever share ran it."""
    assert run.elapsed == elapsed
    assert run.log == reference.events
    for name in reference.nodes():
        fabric = run.owner(name)
        router, sessions = fabric.router(name), fabric.sessions(name)
        assert router.table() == reference.router(name).table(), name
        expected = snapshot(name, reference.router(name), reference.sessions(name))
        assert snapshot(name, router, sessions) == expected, name
        counters = {peer: s.counters for peer, s in sessions.items()}
        expected_counters = {peer: s.counters for peer, s in reference.sessions(name).items()}
        assert counters == expected_counters, name


def _one_process(specs: list[SpeakerSpec], seed: int = 0) -> tuple[Fabric, float]:
    fabric = Fabric(specs, seed=seed)
    return fabric, fabric.run_until_idle(LIMIT)


# -- 1. every shipped topology, a small vWAN, a chain that logs after the split ----------------


def test_every_shipped_routing_topology_is_a_case() -> None:
    assert len(ROUTING) >= 10
    for topology in ROUTING:
        assert len(CASES[topology.name]()) >= 2, topology.name


@pytest.mark.parametrize("case", sorted(CASES))
def test_split_run_equals_the_one_process_run(case: str) -> None:
    specs = CASES[case]()
    reference, elapsed = _one_process(specs)
    run = _split_run(specs)
    assert run.split  # every shipped topology reaches a split point today
    assert run.first.elsewhere
    assert run.second.elsewhere
    assert run.first.elsewhere.isdisjoint(run.second.elsewhere)
    _assert_same(reference, elapsed, run)


def test_both_shares_log_at_the_same_times_and_merge_in_the_one_process_order() -> None:
    specs = _crowded_chain()
    reference, elapsed = _one_process(specs)
    run = _split_run(specs)
    assert run.split
    # Each share logs its sessions coming up (the split comes once they are connected)
    # and its 4 RFC 8654 leave-outs.
    assert min(run.logged) >= 4
    after = reference.events[-8:]
    assert all("not announced" in text for _, _, text in after)
    assert [node for _, node, _ in after] == ["n2", "n5", "n3", "n4", "n4", "n3", "n5", "n2"]
    _assert_same(reference, elapsed, run)


# -- 2. small random networks ---------------------------------------------------------------

ASNS = (65001, 65002, 65003, 65004)
"""Few ASNs for up to eight nodes: neighbours often share one (iBGP)."""
PREFIXES = tuple(f"10.{i}.0.0/24" for i in range(1, 7))
MEDS = st.none() | st.integers(0, 50)
CROWDS = st.sampled_from((0, 0, 0, 2, 1000, 1004, 1006, 1008, 1010))
"""How many communities a route carries: now and then nearly a full UPDATE's worth, so
that a few ASes further it is left out (RFC 8654 §4), which the event log says after
the split (see :func:`_crowded_chain`)."""


@st.composite
def _networks(draw: st.DrawFn) -> list[SpeakerSpec]:
    count = draw(st.integers(3, 8))
    names = [f"n{i}" for i in range(1, count + 1)]
    # A random spanning tree (connected), then a few chords.
    links = {(names[draw(st.integers(0, i - 1))], names[i]) for i in range(1, count)}
    chords = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1))))
    links |= {(names[min(i, j)], names[max(i, j)]) for i, j in chords[:count] if i != j}
    peers: dict[str, list[str]] = {name: [] for name in names}
    for a, b in sorted(links):
        peers[a].append(b)
        peers[b].append(a)
    nodes = []
    for index, name in enumerate(names, start=1):
        routes = tuple(
            v4(prefix, med=draw(MEDS), communities=tuple(range(1, 1 + draw(CROWDS))))
            for prefix in draw(st.lists(st.sampled_from(PREFIXES), max_size=3, unique=True))
        )
        policies = {}
        if draw(st.integers(0, 15)) == 0:  # now and then a max-prefix limit, which may trip
            limit = MaxPrefix(draw(st.integers(1, 4)))
            policies[draw(st.sampled_from(peers[name]))] = NeighborPolicy(name="", max_prefix=limit)
        asn = draw(st.sampled_from(ASNS))
        nodes.append(Node(name, index, asn, routes=routes, policies=policies))
    return build(nodes, sorted(links), hold_time=draw(st.sampled_from((90, 9, 3))))


@settings(max_examples=40, deadline=None)
@given(specs=_networks(), seed=st.integers(0, 2**16))
def test_random_network_split_run_equals_the_one_process_run_or_gives_up(
    specs: list[SpeakerSpec], seed: int
) -> None:
    reference, elapsed = _one_process(specs, seed)
    try:
        run = _split_run(specs, seed)
    except SplitRunError:
        # Refused (the caller converges on one core, as the reference above), which is
        # only for a session that went down: a max-prefix limit tripped.
        downs = [text for _, _, text in reference.events if "session down" in text]
        assert any("Maximum Prefixes Reached" in text for text in downs)
        return
    _assert_same(reference, elapsed, run)


# -- 3. a crossing session reset: the split run is abandoned ---------------------------------


def _max_prefix_pair() -> list[SpeakerSpec]:
    """a announces three prefixes to b, which takes at most two from it."""
    nodes = [
        Node("a", 1, 65001, routes=tuple(v4(f"10.{i}.0.0/24") for i in range(1, 4))),
        Node("b", 2, 65002, policies={"a": NeighborPolicy(name="", max_prefix=MaxPrefix(2))}),
    ]
    return build(nodes, [("a", "b")])


def test_a_crossing_session_reset_abandons_the_split_run() -> None:
    specs = _max_prefix_pair()
    fabric = Fabric(specs)
    start = fabric.now
    mine, theirs = fabric.halves()
    assert {mine, theirs} == {frozenset({"a"}), frozenset({"b"})}  # a-b crosses
    assert fabric.run_to_split(mine)
    assert fabric.sessions("b")["a"].state in CONNECTED_STATES
    other = _twin(specs, 0, mine, fabric.now)
    first, second = fabric.split(mine), other.split(theirs)
    with pytest.raises(SplitRunError):
        run_together(first, second, start + LIMIT)

    # The caller's fallback: one process, from the start, converges (b stopped the session).
    again = Fabric(specs)
    again.run_until_idle()
    session = again.sessions("b")["a"]
    assert session.state is SessionState.IDLE
    sent = session.counters.last_notification_sent
    assert sent is not None
    assert (sent.code, sent.subcode) == (ErrorCode.CEASE, CeaseSubcode.MAXIMUM_PREFIXES_REACHED)
    assert again.router("b").table() == []


# -- 4. Shard.plan ------------------------------------------------------------------------------


def _plan(ours: Summary, theirs: Summary, limit: float = LIMIT) -> Plan:
    """Shard.plan, which must not depend on which share asks."""
    plan = Shard.plan(ours, theirs, limit)
    assert Shard.plan(theirs, ours, limit) == plan
    return plan


def test_plan_done_when_both_idle_without_work_even_with_timers_queued() -> None:
    empty = Summary(None, None, None, 0, True)
    assert _plan(empty, empty) == Plan(done=True)
    keepalives = Summary(30.0, 12, None, 0, True)
    assert _plan(keepalives, empty) == Plan(done=True)
    assert _plan(keepalives, Summary(45.0, 9, None, 0, True)) == Plan(done=True)


def test_plan_gives_up_when_idle_depends_on_a_session_between_the_shares() -> None:
    # Nothing in flight, nothing busy, but a crossing session is not Established:
    # whether it is settled reads the far end's state, which only the other share has.
    unknown = Summary(30.0, 12, None, 0, None)
    idle = Summary(None, None, None, 0, True)
    with pytest.raises(SplitRunError, match="not Established"):
        Shard.plan(unknown, idle, LIMIT)
    with pytest.raises(SplitRunError, match="not Established"):
        Shard.plan(idle, unknown, LIMIT)
    # A share that is busy anyway decides it: the run goes on, nothing needs the far end.
    busy = Summary(30.0, 14, None, 0, False)
    assert _plan(unknown, busy) == Plan(done=False, time=30.0, upto=12)
    # Messages in flight: the run goes on too.
    assert _plan(unknown, Summary(31.0, 3, 3, 1, True)).done is False


def test_plan_not_done_while_one_share_is_busy() -> None:
    idle = Summary(30.0, 12, None, 0, True)
    busy = Summary(30.0, 14, None, 0, False)
    assert _plan(idle, busy) == Plan(done=False, time=30.0, upto=12)


def test_plan_done_when_nothing_is_queued() -> None:
    nothing = Summary(None, None, None, 0, False)
    assert _plan(nothing, nothing) == Plan(done=True)


def test_plan_runs_the_time_up_to_the_last_message_of_either_share() -> None:
    ours = Summary(1.5, 4, 7, 2, False)
    theirs = Summary(1.5, 5, 9, 1, False)
    assert _plan(ours, theirs) == Plan(done=False, time=1.5, upto=9)
    # A share whose next event is later adds nothing to this time's round.
    later = Summary(2.0, 3, 20, 1, False)
    assert _plan(ours, later) == Plan(done=False, time=1.5, upto=7)
    # A share with only timers at the time: the other's last message still bounds it.
    timers = Summary(1.5, 11, None, 0, False)
    assert _plan(ours, timers) == Plan(done=False, time=1.5, upto=7)


def test_plan_runs_every_timer_of_the_time_while_messages_are_in_flight() -> None:
    timers = Summary(10.0, 4, None, 0, False)
    in_flight = Summary(10.5, 8, 8, 1, False)
    assert _plan(timers, in_flight) == Plan(done=False, time=10.0, upto=None)
    assert _plan(Summary(10.0, 5, None, 1, False), timers) == Plan(False, 10.0, None)


def test_plan_runs_one_timer_at_a_time_without_work() -> None:
    ours = Summary(10.0, 6, None, 0, False)
    theirs = Summary(10.0, 3, None, 0, False)
    assert _plan(ours, theirs) == Plan(done=False, time=10.0, upto=3)
    assert _plan(ours, Summary(12.0, 1, None, 0, False)) == Plan(False, 10.0, 6)
    assert _plan(ours, Summary(None, None, None, 0, True)) == Plan(False, 10.0, 6)


def test_plan_refuses_a_time_beyond_the_limit() -> None:
    due = Summary(100.0, 1, 1, 1, False)
    idle = Summary(None, None, None, 0, True)
    assert _plan(due, idle, limit=100.0) == Plan(done=False, time=100.0, upto=1)
    with pytest.raises(SplitRunError):
        Shard.plan(due, idle, 99.5)
    with pytest.raises(SplitRunError):
        Shard.plan(idle, due, 99.5)


# -- 5. a split fabric refuses the other share's nodes ------------------------------------------


def test_a_split_fabric_refuses_the_nodes_converged_elsewhere() -> None:
    specs = _shipped("route-server-sdwan-er-b2b-on")
    fabric = Fabric(specs)
    mine, theirs = fabric.halves()
    assert fabric.run_to_split(mine)
    other = _twin(specs, 0, mine, fabric.now)
    fabric.split(mine)
    other.split(theirs)
    assert fabric.elsewhere == theirs
    assert other.elsewhere == mine
    for here, away in ((fabric, theirs), (other, mine)):
        for name in sorted(away):
            with pytest.raises(SplitRunError, match=re.escape(name)):
                here.router(name)
            with pytest.raises(SplitRunError, match=re.escape(name)):
                here.sessions(name)
        for name in sorted(set(here.nodes()) - away):
            spec = next(s for s in specs if s.name == name)
            assert here.router(name).config == spec.router
            assert set(here.sessions(name)) == {n.name for n in spec.neighbors}
