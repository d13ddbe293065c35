"""The web view's figures (issue 16): event-to-screen delay on a small lab, time to a usable
graph for the vWAN 2 x 50 x 200 lab, and the page's weight.

Not a test.  Run (needs ``mosquitto`` and Debian's ``chromium``; Playwright drives it)::

    PYTHONPATH=src .venv/bin/python bench/bench_web.py [--repeats 20] [--loads 5] \
        [--branches 50] [--skip-vwan] [--skip-small]

Every piece runs as a user runs it, each its own process: a mosquitto started here,
``bgpemu lab up FILE --mqtt URL --no-web --timers lab``, ``bgpemu web --mqtt URL --lab
NAME --listen 127.0.0.1:0`` (its URL read from what it prints) and headless chromium.

* **Event-to-screen delay** (tests/data/traffic/topologies/lab-vpn-site.yaml: 2 speakers,
  1 session): ``--repeats`` times, ``fail_link HubGW SiteB`` then ``restore_link`` sent
  on the control topic as ``bgpemu fail link`` does (``send_control``).  Three instants:
  *control*, when an MQTT observer started here receives the control message (the
  broker's delivery of the injection, within a millisecond of its publication); *broker*,
  when that observer sees the session's new state in ``nodes/HubGW/sessions`` (the
  retained document or an event's delta); *page*, when the page's cytoscape edge
  ``session:HubGW|SiteB`` takes the new ``data.state`` (a listener installed in the page
  stamps ``performance.timeOrigin + performance.now()``), and *drawn*, the next
  animation frame after that.  The page and this script read the same system clock
  (CLOCK_REALTIME of one machine); their offset is measured by round trips and printed.
  Reported: control -> drawn (the whole path, including the lab's own reaction: the
  session going down and its publication), broker -> drawn (the web view's part:
  ``bgpemu web`` and the page), median, 90th percentile and worst.
* **Time to a usable graph** (``bench/_lab/generators.vwan_standard(hubs=2,
  branches=50, prefixes=200, vnets=2)``: 102 speakers, 101 sessions, 20,000 prefixes):
  once the lab has converged and ``bgpemu web`` runs, ``--loads`` fresh pages (a new
  browser context each: nothing cached): from ``page.goto`` to every node of the graph
  model (``bgpemu.azure.graph.topology_graph``: nodes and groups) present in
  ``window.bgpemu.cy`` with every session edge, laid out (not all at one point); then a
  real click on a hub router and the time until ``#table`` shows rows.
* **Page weight**: the bytes of every HTTP response of the first load (headers and
  bodies, as the server sent them: no compression), per asset, and the bytes of the
  WebSocket's first messages (the snapshot) for each lab.

Results are printed and appended as JSON lines to ``bench/results/bench_web-*.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _lab.generators import vwan_standard
from playwright.async_api import Browser, Page, async_playwright

from bgpemu.azure.graph import EdgeKind, topology_graph
from bgpemu.azure.roles import compile_network
from bgpemu.observe.mqtt import send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.topology import load_topology

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
EDGE = "session:HubGW|SiteB"
_URL = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_\-]+")
STARTUP_TIMEOUT = 600.0
PAGE_TIMEOUT_MS = 120_000

# Installed in the page: every change of EDGE's data.state, stamped in epoch ms (the
# page's clock), and the next animation frame after it ("drawn").
_RECORDER = """(edge) => {
    window.__bench = [];
    const cy = window.bgpemu.cy;
    let last = cy.getElementById(edge).data('state');
    const check = () => {
        const now = performance.timeOrigin + performance.now();
        const state = cy.getElementById(edge).data('state');
        if (state === last) return;
        last = state;
        const entry = {state: state, data: now, drawn: null};
        window.__bench.push(entry);
        requestAnimationFrame(() => {
            entry.drawn = performance.timeOrigin + performance.now();
        });
    };
    cy.on('data add remove', 'edge', check);
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 2),
        "max_ms": round(ordered[-1], 2),
        "min_ms": round(ordered[0], 2),
    }


@dataclass
class Child:
    """A ``python -m bgpemu`` child, its output in files."""

    name: str
    popen: subprocess.Popen[bytes]
    logs: tuple[Path, Path]

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs)

    async def wait_output(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = pattern.search(self.output())
            if found is not None:
                return found
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: no {pattern.pattern!r}:\n{self.output()}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _start(name: str, args: list[str], folder: Path) -> Child:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BGPEMU_")}
    env.update(PYTHONPATH=str(ROOT / "src"), BGPEMU_STATE_DIR=str(folder / "state"))
    logs = (folder / f"{name}.out", folder / f"{name}.err")
    with logs[0].open("wb") as out, logs[1].open("wb") as err:
        popen = subprocess.Popen(
            [sys.executable, "-m", "bgpemu", *args], env=env, stdout=out, stderr=err
        )
    return Child(name, popen, logs)


@contextlib.asynccontextmanager
async def _lab(topology: Path, broker: str, folder: Path) -> AsyncIterator[tuple[str, str]]:
    """``lab up`` (converged) and ``bgpemu web``: (lab name, page URL)."""
    name = load_topology(topology).name
    lab = _start(
        f"lab-{name}",
        [
            "lab", "up", str(topology), "--mqtt", broker, "--no-web", "--timers", "lab",
            "--port", str(_free_port()), "--timeout", str(STARTUP_TIMEOUT),
        ],
        folder,
    )  # fmt: skip
    web: Child | None = None
    try:
        summary = await lab.wait_output(re.compile(r'^\{"lab".*\}$', re.M), STARTUP_TIMEOUT)
        print(f"  {summary[0]}", flush=True)
        web = _start(
            f"web-{name}",
            ["web", "--mqtt", broker, "--lab", name, "--listen", "127.0.0.1:0"],
            folder,
        )
        url = (await web.wait_output(_URL, 60))[0]
        yield name, url
    finally:
        if web is not None:
            web.stop()
        lab.stop()


class _Stamps:
    """``mosquitto_sub -F '%U %t %p'`` on the lab's control topic and one node's sessions
    document and events: each message stamped by mosquitto_sub itself when it arrives
    (epoch seconds, ns), so this script's event loop, busy driving the browser, adds
    nothing to the stamps.  ``control``: (time, op) of each control message;
    ``states``: (time, state) of each change of the session with ``peer``, from the
    retained document or an event's delta, whichever comes first."""

    def __init__(self, broker: str, lab: str, node: str, peer: str) -> None:
        self.broker = broker.removeprefix("mqtt://").split(":")
        base = f"bgpemu/v1/{lab}"
        self.topics = (
            f"{base}/control",
            f"{base}/nodes/{node}/sessions",
            f"{base}/nodes/{node}/events",
        )
        self.peer = peer
        self.control: list[tuple[float, str]] = []
        self.states: list[tuple[float, str]] = []
        self.documents: list[tuple[float, str]] = []
        """(time, state) of each change seen in the retained document only."""
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Stamps:
        binary = shutil.which("mosquitto_sub")
        if binary is None:
            raise SystemExit(
                "mosquitto_sub not found: install the Debian package 'mosquitto-clients'"
            )
        topics = [arg for topic in self.topics for arg in ("-t", topic)]
        self._process = await asyncio.create_subprocess_exec(
            binary, "-h", self.broker[0], "-p", self.broker[1], "-F", "%U %t %p", *topics,
            stdout=asyncio.subprocess.PIPE, limit=2**24,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        await _wait(lambda: bool(self.states), 10, "the retained sessions document")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._process is not None
        assert self._reader is not None
        self._process.terminate()
        await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            stamp, topic, payload = line.decode().rstrip("\n").split(" ", 2)
            doc = json.loads(payload) if payload else {}
            if topic == self.topics[0]:
                self.control.append((float(stamp), str(doc.get("op"))))
                continue
            for entry in doc.get("sessions") or ():
                if entry.get("peer") != self.peer:
                    continue
                if not self.states or self.states[-1][1] != entry["state"]:
                    self.states.append((float(stamp), entry["state"]))
                documents = self.documents
                if topic == self.topics[1] and (
                    not documents or documents[-1][1] != entry["state"]
                ):
                    documents.append((float(stamp), entry["state"]))


class _AllEstablished:
    """``mosquitto_sub -F '%U %t %p'`` on every ``nodes/+/sessions`` document of a lab:
    when (epoch seconds, stamped by mosquitto_sub) the broker first held, for
    ``speakers`` speakers, documents saying every session Established."""

    def __init__(self, broker: str, lab: str, speakers: int) -> None:
        self.address = broker.removeprefix("mqtt://").split(":")
        self.topic = f"bgpemu/v1/{lab}/nodes/+/sessions"
        self.speakers = speakers
        self.up: dict[str, bool] = {}
        self.at: float | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _AllEstablished:
        self._process = await asyncio.create_subprocess_exec(
            shutil.which("mosquitto_sub") or "mosquitto_sub", "-h", self.address[0],
            "-p", self.address[1], "-F", "%U %t %p", "-t", self.topic,
            stdout=asyncio.subprocess.PIPE, limit=2**24,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._process is not None
        assert self._reader is not None
        self._process.terminate()
        await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            stamp, topic, payload = line.decode().rstrip("\n").split(" ", 2)
            sessions = json.loads(payload).get("sessions", []) if payload else []
            self.up[topic] = bool(sessions) and all(
                s.get("state") == "Established" for s in sessions
            )
            if self.at is None and sum(self.up.values()) >= self.speakers:
                self.at = float(stamp)


async def _clock_offset(page: Page) -> tuple[float, float]:
    """(page clock - this clock, uncertainty), ms: the tightest of 20 round trips."""
    best: tuple[float, float] | None = None
    for _ in range(20):
        before = time.time() * 1e3
        seen: float = await page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1e3
        half = (after - before) / 2
        if best is None or half < best[1]:
            best = (seen - (before + half), half)
    assert best is not None
    return best


async def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


async def event_to_screen(
    browser: Browser, broker: str, folder: Path, repeats: int
) -> dict[str, Any]:
    print(f"event-to-screen: {SMALL.name}, {repeats} x (fail_link, restore_link)", flush=True)
    load = [round(x, 2) for x in os.getloadavg()]
    async with _lab(SMALL, broker, folder) as (lab, url):
        context = await browser.new_context()
        page = await context.new_page()
        weight = _Weight(page)
        await page.goto(url)
        await page.wait_for_function(
            "(e) => window.bgpemu && window.bgpemu.cy"
            " && window.bgpemu.cy.getElementById(e).data('state') === 'Established'",
            arg=EDGE,
            timeout=PAGE_TIMEOUT_MS,
        )
        await page.evaluate(_RECORDER, EDGE)
        offset, uncertainty = await _clock_offset(page)
        delays: dict[str, dict[str, list[float]]] = {
            op: {
                "control_to_drawn": [],
                "broker_to_drawn": [],
                "document_to_drawn": [],
                "control_to_broker": [],
            }
            for op in ("fail_link", "restore_link")
        }
        async with _Stamps(broker, lab, "HubGW", "SiteB") as stamps:
            for number in range(repeats):
                for op, figures in delays.items():
                    up = op == "restore_link"  # the state it leads to: Established, or not
                    marks = (len(stamps.control), len(stamps.states), len(stamps.documents))
                    seen = await page.evaluate("() => window.__bench.length")
                    answers = await send_control(
                        broker, lab, control_payload(f"b{number}{op}", op, a="HubGW", b="SiteB"), 60
                    )
                    assert answers[-1]["event"] == "converged", answers
                    found = await page.wait_for_function(
                        """([n, up]) => {
                            const b = window.__bench;
                            for (let i = n; i < b.length; i++) {
                                if ((b[i].state === 'Established') === up)
                                    return b[i].drawn === null ? 0 : b[i].drawn;
                            }
                            return 0;
                        }""",
                        arg=[seen, up],
                        timeout=PAGE_TIMEOUT_MS,
                    )
                    drawn = float(await found.json_value()) - offset

                    def first(m: tuple[int, ...] = marks, op: str = op, up: bool = up) -> bool:
                        return (
                            any(o == op for _, o in stamps.control[m[0] :])
                            and any((s == "Established") == up for _, s in stamps.states[m[1] :])
                            and any((s == "Established") == up for _, s in stamps.documents[m[2] :])
                        )

                    await _wait(first, 30, f"{op}: no control message or state change seen")
                    control = next(t for t, o in stamps.control[marks[0] :] if o == op) * 1e3
                    state = (
                        next(t for t, s in stamps.states[marks[1] :] if (s == "Established") == up)
                        * 1e3
                    )
                    document = (
                        next(
                            t for t, s in stamps.documents[marks[2] :] if (s == "Established") == up
                        )
                        * 1e3
                    )
                    figures["document_to_drawn"].append(drawn - document)
                    figures["control_to_drawn"].append(drawn - control)
                    figures["broker_to_drawn"].append(drawn - state)
                    figures["control_to_broker"].append(state - control)
        # The same from the page's own #inject-form path (request 'inject' over the
        # WebSocket): one clock, the page's, from the request sent to the edge drawn.
        from_page: dict[str, list[float]] = {"fail_link": [], "restore_link": []}
        for _number in range(repeats):
            for op, values in from_page.items():
                sent, seen = await page.evaluate(
                    """async (op) => {
                        const sent = performance.timeOrigin + performance.now();
                        const seen = window.__bench.length;
                        await window.bgpemu.request({request: 'inject', op: op,
                                                     args: {a: 'HubGW', b: 'SiteB'}});
                        return [sent, seen];
                    }""",
                    op,
                )
                found = await page.wait_for_function(
                    """([n, up]) => {
                        const b = window.__bench;
                        for (let i = n; i < b.length; i++) {
                            if ((b[i].state === 'Established') === up)
                                return b[i].drawn === null ? 0 : b[i].drawn;
                        }
                        return 0;
                    }""",
                    arg=[seen, op == "restore_link"],
                    timeout=PAGE_TIMEOUT_MS,
                )
                values.append(float(await found.json_value()) - sent)
        result = {
            "figure": "event_to_screen",
            "topology": SMALL.name,
            "loadavg_before": load,
            "clock_offset_ms": round(offset, 3),
            "clock_uncertainty_ms": round(uncertainty, 3),
            **{
                f"{op}:{name}": _stats(values)
                for op, figures in delays.items()
                for name, values in figures.items()
            },
            **{f"page:{op}:request_to_drawn": _stats(values) for op, values in from_page.items()},
            "assets_bytes": await weight.assets(),
            "websocket_first_frames_bytes": weight.frames[:3],
        }
        await context.close()
        return result


class _Weight:
    """Bytes of every response and of the WebSocket's frames received by the page."""

    def __init__(self, page: Page) -> None:
        self.responses: list[Any] = []
        self.frames: list[int] = []
        page.on("requestfinished", lambda request: self.responses.append(request))
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        self.frames.append(len(payload.encode() if isinstance(payload, str) else payload))

    async def assets(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for request in self.responses:
            size = await request.sizes()
            path = request.url.split("?")[0].split("/", 3)[-1] or "/"
            sizes[path] = size["responseBodySize"] + size["responseHeadersSize"]
        return sizes


async def usable_graph(
    browser: Browser, broker: str, folder: Path, loads: int, branches: int
) -> dict[str, Any]:
    topology = folder / f"vwan-2x{branches}x200.yaml"
    topology.write_text(vwan_standard(hubs=2, branches=branches, prefixes=200, vnets=2))
    network = load_topology(topology)
    graph = topology_graph(network, compile_network(network))
    model = len(graph.nodes) + len(graph.groups)
    sessions = sum(1 for e in graph.edges if e.kind == EdgeKind.SESSION)
    print(
        f"usable graph: {topology.name}: {len(graph.nodes)} nodes + {len(graph.groups)} groups,"
        f" {sessions} sessions; {loads} fresh loads",
        flush=True,
    )
    load_before = [round(x, 2) for x in os.getloadavg()]
    speakers = sum(1 for n in graph.nodes if n.role in ("vwan_hub", "onprem"))
    started = time.time()
    async with (
        _AllEstablished(broker, network.name, speakers) as broker_up,
        _lab(topology, broker, folder) as (_lab_name, url),
    ):
        ready = time.time()
        print(f"  lab up and bgpemu web ready after {ready - started:.1f} s", flush=True)
        first: dict[str, float] = {}
        graph_ms: list[float] = []
        up_ms: list[float] = []
        click_ms: list[float] = []
        weights: dict[str, int] = {}
        snapshot: list[int] = []
        for load in range(loads + 1):  # load 0: at once, as a user opens the printed URL
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            weight = _Weight(page)
            t0 = time.perf_counter()
            await page.goto(url)
            await page.wait_for_function(
                """([nodes, sessions]) => {
                    const cy = window.bgpemu && window.bgpemu.cy;
                    if (!cy || cy.nodes().length < nodes) return false;
                    if (cy.edges('[kind = "session"]').length < sessions) return false;
                    const xs = new Set(cy.nodes().map(n => Math.round(n.position('x'))));
                    return xs.size > 1;
                }""",
                arg=[model, sessions],
                timeout=PAGE_TIMEOUT_MS,
                polling="raf",
            )
            t1 = time.perf_counter()
            await page.wait_for_function(
                """() => window.bgpemu.cy.edges('[kind = "session"]')
                    .every(e => e.data('state') === 'Established')""",
                timeout=STARTUP_TIMEOUT * 1e3,
                polling="raf",
            )
            t2 = time.perf_counter()
            x, y = await page.evaluate(
                """() => {
                    const cy = window.bgpemu.cy;
                    const n = cy.getElementById('Hub1');
                    const p = n.renderedPosition();
                    const r = cy.container().getBoundingClientRect();
                    return [r.left + p.x, r.top + p.y];
                }"""
            )
            t3 = time.perf_counter()
            await page.mouse.click(x, y)
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#table tr')]
                    .some(r => r.innerText.includes('10.0.0.0/24'))""",
                timeout=PAGE_TIMEOUT_MS,
                polling="raf",
            )
            t4 = time.perf_counter()
            times = {
                "goto_to_graph_ms": (t1 - t0) * 1e3,
                "goto_to_all_established_ms": (t2 - t0) * 1e3,
                "click_to_table_ms": (t4 - t3) * 1e3,
            }
            print(
                f"  load {load}: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()), flush=True
            )
            if load == 0:
                first = {k: round(v, 1) for k, v in times.items()}
                weights = await weight.assets()
                snapshot = weight.frames[:3]
                await page.screenshot(path=str(folder / "vwan-first.png"))
            else:
                graph_ms.append(times["goto_to_graph_ms"])
                up_ms.append(times["goto_to_all_established_ms"])
                click_ms.append(times["click_to_table_ms"])
            if load == loads:
                await page.screenshot(path=str(folder / "vwan.png"))
            await context.close()
    return {
        "figure": "usable_graph",
        "topology": topology.name,
        "loadavg_before": load_before,
        "model_elements": model,
        "sessions": sessions,
        "lab_up_to_web_ready_s": round(ready - started, 2),
        "web_ready_to_broker_all_established_s": (
            None if broker_up.at is None else round(broker_up.at - ready, 2)
        ),
        "first_load": first,
        "goto_to_graph": _stats(graph_ms),
        "goto_to_all_established": _stats(up_ms),
        "click_to_table": _stats(click_ms),
        "assets_bytes": weights,
        "assets_total_bytes": sum(weights.values()),
        "websocket_first_frames_bytes": snapshot,
    }


async def _main(args: argparse.Namespace, broker: str, folder: Path) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    broker_config = {"mosquitto": "set_tcp_nodelay true" if args.nodelay else "defaults"}
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: install the Debian package 'chromium'")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            if not args.skip_small:
                results.append(
                    broker_config | await event_to_screen(browser, broker, folder, args.repeats)
                )
                print(json.dumps(results[-1], indent=1), flush=True)
            if not args.skip_vwan:
                results.append(
                    broker_config
                    | await usable_graph(browser, broker, folder, args.loads, args.branches)
                )
                print(json.dumps(results[-1], indent=1), flush=True)
        finally:
            await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--branches", type=int, default=50, help="branches per hub (vWAN)")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--skip-vwan", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep logs and screenshots in this folder")
    parser.add_argument(
        "--nodelay",
        action="store_true",
        help="mosquitto with set_tcp_nodelay true (its default holds small messages for"
        " the peer's delayed ACK: Nagle's algorithm, bench_web_requests.py)",
    )
    args = parser.parse_args()
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\n" + ("set_tcp_nodelay true\n" if args.nodelay else "")
        )
        mosquitto = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            results = asyncio.run(_main(args, f"mqtt://127.0.0.1:{port}", folder))
        finally:
            mosquitto.terminate()
            mosquitto.wait(timeout=30)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with (out / f"bench_web-{stamp}.jsonl").open("a") as sink:
        for result in results:
            sink.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
