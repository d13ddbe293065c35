"""The web view's part of a page's first trace on a large topology: the time ``bgpemu web``
spends on a ``trace`` request once the lab has answered (docs/web.md).

Not a test.  Run::

    PYTHONPATH=src .venv/bin/python bench/bench_web_first_trace.py FILE SRC DST [--repeats 5]

e.g. ``/tmp/vwan-2x50x200.yaml 10.0.0.10 10.1.200.10`` (``bench/_lab/generators``'
``vwan_standard(hubs=2, branches=50, prefixes=200, vnets=2)``: a Hub1 branch to a Hub2
branch).  In one process, with what the server does: the lab's answer is computed once
first (``bgpemu.azure.converge.solve`` of FILE, then the lab's own ``answer`` of the
question, as a running lab answers it); then ``--repeats`` times a fresh
:class:`~bgpemu.web.view.LabView` with the server's parts takes the lab's ``topology``
document as the server does (``prepare_topology`` in a worker thread, then
``take_topology``), and the ``trace`` handler is timed twice, its ``control`` answering at
once with the lab's answer: the first trace (the first request that needs the
topology's network and plan) and the second.  CPU-bound: the broker and the lab's own
time to answer are left out (``bench_web_requests.py`` times those on a small lab).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bgpemu.azure.converge import solve
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.lab.questions import Question, answer, parse_question
from bgpemu.observe.payloads import topology_payload, traffic_event_payload
from bgpemu.observe.topics import TopicRef
from bgpemu.topology import load_topology
from bgpemu.web.extensions import PARTS, REQUESTS
from bgpemu.web.view import LabView, prepare_topology

LAB = "bench-web"


class _Ctx:
    def __init__(self, view: LabView, answers: list[dict[str, Any]]) -> None:
        self.view = view
        self._answers = answers

    @property
    def lab(self) -> str:
        return LAB

    def now(self) -> float:
        return time.time()

    async def control(
        self, op: str, args: Mapping[str, Any], timeout: float, first: float | None = None
    ) -> list[dict[str, Any]]:
        return self._answers


async def _two_traces(
    payload: bytes, request: dict[str, Any], answers: list[dict[str, Any]]
) -> tuple[float, float]:
    view = LabView(LAB, [make() for make in PARTS])
    topology = await asyncio.to_thread(prepare_topology, payload)
    view.take_topology(TopicRef(lab=LAB, kind="topology"), topology, time.time())
    assert view.graph is not None, view.problems
    ctx = _Ctx(view, answers)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        data = await REQUESTS["trace"](ctx, request)
        times.append((time.perf_counter() - start) * 1000)
        assert data["hops"], data
    return times[0], times[1]


def _figures(times: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "n": len(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("source")
    parser.add_argument("destination")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    fields = {"source": args.source, "destination": args.destination, "protocol": "tcp"}
    fields["port"] = 443
    solution = solve(load_topology(args.file))
    question = parse_question("trace", dict(fields))
    assert isinstance(question, Question), question
    data = answer(TrafficContext(solution.network, solution.plan, solution.snapshots), question)
    assert not isinstance(data, list), data
    answers = [traffic_event_payload(LAB, event="answered", op="trace", data=data)]
    text = args.file.read_text()
    doc = topology_payload(LAB, file=args.file.name, topology=text)
    payload = json.dumps(doc).encode()
    request = {"id": 1, "request": "trace", **fields}
    firsts, seconds = [], []
    for _ in range(args.repeats):
        one, two = asyncio.run(_two_traces(payload, request, answers))
        firsts.append(one)
        seconds.append(two)
    print(
        json.dumps(
            {
                "bench": "web_first_trace",
                "topology": args.file.name,
                "load": round(os.getloadavg()[0], 2),
                "first_trace": _figures(firsts),
                "second_trace": _figures(seconds),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
