"""TCP-MD5 keys in a speaker config: the three forms, and errors that never quote a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgpemu.config import parse_speaker_config
from bgpemu.errors import ConfigError
from bgpemu.types import TcpMd5Key

SECRET = "Md5-s3cret"


def _config(password: str) -> str:
    return f"""name: a
asn: 65001
router_id: 10.0.0.1
neighbors:
  - {{name: b, address: 192.0.2.2, asn: 65002}}
  - {{name: c, address: 192.0.2.3, asn: 65003, password: {password}}}
"""


def _problem(password: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_speaker_config(_config(password), "a.yaml")
    (problem,) = info.value.problems
    assert problem.file == "a.yaml"
    assert problem.location == "neighbors[1].password"
    return str(problem)


def test_an_inline_key_is_compiled_into_the_neighbor_only() -> None:
    spec = parse_speaker_config(_config(f'"{SECRET}"'), "a.yaml")
    b, c = spec.neighbors
    assert b.tcp_md5_key is None
    assert c.tcp_md5_key == TcpMd5Key(SECRET.encode())
    assert SECRET not in repr(spec)


def test_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGPEMU_TEST_KEY", SECRET)
    spec = parse_speaker_config(_config("{env: BGPEMU_TEST_KEY}"), "a.yaml")
    assert spec.neighbors[1].tcp_md5_key == TcpMd5Key(SECRET.encode())


def test_a_key_from_a_file_without_its_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "c.key"
    path.write_text(SECRET + "\n")
    spec = parse_speaker_config(_config(f"{{file: {path}}}"), "a.yaml")
    assert spec.neighbors[1].tcp_md5_key == TcpMd5Key(SECRET.encode())


def test_an_unset_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BGPEMU_TEST_KEY", raising=False)
    assert "environment variable BGPEMU_TEST_KEY" in _problem("{env: BGPEMU_TEST_KEY}")


def test_a_file_that_is_not_a_key_is_refused_unread(tmp_path: Path) -> None:
    assert "not a regular file" in _problem("{file: /dev/zero}")  # would never end
    big = tmp_path / "big"
    big.write_bytes(b"k" * 5000)
    assert "has 5000 octets" in _problem(f"{{file: {big}}}")
    assert "cannot read key file" in _problem(f"{{file: {tmp_path / 'none'}}}")
    assert "cannot read key file" in _problem('{file: "a\\0b"}')  # was ValueError's words


@pytest.mark.parametrize(
    "password",
    [f'"{SECRET * 9}"', "12345", "{env: X, file: y}", "{secret: x}", '""'],
    ids=["too-long", "a-number", "two-forms", "unknown-form", "empty"],
)
def test_a_bad_key_is_reported_without_quoting_it(password: str) -> None:
    message = _problem(password)
    assert SECRET not in message
    assert "12345" not in message
    assert "TCP-MD5" in message


def test_a_too_long_key_in_the_environment_is_not_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGPEMU_TEST_KEY", SECRET * 9)
    message = _problem("{env: BGPEMU_TEST_KEY}")
    assert "1 to 80 octets" in message
    assert SECRET not in message


def test_a_key_file_must_be_text(tmp_path: Path) -> None:
    """Every peer's configuration writes a key as text; so do edit documents (export)."""
    path = tmp_path / "binary.key"
    path.write_bytes(b"\xff\xfe-key")
    assert "is not UTF-8 text" in _problem(f"{{file: {path}}}")


def test_a_relative_key_file_is_read_beside_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bgpemu.config import load_speaker_config

    (tmp_path / "c.key").write_text(SECRET + "\n")
    config = tmp_path / "a.yaml"
    config.write_text(_config("{file: c.key}"))
    monkeypatch.chdir(tmp_path.parent)
    spec = load_speaker_config(config)
    assert spec.neighbors[1].tcp_md5_key == TcpMd5Key(SECRET.encode())
