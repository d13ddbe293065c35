"""Payload builders and apply_delta (pure); the feed's deltas are in test_tables.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bgpemu.azure.snapshot import PeerStatus, RouterSnapshot
from bgpemu.observe import SequenceGapError
from bgpemu.observe.payloads import (
    apply_delta,
    rib_loc_payload,
    session_doc,
    status_payload,
    table_keys,
    table_of,
    table_payload,
)
from bgpemu.rib.route import RibRoute, route_doc

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


def _event(seq: int, base: dict[str, int], **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema": "bgpemu/v1/event",
        "node": "r1",
        "seq": seq,
        "base": base,
        "resync": False,
        "announce": [],
        "withdraw": [],
        "sessions": [],
        "sessions_removed": [],
    }
    return event | fields


def test_table_documents_per_neighbor() -> None:
    doc = table_payload("rib/in/c", BASE, seq=2)
    assert doc == {
        "schema": "bgpemu/v1/rib-in",
        "node": "r1",
        "peer": "c",
        "seq": 2,
        "routes": [route_doc(r) for r in BASE.adj_rib_in["c"]],
    }
    assert table_of(doc) == "rib/in/c"
    assert table_keys(BASE) == ["rib/in/b", "rib/in/c", "rib/loc", "rib/out/b", "sessions"]
    with pytest.raises(ValueError, match="not a table of 'r1'"):
        table_payload("rib/out/c", BASE, seq=0)


def test_apply_delta_replaces_and_removes_whole_prefixes() -> None:
    doc = rib_loc_payload(BASE, seq=4)
    new_route = route_doc(_route("10.3.0.0/16", best=True, multipath=True, reason="only path"))
    event = _event(
        5,
        {"rib/loc": 4},
        announce=[
            {
                "table": "rib/loc",
                "peer": None,
                "family": "ipv4-unicast",
                "prefix": "10.3.0.0/16",
                "routes": [new_route],
            }
        ],
        withdraw=[
            {"table": "rib/loc", "peer": None, "family": "ipv4-unicast", "prefix": "10.2.0.0/16"}
        ],
    )
    out = apply_delta(doc, event)
    assert out["seq"] == 5
    assert [r["prefix"] for r in out["routes"]] == ["10.3.0.0/16", "10.10.0.0/16"]


def test_apply_delta_skips_old_deltas_and_other_tables() -> None:
    event = _event(5, {"rib/loc": 4})
    doc = rib_loc_payload(BASE, seq=5)
    assert apply_delta(doc, event) == doc  # already holds seq 5
    other = table_payload("rib/in/b", BASE, seq=1)
    assert apply_delta(other, event) == other  # not a delta of rib/in/b
    sessions = table_payload("sessions", BASE, seq=1)
    assert apply_delta(sessions, event) == sessions


def test_apply_delta_detects_a_gap_and_a_resync() -> None:
    with pytest.raises(SequenceGapError, match="re-read the retained snapshot"):
        apply_delta(rib_loc_payload(BASE, seq=3), _event(5, {"rib/loc": 4}))
    with pytest.raises(SequenceGapError):
        apply_delta(rib_loc_payload(BASE, seq=4), _event(5, {"rib/loc": 4}, resync=True))


def test_apply_delta_to_sessions() -> None:
    doc = table_payload("sessions", BASE, seq=0, now=NOW)
    down = session_doc(PeerStatus(peer="b", state="Idle"), NOW)
    new = session_doc(PeerStatus(peer="d", state="Active"), NOW)
    out = apply_delta(doc, _event(1, {"sessions": 0}, sessions=[down, new]))
    assert out["sessions"] == [down, new]
    gone = apply_delta(out, _event(2, {"sessions": 1}, sessions_removed=["d"]))
    assert gone["sessions"] == [down]


def test_apply_delta_rejects_non_table_documents() -> None:
    with pytest.raises(ValueError, match="not a table document"):
        apply_delta(status_payload("r1", online=True), {"base": {}, "seq": 1})


def test_a_session_carries_when_it_was_established_in_wall_clock_time() -> None:
    """Issue 15: the uptime is computed when it is read; ``established_since`` (epoch
    seconds) stays the same from one publication to the next, ``uptime`` does not."""
    from bgpemu.observe.payloads import read_uptime

    status = BASE.peers[0]  # Established at 40.0 on the sessions' clock
    epoch = 1_700_000_000.0  # wall clock minus the sessions' clock
    first, later = session_doc(status, NOW, epoch=epoch), session_doc(status, NOW + 30, epoch=epoch)
    assert first["established_since"] == later["established_since"] == epoch + 40.0
    assert (first["uptime"], later["uptime"]) == (60.0, 90.0)
    assert read_uptime(first, epoch + 40.0 + 3600) == 3600.0
    assert session_doc(status, NOW)["established_since"] is None  # no wall clock known
    down = replace(status, state="Idle", established_at=None)
    assert session_doc(down, NOW, epoch=epoch)["established_since"] is None
    assert read_uptime(session_doc(down, NOW, epoch=epoch), epoch + 1000) is None


def test_an_uptime_without_established_since_is_read_as_published() -> None:
    """A document of an older bgpemu (no ``established_since``) still reads."""
    from bgpemu.observe.payloads import read_uptime

    assert read_uptime({"state": "Established", "uptime": 12.5}, 1e9) == 12.5
    assert read_uptime({"state": "Idle", "uptime": None}, 1e9) is None
