"""The web view's requests to the lab (issue 16): how long a page waits for a trace, the
trace pickers' endpoints and an injection's convergence.

Not a test.  Run (needs ``mosquitto``)::

    PYTHONPATH=src .venv/bin/python bench/bench_web_requests.py [--repeats 20]

Each piece runs as a user runs it, its own process: a mosquitto started here, ``bgpemu
lab up tests/data/traffic/topologies/lab-vpn-site.yaml --mqtt URL --no-web --timers
lab`` and ``bgpemu web --mqtt URL --lab NAME --listen 127.0.0.1:0``; then one WebSocket
client (as a page) sends ``--repeats`` times each request and times it from sending the
request to receiving its reply:

* ``trace`` VM1 -> 10.2.0.10 TCP 443: the control question to the lab, its answer, and
  the highlight on the graph (``bgpemu.web.trace_paths``);
* ``endpoints``: served by ``bgpemu web`` alone;
* ``inject`` ``fail_link`` / ``restore_link`` HubGW SiteB, alternately: the reply comes
  once the lab says ``converged``.

Twice: with mosquitto's defaults, and with ``set_tcp_nodelay true`` in its
configuration (mosquitto 2.0 leaves Nagle's algorithm on: a small answer it relays to a
client can wait for the client's delayed ACK, about 40 ms on Linux).  Median and worst of
each are printed as one JSON line per broker configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = ROOT / "tests" / "data" / "traffic" / "topologies" / "lab-vpn-site.yaml"
_URL = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_\-]+")


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(path: Path, pattern: re.Pattern[str], what: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(path.read_text(errors="replace")) if path.exists() else None
        if found:
            return found[0]
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start: {path.read_text(errors='replace')[-2000:]}")


class _Page:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ident = 0

    async def ask(self, **fields: Any) -> dict[str, Any]:
        self.ident += 1
        await self.ws.send(json.dumps({"id": self.ident, **fields}))
        while True:
            message: dict[str, Any] = json.loads(await self.ws.recv())
            if message.get("type") == "reply" and message.get("id") == self.ident:
                if not message["ok"]:
                    raise SystemExit(f"{fields['request']} refused: {message['error']}")
                return message


async def _measure(url: str, repeats: int) -> dict[str, dict[str, float]]:
    parts = urlparse(url)
    token = parse_qs(parts.query)["token"][0]
    host = parts.netloc
    figures: dict[str, dict[str, float]] = {}
    async with connect(
        f"ws://{host}/ws?token={token}", origin=Origin(f"http://{host}"), max_size=None
    ) as ws:
        await ws.recv()  # the snapshot
        page = _Page(ws)
        asks: list[tuple[str, Any]] = [
            ("trace", lambda i: {"request": "trace", "source": "VM1", "destination": "10.2.0.10"}),
            ("endpoints", lambda i: {"request": "endpoints"}),
            (
                "inject",
                lambda i: {
                    "request": "inject",
                    "op": "fail_link" if i % 2 == 0 else "restore_link",
                    "args": {"a": "HubGW", "b": "SiteB"},
                },
            ),
        ]
        for name, fields in asks:
            times = []
            for i in range(repeats):
                start = time.perf_counter()
                await page.ask(**fields(i))
                times.append((time.perf_counter() - start) * 1000)
            figures[name] = {
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "n": repeats,
            }
    return figures


def _run(repeats: int, nodelay: bool) -> dict[str, dict[str, float]]:
    """Mosquitto, the lab and ``bgpemu web`` started, measured and stopped."""
    folder = Path(tempfile.mkdtemp(prefix="bench-web-requests-"))
    port = _free_port()
    (folder / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        + ("set_tcp_nodelay true\n" if nodelay else "")
    )
    broker = f"mqtt://127.0.0.1:{port}"
    env = {**os.environ, "BGPEMU_STATE_DIR": str(folder / "state")}
    bgpemu = [sys.executable, "-m", "bgpemu"]
    children: list[subprocess.Popen[bytes]] = []
    try:
        with (folder / "mosquitto.log").open("wb") as log:
            mosquitto = ["mosquitto", "-c", str(folder / "mosquitto.conf")]
            children.append(subprocess.Popen(mosquitto, stdout=log, stderr=log))
        time.sleep(0.3)
        lab_args = [
            "lab", "up", str(TOPOLOGY), "--name", "bench-web", "--mqtt", broker, "--no-web",
            "--timers", "lab", "--processes", "1", "--port", str(_free_port("127.0.10.1")),
        ]  # fmt: skip
        with (folder / "lab.out").open("wb") as out, (folder / "lab.err").open("wb") as err:
            children.append(subprocess.Popen([*bgpemu, *lab_args], stdout=out, stderr=err, env=env))
        _wait_for(folder / "lab.out", re.compile(r'"converged": true'), "the lab")
        web_args = ["web", "--mqtt", broker, "--lab", "bench-web", "--listen", "127.0.0.1:0"]
        with (folder / "web.log").open("wb") as log:
            web = [*bgpemu, *web_args]
            children.append(subprocess.Popen(web, stdout=log, stderr=subprocess.STDOUT, env=env))
        url = _wait_for(folder / "web.log", _URL, "bgpemu web")
        return asyncio.run(_measure(url, repeats))
    finally:
        for child in reversed(children):
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    for nodelay in (False, True):
        figures = _run(args.repeats, nodelay)
        broker = "mosquitto set_tcp_nodelay true" if nodelay else "mosquitto defaults"
        load = round(os.getloadavg()[0], 2)
        print(json.dumps({"bench": "web_requests", "broker": broker, "load": load, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
