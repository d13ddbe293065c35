"""A real mosquitto per test: free port, temporary config, killable and restartable."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.integration._daemon_base import require_binary

READY_TIMEOUT = 5.0


class Mosquitto:
    """One mosquitto process on 127.0.0.1:``port`` (the port survives a restart)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 0\n"
            "set_tcp_nodelay true\n"
        )
        self.log = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def listeners(self) -> tuple[int, ...]:
        """The ports :meth:`start` waits for, in the order of the config's listeners."""
        return (self.port,)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_TIMEOUT
        for port in self.listeners:
            while True:  # bounded wait for the port: connect until it accepts
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"mosquitto did not start on port {port}:\n{self.log.read_text()}"
                        ) from None
                    time.sleep(0.005)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=READY_TIMEOUT)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(require_binary("mosquitto"), tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
