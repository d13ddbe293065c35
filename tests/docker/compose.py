"""docker-compose for tests/docker: one project (a unique name, its own host ports, the
repository's docker-compose.yml) that is always taken down with its volumes, containers
and networks, and the base and bgpemu images it runs on."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest

from tests.cli_process import ROOT
from tests.helpers import free_port

BASE_TIMEOUT = 900.0  # debootstrap on a cold cache: about a minute here, more on a slow mirror
BUILD_TIMEOUT = 600.0
COMMAND_TIMEOUT = 180.0
IMAGE = "bgpemu:compose-test"
"""The bgpemu image the tests build (never the users' ``bgpemu:local``)."""


def _run(
    argv: list[str],
    what: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> str:
    """Run ``argv`` in the repository; fail the test naming ``what`` and its output."""
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what}: no end after {timeout:.0f} s ({' '.join(argv)})", pytrace=False)
        raise AssertionError from exc  # not reached: pytest.fail raises
    if done.returncode != 0:
        pytest.fail(
            f"{what}: exit status {done.returncode} ({' '.join(argv)})\n"
            f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-4000:]}",
            pytrace=False,
        )
    return done.stdout


def offline_base() -> str:
    """The tag of the offline base image (scripts/docker-base: built once, then cached)."""
    out = _run([str(ROOT / "scripts" / "docker-base")], "scripts/docker-base", timeout=BASE_TIMEOUT)
    return out.strip().splitlines()[-1]


def _image_id(docker: str, tag: str) -> str | None:
    done = subprocess.run(
        [docker, "image", "inspect", "-f", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def free_bridge(docker: str) -> str:
    """The first three octets of a 10.99.N.0/24 that no Docker network uses (a user's own
    `docker compose up lab` keeps 10.99.0.0/24)."""
    ids = _run([docker, "network", "ls", "-q"], "docker network ls").split()
    subnets = _run(
        [docker, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", *ids],
        "docker network inspect",
    ).split()
    used = [ipaddress.ip_network(s, strict=False) for s in subnets if "." in s]
    candidates = [f"10.99.{n}" for n in range(100, 255)]
    random.shuffle(candidates)
    for prefix in candidates:
        if not any(ipaddress.ip_network(f"{prefix}.0/24").overlaps(u) for u in used):
            return prefix
    pytest.fail("no free 10.99.N.0/24 for the lab bridge", pytrace=False)


@dataclass
class Project:
    """One docker-compose project of the repository's docker-compose.yml."""

    compose: str
    docker: str
    base: str
    name: str = field(default_factory=lambda: f"bgpemu-test-{uuid.uuid4().hex[:8]}")
    bridge: str = ""
    """First three octets of the lab bridge's /24 (a free one unless given)."""
    mqtt_port: int = field(default_factory=free_port)
    ws_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        if not self.bridge:
            self.bridge = free_bridge(self.docker)

    @property
    def url(self) -> str:
        """The broker as the host sees it."""
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def env(self) -> dict[str, str]:
        """The caller's environment without its compose and bgpemu settings, plus ours."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("COMPOSE_", "BGPEMU_")) and k != "DOCKER_BUILDKIT"
        }
        env.update(
            BGPEMU_BASE_IMAGE=self.base,
            BGPEMU_BROKER_IMAGE=self.base,
            BGPEMU_IMAGE=IMAGE,
            BGPEMU_MQTT_PORT=str(self.mqtt_port),
            BGPEMU_MQTT_WS_PORT=str(self.ws_port),
            BGPEMU_BRIDGE=self.bridge,
        )
        return env

    def run(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """``docker-compose -p NAME ARGS`` in the repository."""
        return _run(
            [self.compose, "-p", self.name, *args],
            f"docker-compose {' '.join(args)}",
            env=self.env,
            timeout=timeout,
        )

    def build(self) -> None:
        """Build the bgpemu image on the base; the image it replaces is removed (one
        test image on the machine, its layers the cache of the next build)."""
        before = _image_id(self.docker, IMAGE)
        self.run("build", "lab", timeout=BUILD_TIMEOUT)
        after = _image_id(self.docker, IMAGE)
        if before is not None and before != after:
            subprocess.run(
                [self.docker, "rmi", before], capture_output=True, timeout=60, check=False
            )

    def services(self) -> list[str]:
        """The services of the project's running containers, one entry per container."""
        out = _run(
            [
                self.docker,
                "ps",
                "--filter",
                f"label=com.docker.compose.project={self.name}",
                "--format",
                '{{.Label "com.docker.compose.service"}}',
            ],
            "docker ps",
        )
        return sorted(out.split())

    def logs(self) -> str:
        """The last lines of every container's log (for a failure message)."""
        done = subprocess.run(
            [
                self.compose,
                "-p",
                self.name,
                "--profile",
                "split",
                "logs",
                "--no-color",
                "--tail",
                "40",
            ],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.stdout[-6000:] + done.stderr[-2000:]

    def down(self) -> None:
        """``down -v`` with every profile, then remove whatever of the project is left."""
        with contextlib.suppress(subprocess.SubprocessError):
            subprocess.run(
                [
                    self.compose,
                    "-p",
                    self.name,
                    "--profile",
                    "split",
                    "down",
                    "-v",
                    "--remove-orphans",
                    "--timeout",
                    "5",
                ],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        label = f"label=com.docker.compose.project={self.name}"
        for kind, remove in (("ps", ["rm", "-f", "-v"]), ("network", ["network", "rm"])):
            listing = ["ps", "-aq"] if kind == "ps" else ["network", "ls", "-q"]
            with contextlib.suppress(subprocess.SubprocessError):
                ids = subprocess.run(
                    [self.docker, *listing, "--filter", label],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                ).stdout.split()
                if ids:
                    subprocess.run(
                        [self.docker, *remove, *ids],
                        capture_output=True,
                        timeout=COMMAND_TIMEOUT,
                        check=False,
                    )


@contextlib.contextmanager
def project(compose: str, docker: str, base: str) -> Iterator[Project]:
    """A fresh project, taken down at the end even when the test fails."""
    p = Project(compose=compose, docker=docker, base=base)
    try:
        yield p
    finally:
        p.down()
