"""The web view's browser tests (issue 16): a real mosquitto, a real lab, ``bgpemu web`` and
Debian's chromium driven by Playwright (its sync API: plain, non-async tests).

Each piece is a process of its own, as a user runs them: ``bgpemu lab up TOPOLOGY --mqtt
URL --no-web`` publishes the lab on the broker, ``bgpemu web --mqtt URL --lab NAME
--listen 127.0.0.1:0`` serves the page (the URL with its token is read from what it
prints), and the browser opens that URL.  One broker and one browser per test module; a
lab and its web server per topology (:func:`web_lab`), shared by the module's tests, which
leave the lab as they found it.

Missing chromium or Playwright skips these tests, and fails them with ``CI=true`` (the
pattern of tests/integration: :func:`~tests.integration._daemon_base.require_binary`).
Each test's page is saved as ``<test name>.png`` in ``$BGPEMU_ARTIFACTS`` (default:
``test-artifacts/web/`` of the checkout, gitignored), failed or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tests.cli_process import ROOT, bgpemu_env
from tests.helpers import free_port
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

STARTUP_TIMEOUT = 60.0
"""Seconds a lab has to converge, or ``bgpemu web`` to print its URL (a noisy machine)."""
CLI_TIMEOUT = 60.0
"""Seconds one ``bgpemu`` command may run."""
PAGE_TIMEOUT_MS = 20_000
"""Milliseconds the page has for anything it must show (generous: a shared machine)."""
POLL_INTERVAL = 0.05

TRAFFIC = ROOT / "tests" / "data" / "traffic" / "topologies"
LAB_VPN_SITE = TRAFFIC / "lab-vpn-site.yaml"
"""HubGW - SiteB over BGP and VM1 behind HubGW: the cut link, the trace, the injection."""
ER_VPN_FAILOVER = TRAFFIC / "er-vpn-failover.yaml"
"""ExpressRoute with a VPN backup (7 speakers, 9 sessions, VNets grouped with their
gateways): every node and session shown, and the picture of the README."""

_URL = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_\-]+")
_T = TypeVar("_T")


def require_playwright() -> None:
    """Fail in CI, skip elsewhere, when the Playwright package is not installed."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        message = "the Python package 'playwright' is missing: scripts/setup-env test"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (browser tests never skip in CI)", pytrace=False)
        pytest.skip(message)


def artifacts_dir() -> Path:
    """Where the screenshots go: ``$BGPEMU_ARTIFACTS``, else ``test-artifacts/web``."""
    folder = Path(os.environ.get("BGPEMU_ARTIFACTS") or ROOT / "test-artifacts" / "web")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def poll(probe: Callable[[], _T | None], timeout: float, what: str) -> _T:
    """Call ``probe`` until it returns non-None; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s: {what}", pytrace=False)
        time.sleep(POLL_INTERVAL)


@dataclass
class Process:
    """A ``python -m bgpemu`` child whose output goes to files (nothing blocks on a pipe)."""

    name: str
    popen: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @classmethod
    def start(cls, name: str, args: list[str], env: dict[str, str], folder: Path) -> Process:
        stdout, stderr = folder / f"{name}.out", folder / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            popen = subprocess.Popen(
                [sys.executable, "-m", "bgpemu", *args], env=env, stdout=out, stderr=err
            )
        return cls(name, popen, stdout, stderr)

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def wait_output(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first match of ``pattern`` in what the process printed (stdout or stderr)."""

        def probe() -> re.Match[str] | None:
            found = pattern.search(self.output())
            if found is None and self.popen.poll() is not None:
                pytest.fail(
                    f"{self.name} exited {self.popen.returncode}:\n{self.output()}", pytrace=False
                )
            return found

        return poll(probe, STARTUP_TIMEOUT, f"{self.name} printing {pattern.pattern!r}")

    def stop(self) -> None:
        """SIGTERM (a lab publishes its stopped state), SIGKILL if it does not end."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class WebLab:
    """A running lab, its broker and the ``bgpemu web`` that serves it."""

    name: str
    topology: Path
    broker: Mosquitto
    env: dict[str, str]
    lab: Process
    web: Process
    url: str

    def cli(self, *args: str) -> str:
        """Run ``bgpemu ARGS --mqtt URL --lab NAME`` to its end; its stdout (exit 0 asserted)."""
        done = subprocess.run(
            [sys.executable, "-m", "bgpemu", *args, "--mqtt", self.broker.url, "--lab", self.name],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"bgpemu {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "-o", "json"))

    def session_states(self) -> dict[frozenset[str], set[str]]:
        """``bgpemu sessions``: the states each speaker pair's two ends report."""
        states: dict[frozenset[str], set[str]] = {}
        for speaker, sessions in self.cli_json("sessions").items():
            for session in sessions:
                states.setdefault(frozenset((speaker, session["peer"])), set()).add(
                    session["state"]
                )
        return states


@contextlib.contextmanager
def web_lab(broker: Mosquitto, topology: Path, folder: Path) -> Iterator[WebLab]:
    """``bgpemu lab up`` (converged) and ``bgpemu web`` for it, stopped after the block."""
    name = topology.stem
    env = bgpemu_env(folder / "state")
    lab = Process.start(
        f"lab-{name}",
        [
            "lab", "up", str(topology), "--name", name, "--mqtt", broker.url, "--no-web",
            "--processes", "1", "--timers", "lab", "--port", str(free_port("127.0.10.1")),
        ],
        env,
        folder,
    )  # fmt: skip
    web: Process | None = None
    try:
        summary = lab.wait_output(re.compile(r'^\{"lab".*\}$', re.MULTILINE))
        assert json.loads(summary[0])["converged"] is True, summary[0]
        web = Process.start(
            f"web-{name}",
            ["web", "--mqtt", broker.url, "--lab", name, "--listen", "127.0.0.1:0"],
            env,
            folder,
        )
        url = web.wait_output(_URL)[0]
        yield WebLab(name, topology, broker, env, lab, web, url)
    finally:
        if web is not None:
            web.stop()
        lab.stop()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One real mosquitto for the module's labs (the MQTT tests' fixture class)."""
    mosquitto = Mosquitto(require_binary("mosquitto"), tmp_path_factory.mktemp("mosquitto"))
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright (never a downloaded browser)."""
    chromium = require_binary("chromium")
    require_playwright()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page (1280 x 800); saved as ``<test name>.png`` after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield opened
    finally:
        with contextlib.suppress(Exception):  # a crashed page must not hide the failure
            opened.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"))
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
