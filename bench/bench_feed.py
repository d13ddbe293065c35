"""The MQTT feed's route encoder and re-diff on a hub-sized node (issue 13, item 4).

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_feed.py [--shared N]``.

A node like a vWAN hub with 25 branches: 25 Adj-RIBs-Out and 25 Adj-RIBs-In of 5,400
routes each (270,000 routes), one attributes object shared by ``--shared`` prefixes (100
by default, as the router shares one among the prefixes of an UPDATE; 1 = no sharing,
every fragment encoded).  Prints, best of ``--repeat`` runs (time.perf_counter):

* ``first``: the first publication, every table document written by a fresh
  :class:`~bgpemu.observe.tables.RouteEncoder` (empty caches), with a digest of the text
  so that two trees can be compared byte for byte;
* with ``--compare FILE`` (another version of ``observe/tables.py``, e.g. from ``git show
  REV:src/bgpemu/observe/tables.py``): ``first`` again, the two encoders alternating in
  this one process (the box is noisy; separate processes differ by 30 %), and whether
  their texts are equal;
* ``rediff``: one prefix added to every Adj-RIB-Out, the feed's
  :func:`~bgpemu.observe.tables.changed_prefixes` over the 50 tables, against
  ``documents``: re-writing the 25 changed documents with a warm encoder;
* ``advance``: a whole publication (:meth:`NodeFeed.advance
  <bgpemu.observe.feed.NodeFeed.advance>`: delta, event and the changed documents, warm
  encoder) after one prefix added to every Adj-RIB-Out ("25 tables") and after one prefix
  added to one Adj-RIB-Out ("1 table"), the delta taken by re-diffing every table
  (``rediff``, the feed before issue 13 item 4 part 2) and from the router's changes
  (``journal``: the :class:`~bgpemu.observe.journal.RouterChanges` naming that prefix);
  same bytes checked;
* ``record``: what the journal costs the routing loop: a real :class:`Router` with the 25
  branches up takes one UPDATE of ``--shared`` prefixes at a time from each until every
  branch has announced its 5,400 (exported to the 24 others); the router's time against
  :meth:`ChangeJournal.record <bgpemu.observe.journal.ChangeJournal.record>` of its
  outputs (on the loop) and :meth:`RouterChanges.by_table
  <bgpemu.observe.journal.RouterChanges.by_table>` (in the feed's thread).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import sys
import time
from collections.abc import Callable
from typing import Any

from bgpemu.observe.feed import NodeFeed, Publication
from bgpemu.observe.journal import ChangeJournal, RouterChanges
from bgpemu.observe.tables import NodeTables, RouteEncoder, Table, changed_prefixes
from bgpemu.rib.adj_rib_out import Announce
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.router.config import RouterConfig
from bgpemu.router.core import Router
from bgpemu.router.outputs import RouterOutput
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType, Update

PEERS = 25
PER_PEER = 5_400


def hub(shared: int) -> dict[str, Table]:
    """The node's Adj-RIBs, as :func:`~bgpemu.observe.tables.read_tables` copies them."""
    tables: dict[str, Table] = {}
    for p in range(PEERS):
        info = PeerInfo(
            name=f"Branch{p:03}",
            asn=65000 + p,
            router_id=f"10.255.0.{p}",
            address=f"192.0.2.{p}",
            local_asn=65515,
        )
        out: dict[str, Any] = {}
        inn: dict[str, Any] = {}
        attrs = PathAttributes()
        for i in range(PER_PEER):
            if i % shared == 0:
                attrs = PathAttributes(
                    origin=Origin.IGP,
                    next_hop=f"192.0.2.{p}",
                    as_path=(
                        AsPathSegment(SegmentType.AS_SEQUENCE, (65515, 65000 + p, 64512 + i % 7)),
                    ),
                    med=i % 3 or None,
                    local_pref=100,
                    communities=(65515 << 16 | p,),
                    large_communities=((65515, 1, p),),
                )
            prefix = f"10.{i // 256 + 30}.{i % 256}.0/24"
            out[prefix] = attrs
            inn[prefix] = Path(family=IPV4_UNICAST, prefix=prefix, attributes=attrs, source=info)
        tables[f"rib/out/{info.name}"] = {IPV4_UNICAST: out}
        tables[f"rib/in/{info.name}"] = {IPV4_UNICAST: inn}
    return tables


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def compare(path: str, tables: dict[str, Table], repeat: int, texts: list[str]) -> None:
    """Time this tree's encoder and the one in ``path`` alternately, in this process."""
    spec = importlib.util.spec_from_file_location("bench_feed_other_tables", path)
    assert spec is not None
    assert spec.loader is not None
    other = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = other  # dataclasses look their module up there
    spec.loader.exec_module(other)
    best = {"this": float("inf"), "other": float("inf")}
    other_texts: list[str] = []
    pair = [("this", RouteEncoder), ("other", other.RouteEncoder)]
    for _ in range(repeat):
        pair.reverse()  # neither always runs first
        for name, encoder_class in pair:
            gc.collect()
            start = time.perf_counter()
            encoder = encoder_class()
            out = [encoder.document(key, "Hub1", table, 1) for key, table in tables.items()]
            best[name] = min(best[name], time.perf_counter() - start)
            if name == "other":
                other_texts = out
    print(
        f"compare: this {best['this']:.3f} s, {path} {best['other']:.3f} s, "
        f"ratio {best['this'] / best['other']:.3f}, same text: {other_texts == texts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=int, default=100, help="prefixes per attributes object")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--compare", metavar="FILE", help="another observe/tables.py to time")
    args = parser.parse_args()
    tables = hub(args.shared)
    texts: list[str] = []

    def first() -> None:
        encoder = RouteEncoder()
        texts[:] = [encoder.document(key, "Hub1", table, 1) for key, table in tables.items()]

    first_s = best_of(args.repeat, first)
    digest = hashlib.sha256("".join(texts).encode()).hexdigest()[:16]
    routes = 2 * PEERS * PER_PEER
    print(f"first: {routes} routes, {sum(map(len, texts))} chars, sha256 {digest}: {first_s:.3f} s")

    if args.compare:
        compare(args.compare, tables, args.repeat, texts)

    extra = PathAttributes(origin=Origin.IGP, next_hop="192.0.2.250", local_pref=100)
    after: dict[str, Table] = {}
    for key, table in tables.items():
        after[key] = {family: dict(held) for family, held in table.items()}
        if key.startswith("rib/out/"):
            after[key][IPV4_UNICAST]["10.200.0.0/24"] = extra
    encoder = RouteEncoder()
    for key, table in after.items():
        encoder.document(key, "Hub1", table, 1)
    changed = [key for key in after if any(changed_prefixes(tables[key], after[key]))]
    rediff_s = best_of(args.repeat, lambda: [changed_prefixes(tables[k], after[k]) for k in after])
    docs_s = best_of(
        args.repeat, lambda: [encoder.document(k, "Hub1", after[k], 2) for k in changed]
    )
    print(
        f"rediff: {len(after)} tables {rediff_s * 1000:.1f} ms; "
        f"documents: {len(changed)} changed tables {docs_s * 1000:.1f} ms"
    )
    advance(tables, extra, args.repeat)
    record(args.shared, max(1, args.repeat // 2))


def advance(tables: dict[str, Table], extra: PathAttributes, repeat: int) -> None:
    """A whole publication after a change, delta from a re-diff and from the journal."""
    sources: dict[str, object] = {key: object() for key in tables}  # the router's tables
    before = NodeTables(name="Hub1", tables=tables, sources=sources)
    encoder = RouteEncoder()
    for changed in (25, 1):
        peers = [key.removeprefix("rib/out/") for key in tables if key.startswith("rib/out/")]
        peers = peers[:changed]
        after_tables = {key: {f: dict(held) for f, held in t.items()} for key, t in tables.items()}
        for peer in peers:
            after_tables[f"rib/out/{peer}"][IPV4_UNICAST]["10.200.0.0/24"] = extra
        after = NodeTables(name="Hub1", tables=after_tables, sources=sources)
        announce = [Announce(family=IPV4_UNICAST, attributes=extra, prefixes=("10.200.0.0/24",))]
        changes = RouterChanges(loc=[], out=[(peer, list(announce)) for peer in peers], received=[])
        times: dict[str, float] = {"rediff": float("inf"), "journal": float("inf")}
        texts: dict[str, Publication] = {}
        for _ in range(repeat):
            for name in ("rediff", "journal") if _ % 2 else ("journal", "rediff"):
                feed = NodeFeed()
                feed.encoder = encoder  # warm, as a running feed's
                feed.advance(before)
                gc.collect()
                start = time.perf_counter()
                texts[name] = feed.advance(after, changes=changes if name == "journal" else None)
                times[name] = min(times[name], time.perf_counter() - start)
        same = texts["rediff"] == texts["journal"]
        print(
            f"advance, {changed} table{'s' if changed > 1 else ''}: "
            f"rediff {times['rediff'] * 1000:.1f} ms, journal {times['journal'] * 1000:.1f} ms, "
            f"same publication: {same}"
        )


def record(shared: int, repeat: int) -> None:
    """The journal's cost on the loop and in the thread, against the router's own."""
    best = {"router": float("inf"), "record": float("inf"), "by_table": float("inf")}
    for _ in range(repeat):
        router = Router(RouterConfig(asn=65515, router_id="10.255.255.1", next_hop_v4="10.0.0.1"))
        infos = [
            PeerInfo(
                name=f"Branch{p:03}",
                asn=65000 + p,
                router_id=f"10.255.0.{p}",
                address=f"192.0.2.{p}",
                local_asn=65515,
            )
            for p in range(PEERS)
        ]
        for info in infos:
            router.peer_up(info, (IPV4_UNICAST,), 0.0)
        updates = []
        for p, info in enumerate(infos):
            for start in range(0, PER_PEER, shared):
                attrs = PathAttributes(
                    origin=Origin.IGP,
                    next_hop=info.address,
                    as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65000 + p, 64512 + start)),),
                )
                nlri = tuple(
                    f"{p + 40}.{i // 256}.{i % 256}.0/24"
                    for i in range(start, min(start + shared, PER_PEER))
                )
                updates.append((info.name, Update(attributes=attrs, nlri=nlri)))
        outputs: list[RouterOutput] = []
        gc.collect()
        start_time = time.perf_counter()
        for name, update in updates:
            outputs.append(router.updates_received(name, (update,), 1.0))
        best["router"] = min(best["router"], time.perf_counter() - start_time)
        journal = ChangeJournal()
        start_time = time.perf_counter()
        for output in outputs:
            journal.record(output)
        best["record"] = min(best["record"], time.perf_counter() - start_time)
        changes = journal.take()
        assert changes is not None
        start_time = time.perf_counter()
        marks = changes.by_table()
        best["by_table"] = min(best["by_table"], time.perf_counter() - start_time)
    marked = sum(len(batch) for table in marks.values() for f in table.values() for batch in f)
    print(
        f"record: {len(updates)} UPDATEs, {marked} (table, prefix) marks: router "
        f"{best['router'] * 1000:.0f} ms, record {best['record'] * 1000:.2f} ms "
        f"({best['record'] / best['router'] * 100:.2f} % of the router), "
        f"by_table {best['by_table'] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
