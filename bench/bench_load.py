"""Route-load benchmark: bgpemu side by side with BIRD, FRR, GoBGP and ExaBGP (perf.md §2).

Not a test.  Run from the repository root::

    PYTHONPATH=src .venv/bin/python bench/bench_load.py [--sizes 100000,1000000]
        [--receivers bgpemu,bird,frr,gobgp,exabgp] [--repeat 3] [--tests load,rate,chain]

Tests (every receiver in its own process on 127.0.0.20, AS 65020; the ``blast`` sender on
127.0.0.10, AS 65010, writes pre-encoded UPDATEs packed to 4096 octets all at once):

* ``load``  — N consecutive /24s; the clock starts at Established (blast's own timestamp)
  and stops when the receiver holds N; CPU user+sys and RSS (after minus before) of the
  receiver's process tree from /proc.
* ``rate``  — 20 000 UPDATEs of one prefix each → messages/s.
* ``chain`` — five bgpemu speakers on 127.0.0.31 to .35 (AS 65031 to 65035), blast feeding the
  first: end-to-end time for N prefixes, completion added per hop, then single-prefix
  UPDATEs for the per-hop delay of one prefix.

Each figure is the median of ``--repeat`` runs (receivers interleaved within a repeat);
loadavg is recorded before every run.  Results: tables on stdout, JSON lines in
bench/results/.  A receiver whose daemon is not installed is skipped with a message naming
the Debian package.  Every wait has a timeout and every process is killed at the end.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from _load import procstat
from _load.procs import BenchError, LineProc
from _load.receivers import RECEIVERS, Receiver, which

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
BLAST = BENCH / "_load" / "blast.py"
NODE = BENCH / "_load" / "bgpemu_node.py"
CHAIN = 5
SINGLES = 5
TARGETS = {
    "load_prefixes_per_s_1M": 400_000,
    "rss_bytes_per_route_1M": 250,
    "rate_msgs_per_s": 20_000,
    "hop_delay_ms_one_prefix": 1.0,
    "hop_us_per_prefix_burst": 3.0,
}


def timeout_for(n: int, scale: float) -> float:
    """Generous: 30 s plus 100 µs per prefix (GoBGP needs ~25 µs), times ``scale``."""
    return (30.0 + n * 100e-6) * scale


def blast(port: int, count: int, log: Path, *, remote: str, per_update: int = 0) -> LineProc:
    argv = [sys.executable, str(BLAST), "--remote", remote, "--port", str(port)]
    argv += ["--count", str(count), "--per-update", str(per_update)]
    proc = LineProc(argv, log=log)
    proc.expect("ENCODED", 300)
    return proc


def one_run(
    receiver: Receiver, n: int, port: int, workdir: Path, scale: float, per_update: int
) -> dict[str, Any]:
    """Start the receiver, feed it N prefixes, measure, stop everything."""
    record: dict[str, Any] = {"loadavg_before": procstat.loadavg()}
    with ExitStack() as stack:
        receiver.start([n])
        stack.callback(receiver.stop)
        pids = procstat.tree(receiver.pid())
        rss0, cpu0 = procstat.rss_bytes(pids), procstat.cpu_seconds(pids)
        sender = blast(port, n, workdir / "blast.err", remote="127.0.0.20", per_update=per_update)
        stack.callback(sender.stop)
        t0 = float(sender.expect("ESTABLISHED", 60)[1])
        t1 = receiver.wait_count(n, t0, timeout_for(n, scale))
        pids = procstat.tree(receiver.pid())
        cpu = procstat.cpu_seconds(pids) - cpu0
        rss = procstat.rss_bytes(pids) - rss0
    record.update(elapsed_s=t1 - t0, cpu_s=cpu, rss_delta_bytes=rss)
    record["loadavg_after"] = procstat.loadavg()
    return record


@contextmanager
def chain_nodes(port: int, workdir: Path, targets: list[int]) -> Iterator[list[LineProc]]:
    """Five bgpemu speakers in a line, all sessions Established."""
    nodes: list[LineProc] = []
    try:
        for i in range(1, CHAIN + 1):
            prev = ("127.0.0.10", 65010) if i == 1 else (f"127.0.0.3{i - 1}", 65030 + i - 1)
            argv = [sys.executable, str(NODE), "--name", f"c{i}", "--local", f"127.0.0.3{i}"]
            argv += ["--port", str(port), "--asn", str(65030 + i)]
            argv += ["--neighbor", f"{prev[0]}:{prev[1]}:passive"]
            if i < CHAIN:
                argv += ["--neighbor", f"127.0.0.3{i + 1}:{65030 + i + 1}:active"]
            argv += ["--targets", ",".join(map(str, targets))]
            nodes.append(LineProc(argv, log=workdir / f"chain{i}.err"))
        for node in nodes:
            node.expect("READY", 30)
        for i in range(2, CHAIN + 1):
            nodes[i - 1].expect("UP", 30, f"127.0.0.3{i - 1}")
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def chain_run(n: int, port: int, workdir: Path, scale: float) -> dict[str, Any]:
    """Burst of N through the chain, then SINGLES one-prefix UPDATEs."""
    record: dict[str, Any] = {"loadavg_before": procstat.loadavg()}
    targets = [n, *range(n + 1, n + SINGLES + 1)]
    with chain_nodes(port, workdir, targets) as nodes, ExitStack() as stack:
        sender = blast(port, n, workdir / "blast-chain.err", remote="127.0.0.31")
        stack.callback(sender.stop)
        cpu0 = [procstat.cpu_seconds([node.pid]) for node in nodes]
        t0 = float(sender.expect("ESTABLISHED", 60)[1])
        reached = [t0]
        for i, node in enumerate(nodes, 1):
            wait = timeout_for(n, scale) if i == 1 else 10.0 + n * 30e-6 * scale
            try:
                reached.append(float(node.expect("REACHED", wait, str(n))[2]))
            except BenchError as exc:
                raise BenchError(
                    f"chain node {i} (127.0.0.3{i}) never held {n} routes: {exc}; does the "
                    "runtime's router re-advertise received routes yet?"
                ) from exc
        record["end_to_end_s"] = reached[-1] - t0
        cpu1 = [procstat.cpu_seconds([node.pid]) for node in nodes]
        record["node_cpu_s"] = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
        record["hop_added_s"] = [b - a for a, b in itertools.pairwise(reached)]
        delays: list[list[float]] = []
        for j in range(SINGLES):
            time.sleep(0.2)  # let KEEPALIVEs and the burst's tail settle between probes
            sender.send("single")
            times = [float(sender.expect("SINGLE", 10, str(j))[2])]
            times += [float(node.expect("REACHED", 10, str(n + 1 + j))[2]) for node in nodes]
            delays.append([(b - a) * 1e3 for a, b in itertools.pairwise(times)])
        record["single_hop_ms"] = delays
    record["loadavg_after"] = procstat.loadavg()
    return record


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds < 1 else f"{seconds:.3f} s"


def fmt_rate(rate: float) -> str:
    return f"{rate / 1e6:.2f} M" if rate >= 1e6 else f"{rate / 1e3:.0f} k"


def table(title: str, n: int, runs: dict[str, list[dict[str, Any]]], unit: str) -> list[str]:
    """Markdown table of one test and size, every receiver, ratios vs bgpemu."""
    out = [
        f"\n### {title}, N = {n:,}",
        "",
        f"| receiver | median | min to max | {unit}/s | CPU µs/{unit} | RSS B/{unit} "
        "| time ÷ bgpemu | RSS ÷ bgpemu | ok runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = runs.get("bgpemu", [])
    base_t = med([r["elapsed_s"] for r in base if "elapsed_s" in r])
    base_m = med([r["rss_delta_bytes"] for r in base if "elapsed_s" in r])
    for name, recs in runs.items():
        good = [r for r in recs if "elapsed_s" in r]
        if not good:
            errors = "; ".join(sorted({str(r.get("error", "?"))[:120] for r in recs}))
            out.append(f"| {name} | failed: {errors} | | | | | | | 0/{len(recs)} |")
            continue
        t = [r["elapsed_s"] for r in good]
        mt = med(t)
        cpu = med([r["cpu_s"] for r in good]) / n * 1e6
        rss = med([r["rss_delta_bytes"] for r in good])
        out.append(
            f"| {name} | {fmt_time(mt)} | {fmt_time(min(t))} to {fmt_time(max(t))} "
            f"| {fmt_rate(n / mt)} | {cpu:.2f} | {rss / n:.0f} "
            f"| {mt / base_t:.2f} | {rss / base_m:.2f} | {len(good)}/{len(recs)} |"
        )
    return out


def chain_table(n: int, runs: list[dict[str, Any]]) -> list[str]:
    good = [r for r in runs if "end_to_end_s" in r]
    out = [f"\n### chain of {CHAIN} bgpemu speakers, N = {n:,} (blast → 127.0.0.31 … .35)", ""]
    if not good:
        errors = "; ".join(sorted({str(r.get("error", "?"))[:200] for r in runs}))
        return [*out, f"failed: {errors}"]
    hops = list(zip(*[r["hop_added_s"] for r in good], strict=True))
    singles = list(zip(*[d for r in good for d in r["single_hop_ms"]], strict=True))
    e2e = [r["end_to_end_s"] for r in good]
    cpu = list(zip(*[r["node_cpu_s"] for r in good], strict=True))
    out += [
        "| metric | hop 1 (blast→c1) | "
        + " | ".join(f"hop {i}" for i in range(2, CHAIN + 1))
        + " | end-to-end |",
        "|---|" + "---:|" * (CHAIN + 1),
        "| burst: completion added (s) | "
        + " | ".join(f"{med(list(h)):.3f}" for h in hops)
        + f" | {med(e2e):.3f} (min {min(e2e):.3f}, max {max(e2e):.3f}) |",
        "| burst: µs/prefix | "
        + " | ".join(f"{med(list(h)) / n * 1e6:.2f}" for h in hops)
        + " | |",
        "| burst: CPU of the receiving node, µs/prefix | "
        + " | ".join(f"{med(list(c)) / n * 1e6:.2f}" for c in cpu)
        + f" | {sum(med(list(c)) for c in cpu):.2f} CPU-s |",
        "| one prefix: delay p50 (ms) | "
        + " | ".join(f"{med(list(s)):.2f}" for s in singles)
        + f" | {med([sum(d) for r in good for d in r['single_hop_ms']]):.2f} |",
        f"\n{len(good)}/{len(runs)} runs ok; one-prefix figures are medians of "
        f"{len(good) * SINGLES} probes.",
    ]
    return out


def versions() -> dict[str, str]:
    probes = {
        "bird": ["bird", "--version"],
        "frr": ["bgpd", "--version"],
        "gobgp": ["gobgpd", "--version"],
        "exabgp": ["exabgp", "--version"],
    }
    out = {"python": platform.python_version()}
    for name, argv in probes.items():
        path = which(argv[0])
        if path is None:
            continue
        try:
            done = subprocess.run(
                [path, *argv[1:]], capture_output=True, text=True, timeout=10, check=False
            )
        except subprocess.TimeoutExpired:
            continue
        text = (done.stdout + done.stderr).strip().splitlines()
        out[name] = text[0] if text else "?"
    return out


def source_revision() -> str:
    """HEAD and whether src/ differs from it (other work may be editing the tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return f"{head}{' + uncommitted src changes' if dirty else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--receivers", default="bgpemu,bird,frr,gobgp,exabgp")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tests", default="load,rate,chain")
    parser.add_argument("--rate-count", type=int, default=20_000)
    parser.add_argument("--chain-size", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=11179, help="BGP port of every listener")
    parser.add_argument("--timeout-scale", type=float, default=1.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    tests = set(args.tests.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="bench_load-"))
    workdir.chmod(0o755)  # FRR's bgpd runs as the ``frr`` user and needs to reach its dir
    RESULTS.mkdir(exist_ok=True)
    out_path = RESULTS / f"bench_load-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    meta: dict[str, Any] = {"kind": "meta", "versions": versions(), "src": source_revision()}
    meta |= {"loadavg": procstat.loadavg(), "args": vars(args), "workdir": str(workdir)}
    meta |= {"targets": TARGETS, "skipped": {}}
    print(f"loadavg {meta['loadavg']}; bgpemu {meta['src']}; versions {meta['versions']}")
    print(f"logs in {workdir}")

    receivers: list[Receiver] = []
    for name in args.receivers.split(","):
        if name not in RECEIVERS:
            parser.error(f"unknown receiver {name!r}; known: {', '.join(RECEIVERS)}")
        receiver = RECEIVERS[name](workdir, args.port)
        reason = receiver.missing()
        if reason is not None:
            print(f"SKIPPED {reason}")
            meta["skipped"][name] = reason
            continue
        receivers.append(receiver)

    lines: list[str] = []
    with out_path.open("w") as out:
        out.write(json.dumps(meta) + "\n")

        def record(**fields: Any) -> dict[str, Any]:
            out.write(json.dumps(fields) + "\n")
            out.flush()
            return fields

        plan: list[tuple[str, str, int, int]] = []
        if "load" in tests:
            plan += [("load", "prefix", n, 0) for n in sizes]
        if "rate" in tests:
            plan.append(("rate", "msg", args.rate_count, 1))
        for test, unit, n, per_update in plan:
            runs: dict[str, list[dict[str, Any]]] = {r.name: [] for r in receivers}
            for rep in range(args.repeat):
                for receiver in receivers:
                    try:
                        rec = one_run(
                            receiver, n, args.port, workdir, args.timeout_scale, per_update
                        )
                    except BenchError as exc:
                        rec = {"error": str(exc), "loadavg_after": procstat.loadavg()}
                    rec = record(kind=test, receiver=receiver.name, n=n, repeat=rep, **rec)
                    runs[receiver.name].append(rec)
                    shown = fmt_time(rec["elapsed_s"]) if "elapsed_s" in rec else rec["error"]
                    print(
                        f"  {test} {receiver.name} N={n} #{rep}: {shown} "
                        f"(load {rec['loadavg_after']})",
                        flush=True,
                    )
            title = (
                "route load (bulk UPDATEs, 4096 B)"
                if test == "load"
                else ("UPDATE rate (1 prefix per UPDATE)")
            )
            block = table(title, n, runs, unit)
            lines += block
            print("\n".join(block), flush=True)
        if "chain" in tests:
            chain: list[dict[str, Any]] = []
            for rep in range(args.repeat):
                try:
                    rec = chain_run(args.chain_size, args.port, workdir, args.timeout_scale)
                except BenchError as exc:
                    rec = {"error": str(exc), "loadavg_after": procstat.loadavg()}
                rec = record(kind="chain", n=args.chain_size, repeat=rep, **rec)
                chain.append(rec)
                shown = fmt_time(rec["end_to_end_s"]) if "end_to_end_s" in rec else rec["error"]
                print(f"  chain N={args.chain_size} #{rep}: {shown}", flush=True)
                if "error" in rec and "re-advertise" in rec["error"]:
                    break
            block = chain_table(args.chain_size, chain)
            lines += block
            print("\n".join(block), flush=True)
        record(kind="summary", loadavg=procstat.loadavg(), markdown="\n".join(lines))
    print(f"\nloadavg at end {procstat.loadavg()}; JSON lines: {out_path}")


if __name__ == "__main__":
    main()
