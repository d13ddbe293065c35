"""The broker in a child process, for a lab: started, watched, restarted, stopped.

Theory of operation
-------------------
``bgpemu lab up`` without ``--mqtt`` runs the broker as ``python -m bgpemu.mqttbroker``
(:mod:`.standalone`) in a child process, so that no MQTT client, however many or slow,
ever costs the routing process's event loop a moment.  :class:`BrokerProcess`:

- **start**: spawns the child in its own session (a Ctrl-C at the terminal reaches the
  lab, which stops it after publishing its ``stopped`` state, not the broker first),
  writes the accounts as one JSON line on its stdin (never on its command line, which any
  local user can read), keeps stdin open (its end of file, when this process exits even
  by SIGKILL, stops the broker), and waits for the ``listening mqtt://HOST:PORT`` line:
  the bound port, so ``ports=(1883, 0)`` means 1883 else a free one.  A child that exits
  first, or is not listening within ``timeout``, raises :class:`BrokerProcessError`
  (the child's own reason is on the shared stderr).
- **watch**: :meth:`BrokerProcess.watch` waits for the child's death; unless the lab is
  stopping it reports it (``report``) and starts a new child on the same port with the
  same accounts, at most ``restarts`` times.  The lab's publishers reconnect by
  themselves with a bounded backoff and publish everything again, so the retained state
  is complete again on the new broker; the lab routes on throughout.
- **stop**: SIGTERM (the broker closes its clients cleanly), then SIGKILL after
  ``grace`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Mapping, Sequence

from bgpemu.errors import BgpEmuError
from bgpemu.mqttbroker.standalone import READY_PREFIX

__all__ = ["BrokerProcess", "BrokerProcessError"]

START_TIMEOUT = 30.0
"""Seconds a new broker process may take to listen (a loaded machine starts Python slowly)."""

STOP_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL when stopping the broker process."""

RESTARTS = 5
"""How many times a dead broker process is started again for one lab."""


class BrokerProcessError(BgpEmuError):
    """The broker process did not start listening."""


class BrokerProcess:
    """The embedded broker in a child process (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        ports: Sequence[int] = (1883, 0),
        *,
        users: Mapping[str, str] | None = None,
        protected: Sequence[str] = (),
        log_level: str = "info",
    ) -> None:
        self.host = host
        self.ports = tuple(ports)
        self.users = None if users is None else dict(users)
        self.protected = tuple(protected)
        self.log_level = log_level
        self.port = 0
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before start)."""
        return None if self._process is None else self._process.pid

    @property
    def url(self) -> str:
        """``mqtt://host:port`` of the listening broker."""
        return f"mqtt://{self.host}:{self.port}"

    def _argv(self, ports: Sequence[int]) -> list[str]:
        argv = [sys.executable, "-m", "bgpemu.mqttbroker", "--host", self.host]
        argv += ["--log-level", self.log_level, "--parent-stdin"]
        for port in ports:
            argv += ["--port", str(port)]
        if self.users is not None:
            argv += ["--users-file", "-"]
        for topic_filter in self.protected:
            argv += ["--protect", topic_filter]
        return argv

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the child and wait until it listens (:attr:`port` is then the bound port)."""
        await self._spawn(self.ports, timeout)

    async def _spawn(self, ports: Sequence[int], timeout: float) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._argv(ports),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            if self.users is not None:
                process.stdin.write(json.dumps(self.users).encode() + b"\n")
                await process.stdin.drain()
            async with asyncio.timeout(timeout):
                line = (await process.stdout.readline()).decode("utf-8", "replace")
        except (TimeoutError, OSError) as exc:
            await self._end(process)
            why = f"not listening after {timeout} s" if isinstance(exc, TimeoutError) else exc
            raise BrokerProcessError(f"the embedded MQTT broker process: {why}") from None
        if not line.startswith(READY_PREFIX):
            await self._end(process)
            raise BrokerProcessError(
                f"the embedded MQTT broker process could not listen on {self.host} "
                f"(tried port {' then '.join(map(str, ports))}): {_status(process.returncode)}"
            )
        self.port = int(line.rstrip().rpartition(":")[2])

    async def watch(self, report: Callable[[str], None], restarts: int = RESTARTS) -> None:
        """Until :meth:`stop`: restart the child on the same port whenever it dies, and
        ``report`` each death and restart (at most ``restarts`` restarts)."""
        while True:
            process = self._process
            if process is None:
                return
            returncode = await process.wait()
            if self._stopping:
                return
            await self._end(process)  # closes its stdin
            what = f"the embedded MQTT broker (pid {process.pid}) {_status(returncode)}"
            if restarts <= 0:
                report(f"{what}; not restarted again: the lab routes on without MQTT")
                return
            restarts -= 1
            report(f"{what}; the lab routes on; restarting it on port {self.port}")
            try:
                await self._spawn((self.port,), START_TIMEOUT)
            except BrokerProcessError as exc:
                report(f"{exc}; the lab routes on without MQTT")
                return
            report(f"the embedded MQTT broker is back on {self.url} (pid {self.pid})")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop the child: SIGTERM, then SIGKILL after ``grace`` seconds."""
        self._stopping = True
        if self._process is not None:
            await self._end(self._process, grace)

    async def _end(self, process: asyncio.subprocess.Process, grace: float = STOP_GRACE) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(grace):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.stdin is not None:
            process.stdin.close()
            with contextlib.suppress(OSError):
                await process.stdin.wait_closed()

    async def __aenter__(self) -> BrokerProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _status(returncode: int | None) -> str:
    """How a child ended, in words."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
        return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"
