"""When do a lab's sessions reach the broker?  Issue 16's late ``sessions`` documents.

Not a test.  Run from the repository root (needs ``mosquitto`` and ``mosquitto_sub``)::

    PYTHONPATH=src .venv/bin/python bench/bench_sessions_broker.py [--size full|medium|small]
        [--timeout S] [--src DIR]

``--src`` runs ``lab up`` from another source tree (the figure before a change: ``git
archive COMMIT src | tar -x -C DIR``, then ``--src DIR/src``).

Starts a mosquitto on a free port (``set_tcp_nodelay true``, as the compose broker),
subscribes with ``mosquitto_sub -F '%U %t %p'`` to every node's ``sessions`` document
and the lab's ``state``, then runs ``bgpemu lab up`` on the vWAN of ``--size``
(bench/_lab/generators.py; ``full`` is vwan-2x50x200) with ``--timers lab --no-web``
(named ``bench-sessions-broker``: another lab of the topology's name may be running)
until every node's last ``sessions`` document says every session ``Established`` and
the lab's ``state`` says converged (or ``--timeout`` passes).  Every time is the
broker's delivery to ``mosquitto_sub`` (its ``%U`` clock), in seconds from starting
``lab up``:

* ``state_converged_s``: the first ``state`` with ``converged`` true;
* ``all_sessions_up_s``: the first time every node's newest ``sessions`` document says
  every session Established; ``late_s`` is that minus ``state_converged_s`` (the web
  view draws a session red meanwhile: issue 16's target is about 2 s);
* ``slowest_node``: the node whose sessions came last, and when;
* ``speaker_to_broker_s``: per session, from its ``established_since`` (the speaker's own
  wall clock when it went Established) to the first document on the broker saying so:
  median, p90, worst, and the five latest sessions (node, peer, seconds).

A JSON line goes to stdout and to bench/results/bench_sessions_broker-*.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab.generators import SIZES
from _lab.run import loadavg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _git() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


class Trace:
    """What ``mosquitto_sub`` printed: (broker time, topic, document), as it arrives."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stamp, topic, payload = line.rstrip("\n").split(" ", 2)
            try:
                doc = json.loads(payload) if payload else {}
            except json.JSONDecodeError:
                continue
            with self.lock:
                self.lines.append((float(stamp), topic, doc))

    def copy(self) -> list[tuple[float, str, dict[str, Any]]]:
        with self.lock:
            return list(self.lines)


def _up(doc: dict[str, Any]) -> bool:
    sessions = doc.get("sessions", [])
    return bool(sessions) and all(s.get("state") == "Established" for s in sessions)


def analyse(lines: list[tuple[float, str, dict[str, Any]]], t0: float) -> dict[str, Any]:
    """The figures of the module docstring from a trace (times from ``t0``)."""
    converged = next(
        (at for at, topic, doc in lines if topic.endswith("/state") and doc.get("converged")),
        None,
    )
    nodes: dict[str, dict[str, Any]] = {}
    all_up: float | None = None
    slowest: tuple[str, float] | None = None
    up_since: dict[str, float] = {}
    first_seen: dict[tuple[str, str], float] = {}
    expected: set[str] = set()
    for at, topic, doc in lines:
        if topic.endswith("/state"):
            expected = set(doc.get("nodes", expected))
            continue
        node = topic.split("/")[-2]
        nodes[node] = doc
        if _up(doc):
            up_since.setdefault(node, at)
        else:
            up_since.pop(node, None)
        for session in doc.get("sessions", []):
            key = (node, session["peer"])
            since = session.get("established_since")
            if session.get("state") == "Established" and since and key not in first_seen:
                first_seen[key] = at - since
        if (
            all_up is None
            and expected
            and expected <= nodes.keys()
            and all(_up(nodes[n]) for n in expected)
        ):
            last = max(expected, key=lambda n: up_since[n])
            all_up = up_since[last]
            slowest = (last, all_up - t0)
    delays = sorted(first_seen.values())
    latest = sorted(first_seen.items(), key=lambda item: -item[1])[:5]

    def pick(q: float) -> float | None:
        return round(delays[min(len(delays) - 1, int(q * len(delays)))], 3) if delays else None

    return {
        "state_converged_s": None if converged is None else round(converged - t0, 3),
        "all_sessions_up_s": None if all_up is None else round(all_up - t0, 3),
        "late_s": (None if all_up is None or converged is None else round(all_up - converged, 3)),
        "slowest_node": None if slowest is None else [slowest[0], round(slowest[1], 3)],
        "speaker_to_broker_s": {
            "n": len(delays),
            "median": round(statistics.median(delays), 3) if delays else None,
            "p90": pick(0.9),
            "worst": round(delays[-1], 3) if delays else None,
            "latest": [[node, peer, round(delay, 3)] for (node, peer), delay in latest],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "medium", "small"), default="full")
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    args = parser.parse_args()
    topology = next(t for t in SIZES[args.size] if t.kind == "vwan")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(args.src.resolve())}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
        )
        path = topology.write(Path(tmp))
        broker = subprocess.Popen([mosquitto, "-c", str(config)], stderr=subprocess.DEVNULL)
        lab: subprocess.Popen[str] | None = None
        sub: subprocess.Popen[str] | None = None
        try:
            time.sleep(0.5)
            sub = subprocess.Popen(
                [
                    *("mosquitto_sub", "-p", str(port), "-F", "%U %t %p"),
                    *("-t", "bgpemu/v1/+/nodes/+/sessions", "-t", "bgpemu/v1/+/state"),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            trace = Trace(sub)
            time.sleep(0.5)
            load = loadavg()
            t0 = time.time()
            lab = subprocess.Popen(
                [
                    *(sys.executable, "-m", "bgpemu", "lab", "up", str(path)),
                    *("--mqtt", f"mqtt://127.0.0.1:{port}", "--no-web", "--timers", "lab"),
                    *("--name", "bench-sessions-broker"),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            result: dict[str, Any] = {}
            while time.time() - t0 < args.timeout:
                time.sleep(0.5)
                result = analyse(trace.copy(), t0)
                if result["all_sessions_up_s"] is not None and result["state_converged_s"]:
                    break
                if lab.poll() is not None:
                    break
        finally:
            if lab is not None and lab.poll() is None:
                lab.send_signal(signal.SIGINT)
                try:
                    lab.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    lab.kill()
                    lab.wait()
            if sub is not None:
                sub.terminate()
                sub.wait(timeout=10)
            broker.terminate()
            broker.wait(timeout=10)
    record = {
        "bench": "sessions_broker",
        "topology": topology.stem,
        "git": _git(),
        "src": str(args.src),
        "loadavg_before": load,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **result,
    }
    line = json.dumps(record)
    print(line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_sessions_broker-{time.strftime('%Y%m%d')}.jsonl"
    with out.open("a") as sink:
        sink.write(line + "\n")


if __name__ == "__main__":
    main()
