"""The feed's deltas from the router's own changes (observe.journal), against the re-diff.

A real :class:`Router` goes through random histories (UPDATEs, withdrawals, sessions
going down and up, originations, import and export policy changes, MRAI flushes); every
output it returns is recorded in a :class:`ChangeJournal`, and at random points the
feed reads the tables with the journal's changes.  Applying each published delta to
the previous documents must give the next documents, and every publication must be
byte for byte the one of a feed that re-diffs whole tables (the code before the
journal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.observe import tables as observe_tables
from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.journal import ChangeJournal, RouterChanges
from bgpemu.observe.payloads import apply_delta
from bgpemu.observe.tables import read_tables
from bgpemu.policy import PrefixList, PrefixListEntry, Result, RoutePolicy, SetLocalPref, Statement
from bgpemu.rib.decision import DecisionConfig
from bgpemu.router.core import Router
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.outputs import RouterOutput
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import Update
from tests.unit.router.steps import PREFIXES, apply_step, steps
from tests.unit.router.test_core import BOTH, PEERS, announce, make_router

NOW = 50.0

_RECORDED = (
    "updates_received",
    "peer_up",
    "peer_down",
    "originate",
    "withdraw_originated",
    "set_neighbor_policy",
    "on_timer",
)


def _recording(router: Router, journal: ChangeJournal) -> None:
    """Every output ``router`` returns is recorded in ``journal``, as the speaker does."""
    for name in _RECORDED:
        method: Callable[..., RouterOutput] = getattr(router, name)

        def recorded(*args: Any, _method: Callable[..., RouterOutput] = method) -> RouterOutput:
            output = _method(*args)
            journal.record(output)
            return output

        setattr(router, name, recorded)


def _prefer(prefix: str, local_pref: int) -> RoutePolicy:
    match = PrefixList((PrefixListEntry(prefix),))
    return RoutePolicy(
        (Statement(match=match, actions=(SetLocalPref(local_pref),)),), default=Result.ACCEPT
    )


def _deny(prefix: str) -> RoutePolicy:
    match = PrefixList((PrefixListEntry(prefix),))
    return RoutePolicy((Statement(match=match, result=Result.REJECT),), default=Result.ACCEPT)


_policies = st.sampled_from(
    [None, _prefer(PREFIXES[0], 300), _prefer(PREFIXES[2], 50), _deny(PREFIXES[1])]
)

more_steps = st.one_of(
    steps,
    st.tuples(st.just("policy"), st.sampled_from(sorted(PEERS)), _policies, _policies),
    st.tuples(st.just("timer")),
    st.tuples(st.just("unoriginate"), st.just("10.99.0.0/24")),
)


def _step(router: Router, step: tuple[Any, ...], now: float) -> None:
    kind, *args = step
    if kind == "policy":
        peer, inbound, outbound = args
        mrai = 5.0 if peer == "e2" else 0.0
        policy = NeighborPolicy(name=peer, import_policy=inbound, export_policy=outbound, mrai=mrai)
        router.set_neighbor_policy(policy, now)
    elif kind == "timer":
        router.on_timer(now + 10.0)  # past any MRAI: the held exports leave
    elif kind == "unoriginate":
        router.withdraw_originated(IPV4_UNICAST, args[0], now)
    else:
        apply_step(router, step, now)


def _merged(changes: RouterChanges) -> dict[str, dict[Any, set[str]]]:
    """The marks of ``changes`` merged per table and family."""
    return {
        key: {family: set().union(*batches) for family, batches in table.items()}
        for key, table in changes.by_table().items()
    }


def _docs(documents: dict[str, bytes]) -> dict[str, Any]:
    return {key: json.loads(data) for key, data in documents.items()}


@settings(max_examples=150, deadline=None)
@given(
    history=st.lists(st.tuples(more_steps, st.booleans()), min_size=1, max_size=14),
    multipath=st.booleans(),
    max_delta=st.sampled_from([2, 10_000]),
    whole_share=st.sampled_from([observe_tables.WHOLE_SHARE, 0.0, float("inf")]),
)
def test_deltas_from_the_router_changes_rebuild_every_snapshot(
    history: list[tuple[tuple[Any, ...], bool]],
    multipath: bool,
    max_delta: int,
    whole_share: float,
) -> None:
    """``whole_share``: the default, every marked family compared whole, or never."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observe_tables, "WHOLE_SHARE", whole_share)
        _check_history(history, multipath, max_delta)


def _check_history(
    history: list[tuple[tuple[Any, ...], bool]], multipath: bool, max_delta: int
) -> None:
    router = make_router(
        NeighborPolicy(name="e2", mrai=5.0),
        decision=DecisionConfig(max_paths=3 if multipath else 1, multipath_relax=multipath),
    )
    journal = ChangeJournal()
    _recording(router, journal)
    feed = NodeFeed(max_delta=max_delta)
    reference = NodeFeed(max_delta=max_delta)  # re-diffs whole tables
    first = feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    assert first == reference.advance(read_tables("r1", router), NOW)
    docs = _docs(first.documents)
    for now, (step, publish) in enumerate(history, start=1):
        _step(router, step, float(now))
        if not publish and now < len(history):
            continue  # the changes accumulate in the journal until the next read
        tables = read_tables("r1", router)
        publication = feed.advance(tables, NOW, changes=journal.take())
        assert publication == reference.advance(tables, NOW)
        if publication.event is not None:
            event = json.loads(publication.event)
            for key in event["base"]:
                if event["resync"]:
                    docs[key] = json.loads(publication.documents[key])
                else:
                    docs[key] = apply_delta(docs[key], event)
        for key in publication.cleared:
            del docs[key]
        for key, data in publication.documents.items():
            if key not in docs:
                docs[key] = json.loads(data)  # a neighbour's tables appeared
        assert docs == _docs(feed.documents(NOW))


def test_only_the_changed_prefixes_are_compared() -> None:
    """Unmarked tables are not compared at all: the delta is what the router said."""
    router = make_router()
    journal = ChangeJournal()
    _recording(router, journal)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 1.0)
    changes = journal.take()
    assert changes is not None
    assert _merged(changes) == {
        "rib/loc": {IPV4_UNICAST: {"10.1.0.0/24"}},
        "rib/in/e1": {IPV4_UNICAST: {"10.1.0.0/24"}},
        **{f"rib/out/{p}": {IPV4_UNICAST: {"10.1.0.0/24"}} for p in ("e2", "i1", "i2")},
    }
    publication = feed.advance(read_tables("r1", router), NOW, changes=changes)
    assert publication.event is not None
    event = json.loads(publication.event)
    assert sorted(event["base"]) == [
        "rib/in/e1",
        "rib/loc",
        "rib/out/e2",
        "rib/out/i1",
        "rib/out/i2",
    ]
    assert {a["prefix"] for a in event["announce"]} == {"10.1.0.0/24"}


def test_a_session_down_and_up_between_reads_is_compared_whole() -> None:
    """The Adj-RIBs of a session that came back are new objects whose earlier content
    no output lists: a prefix it no longer holds is withdrawn all the same."""
    router = make_router()
    journal = ChangeJournal()
    _recording(router, journal)
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 1.0)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    router.peer_down("e1", 2.0)
    router.peer_up(PEERS["e1"], BOTH, 3.0)
    router.update_received("e1", announce(65001, prefixes=("10.2.0.0/24",)), 4.0)
    publication = feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    assert publication.event is not None
    event = json.loads(publication.event)
    withdrawn = {(w["table"], w["prefix"]) for w in event["withdraw"]}
    assert ("rib/in/e1", "10.1.0.0/24") in withdrawn
    assert ("rib/loc", "10.1.0.0/24") in withdrawn


def test_a_full_journal_says_unknown_and_the_feed_rediffs() -> None:
    router = make_router()
    journal = ChangeJournal(max_batches=6)  # one UPDATE: 5 batches
    _recording(router, journal)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    for i in range(4):
        router.update_received("e1", announce(65001, prefixes=(f"10.{i}.0.0/24",)), 1.0)
    assert journal.take() is None  # overflowed: the batches were dropped
    publication = feed.advance(read_tables("r1", router), NOW, changes=None)
    assert publication.event is not None
    event = json.loads(publication.event)
    assert {a["prefix"] for a in event["announce"]} == {f"10.{i}.0.0/24" for i in range(4)}
    router.update_received("e1", Update(withdrawn=("10.0.0.0/24",)), 2.0)
    changes = journal.take()  # the journal starts afresh after a take
    assert changes is not None
    assert _merged(changes)["rib/in/e1"] == {IPV4_UNICAST: {"10.0.0.0/24"}}


@pytest.mark.parametrize("peer", ["e1", "i1"])
def test_a_rejected_route_changes_nothing_but_is_looked_at(peer: str) -> None:
    """A marked prefix whose entry did not change is no delta (the marks are a superset)."""
    router = make_router(NeighborPolicy(name=peer, import_policy=_deny("10.5.0.0/24")))
    journal = ChangeJournal()
    _recording(router, journal)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW, changes=journal.take())
    asns = (65001,) if peer == "e1" else ()
    router.update_received(peer, announce(*asns, prefixes=("10.5.0.0/24",)), 1.0)
    changes = journal.take()
    assert changes is not None
    assert f"rib/in/{peer}" in changes.by_table()
    publication = feed.advance(read_tables("r1", router), NOW, changes=changes)
    assert publication.event is None
    assert publication.documents == {}


def test_a_new_import_policy_is_in_the_adj_rib_in_delta() -> None:
    """Soft reconfiguration re-imports the stored paths (RFC 2918 §1): the accepted
    path's new LOCAL_PREF is in the rib/in delta, as in the re-diff's."""
    router = make_router()
    journal = ChangeJournal()
    _recording(router, journal)
    router.update_received("e1", announce(65001, prefixes=(PREFIXES[0],)), 1.0)
    feed, reference = NodeFeed(), NodeFeed()
    tables = read_tables("r1", router)
    feed.advance(tables, NOW, changes=journal.take())
    reference.advance(tables, NOW)
    _step(router, ("policy", "e1", _prefer(PREFIXES[0], 300), None), 2.0)
    tables = read_tables("r1", router)
    publication = feed.advance(tables, NOW, changes=journal.take())
    assert publication == reference.advance(tables, NOW)
    assert publication.event is not None
    event = json.loads(publication.event)
    (accepted,) = [a for a in event["announce"] if a["table"] == "rib/in/e1"]
    assert accepted["routes"][0]["local_pref"] == 300
