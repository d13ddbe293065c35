"""TCP-MD5 (RFC 2385) between a bgpemu speaker and BIRD 2 (`password`) and GoBGP (`auth-password`).

The same key on both ends gives an Established session with routes both ways; another
key, or a key on one end only, gives no session (each kernel drops the other's
segments) and one clear line in bgpemu's log.  Under CI=true a missing daemon fails
these tests (``require_binary``), it never skips them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bgpemu.runtime import Speaker, SpeakerSpec
from bgpemu.session import SessionState
from bgpemu.types import TcpMd5Key
from tests.helpers import neighbor, running, speaker_spec
from tests.integration.daemons import (
    Bird,
    BirdNeighbor,
    GoBgp,
    GoBgpNeighbor,
    bird_config,
    free_port,
    gobgp_config,
    require_binary,
)

pytestmark = pytest.mark.integration

EMU, BIRD, GOBGP = "127.0.0.36", "127.0.0.37", "127.0.0.38"
EMU_AS, BIRD_AS, GOBGP_AS = 4200000036, 65037, 65038
KEY = "Md5-interop-k3y"
NO_SESSION_FOR = 4.0
"""Seconds a mismatched session is watched: several connect retries on both ends."""


def _emu(
    port: int, name: str, address: str, peer_port: int, asn: int, key: str | None
) -> SpeakerSpec:
    peer = neighbor(name, address, peer_port, local_as=EMU_AS, peer_as=asn, router_id="10.0.0.36")
    peer = replace(peer, tcp_md5_key=None if key is None else TcpMd5Key(key.encode()))
    return speaker_spec(
        "emu",
        EMU,
        port,
        asn=EMU_AS,
        router_id="10.0.0.36",
        routes=["10.36.1.0/24"],
        next_hop_v4="192.0.2.36",
        neighbors=[peer],
    )


async def _hint(caplog: pytest.LogCaptureFixture) -> str:
    """bgpemu's one line about unanswered connection attempts (waits for it)."""
    async with asyncio.timeout(20):
        while True:
            lines = [
                r.getMessage() for r in caplog.records if "connection attempts to" in r.getMessage()
            ]
            if lines:
                break
            await asyncio.sleep(0.1)
    await asyncio.sleep(NO_SESSION_FOR)
    lines = [r.getMessage() for r in caplog.records if "connection attempts to" in r.getMessage()]
    assert len(lines) == 1, lines  # once per neighbour, however many retries
    return lines[0]


# -- BIRD ---------------------------------------------------------------------------------


def _bird(tmp_path: Path, emu_port: int, bird_port: int, key: str | None) -> Bird:
    require_binary("bird")
    return Bird(
        tmp_path / "bird",
        bird_config(
            router_id=BIRD,
            asn=BIRD_AS,
            neighbors=[
                BirdNeighbor(
                    name="emu",
                    address=EMU,
                    port=emu_port,
                    asn=EMU_AS,
                    local_address=BIRD,
                    local_port=bird_port,
                    ipv6=False,
                    password=key,
                )
            ],
            routes_v4=["10.37.1.0/24"],
            next_hop_v4="198.51.100.37",
        ),
    )


async def test_bird_with_the_same_key_establishes_and_exchanges_routes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu_port, bird_port = free_port(EMU), free_port(BIRD)
    with _bird(tmp_path, emu_port, bird_port, KEY) as bird:
        spec = _emu(emu_port, "bird", BIRD, bird_port, BIRD_AS, KEY)
        async with running(spec) as (speaker,):
            await speaker.wait_established("bird", timeout=30)
            await speaker.wait_for(lambda: _prefixes(speaker) == {"10.37.1.0/24"}, timeout=30)
            table = await asyncio.to_thread(
                bird.wait_routes, "master4", lambda r: "10.36.1.0/24" in r, 30
            )
            assert table["10.36.1.0/24"].as_path == [EMU_AS]
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("emu_key", "bird_key", "check_both_ends"),
    [(KEY, "another-key", True), (None, KEY, False), (KEY, None, True)],
    ids=["different-keys", "key-on-bird-only", "key-on-bgpemu-only"],
)
async def test_bird_with_a_key_mismatch_gives_no_session_and_a_clear_line(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    emu_key: str | None,
    bird_key: str | None,
    check_both_ends: bool,
) -> None:
    caplog.set_level(logging.INFO)
    emu_port, bird_port = free_port(EMU), free_port(BIRD)
    with _bird(tmp_path, emu_port, bird_port, bird_key) as bird:
        spec = _emu(emu_port, "bird", BIRD, bird_port, BIRD_AS, emu_key)
        async with running(spec) as (speaker,):
            line = await _hint(caplog)
            assert speaker.peers["bird"].state != SessionState.ESTABLISHED
            assert await asyncio.to_thread(bird.protocol_state, "emu") != "Established"
    assert f"{BIRD} port {bird_port}" in line
    assert "TCP-MD5 (RFC 2385)" in line
    assert ("check the key on both ends" in line) == check_both_ends
    assert KEY not in caplog.text


# -- GoBGP --------------------------------------------------------------------------------


def _gobgp(tmp_path: Path, emu_port: int, gobgp_port: int, key: str | None) -> GoBgp:
    require_binary("gobgpd")
    require_binary("gobgp")
    return GoBgp(
        tmp_path / "gobgp",
        gobgp_config(
            router_id=GOBGP,
            asn=GOBGP_AS,
            port=gobgp_port,
            local_address=GOBGP,
            neighbors=[
                GoBgpNeighbor(
                    address=EMU,
                    asn=EMU_AS,
                    port=emu_port,
                    local_address=GOBGP,
                    ipv6=False,
                    password=key,
                )
            ],
        ),
    )


async def test_gobgp_with_the_same_key_establishes_and_exchanges_routes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emu_port, gobgp_port = free_port(EMU), free_port(GOBGP)
    with _gobgp(tmp_path, emu_port, gobgp_port, KEY) as gobgp:
        spec = _emu(emu_port, "gobgp", GOBGP, gobgp_port, GOBGP_AS, KEY)
        async with running(spec) as (speaker,):
            await speaker.wait_established("gobgp", timeout=30)
            await asyncio.to_thread(gobgp.add_route, "10.38.1.0/24", "198.51.100.38")
            await speaker.wait_for(lambda: _prefixes(speaker) == {"10.38.1.0/24"}, timeout=30)
            rib = await asyncio.to_thread(
                gobgp.wait_routes, "ipv4", lambda r: "10.36.1.0/24" in r, 30
            )
            assert rib["10.36.1.0/24"].as_path == [EMU_AS]
    assert KEY not in caplog.text


async def test_gobgp_with_another_key_gives_no_session_and_a_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    emu_port, gobgp_port = free_port(EMU), free_port(GOBGP)
    with _gobgp(tmp_path, emu_port, gobgp_port, "another-key") as gobgp:
        spec = _emu(emu_port, "gobgp", GOBGP, gobgp_port, GOBGP_AS, KEY)
        async with running(spec) as (speaker,):
            line = await _hint(caplog)
            assert speaker.peers["gobgp"].state != SessionState.ESTABLISHED
            assert await asyncio.to_thread(gobgp.neighbor_state, EMU) != "established"
    assert "check the key on both ends" in line
    assert KEY not in caplog.text


def _prefixes(speaker: Speaker) -> set[str]:
    return {p.prefix for p in speaker.received_paths()}
