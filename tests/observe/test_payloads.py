"""Payload builders, deltas and apply_delta (pure), with hypothesis properties."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgpemu.azure.snapshot import PeerStatus, RibRoute, RouterSnapshot
from bgpemu.observe import SequenceGapError
from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.payloads import (
    apply_delta,
    delta_payload,
    rib_loc_payload,
    session_doc,
    status_payload,
    table_of,
    table_payload,
)
from bgpemu.observe.topics import TABLES, NodeTopic
from tests.observe.strategies import snapshots

NOW = 100.0


def _route(prefix: str, peer: str | None = "b", **kw: Any) -> RibRoute:
    family = "ipv6-unicast" if ":" in prefix else "ipv4-unicast"
    return RibRoute(prefix=prefix, family=family, next_hop="192.0.2.2", peer=peer, **kw)


BASE = RouterSnapshot(
    name="r1",
    asn=65001,
    router_id="10.0.0.1",
    loc_rib=(
        _route("10.2.0.0/16", best=True, multipath=True, reason="router_id"),
        _route("10.2.0.0/16", peer="c", multipath=True),
        _route("10.10.0.0/16", peer=None, best=True, multipath=True, reason="weight"),
    ),
    adj_rib_in={"b": (_route("10.2.0.0/16"),), "c": (_route("10.2.0.0/16", peer="c"),)},
    adj_rib_out={"b": (_route("10.10.0.0/16", peer="b"),)},
    peers=(PeerStatus(peer="b", state="Established", established_at=40.0),),
)


def test_tables_are_in_canonical_prefix_order() -> None:
    doc = rib_loc_payload(BASE, seq=0)
    assert [r["prefix"] for r in doc["routes"]] == ["10.2.0.0/16", "10.2.0.0/16", "10.10.0.0/16"]
    assert [r["peer"] for r in doc["routes"][:2]] == ["b", "c"]  # best first within a prefix


def test_session_uptime_is_as_of_now() -> None:
    status = BASE.peers[0]
    assert session_doc(status, NOW)["uptime"] == 60.0
    assert session_doc(status)["uptime"] is None
    assert session_doc(replace(status, state="Idle", established_at=None), NOW)["uptime"] is None


def test_status_payload() -> None:
    assert status_payload("r1", online=False) == {
        "schema": "bgpemu/v1/status",
        "node": "r1",
        "status": "offline",
    }


def test_no_change_no_delta() -> None:
    assert delta_payload(BASE, BASE, seq=1, versions={}) is None


def test_delta_of_a_withdrawal_names_the_prefix_and_tables() -> None:
    new = replace(BASE, loc_rib=BASE.loc_rib[2:], adj_rib_in={"b": (), "c": ()})
    delta = delta_payload(BASE, new, seq=4, versions={"rib/loc": 2, "rib/in": 3}, now=NOW)
    assert delta is not None
    assert delta["base"] == {"rib/loc": 2, "rib/in": 3}
    assert delta["announce"] == []
    assert {(w["table"], w["peer"], w["prefix"]) for w in delta["withdraw"]} == {
        ("rib/loc", None, "10.2.0.0/16"),
        ("rib/in", "b", "10.2.0.0/16"),
        ("rib/in", "c", "10.2.0.0/16"),
    }
    assert delta["peers"] == {}


def test_delta_of_a_session_change_carries_the_whole_entry() -> None:
    new = replace(
        BASE, peers=(PeerStatus(peer="b", state="Idle"), PeerStatus(peer="d", state="Active"))
    )
    delta = delta_payload(BASE, new, seq=1, versions={}, now=NOW)
    assert delta is not None
    assert delta["base"] == {"sessions": 0}
    assert [s["peer"] for s in delta["sessions"]] == ["b", "d"]
    gone = delta_payload(new, replace(new, peers=new.peers[:1]), seq=2, versions={"sessions": 1})
    assert gone is not None
    assert gone["sessions_removed"] == ["d"]


def test_a_changed_multipath_set_is_announced_as_one_group() -> None:
    new = replace(BASE, loc_rib=(BASE.loc_rib[0], BASE.loc_rib[2]))
    delta = delta_payload(BASE, new, seq=1, versions={})
    assert delta is not None
    (entry,) = delta["announce"]
    assert (entry["table"], entry["prefix"], len(entry["routes"])) == ("rib/loc", "10.2.0.0/16", 1)


def test_apply_delta_skips_old_deltas_and_other_tables() -> None:
    new = replace(BASE, loc_rib=())
    delta = delta_payload(BASE, new, seq=5, versions={"rib/loc": 4})
    assert delta is not None
    doc = rib_loc_payload(BASE, seq=5)
    assert apply_delta(doc, delta) == doc  # already holds seq 5
    sessions = table_payload(NodeTopic.SESSIONS, BASE, seq=1)
    assert apply_delta(sessions, delta) == sessions  # not a sessions delta


def test_apply_delta_detects_a_gap() -> None:
    delta = delta_payload(BASE, replace(BASE, loc_rib=()), seq=5, versions={"rib/loc": 4})
    assert delta is not None
    with pytest.raises(SequenceGapError, match="re-read the retained snapshot"):
        apply_delta(rib_loc_payload(BASE, seq=3), delta)


def test_apply_delta_rejects_non_table_documents() -> None:
    with pytest.raises(ValueError, match="not a table document"):
        apply_delta(status_payload("r1", online=True), {"base": {}, "seq": 1})


@settings(max_examples=100, deadline=None)
@given(
    old=snapshots(),
    new=snapshots(),
    versions=st.fixed_dictionaries({str(t): st.integers(0, 9) for t in TABLES}),
)
def test_snapshot_plus_delta_equals_new_snapshot(
    old: RouterSnapshot, new: RouterSnapshot, versions: dict[str, int]
) -> None:
    seq = 10
    delta = delta_payload(old, new, seq=seq, versions=versions, now=NOW)
    for table in TABLES:
        before = table_payload(table, old, seq=versions[str(table)], now=NOW)
        if delta is None:
            assert table_payload(table, new, seq=versions[str(table)], now=NOW) == before
            continue
        changed = str(table) in delta["base"]
        expected = table_payload(table, new, seq=seq if changed else versions[str(table)], now=NOW)
        assert apply_delta(before, delta) == expected
        assert table_of(expected) is table


@settings(max_examples=40, deadline=None)
@given(st.lists(snapshots(), min_size=1, max_size=6))
def test_feed_documents_follow_the_deltas(history: list[RouterSnapshot]) -> None:
    feed = NodeFeed()
    first = feed.advance(history[0], NOW)
    assert first.event is None
    docs = dict(first.documents)
    assert set(docs) == set(TABLES)
    seen = 0
    for snap in history[1:]:
        publication = feed.advance(snap, NOW)
        if publication.event is not None:
            seen += 1
            assert publication.event["seq"] == seen
            assert set(publication.documents) == {NodeTopic(t) for t in publication.event["base"]}
            docs = {t: apply_delta(d, publication.event) for t, d in docs.items()}
        else:
            assert publication.documents == {}
    assert docs == feed.documents(NOW)
    assert feed.seq == seen
    full = feed.advance(history[-1], NOW, full=True)
    assert full.event is None
    assert full.documents == docs
