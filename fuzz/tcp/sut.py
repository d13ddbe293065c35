"""The speaker under test: a ``bgpemu speaker`` subprocess, its config, RSS and stderr."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
from pathlib import Path

from fuzz.tcp.cases import Profile
from fuzz.tcp.options import BYSTANDER_AS, CONNECT_TIMEOUT, SUT_AS, Options

TRACEBACK = "Traceback (most recent call last)"


class Sut:
    """The ``bgpemu speaker`` subprocess, restarted whenever it exits."""

    def __init__(self, opts: Options, addresses: dict[str, str], profiles: list[Profile]) -> None:
        self.opts = opts
        self.addresses = addresses
        self.port = opts.port
        self.config = opts.workdir / "sut.yaml"
        self.stderr_path = opts.workdir / "sut.stderr"
        self.stdout_path = opts.workdir / "sut.stdout"
        self.process: asyncio.subprocess.Process | None = None
        self.stopping = False
        self.generation = 0
        self._write_config(profiles)

    def _write_config(self, profiles: list[Profile]) -> None:
        a = self.addresses
        lines = [
            "name: sut",
            f"asn: {SUT_AS}",
            "router_id: 10.255.0.1",
            f"listen: {{address: {a['sut']}, port: {self.port}}}",
            "hold_time: 90",
            "connect_retry_time: 1",
            "idle_hold_time: 0",
            "next_hop: 192.0.2.1",
            'next_hop_v6: "2001:db8::1"',
            "routes: [10.250.0.0/24]",
            "neighbors:",
            f"  - {{name: bystander, address: {a['bystander']}, asn: {BYSTANDER_AS}, passive: true,"
            f" extended_message: {str(self.opts.bystander_extended).lower()}}}",
        ]
        for k, p in enumerate(profiles):
            extra = ", add_path: receive" if p.ctx.add_path_rx else ""
            extra += ", extended_message: true" if p.ctx.extended else ""
            address = a[f"fuzz{k}"]
            lines.append(
                f"  - {{name: fuzz{k}, address: {address}, asn: {p.asn}, passive: true{extra}}}"
            )
        self.config.write_text("\n".join(lines) + "\n")

    async def start(self) -> None:
        self.generation += 1
        with self.stderr_path.open("ab") as err, self.stdout_path.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bgpemu",
                "--log-level",
                "warning",
                "speaker",
                "--config",
                str(self.config),
                stdout=out,
                stderr=err,
                env=self._env(),
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:  # the listener is up once a connection is accepted
            try:
                _, writer = await asyncio.open_connection(self.addresses["sut"], self.port)
                writer.close()
                return
            except OSError:
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the speaker did not start; see {self.stderr_path}"
                    ) from None
                await asyncio.sleep(0.05)

    def _env(self) -> dict[str, str]:
        """The SUT's environment: ``--speaker-src`` puts another tree's ``src`` first."""
        env = dict(os.environ)
        if self.opts.speaker_src is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(self.opts.speaker_src), *filter(None, [env.get("PYTHONPATH")])]
            )
        return env

    def rss_kb(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    async def stop(self) -> None:
        self.stopping = True
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def tracebacks(self) -> int:
        if not self.stderr_path.exists():
            return 0
        with self.stderr_path.open("rb") as f:
            return sum(line.count(TRACEBACK.encode()) for line in f)

    def stderr_tail(self, lines: int = 15) -> str:
        if not self.stderr_path.exists():
            return ""
        with self.stderr_path.open("rb") as f:
            f.seek(max(0, self.stderr_path.stat().st_size - 8192))
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Linux PR_SET_PDEATHSIG: the speaker gets SIGKILL when the harness dies, so that a
    harness killed from outside (a timeout, Ctrl-C) leaves no speaker behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)
