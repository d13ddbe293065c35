"""TCP-MD5 (RFC 2385) between two bgpemu speakers over loopback, and the socket option.

The right key gives a session; a wrong key, or a key on one end only, gives none
(the kernel drops the segments) and one clear log line per neighbour; the key never
shows in logs, dumps or reprs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bgpemu.router import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.runtime import Speaker
from bgpemu.runtime.tcp_md5 import Md5UnavailableError, md5sig
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST, TcpMd5Key
from tests.cli_process import bgpemu_env
from tests.helpers import free_port, neighbor, running, speaker_spec

A, B = "127.0.0.41", "127.0.0.42"
SECRET = b"s3cret-Md5-key"
HINT = "check the key on both ends"


def _pair(port: int, key_a: bytes | None, key_b: bytes | None) -> tuple[SpeakerSpec, SpeakerSpec]:
    def spec(
        name: str, me: str, other: str, asn: int, peer_as: int, key: bytes | None
    ) -> SpeakerSpec:
        peer = neighbor(
            "b" if name == "a" else "a",
            other,
            port,
            local_as=asn,
            peer_as=peer_as,
            router_id=f"10.0.0.{asn - 65000}",
            families=(IPV4_UNICAST,),
        )
        peer = replace(peer, tcp_md5_key=None if key is None else TcpMd5Key(key))
        return speaker_spec(
            name,
            me,
            port,
            asn=asn,
            router_id=f"10.0.0.{asn - 65000}",
            routes=[f"10.{asn - 65000}.0.0/16"],
            neighbors=[peer],
        )

    return spec("a", A, B, 65001, 65002, key_a), spec("b", B, A, 65002, 65001, key_b)


def test_the_option_is_linux_struct_tcp_md5sig() -> None:
    """linux/tcp.h: sockaddr_storage (family host order, address network order), flags,
    prefixlen, keylen, ifindex, an 80-octet key."""
    raw = md5sig(socket.AF_INET, "192.0.2.7", TcpMd5Key(b"abc"))
    assert len(raw) == 128 + 1 + 1 + 2 + 4 + 80
    assert struct.unpack_from("=H", raw, 0)[0] == socket.AF_INET
    assert raw[4:8] == bytes([192, 0, 2, 7])
    assert struct.unpack_from("=BBHi", raw, 128) == (0, 0, 3, 0)
    assert raw[136:139] == b"abc"
    assert raw[139:] == bytes(77)
    raw6 = md5sig(socket.AF_INET6, "2001:db8::1", None)
    assert struct.unpack_from("=H", raw6, 0)[0] == socket.AF_INET6
    assert raw6[8:24] == socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    assert struct.unpack_from("=H", raw6, 130)[0] == 0  # keylen 0 deletes
    mapped = md5sig(socket.AF_INET6, "192.0.2.7", TcpMd5Key(b"k"))
    assert mapped[8:24] == socket.inet_pton(socket.AF_INET6, "::ffff:192.0.2.7")


def test_a_key_is_never_printed() -> None:
    key = TcpMd5Key(SECRET)
    assert SECRET.decode() not in f"{key} {key!r} {[key]}"
    with pytest.raises(ValueError, match="1 to 80 octets") as info:
        TcpMd5Key(b"x" * 81)
    assert "xxx" not in str(info.value)


async def test_the_right_key_gives_a_session_and_routes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port(A, B)
    a_spec, b_spec = _pair(port, SECRET, SECRET)
    async with running(a_spec, b_spec) as (a, b):
        await a.wait_established(timeout=10)
        await a.wait_for(lambda: len(a.received_paths()) == 1, timeout=10)
        await b.wait_for(lambda: len(b.received_paths()) == 1, timeout=10)
        dump = repr(a.dump()) + repr(b.dump()) + repr(a.spec) + repr(b.spec)
    assert SECRET.decode() not in dump
    assert SECRET.decode() not in caplog.text
    assert HINT not in caplog.text


@pytest.mark.parametrize(
    ("key_a", "key_b"),
    [(SECRET, b"another-key"), (SECRET, None), (None, SECRET)],
    ids=["different-keys", "key-on-a-only", "key-on-b-only"],
)
async def test_a_key_mismatch_gives_no_session_and_one_clear_line(
    caplog: pytest.LogCaptureFixture, key_a: bytes | None, key_b: bytes | None
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port(A, B)
    a_spec, b_spec = _pair(port, key_a, key_b)
    async with running(a_spec, b_spec) as (a, b):
        # Both ends connect out (ConnectRetryTime 1 s): every SYN is dropped, so each
        # attempt is abandoned when the timer runs out, and each end says so once.
        async with asyncio.timeout(15):
            while caplog.text.count("connection attempts to") < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # more retries: still no session, still one line each
        assert a.peers["b"].state != SessionState.ESTABLISHED
        assert b.peers["a"].state != SessionState.ESTABLISHED
    lines = [r.getMessage() for r in caplog.records if "connection attempts to" in r.getMessage()]
    assert len(lines) == 2, lines
    for line, key in zip(
        sorted(lines, key=lambda text: B not in text), (key_a, key_b), strict=True
    ):
        # a's line names b's address (sorted first), b's names a's
        assert "TCP-MD5 (RFC 2385)" in line
        assert (HINT in line) == (key is not None), line
    assert SECRET.decode() not in caplog.text


async def test_a_neighbor_added_with_a_key_gets_the_listener_key() -> None:
    """b's neighbour is passive: only a's connection to b's listener can carry the
    session, so it comes up only if add_neighbor set the key on the listening socket."""
    port = free_port(A, B)
    a_spec, b_spec = _pair(port, SECRET, SECRET)
    b_neighbor = replace(
        b_spec.neighbors[0], session=replace(b_spec.neighbors[0].session, passive=True)
    )
    async with running(a_spec, replace(b_spec, neighbors=())) as (_a, b):
        b.add_neighbor(b_neighbor, NeighborPolicy(name="a"))
        await b.wait_established(timeout=10)


async def test_a_platform_without_tcp_md5_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port(A, B)
    a_spec, _ = _pair(port, SECRET, None)
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ExceptionGroup) as info:
        async with asyncio.timeout(5):
            await Speaker(a_spec).run()
    errors = info.value.exceptions
    assert len(errors) == 1
    assert isinstance(errors[0], Md5UnavailableError)
    message = str(errors[0])
    assert "speaker a, neighbour b" in message
    assert "TCP_MD5SIG" in message
    assert SECRET.decode() not in message


def test_speaker_cli_with_a_key_reference_establishes_and_never_prints_it(
    tmp_path: Path,
) -> None:
    """``password: {env: ...}`` in two speaker configs: Established, and the key is in
    neither the debug log nor the ``--dump-after`` document."""
    port = free_port(A, B)
    for name, me, other, asn, peer_as in (("a", A, B, 65041, 65042), ("b", B, A, 65042, 65041)):
        (tmp_path / f"{name}.yaml").write_text(
            f"""name: {name}
asn: {asn}
router_id: 10.0.0.{asn - 65000}
listen: {{address: {me}, port: {port}}}
connect_retry_time: 1
next_hop: 192.0.2.{asn - 65000}
routes: [10.{asn - 65000}.0.0/24]
neighbors:
  - name: peer
    address: {other}
    port: {port}
    asn: {peer_as}
    families: [ipv4-unicast]
    password: {{env: BGPEMU_TEST_MD5}}
"""
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bgpemu",
            "--log-level",
            "debug",
            "speaker",
            "--config",
            str(tmp_path / "a.yaml"),
            "--config",
            str(tmp_path / "b.yaml"),
            "--wait-established",
            "--dump-after",
            "0.3",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=bgpemu_env(BGPEMU_TEST_MD5=SECRET.decode()),
    )
    dumps = {d["speaker"]: d for d in json.loads(result.stdout)}
    assert dumps["a"]["sessions"][0]["state"] == "Established"
    assert [r["prefix"] for r in dumps["a"]["received_routes"]] == ["10.42.0.0/24"]
    assert SECRET.decode() not in result.stdout + result.stderr
