"""Router.table's Loc-RIB JSON (``bgpemu solve``, the speaker dump) against another version.

Not a test.  Run::

    git show REV:src/bgpemu/router/table.py > /tmp/table_rev.py
    PYTHONPATH=src .venv/bin/python bench/bench_loc_rib_json.py /tmp/table_rev.py

100,000 Loc-RIB entries, each with a best path and a second multipath path from another
neighbour, one attributes object per neighbour shared by 100 prefixes (as the router
shares one among the prefixes of an UPDATE).  This tree's
:func:`~bgpemu.router.table.loc_rib_json` and the other file's ``decision_json`` over
every entry alternate in this one process (the box is noisy); prints the best of
``--repeat`` runs each, their ratio, and whether the JSON is the same.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bgpemu.rib.decision import Decision, Step
from bgpemu.rib.path import Path, PeerInfo
from bgpemu.router.table import loc_rib_json
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType

ENTRIES = 100_000
SHARED = 100


def entries() -> list[tuple[Family, str, Decision]]:
    def peer(n: int) -> PeerInfo:
        return PeerInfo(
            name=f"n{n}", asn=65000 + n, router_id=f"10.0.0.{n}", address=f"192.0.2.{n}",
            local_asn=65515,
        )  # fmt: skip

    a, b = peer(1), peer(2)
    out: list[tuple[Family, str, Decision]] = []
    x = y = PathAttributes()
    for i in range(ENTRIES):
        if i % SHARED == 0:
            x = PathAttributes(
                origin=Origin.IGP,
                next_hop="192.0.2.1",
                as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 64512 + i % 7)),),
                local_pref=100,
                communities=(65001 << 16 | 5,),
                large_communities=((65001, 1, 2),),
            )
            y = PathAttributes(
                origin=Origin.IGP,
                next_hop="192.0.2.2",
                as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65002, 64512 + i % 7)),),
                med=5,
            )
        prefix = f"10.{i // 256}.{i % 256}.0/24"
        best = Path(family=IPV4_UNICAST, prefix=prefix, attributes=x, source=a)
        other = Path(family=IPV4_UNICAST, prefix=prefix, attributes=y, source=b)
        out.append((IPV4_UNICAST, prefix, Decision(best, (best, other), Step.ROUTER_ID)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="another router/table.py (with decision_json)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("bench_other_table", args.other)
    assert spec is not None
    assert spec.loader is not None
    other = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = other  # dataclasses look their module up there
    spec.loader.exec_module(other)
    table = entries()

    def this_run() -> list[dict[str, Any]]:
        return loc_rib_json(table)

    def other_run() -> list[dict[str, Any]]:
        return [other.decision_json(f, p, d) for f, p, d in table if d.best is not None]

    same = json.dumps(this_run()) == json.dumps(other_run())
    best = {"this": float("inf"), "other": float("inf")}
    pair: list[tuple[str, Callable[[], object]]] = [("this", this_run), ("other", other_run)]
    for _ in range(args.repeat):
        pair.reverse()  # neither always runs first
        for name, run in pair:
            gc.collect()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    print(
        f"{ENTRIES} entries: this {best['this']:.3f} s, {args.other} {best['other']:.3f} s, "
        f"ratio {best['this'] / best['other']:.3f}, same JSON: {same}"
    )


if __name__ == "__main__":
    main()
