"""The receivers of the route-load benchmark, each in its own process on 127.0.0.20.

Completion (perf.md §2): bgpemu and ExaBGP report their own timestamps (the bgpemu node
runner; ExaBGP's API counter process); BIRD, FRR and GoBGP are polled through their CLIs
(20 ms, 50 ms, adaptive), so their figures are poll-bounded below about 30 ms.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _load.procs import BenchError, LineProc, run_cli, terminate

HERE = Path(__file__).resolve().parent
LOCAL = "127.0.0.20"
LOCAL_AS = 65020
PEER = "127.0.0.10"
PEER_AS = 65010
READY_TIMEOUT = 30.0


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/usr/lib/frr")


class Receiver:
    """One receiver: start it listening, tell when it holds ``n`` routes, stop it."""

    name = ""
    package = ""
    binaries: tuple[str, ...] = ()

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir / self.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port

    def missing(self) -> str | None:
        """Why the receiver cannot run here, naming the Debian package, or None."""
        absent = [b for b in self.binaries if which(b) is None]
        if absent:
            return (
                f"{self.name}: {', '.join(absent)} not found; install the Debian package "
                f"{self.package!r} (apt-get install {self.package}) to include it"
            )
        return None

    def start(self, targets: list[int]) -> None:
        raise NotImplementedError

    def pid(self) -> int:
        raise NotImplementedError

    def wait_count(self, n: int, t0: float, timeout: float) -> float:
        """Unix time at which the receiver held ``n`` routes (``t0`` = Established)."""
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class _Polled(Receiver):
    """A daemon whose route count is read through its CLI."""

    interval = 0.05
    proc: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        with (self.workdir / "daemon.out").open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,
            )

    def count(self) -> int:
        raise NotImplementedError

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited; see {self.workdir / 'daemon.out'}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            self._alive()
            try:
                self.count()
                return
            except BenchError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def next_sleep(self, count: int, n: int, t0: float) -> float:
        return self.interval

    def wait_count(self, n: int, t0: float, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while True:
            count = self.count()
            now = time.time()
            if count >= n:
                return now
            self._alive()
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: {count} of {n} routes after {timeout:.0f} s")
            time.sleep(self.next_sleep(count, n, t0))

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, 10.0)


class Bgpemu(Receiver):
    """``bgpemu.runtime.Speaker`` with one passive neighbour (bench/_load/bgpemu_node.py)."""

    name = "bgpemu"
    node: LineProc | None = None

    def start(self, targets: list[int]) -> None:
        self.node = LineProc(
            [
                sys.executable,
                str(HERE / "bgpemu_node.py"),
                "--local",
                LOCAL,
                "--port",
                str(self.port),
                "--asn",
                str(LOCAL_AS),
                "--neighbor",
                f"{PEER}:{PEER_AS}:passive",
                "--targets",
                ",".join(map(str, targets)),
            ],
            log=self.workdir / "node.err",
        )
        self.node.expect("READY", READY_TIMEOUT)

    def pid(self) -> int:
        assert self.node is not None
        return self.node.pid

    def wait_count(self, n: int, t0: float, timeout: float) -> float:
        assert self.node is not None
        return float(self.node.expect("REACHED", timeout, str(n))[2])

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()


class Bird(_Polled):
    """BIRD 2: passive multihop session, ``show protocols all`` every 20 ms."""

    name = "bird"
    package = "bird2"
    binaries = ("bird", "birdc")
    interval = 0.02

    def start(self, targets: list[int]) -> None:
        conf = self.workdir / "bird.conf"
        conf.write_text(
            f"""router id {LOCAL};
log "{self.workdir / "bird.log"}" {{ error, fatal, bug }};
protocol device {{}}
protocol bgp rcv {{
  local {LOCAL} port {self.port} as {LOCAL_AS};
  neighbor {PEER} as {PEER_AS};
  multihop;
  strict bind on;
  passive on;
  hold time 240;
  ipv4 {{ import all; export none; }};
}}
"""
        )
        self.sock = str(self.workdir / "bird.ctl")
        self._spawn([str(which("bird")), "-f", "-c", str(conf), "-s", self.sock])
        self._wait_ready()

    def count(self) -> int:
        text = run_cli([str(which("birdc")), "-s", self.sock, "show", "protocols", "all", "rcv"])
        match = re.search(r"Routes:\s+(\d+) imported", text)
        return int(match.group(1)) if match else 0


class Frr(_Polled):
    """FRR bgpd without zebra (-Z), logging at critical, ``summary json`` every 50 ms."""

    name = "frr"
    package = "frr"
    binaries = ("bgpd", "vtysh")
    interval = 0.05

    def start(self, targets: list[int]) -> None:
        conf = self.workdir / "bgpd.conf"
        # bgpd drops privileges to the package's ``frr`` user: its vty socket lives here
        shutil.chown(self.workdir, "frr", "frr")
        conf.write_text(
            f"""frr defaults traditional
hostname rcv
log stdout critical
!
router bgp {LOCAL_AS}
 bgp router-id {LOCAL}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor {PEER} remote-as {PEER_AS}
 neighbor {PEER} passive
 neighbor {PEER} ebgp-multihop 255
 neighbor {PEER} timers 80 240
!
"""
        )
        self._spawn(
            [
                str(which("bgpd")),
                "-Z",
                "-f",
                str(conf),
                "-i",
                str(self.workdir / "bgpd.pid"),
                "--vty_socket",
                str(self.workdir),
                "-P",
                "0",
                "-p",
                str(self.port),
                "-l",
                LOCAL,
            ]
        )
        self._wait_ready()

    def count(self) -> int:
        text = run_cli(
            [
                str(which("vtysh")),
                "--vty_socket",
                str(self.workdir),
                "-d",
                "bgpd",
                "-c",
                "show bgp ipv4 unicast summary json",
            ]
        )
        peer = json.loads(text).get("peers", {}).get(PEER, {})
        return int(peer.get("pfxRcd", 0))


class GoBgp(_Polled):
    """gobgpd; ``gobgp neighbor -j`` polled adaptively (its query takes a server lock)."""

    name = "gobgp"
    package = "gobgpd"
    binaries = ("gobgpd", "gobgp")

    def start(self, targets: list[int]) -> None:
        conf = self.workdir / "gobgpd.toml"
        self.api = str(self.port + 1000)
        conf.write_text(
            f"""[global.config]
  as = {LOCAL_AS}
  router-id = "{LOCAL}"
  port = {self.port}
  local-address-list = ["{LOCAL}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{PEER}"
    peer-as = {PEER_AS}
  [neighbors.transport.config]
    local-address = "{LOCAL}"
    passive-mode = true
  [neighbors.timers.config]
    hold-time = 240
    keepalive-interval = 80
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
"""
        )
        self._spawn(
            [
                str(which("gobgpd")),
                "-f",
                str(conf),
                "-t",
                "toml",
                "--api-hosts",
                f"127.0.0.1:{self.api}",
                "--pprof-disable",
                "-l",
                "warn",
            ]
        )
        self._wait_ready()

    def count(self) -> int:
        text = run_cli([str(which("gobgp")), "-p", self.api, "neighbor", PEER, "-j"])
        afi_safis = json.loads(text).get("afi_safis", [])
        return sum(int(a.get("state", {}).get("accepted", 0)) for a in afi_safis)

    def next_sleep(self, count: int, n: int, t0: float) -> float:
        """Sparse while far from done, 20 ms near the predicted end (perf.md §3.5)."""
        elapsed = time.time() - t0
        if count <= 0 or elapsed <= 0:
            return 0.1
        left = (n - count) / (count / elapsed)
        return min(2.0, max(0.02, left * 0.5))


class ExaBgp(Receiver):
    """ExaBGP 4.2 with an API counter process (bench/_load/exabgp_counter.py, JSON)."""

    name = "exabgp"
    package = "exabgp"
    binaries = ("exabgp",)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, targets: list[int]) -> None:
        self.report = self.workdir / "counter.out"
        self.report.write_text("")
        conf = self.workdir / "exabgp.conf"
        conf.write_text(
            f"""process counter {{
    run {sys.executable} {HERE / "exabgp_counter.py"} {self.report} {",".join(map(str, targets))};
    encoder json;
}}
neighbor {PEER} {{
    router-id {LOCAL};
    local-address {LOCAL};
    local-as {LOCAL_AS};
    peer-as {PEER_AS};
    hold-time 240;
    passive true;
    family {{ ipv4 unicast; }}
    api {{
        processes [ counter ];
        receive {{ parsed; update; }}
    }}
}}
"""
        )
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "exabgp.tcp.bind": LOCAL,
            "exabgp.tcp.port": str(self.port),
            "exabgp.daemon.user": "root",
            "exabgp.daemon.drop": "false",
            "exabgp.daemon.daemonize": "false",
            # exabgp.log.enable=false stops 4.2.21 from ever accepting the session
            "exabgp.log.level": "CRIT",
        }
        with (self.workdir / "daemon.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [str(which("exabgp")), str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while "READY" not in self.report.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"exabgp did not start; see {self.workdir / 'daemon.out'}")
            time.sleep(0.05)
        time.sleep(0.5)  # the listener is opened after the API process is spawned

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_count(self, n: int, t0: float, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        pattern = re.compile(rf"^REACHED {n} (\S+)$", re.MULTILINE)
        while True:
            match = pattern.search(self.report.read_text())
            if match:
                return float(match.group(1))
            if self.proc is None or self.proc.poll() is not None:
                raise BenchError(f"exabgp exited; see {self.workdir / 'daemon.out'}")
            if time.monotonic() > deadline:
                raise BenchError(f"exabgp: {n} routes not reached after {timeout:.0f} s")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, 10.0)


RECEIVERS: dict[str, type[Receiver]] = {cls.name: cls for cls in (Bgpemu, Bird, Frr, GoBgp, ExaBgp)}
