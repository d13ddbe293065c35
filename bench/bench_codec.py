"""Codec micro-benchmark: bgpemu.wire vs stock scapy.contrib.bgp (method of shared/perf.md §3.3).

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_codec.py``.  Prints a table and
writes JSON to bench/results/.  Each figure is the median of REPEATS runs (time.perf_counter).
"""

from __future__ import annotations

import json
import logging
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgpemu.types import IPV4_UNICAST
from bgpemu.wire import AsPathSegment, Codec, Origin, PathAttributes, SegmentType, Update

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
import scapy.contrib.bgp as stock  # noqa: E402

stock.bgp_module_conf.use_2_bytes_asn = False

REPEATS = 5
N_PREFIXES = 900
RESULTS = Path(__file__).resolve().parent / "results"


def median_us(func: Callable[[], object], loops: int) -> float:
    """Median over REPEATS of the mean time of one call, in µs."""
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            func()
        runs.append((time.perf_counter() - start) / loops * 1e6)
    return statistics.median(runs)


def attrs_for(med: int) -> PathAttributes:
    return PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001, 65002, 65003)),),
        next_hop="192.0.2.1",
        med=med,
        communities=(65001 << 16 | 100,),
    )


def stock_build(prefixes: list[str], med: int) -> Any:
    attrs = [
        stock.BGPPathAttr(type_flags=0x40, type_code=1, attribute=stock.BGPPAOrigin(origin=0)),
        stock.BGPPathAttr(
            type_flags=0x40,
            type_code=2,
            attribute=stock.BGPPAAS4BytesPath(
                segments=[
                    stock.BGPPAAS4BytesPath.ASPathSegment(
                        segment_type=2, segment_value=[65001, 65002, 65003]
                    )
                ]
            ),
        ),
        stock.BGPPathAttr(
            type_flags=0x40, type_code=3, attribute=stock.BGPPANextHop(next_hop="192.0.2.1")
        ),
        stock.BGPPathAttr(
            type_flags=0x80, type_code=4, attribute=stock.BGPPAMultiExitDisc(med=med)
        ),
        stock.BGPPathAttr(
            type_flags=0xC0,
            type_code=8,
            attribute=stock.BGPPACommunity(community=65001 << 16 | 100),
        ),
    ]
    nlri = [stock.BGPNLRI_IPv4(prefix=p) for p in prefixes]
    return stock.BGPHeader(type=2) / stock.BGPUpdate(path_attr=attrs, nlri=nlri)


def stock_decode(raw: bytes) -> int:
    pkt = stock.BGPHeader(raw)
    return sum(len(n.prefix) for n in pkt[stock.BGPUpdate].nlri)


def main() -> None:
    prefixes = [f"10.{i >> 8}.{i & 255}.0/24" for i in range(N_PREFIXES)]
    codec = Codec()
    big = Update(attributes=attrs_for(100), nlri=tuple(prefixes))
    big_wire = codec.encode(big)
    assert bytes(stock_build(prefixes, 100)) == big_wire, "both codecs must build the same bytes"
    assert stock_decode(big_wire) > 0
    assert codec.decode(big_wire) == big
    one = Update(attributes=attrs_for(100), nlri=("10.0.0.0/24",))
    one_wire = codec.encode(one)

    # cold: distinct attribute sets each call (MED varies); caches never hit
    cold_n = 4000
    cold_updates = [Update(attributes=attrs_for(i), nlri=("10.0.0.0/24",)) for i in range(cold_n)]
    cold_frames = [codec.encode(u) for u in cold_updates]

    def cold(fn: Callable[[Codec, int], object]) -> float:
        runs = []
        for _ in range(REPEATS):
            fresh = Codec(cache_size=64)
            start = time.perf_counter()
            for i in range(cold_n):
                fn(fresh, i)
            runs.append((time.perf_counter() - start) / cold_n * 1e6)
        return statistics.median(runs)

    prebuilt = stock_build(prefixes, 100)
    res: dict[str, float] = {
        "bulk_decode_bgpemu_us_per_prefix": median_us(lambda: codec.decode(big_wire), 50)
        / N_PREFIXES,
        "bulk_encode_bgpemu_us_per_prefix": median_us(lambda: Codec().encode(big), 50) / N_PREFIXES,
        "bulk_pack_bgpemu_us_per_prefix": median_us(
            lambda: codec.pack_announce(IPV4_UNICAST, big.attributes, prefixes), 50
        )
        / N_PREFIXES,
        "bulk_decode_stock_us_per_prefix": median_us(lambda: stock_decode(big_wire), 2)
        / N_PREFIXES,
        "bulk_encode_stock_us_per_prefix": median_us(lambda: bytes(stock_build(prefixes, 100)), 2)
        / N_PREFIXES,
        "bulk_encode_stock_prebuilt_us_per_prefix": median_us(lambda: bytes(prebuilt), 2)
        / N_PREFIXES,
        "fixed_decode_bgpemu_warm_us": median_us(lambda: codec.decode(one_wire), 3000),
        "fixed_decode_bgpemu_cold_us": cold(lambda c, i: c.decode(cold_frames[i])),
        "fixed_encode_bgpemu_warm_us": median_us(lambda: codec.encode(one), 3000),
        "fixed_encode_bgpemu_cold_us": cold(lambda c, i: c.encode(cold_updates[i])),
        "fixed_decode_stock_us": median_us(lambda: stock_decode(one_wire), 300),
        "fixed_encode_stock_us": median_us(lambda: bytes(stock_build(["10.0.0.0/24"], 100)), 300),
    }
    rows = [
        (
            "decode, µs/prefix (900 x /24)",
            "bulk_decode_bgpemu_us_per_prefix",
            "bulk_decode_stock_us_per_prefix",
        ),
        (
            "encode, µs/prefix (900 x /24)",
            "bulk_encode_bgpemu_us_per_prefix",
            "bulk_encode_stock_us_per_prefix",
        ),
        (
            "pack_announce, µs/prefix",
            "bulk_pack_bgpemu_us_per_prefix",
            "bulk_encode_stock_us_per_prefix",
        ),
        ("fixed decode warm, µs/UPDATE", "fixed_decode_bgpemu_warm_us", "fixed_decode_stock_us"),
        ("fixed decode cold, µs/UPDATE", "fixed_decode_bgpemu_cold_us", "fixed_decode_stock_us"),
        ("fixed encode warm, µs/UPDATE", "fixed_encode_bgpemu_warm_us", "fixed_encode_stock_us"),
        ("fixed encode cold, µs/UPDATE", "fixed_encode_bgpemu_cold_us", "fixed_encode_stock_us"),
    ]
    print(f"{'operation':34} {'bgpemu':>10} {'stock':>10} {'ratio':>8}")
    for label, ours, theirs in rows:
        print(f"{label:34} {res[ours]:10.3f} {res[theirs]:10.3f} {res[theirs] / res[ours]:7.1f}x")
    print(
        f"(stock bytes() of a prebuilt 900-prefix packet: "
        f"{res['bulk_encode_stock_prebuilt_us_per_prefix']:.2f} µs/prefix)"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_codec-{time.strftime('%Y%m%dT%H%M%S')}.json"
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeats": REPEATS,
        "prefixes_per_update": N_PREFIXES,
        "update_bytes": len(big_wire),
    }
    out.write_text(json.dumps({"meta": meta, "results": res}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
