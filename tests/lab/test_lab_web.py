"""``lab up`` serves the web view by default and prints its URL; ``bgpemu web`` serves it
for a lab it finds on the broker (real processes, the lab's embedded broker)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.cli_process import embedded_lab, stop_process
from tests.unit.web.helpers import TOPOLOGIES

pytestmark = pytest.mark.integration

WAIT = 60.0
TOPOLOGY = TOPOLOGIES / "er-vpn-backup.yaml"


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _snapshot_url(page: str) -> str:
    base, _, query = page.partition("?")
    return f"{base}api/snapshot?{query}"


async def _drawn(page: str, wanted: set[str]) -> set[str]:
    """The element ids of the page's snapshot once it draws the ``wanted`` elements (the
    documents reach the view right after the lab publishes them; the VNets come from the
    lab's topology document, read in a thread, so a snapshot may show the speakers
    first)."""
    async with asyncio.timeout(WAIT):
        while True:
            status, snapshot = await asyncio.to_thread(_get, _snapshot_url(page))
            assert status == 200, snapshot
            ids = {e["data"]["id"] for e in snapshot["elements"]}
            if wanted <= ids:
                return ids
            await asyncio.sleep(0.1)


async def test_lab_up_prints_the_url_and_bgpemu_web_serves_the_same_lab(tmp_path: Path) -> None:
    async with embedded_lab(
        TOPOLOGY, "webdemo", tmp_path / "state", wait=WAIT, extra=("--web", "127.0.0.1:0")
    ) as lab:
        found = await lab.stderr_until(r"web view: (http://127\.0\.0\.1:\d+/\?token=\S+)")
        page = found[1]
        wanted = {"CE", "Firewall", "VpnGW.0", "VpnGW.1", "ErGW", "vnet:Hub", "vnet:Spoke"}
        ids = await _drawn(page, wanted)
        status, refusal = await asyncio.to_thread(_get, page.split("?")[0] + "api/snapshot")
        assert status == 403
        assert "token" in refusal

        web = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bgpemu", "web", "--lab", "webdemo",
            "--mqtt", f"mqtt://127.0.0.1:{lab.port}", "--listen", "127.0.0.1:0",
            env=lab.env, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert web.stderr is not None
            async with asyncio.timeout(WAIT):
                while True:
                    line = (await web.stderr.readline()).decode()
                    assert line, "bgpemu web ended"
                    match = re.search(r"web view of lab webdemo: (http://\S+)", line)
                    if match:
                        break
            assert await _drawn(match[1], wanted) == ids
        finally:
            await stop_process(web)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--web", "nowhere"], "--web 'nowhere': ADDR:PORT expected"),
        (["--web", "127.0.0.1:99999"], "the port must be 0 to 65535"),
        (["--no-mqtt", "--web", "127.0.0.1:0"], "not with --no-mqtt"),
    ],
)
async def test_bad_web_options_start_nothing(options: list[str], message: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bgpemu", "lab", "up", str(TOPOLOGY), *options,
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 2
    assert message in err.decode()
    assert "nothing was started" in err.decode()
