"""Lab benchmark (issue 5): ``lab up`` to converged, and peak memory, on large topologies.

Not a test.  Run from the repository root::

    PYTHONPATH=src .venv/bin/python bench/bench_lab.py [--sizes small|full] [--repeat N]
        [--modes lab,mqtt,solve] [--processes N] [--timeout S] [--profile DIR]

Topologies (bench/_lab/generators.py, written to a temporary directory and checked with
``bgpemu validate`` first): a Standard Virtual WAN of 2 hubs x 50 BGP VPN branches x 200
/24s each (plus 2 VNets per hub), and a hub VNet whose VPN gateway talks BGP to an
on-prem router announcing 500 /24s, with 100 spokes peered with gateway transit.
``--sizes small`` uses small versions of both (a quick check of the script).

Modes, each one subprocess per run:

* ``lab``  — ``python -m bgpemu lab up FILE --exit-after-converged --no-mqtt --port P``
* ``mqtt`` — the same with the embedded broker (no ``--no-mqtt``): the cost of publishing
* ``solve`` — ``python -m bgpemu solve FILE -o json`` (stdout to /dev/null): the fabric

Measured per run (bench/_lab/run.py explains the memory method): wall time from ``Popen``
to the JSON summary line on stdout (the user's "lab up to converged"), the summary's
``convergence_time_s`` (the lab's own clock: from starting the workers to the verdict),
the time the last "N/N sessions Established" progress line appeared, wall time to exit,
CPU (user+sys of the whole tree) and peak RSS summed over the process tree.  Each figure
is the median of ``--repeat`` runs; loadavg is recorded before every run.  Results: a
Markdown table on stdout, JSON lines in bench/results/bench_lab-*.jsonl.

``--profile DIR`` runs the ``lab`` mode once per topology under cProfile instead
(bench/_lab/profiled.py: the CLI process and every worker each write a .prof file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab.generators import SIZES
from _lab.run import Measured, loadavg, measure

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PROFILED = BENCH / "_lab" / "profiled.py"
ADDRESS_BASE = "127.0.77.1"
"""Speaker addresses of the benchmark's labs (away from the tests' 127.0.10.x)."""
TARGET_S = 10.0
MODES = ("lab", "mqtt", "solve")
SNAPSHOT_TIMEOUT_S = 30.0
"""TcpLab.snapshots()' default timeout, used by ``lab up`` for the summary."""


def free_port(address: str = ADDRESS_BASE) -> int:
    """A TCP port free on ``address`` right now (every speaker uses the same port)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
    return port


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def lab_argv(path: Path, mode: str, args: argparse.Namespace, profile: Path | None) -> list[str]:
    head = [sys.executable]
    head += [str(PROFILED), str(profile)] if profile is not None else ["-m", "bgpemu"]
    if mode == "solve":
        return [*head, "solve", str(path), "-o", "json"]
    argv = [*head, "lab", "up", str(path), "--exit-after-converged"]
    argv += ["--port", str(free_port()), "--address-base", ADDRESS_BASE]
    argv += ["--timeout", str(args.timeout)]
    if args.processes:
        argv += ["--processes", str(args.processes)]
    if args.lab_name:
        argv += ["--name", args.lab_name]
    if mode == "lab":
        argv.append("--no-mqtt")
    return argv


def summary_of(run: Measured) -> tuple[float, dict[str, Any]] | None:
    """(time read, parsed JSON) of the lab's summary line, if it printed one."""
    for at, line in run.stdout:
        if line.startswith("{") and "convergence_time_s" in line:
            return at, json.loads(line)
    return None


def established_at(run: Measured) -> float | None:
    """When the last 'N/N sessions Established' progress line (all of them) was read."""
    last = None
    for at, line in run.stderr:
        words = line.split()
        if len(words) >= 3 and words[1] in ("session", "sessions") and words[2] == "Established":
            done, _, expected = words[0].partition("/")
            if done == expected:
                last = at
    return last


def snapshot_timeout_at(run: Measured) -> float | None:
    """When ``lab up`` reported that gathering the snapshots timed out (the summary's
    best_routes count asks every worker for its RIBs after convergence, 30 s limit)."""
    if not any("in snapshots" in line for _, line in run.stderr):
        return None
    return next((at for at, line in run.stderr if "Traceback" in line), None)


def one_run(
    path: Path, mode: str, args: argparse.Namespace, profile: Path | None
) -> dict[str, Any]:
    record: dict[str, Any] = {"topology": path.stem, "mode": mode, "loadavg_before": loadavg()}
    argv = lab_argv(path, mode, args, profile)
    run = measure(
        argv, timeout=args.timeout + 120, env=child_env(), stdout_devnull=(mode == "solve")
    )
    record.update(
        argv=argv,
        returncode=run.returncode,
        timed_out=run.timed_out,
        wall_exit_s=run.wall_s,
        cpu_s=run.cpu_s,
        peak_rss_sum_bytes=run.peak_rss_sum_bytes,
        hwm_sum_bytes=run.hwm_sum_bytes,
        maxrss_max_bytes=run.maxrss_max_bytes,
        max_processes=run.max_processes,
        samples=run.samples,
        loadavg_after=loadavg(),
    )
    if mode != "solve":
        summary = summary_of(run)
        record["established_s"] = established_at(run)
        failed_at = snapshot_timeout_at(run)
        if failed_at is not None:
            # converged, then the snapshot request (sent right after the verdict) timed out
            record["snapshot_timeout_at_s"] = failed_at
            record["converged_estimate_s"] = failed_at - SNAPSHOT_TIMEOUT_S
        if summary is not None:
            record["wall_converged_s"] = summary[0]
            record["summary"] = summary[1]
            record["convergence_time_s"] = summary[1]["convergence_time_s"]
    ok = run.returncode == 0 and (mode == "solve" or "summary" in record)
    if not ok:
        record["error"] = " | ".join(line for _, line in run.stderr[-8:])[-2000:]
    record["ok"] = ok
    return record


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f} MB"


def table(records: list[dict[str, Any]]) -> list[str]:
    out = [
        "| topology | mode | ok runs | lab up → summary | convergence_time_s | all sessions up "
        "| exit | CPU | peak RSS (sum, sampled) | Σ VmHWM | largest process | loadavg before |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    keys = sorted({(r["topology"], r["mode"]) for r in records}, key=lambda k: (k[0], k[1]))
    for topology, mode in keys:
        runs = [r for r in records if (r["topology"], r["mode"]) == (topology, mode)]
        good = [r for r in runs if r["ok"]]

        def m(key: str, pool: list[dict[str, Any]] = good) -> float | None:
            return med([float(r[key]) for r in pool if r.get(key) is not None])

        loads = ", ".join(r["loadavg_before"].split()[0] for r in runs)
        converged = m("wall_converged_s")
        mark = "" if converged is None else (" ✓" if converged < TARGET_S else " ✗")
        estimate = m("converged_estimate_s", runs)
        if converged is None and estimate is not None:
            mark = f" (no summary; converged ≈ {estimate:.1f} s ✗)"
        out.append(
            f"| {topology} | {mode} | {len(good)}/{len(runs)} "
            f"| {fmt_s(converged)}{mark} | {fmt_s(m('convergence_time_s'))} "
            f"| {fmt_s(m('established_s', runs))} | {fmt_s(m('wall_exit_s', runs))} "
            f"| {fmt_s(m('cpu_s', runs))} | {fmt_mb(m('peak_rss_sum_bytes', runs))} "
            f"| {fmt_mb(m('hwm_sum_bytes', runs))} | {fmt_mb(m('maxrss_max_bytes', runs))} "
            f"| {loads} |"
        )
    failures = [r for r in records if not r["ok"]]
    for r in failures:
        reason = "timed out" if r["timed_out"] else f"exit {r['returncode']}"
        out.append(f"\n{r['topology']} {r['mode']}: {reason}: {r.get('error', '')[-600:]}")
    return out


def validate(paths: list[Path]) -> None:
    for path in paths:
        done = subprocess.run(
            [sys.executable, "-m", "bgpemu", "validate", str(path)],
            env=child_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"generated topology {path} is invalid:\n{done.stderr}")
        print(done.stdout.strip(), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", choices=sorted(SIZES), default="full")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma list of lab,mqtt,solve")
    parser.add_argument("--processes", type=int, help="lab worker processes (default: cores)")
    parser.add_argument(
        "--lab-name",
        help="lab up --name (default: the topology's name; another running lab of that name "
        "makes lab up refuse to start)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="lab up --timeout, seconds")
    parser.add_argument("--topologies", help="comma list of topology stems (default: all)")
    parser.add_argument("--keep", type=Path, help="write the topologies here (kept)")
    parser.add_argument("--profile", type=Path, help="profile one lab run per topology here")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"bench_lab-{stamp}.jsonl"
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        wanted = set(args.topologies.split(",")) if args.topologies else None
        topologies = [t for t in SIZES[args.sizes] if wanted is None or t.stem in wanted]
        paths = [t.write(directory) for t in topologies]
        validate(paths)
        records: list[dict[str, Any]] = []
        with out.open("w") as sink:
            sink.write(
                json.dumps(
                    {
                        "bench": "lab",
                        "python": platform.python_version(),
                        "cpus": os.cpu_count(),
                        "sizes": args.sizes,
                        "repeat": args.repeat,
                        "topologies": {t.stem: dict(t.params) for t in topologies},
                    }
                )
                + "\n"
            )
            plan = [("lab", args.profile)] if args.profile else [(m, None) for m in modes]
            repeat = 1 if args.profile else args.repeat
            for _ in range(repeat):
                for path in paths:
                    for mode, profile in plan:
                        target = profile / path.stem if profile is not None else None
                        record = one_run(path, mode, args, target)
                        records.append(record)
                        sink.write(json.dumps(record) + "\n")
                        sink.flush()
                        print(
                            f"{path.stem} {mode}: "
                            f"{'ok' if record['ok'] else 'FAILED'} "
                            f"summary {fmt_s(record.get('wall_converged_s'))}, "
                            f"exit {fmt_s(record['wall_exit_s'])}, "
                            f"peak {fmt_mb(record['peak_rss_sum_bytes'])}",
                            file=sys.stderr,
                        )
    print(
        f"\nbench_lab, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"sizes {args.sizes}, median of {repeat}; target: summary < {TARGET_S:.0f} s\n"
    )
    print("\n".join(table(records)))
    print(f"\nJSON lines: {out.relative_to(ROOT)}")
    return 0 if all(r["ok"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
