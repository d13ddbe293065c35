"""``bgpemu solve`` is not killed by a bug in one session (decision 12, issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bgpemu.cli import main
from bgpemu.router.exporter import Exporter

ROOT = Path(__file__).parents[2]
TRIANGLE = [str(ROOT / "examples" / "triangle" / f"r{i}.yaml") for i in (1, 2, 3)]
ARGS = ["solve", *(a for path in TRIANGLE for a in ("--config", path))]


def test_a_fault_that_never_goes_away_ends_with_a_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every export toward r3 raises: its sessions are reset again and again and the
    fabric never settles; solve says so and names the sessions, exit status 1."""
    real = Exporter.uncached

    def faulty(self: Exporter, peer: Any, *args: Any) -> Any:
        if peer.info.name == "r3":
            raise RuntimeError("injected export fault")
        return real(self, peer, *args)

    monkeypatch.setattr(Exporter, "uncached", faulty)
    assert main(ARGS) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("error: ")
    assert "r1, neighbour r3" in err
    assert "internal error" in err


def test_a_fault_that_goes_away_is_reported_after_the_tables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Exporter.uncached
    calls = {"n": 0}

    def once(self: Exporter, peer: Any, *args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected export fault")
        return real(self, peer, *args)

    monkeypatch.setattr(Exporter, "uncached", once)
    assert main(ARGS) == 0
    out, err = capsys.readouterr()
    assert "converged after" in out
    assert "Traceback" not in err
    assert "1 internal error" in err
