"""The embedded broker as a program and as a child process (bgpemu.mqttbroker.standalone
and .process): bound port reported back, credentials through stdin, a dead child
reported and restarted on its port, a stop bounded even for a child that does not
answer SIGTERM, and bad options refused with a message naming what was wrong."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from bgpemu.mqttbroker.process import BrokerProcess, BrokerProcessError
from tests.cli_process import alive, bgpemu_env

WAIT = 30.0
ACCOUNT = {"lab": "s3cret-password"}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


async def test_the_child_reports_its_port_and_takes_its_accounts_on_stdin(busy_port: int) -> None:
    broker = BrokerProcess(ports=(busy_port, 0), users=ACCOUNT, protected=("bgpemu/v1/#",))
    async with broker:
        assert broker.port not in (0, busy_port)
        assert broker.pid is not None
        assert broker.pid != os.getpid()
        assert b"s3cret" not in _cmdline(broker.pid)
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username="lab", password="s3cret-password"
        ):
            pass
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", broker.port, username="lab", password="wrong"):
                pass
        pid = broker.pid
    assert not alive(pid)


async def test_a_child_that_cannot_listen_is_an_error_naming_the_ports(busy_port: int) -> None:
    with pytest.raises(
        BrokerProcessError,
        match=rf"could not listen on 127\.0\.0\.1 \(tried port {busy_port}\): exited with status 2",
    ):
        await BrokerProcess(ports=(busy_port,)).start()


async def test_a_dead_child_is_reported_and_restarted_on_its_port() -> None:
    broker = BrokerProcess(ports=(0,))
    await broker.start()
    reports: list[str] = []
    restarted = asyncio.Event()

    def report(message: str) -> None:
        reports.append(message)
        if "is back on" in message:
            restarted.set()

    watcher = asyncio.create_task(broker.watch(report))
    try:
        first = broker.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        async with asyncio.timeout(WAIT):
            await restarted.wait()
        assert reports[0] == (
            f"the embedded MQTT broker (pid {first}) was killed by SIGKILL; the lab routes on; "
            f"restarting it on port {broker.port}"
        )
        assert broker.pid not in (None, first)
        assert reports[1] == f"the embedded MQTT broker is back on {broker.url} (pid {broker.pid})"
        async with aiomqtt.Client("127.0.0.1", broker.port):
            pass
    finally:
        await broker.stop()
        async with asyncio.timeout(WAIT):
            await watcher
    assert len(reports) == 2  # a stop is not a death


async def test_a_child_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    broker = BrokerProcess(ports=(0,))
    await broker.start()
    assert broker.pid is not None
    os.kill(broker.pid, signal.SIGSTOP)  # a frozen broker does not act on SIGTERM
    async with asyncio.timeout(WAIT):
        await broker.stop(grace=0.2)
    assert not alive(broker.pid)


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = bgpemu_env()
    return subprocess.run(
        [sys.executable, "-m", "bgpemu.mqttbroker", "--port", "0", *args],
        input=stdin, capture_output=True, text=True, timeout=WAIT, env=env, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("--users-file", "/nonexistent/users.json"),
            "",
            "error: /nonexistent/users.json: No such file",
        ),
        (
            ("--users-file", "-"),
            "[1]\n",
            'error: stdin: expected a JSON object {"user": "password", ...}',
        ),
        (
            ("--users-file", "-"),
            '{"u": 1}\n',
            "error: stdin: user 'u': the password must be a string",
        ),
        (("--users-file", "-"), "{not json\n", "error: stdin: not JSON"),
        (("--users-file", "-"), "[" * 100_000 + "\n", "error: stdin: not JSON (nested too"),
        (("--users-file", "/dev/zero"), "", "error: /dev/zero: larger than 1048576 bytes"),
        (
            ("--users-file", "-"),
            '{"u": "p"}',
            "error: stdin: expected one line with the users' JSON",
        ),
        (
            ("--protect", "bgpemu/v1/#"),
            "",
            "error: protected topics need users who may publish there",
        ),
        (
            ("--users-file", "-", "--protect", "a/#/b"),
            '{"u": "p"}\n',
            "error: protected topic filter:",
        ),
    ],
)
def test_bad_options_are_refused_with_the_reason(
    args: tuple[str, ...], stdin: str, message: str
) -> None:
    result = _run(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


async def test_bgpemu_broker_takes_its_options_and_runs_until_sigint(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text('{"operator": "pw"}')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "broker", "--port", "0", "--users-file", str(users),
        "--protect", "bgpemu/v1/#", "--no-anonymous",
        env=bgpemu_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(WAIT):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("listening mqtt://127.0.0.1:")
        port = int(line.rstrip().rpartition(":")[2])
        async with aiomqtt.Client("127.0.0.1", port, username="operator", password="pw"):
            pass
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", port):  # anonymous
                pass
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            _, err = await process.communicate()
        assert process.returncode == 0, err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
