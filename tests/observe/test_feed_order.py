"""A node's ``sessions`` document is published before its route tables: a hub's tables
are megabytes each, and its sessions document, last in name order, reached observers
(the web view) a minute after the lab had converged on vWAN 2 x 50 x 200 (bench/README.md,
bench_web.py)."""

from __future__ import annotations

from bgpemu.observe.feed import NodeFeed
from bgpemu.observe.tables import read_tables
from tests.unit.router.test_core import announce, make_router


def test_the_sessions_document_goes_first() -> None:
    router = make_router()
    feed = NodeFeed()
    first = feed.advance(read_tables("r1", router), 1.0)
    assert next(iter(first.documents)) == "sessions"
    router.update_received("e1", announce(65001, prefixes=("10.1.0.0/24",)), 2.0)
    documents = list(feed.advance(read_tables("r1", router), 2.0, full=True).documents)
    assert documents[0] == "sessions"
    assert documents[1:] == sorted(documents[1:])
