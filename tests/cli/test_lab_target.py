"""Finding a lab (issue 15): ``$BGPEMU_MQTT`` and ``$BGPEMU_LAB`` as the defaults of
``--mqtt`` and ``--lab`` (cli/_mqtt_options.resolve_lab, for every command), the running
lab's own broker from its state file, and injection commands that find the lab the way
observers do and fail within seconds, naming the lab and the broker."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bgpemu.cli import main
from bgpemu.cli._mqtt_options import DEFAULT_MQTT, resolve_lab
from bgpemu.lab.publish import LAB_NODE
from bgpemu.lab.state_files import write_state
from bgpemu.observe.mqtt import Publisher
from bgpemu.observe.payloads import lab_state_payload
from bgpemu.observe.topics import LabTopics
from tests.integration._daemon_base import require_binary
from tests.observe.conftest import Mosquitto

integration = pytest.mark.integration


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("BGPEMU_STATE_DIR", str(directory))
    return directory


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(require_binary("mosquitto"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _resolved(environ: dict[str, str], **given: str | None) -> tuple[str | None, str]:
    args = argparse.Namespace(lab=given.get("lab"), mqtt=given.get("mqtt"))
    resolve_lab(args, environ)
    return args.lab, args.mqtt


def test_options_then_environment_then_the_running_lab_then_the_default(
    state_dir: Path,
) -> None:
    env = {"BGPEMU_MQTT": "mqtt://env:1", "BGPEMU_LAB": "envlab"}
    assert _resolved({}) == (None, DEFAULT_MQTT)
    assert _resolved(env) == ("envlab", "mqtt://env:1")
    assert _resolved(env, lab="mine", mqtt="mqtt://opt:2") == ("mine", "mqtt://opt:2")
    # A lab running on this machine: its own broker (the embedded one's port).
    write_state("here", {"name": "here", "pid": os.getpid(), "mqtt": "mqtt://127.0.0.1:4321"})
    assert _resolved({}) == (None, "mqtt://127.0.0.1:4321")
    assert _resolved({}, lab="here") == ("here", "mqtt://127.0.0.1:4321")
    assert _resolved({}, lab="elsewhere") == ("elsewhere", DEFAULT_MQTT)
    assert _resolved({"BGPEMU_MQTT": "mqtt://env:1"}, lab="here") == ("here", "mqtt://env:1")
    # Two labs here: the named one's broker, else the default.
    write_state("there", {"name": "there", "pid": os.getpid(), "mqtt": "mqtt://127.0.0.1:5432"})
    assert _resolved({}) == (None, DEFAULT_MQTT)
    assert _resolved({}, lab="there") == ("there", "mqtt://127.0.0.1:5432")


async def _publish_lab(url: str, lab: str) -> None:
    async with Publisher(url, lab=lab, node=LAB_NODE, node_status=False) as publisher:
        state = lab_state_payload(lab, converged=True, nodes=[], since=1.0)
        publisher.update(LabTopics(lab=lab).state, state)
        await publisher.flush(10)


@integration
async def test_an_injection_with_a_mistyped_lab_fails_within_seconds_naming_it(
    broker: Mosquitto, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _publish_lab(broker.url, "real")
    started = time.monotonic()
    status = await asyncio.to_thread(
        main, ["fail", "link", "A", "B", "--lab", "typo", "--mqtt", broker.url]
    )
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert status == 2, err
    assert "'typo'" in err, err
    assert broker.url in err
    assert "real" in err  # the labs that are there
    assert elapsed < 30  # generous: it waited 300 s before


@integration
async def test_an_injection_finds_the_lab_on_the_broker_and_the_environment(
    broker: Mosquitto, state_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # No lab on the broker: refused at once, naming the broker (it asked for --lab before).
    monkeypatch.setenv("BGPEMU_MQTT", broker.url)
    status = await asyncio.to_thread(main, ["announce", "A", "10.9.0.0/24"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "no lab" in err
    assert broker.url in err
    # One lab there that does not answer: --answer-timeout bounds the wait, named.
    await _publish_lab(broker.url, "quiet")
    status = await asyncio.to_thread(
        main, ["announce", "A", "10.9.0.0/24", "--answer-timeout", "1"]
    )
    err = capsys.readouterr().err
    assert status == 1, err
    assert "'quiet'" in err
    assert broker.url in err
    assert "did not answer within 1 s" in err
    # An observer reads $BGPEMU_MQTT and $BGPEMU_LAB too.
    monkeypatch.setenv("BGPEMU_LAB", "typo")
    status = await asyncio.to_thread(main, ["sessions"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "'typo'" in err
    assert broker.url in err
