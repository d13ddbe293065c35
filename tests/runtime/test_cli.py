"""``bgpemu speaker`` end to end: bad configs, a real run with --dump-after, SIGUSR1, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bgpemu.cli import main
from tests.helpers import free_port

DATA = Path(__file__).parents[1] / "data" / "config"
A, B = "127.0.0.41", "127.0.0.42"


def _configs(tmp_path: Path, port: int) -> tuple[Path, Path]:
    a = tmp_path / "a.yaml"
    a.write_text(
        f"""name: a
asn: 65041
router_id: 10.0.0.41
listen: {{address: {A}, port: {port}}}
connect_retry_time: 1
next_hop: 192.0.2.41
routes: [10.41.0.0/24]
neighbors:
  - {{name: b, address: {B}, port: {port}, asn: 65042, families: [ipv4-unicast]}}
"""
    )
    b = tmp_path / "b.yaml"
    b.write_text(
        f"""name: b
asn: 65042
router_id: 10.0.0.42
listen: {{address: {B}, port: {port}}}
next_hop: 192.0.2.42
routes: [10.42.0.0/24, {{prefix: 10.42.1.0/24, communities: ["65042:9"]}}]
neighbors:
  - {{name: a, address: {A}, port: {port}, asn: 65041, passive: true, families: [ipv4-unicast]}}
"""
    )
    return a, b


def test_bad_config_exits_2_and_lists_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["speaker", "--config", str(DATA / "bad-speaker.yaml"), "--config", "nope.yaml"])
    err = capsys.readouterr().err
    assert status == 2
    assert "bad-speaker.yaml: asn:" in err
    assert "nope.yaml: cannot read the file" in err
    assert "16 problems found; nothing was started." in err


def test_address_in_use_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind((A, 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = tmp_path / "a.yaml"
        config.write_text(
            f"name: a\nasn: 1\nrouter_id: 1.1.1.1\nlisten: {{address: {A}, port: {port}}}\n"
        )
        status = main(["speaker", "--config", str(config), "--dump-after", "0"])
    assert status == 1
    assert "address already in use" in capsys.readouterr().err


def _bgpemu(*args: str) -> list[str]:
    return [sys.executable, "-m", "bgpemu", *args]


def test_dump_after_prints_received_routes_as_json(tmp_path: Path) -> None:
    a, b = _configs(tmp_path, free_port(A, B))
    result = subprocess.run(
        _bgpemu(
            "speaker",
            "--config",
            str(a),
            "--config",
            str(b),
            "--wait-established",
            "--dump-after",
            "0.3",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    dumps = json.loads(result.stdout)
    by_name = {d["speaker"]: d for d in dumps}
    assert by_name["a"]["sessions"][0]["state"] == "Established"
    received = {r["prefix"]: r for r in by_name["a"]["received_routes"]}
    assert set(received) == {"10.42.0.0/24", "10.42.1.0/24"}
    assert received["10.42.1.0/24"]["communities"] == ["65042:9"]
    assert received["10.42.1.0/24"]["as_path"] == [65042]
    assert [r["prefix"] for r in by_name["b"]["received_routes"]] == ["10.41.0.0/24"]


def test_sigusr1_dumps_and_sigterm_stops_with_cease(tmp_path: Path) -> None:
    a, b = _configs(tmp_path, free_port(A, B))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    peer = subprocess.Popen(
        _bgpemu("speaker", "--config", str(b)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        _bgpemu("--log-level", "info", "speaker", "--config", str(a)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    watchdog = threading.Timer(60, proc.kill)  # a hung speaker ends the pipe reads below
    watchdog.start()
    try:
        assert proc.stderr is not None
        assert proc.stdout is not None
        for line in proc.stderr:  # the log tells when the session is up
            if "[a>b] established" in line:
                break
        proc.send_signal(signal.SIGUSR1)
        document = ""
        for line in proc.stdout:
            document += line
            if line.startswith("}"):
                break
        dump = json.loads(document)
        assert dump["sessions"][0]["state"] == "Established"
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        assert proc.wait(timeout=30) == 0
        assert "NOTIFICATION sent: Cease (6) / Administrative Shutdown (2)" in rest
    finally:
        watchdog.cancel()
        for p in (proc, peer):
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
