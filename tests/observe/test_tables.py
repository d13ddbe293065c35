"""The feed's table reads, JSON text and deltas against the reference payloads (hypothesis).

A real :class:`Router` receives random UPDATEs, withdrawals, session losses and
originations.  After every step the feed's documents must be byte for byte the
reference documents (``json.dumps`` of :func:`table_payload` of a
:func:`snapshot`), and the previous documents plus the step's delta must equal them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.snapshot import PeerStatus, snapshot
from bgpemu.observe.feed import NodeFeed, Publication
from bgpemu.observe.mqtt.connect import encode
from bgpemu.observe.payloads import adj_rib_payload, apply_delta, table_keys, table_payload
from bgpemu.observe.tables import (
    NodeTables,
    RouteEncoder,
    _accepted,
    read_tables,
)
from bgpemu.observe.topics import NodeTopic, table_key, table_of_key
from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.decision import DecisionConfig
from bgpemu.rib.path import Path
from bgpemu.rib.route import route_of
from bgpemu.router.core import Router
from bgpemu.types import IPV4_UNICAST
from tests.observe.schemas import validate, validators
from tests.unit.router.steps import PREFIXES, apply_step, steps
from tests.unit.router.test_core import PEERS, announce, make_router

CHECKERS = validators()
NOW = 50.0


def _check_documents(router: Router, feed: NodeFeed, publication: Publication) -> None:
    """Every published document is byte for byte the reference one, and validates."""
    snap = snapshot("r1", router)
    for key, data in publication.documents.items():
        if key == "sessions":
            continue
        assert data == encode(table_payload(key, snap, seq=feed.versions[key], now=NOW)), key
        validate(CHECKERS, json.loads(data))
    assert sorted(k for k in feed.versions if k != "sessions") == [
        k for k in table_keys(snap) if k != "sessions"
    ]


@settings(max_examples=80, deadline=None)
@given(
    history=st.lists(steps, min_size=1, max_size=10),
    multipath=st.booleans(),
    max_delta=st.sampled_from([0, 3, 10_000]),
)
def test_documents_equal_the_reference_and_deltas_carry_every_change(
    history: list[tuple[Any, ...]], multipath: bool, max_delta: int
) -> None:
    router = make_router(
        decision=DecisionConfig(max_paths=3 if multipath else 1, multipath_relax=multipath)
    )
    feed = NodeFeed(max_delta=max_delta)
    first = feed.advance(read_tables("r1", router), NOW)
    assert first.event is None
    _check_documents(router, feed, first)
    docs = {k: json.loads(v) for k, v in first.documents.items()}
    for now, step in enumerate(history, start=1):
        apply_step(router, step, float(now))
        publication = feed.advance(read_tables("r1", router), NOW)
        _check_documents(router, feed, publication)
        if publication.event is not None:
            event = json.loads(publication.event)
            validate(CHECKERS, event)
            assert event["seq"] == feed.seq
            routes_changed = any(key != "sessions" for key in event["base"])
            if event["resync"]:
                assert event["announce"] == event["withdraw"] == []
            assert event["resync"] == (routes_changed and max_delta == 0) or max_delta == 3
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
        assert docs == {k: json.loads(v) for k, v in feed.documents(NOW).items()}
    full = feed.advance(read_tables("r1", router), NOW, full=True)
    assert full.event is None
    assert {k: json.loads(v) for k, v in full.documents.items()} == docs


def test_an_unchanged_read_publishes_nothing() -> None:
    router = make_router()
    router.update_received("e1", announce(65001), 1.0)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW)
    again = feed.advance(read_tables("r1", router), NOW)
    assert again == Publication()


def test_a_session_change_is_a_sessions_delta() -> None:
    router = make_router()
    tables = read_tables("r1", router)
    feed = NodeFeed()
    up = PeerStatus(peer="e1", state="Established", established_at=40.0)
    feed.advance(NodeTables(name="r1", tables=tables.tables, sessions=(up,)), NOW)
    down = PeerStatus(peer="e1", state="Idle")
    new = PeerStatus(peer="e2", state="Active")
    publication = feed.advance(
        NodeTables(name="r1", tables=tables.tables, sessions=(down, new)), NOW
    )
    assert publication.event is not None
    event = json.loads(publication.event)
    assert event["base"] == {"sessions": 0}
    assert [s["peer"] for s in event["sessions"]] == ["e1", "e2"]
    sessions = json.loads(publication.documents["sessions"])
    assert [s["state"] for s in sessions["sessions"]] == ["Idle", "Active"]
    assert sessions["seq"] == 1
    gone = feed.advance(NodeTables(name="r1", tables=tables.tables, sessions=(down,)), NOW)
    assert gone.event is not None
    assert json.loads(gone.event)["sessions_removed"] == ["e2"]


def test_a_lost_neighbor_clears_its_tables() -> None:
    router = make_router()
    router.update_received("e1", announce(65001), 1.0)
    feed = NodeFeed()
    feed.advance(read_tables("r1", router), NOW)
    router.peer_down("e1", 2.0)
    publication = feed.advance(read_tables("r1", router), NOW)
    assert publication.cleared == ("rib/in/e1", "rib/out/e1")
    assert publication.event is not None
    event = json.loads(publication.event)
    assert "rib/in/e1" not in event["base"]
    assert {w["table"] for w in event["withdraw"]} <= {
        "rib/loc",
        "rib/out/e2",
        "rib/out/i1",
        "rib/out/i2",
    }


def test_add_path_routes_of_one_prefix_are_one_group() -> None:
    """RFC 7911: several paths of one prefix from one neighbour, grouped like a multipath set."""
    rib_in = AdjRibIn(PEERS["e1"])
    update = announce(65001, prefixes=("10.1.0.0/24",))
    paths = [
        Path(
            family=IPV4_UNICAST,
            prefix="10.1.0.0/24",
            attributes=update.attributes,
            source=PEERS["e1"],
            path_id=path_id,
        )
        for path_id in (1, 2)
    ]
    for path in paths:
        rib_in.set(path, path)
    table = {IPV4_UNICAST: _accepted(rib_in.accepted(IPV4_UNICAST))}
    text = RouteEncoder().document("rib/in/e1", "r1", table, 2)
    routes = [route_of(IPV4_UNICAST, p.prefix, p.attributes, peer="e1") for p in paths]
    assert text.encode() == encode(adj_rib_payload(NodeTopic.RIB_IN, "r1", "e1", routes, seq=2))


def test_table_keys() -> None:
    assert table_key(NodeTopic.RIB_IN, "hub") == "rib/in/hub"
    assert table_of_key("rib/out/hub") == (NodeTopic.RIB_OUT, "hub")
    assert table_of_key("rib/loc") == (NodeTopic.RIB_LOC, None)
    for bad in ("sessions", "rib/in/", "rib/x/y"):
        try:
            table_of_key(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_a_snapshot_without_adj_ribs_out_differs_only_there() -> None:
    router = make_router()
    router.update_received("e1", announce(65001, prefixes=PREFIXES), 1.0)
    full = snapshot("r1", router)
    trimmed = snapshot("r1", router, adj_rib_out=False)
    assert full.adj_rib_out["e2"]
    assert trimmed.adj_rib_out == {}
    assert (trimmed.loc_rib, trimmed.adj_rib_in) == (full.loc_rib, full.adj_rib_in)
    # The snapshot's own order is the documents' canonical order.
    assert [r.prefix for r in full.adj_rib_in["e1"]] == [
        "0.0.0.0/0",
        "10.1.0.0/16",
        "10.1.0.0/24",
        "10.2.0.0/24",
        "10.10.0.0/24",
    ]
