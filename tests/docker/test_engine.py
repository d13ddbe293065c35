"""The Docker engine fixture's refusals (tests/docker/engine.py), with fake ``docker`` and
``dockerd`` first on PATH: a daemon that cannot start fails the test in CI with the reason
from its log, and skips it elsewhere; it is never left running."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docker.engine import docker_engine

FAKE_DOCKER = "#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"
FAKE_DOCKERD = (
    "#!/bin/sh\n"
    "echo 'failed to start daemon: Error initializing network controller: iptables not found'\n"
    "exit 1\n"
)


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("docker", FAKE_DOCKER), ("dockerd", FAKE_DOCKERD)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return tmp_path


def _outcome(workdir: Path) -> BaseException:
    """What entering the engine raised (a fail or a skip outcome, caught either way)."""
    try:
        with docker_engine(workdir):
            pass
    except (pytest.fail.Exception, pytest.skip.Exception) as outcome:
        return outcome
    raise AssertionError("the fake daemon was taken for a running one")


def _expected_reason() -> str:
    if os.geteuid() != 0:
        return "starting dockerd needs root"
    return "iptables not found"  # read from the daemon's log


def test_a_daemon_that_cannot_start_fails_in_ci_with_the_reason(
    fake_engine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    failed = _outcome(fake_engine)
    assert isinstance(failed, pytest.fail.Exception), failed
    assert _expected_reason() in str(failed)
    assert "never skip in CI" in str(failed)


def test_a_daemon_that_cannot_start_skips_outside_ci(
    fake_engine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    skipped = _outcome(fake_engine)
    assert isinstance(skipped, pytest.skip.Exception), skipped
    assert _expected_reason() in str(skipped)
