"""The embedded broker of ``lab up`` protects the lab: a per-lab account, readable only by
the user who started it, that the CLI uses by itself; anonymous clients read the lab but
their PUBLISHes under ``bgpemu/v1/`` (control, forged tables) never reach it."""

from __future__ import annotations

import asyncio
import json
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from bgpemu.observe.payloads import control_payload
from tests.cli_process import ROOT, EmbeddedLab, embedded_lab, run_bgpemu

TOPOLOGY = ROOT / "topologies" / "s2s-bgp.yaml"
LAB = "guarded"
WAIT = 60.0


async def _cli(lab: EmbeddedLab, *args: str) -> tuple[int, str, str]:
    return await run_bgpemu(*args, env=lab.env, timeout=WAIT)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[EmbeddedLab]:
    """``lab up`` with its embedded broker, until converged."""
    async with embedded_lab(TOPOLOGY, LAB, tmp_path / "state", wait=WAIT) as running:
        yield running


async def _answers(events: aiomqtt.Client) -> list[dict[str, object]]:
    """The lab's answers until the first ``converged`` or ``rejected``."""
    seen: list[dict[str, object]] = []
    async with asyncio.timeout(WAIT):
        async for message in events.messages:
            assert isinstance(message.payload, bytes)
            doc = json.loads(message.payload)
            if "request" in doc:
                seen.append(doc)
                if doc["event"] in ("converged", "rejected"):
                    return seen
    raise AssertionError("event iteration ended")


async def test_only_the_lab_and_its_user_publish_on_the_embedded_broker(
    lab: EmbeddedLab,
) -> None:
    account = lab.state_dir / f"{LAB}.mqtt-credentials"
    assert stat.S_IMODE(account.stat().st_mode) == 0o600
    password = json.loads(account.read_text())["password"]
    assert len(password) >= 32
    topics = f"bgpemu/v1/{LAB}"
    async with (
        aiomqtt.Client("127.0.0.1", lab.port, identifier="intruder") as intruder,
        aiomqtt.Client("127.0.0.1", lab.port) as events,
    ):
        await events.subscribe(f"{topics}/events", qos=1)
        # anonymous clients may read the lab (below: sessions), but their control
        # commands and forged documents go nowhere
        forged = control_payload(uuid.uuid4().hex, "crash", node="Site5")
        await intruder.publish(f"{topics}/control", json.dumps(forged), qos=1)
        await intruder.publish(f"{topics}/state", b'{"converged": false}', qos=1, retain=True)
        # the CLI of the user who started the lab uses its account by itself
        rc, out, err = await _cli(lab, "withdraw", "Site5", "10.51.0.0/16", "-o", "json")
        assert rc == 0, err
        request = json.loads(out.splitlines()[-1])["request"]
        seen = await _answers(events)
        assert {doc["request"] for doc in seen} == {request}
    rc, out, err = await _cli(lab, "sessions", "--mqtt", f"mqtt://127.0.0.1:{lab.port}")
    assert rc == 0, err
    assert "Established" in out
    assert lab.process.returncode is None
    lab.process.terminate()
    async with asyncio.timeout(30):
        rest = (await lab.process.communicate())[1].decode()
    refusals = [line for line in rest.splitlines() if "not authorised to publish" in line]
    assert len(refusals) == 1, rest  # logged once per client
    assert "'intruder'" in refusals[0]
    assert password not in rest
    assert not account.exists()  # forgotten when the lab stops
