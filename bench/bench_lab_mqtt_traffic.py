"""What the running lab's traffic answers cost over MQTT (issue 14, ``bgpemu.lab.traffic``
and ``bgpemu.lab.questions``): the traffic publication after a convergence, and a trace
asked on the control topic, round trip.

Not a test.  Run: ``PYTHONPATH=src .venv/bin/python bench/bench_lab_mqtt_traffic.py
[--spokes 100] [--prefixes 500] [--questions 50]`` (needs ``mosquitto`` on the PATH).

The topology is bench_traffic.py's ``hub_spoke_traffic`` (a hub with a VPN gateway to
on-prem announcing ``prefixes`` /24s, spokes with a VM each behind a default NSG, an NVA
in the hub, a UDR 10.0.0.0/8 -> NVA on every spoke), run as a TCP lab (two worker
processes) publishing on a mosquitto started here.  Timed:

* **publication**: ``ConvergedTraffic.documents`` of the converged lab (the speakers'
  snapshots, the context, the reachability matrix and its JSON), which the lab runs in a
  thread after each convergence: wall time, first (fresh context) and again (the same
  convergence: the kept context);
* **question**: ``send_control`` of a ``trace`` (spoke VM to spoke VM through the NVA)
  until the ``answered`` event arrives, a new MQTT client each time as the CLI does:
  median and worst of ``--questions``, the first apart (it builds the context).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_traffic import hub_spoke_traffic

from bgpemu.lab.publish import publish_lab
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.traffic import ConvergedTraffic
from bgpemu.observe.mqtt import send_control
from bgpemu.observe.payloads import control_payload
from bgpemu.topology import parse_topology


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _run(spokes: int, prefixes: int, questions: int, url: str) -> None:
    network = parse_topology(hub_spoke_traffic(spokes, prefixes), "hub-spoke-traffic.yaml")
    async with TcpLab(network, processes=2, port=_free_port(), mqtt=url) as lab:
        await lab.converged(timeout=300)
        traffic = ConvergedTraffic(lab)
        started = time.perf_counter()
        documents = await traffic.documents(60)
        first = time.perf_counter() - started
        started = time.perf_counter()
        await traffic.documents(60)
        again = time.perf_counter() - started
        summary = documents.views["reachability"]["summary"]
        print(
            f"hub with {spokes} spokes, {prefixes} on-prem /24s: publication {first * 1e3:.0f} ms "
            f"(fresh), {again * 1e3:.0f} ms (kept context); matrix {summary}"
        )
        published = asyncio.Event()
        task = asyncio.create_task(publish_lab(lab, url, 0.0, published))
        try:
            await asyncio.wait_for(published.wait(), 120)
            times = []
            for number in range(questions + 1):
                ask = control_payload(
                    f"q{number}",
                    "trace",
                    source="Spoke001-vm",
                    destination=f"Spoke{spokes:03d}-vm",
                    port=443,
                )
                started = time.perf_counter()
                (answer,) = await send_control(url, lab.name, ask, 60)
                times.append(time.perf_counter() - started)
                assert answer["event"] == "answered", answer
            rest = sorted(times[1:])
            print(
                f"trace over MQTT: first {times[0] * 1e3:.1f} ms, then median "
                f"{statistics.median(rest) * 1e3:.1f} ms, worst {rest[-1] * 1e3:.1f} ms "
                f"({questions} questions; verdict {answer['data']['trace']['verdict']})"
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=100)
    parser.add_argument("--prefixes", type=int, default=500)
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            asyncio.run(
                _run(args.spokes, args.prefixes, args.questions, f"mqtt://127.0.0.1:{port}")
            )
        finally:
            broker.terminate()
            broker.wait(timeout=10)


if __name__ == "__main__":
    main()
