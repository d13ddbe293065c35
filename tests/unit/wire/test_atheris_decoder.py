"""The coverage-guided decoder fuzz script (``fuzz/atheris_decoder.py``) without atheris:
its entry function answers its seed corpus and its past findings with documented
outcomes only, and its oracle catches a broken promise."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from bgpemu.errors import MessageError
from bgpemu.wire import PathAttributes, Update, UpdateIssue, UpdateIssueAction

SCRIPT = Path(__file__).resolve().parents[3] / "fuzz" / "atheris_decoder.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("atheris_decoder", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ = _load()


def test_every_seed_gets_a_documented_outcome() -> None:
    seeds = FUZZ.seed_inputs()
    assert len(seeds) > 100
    for seed in seeds:
        FUZZ.one_input(seed)


@pytest.mark.parametrize("mode", range(len(FUZZ.MODES)))
def test_each_mode_takes_garbage(mode: int) -> None:
    for context in range(len(FUZZ.CONTEXTS)):
        first = mode * len(FUZZ.CONTEXTS) + context
        for rest in (b"", b"\x00", b"\xff" * 40, bytes(range(256))):
            FUZZ.one_input(bytes((first,)) + rest)


def test_the_oracle_catches_treat_as_withdraw_with_routes_left() -> None:
    issue = UpdateIssue(UpdateIssueAction.TREAT_AS_WITHDRAW, 1, "bad ORIGIN")
    broken = Update(nlri=("10.0.0.0/24",), issues=(issue,), attributes=PathAttributes())
    with pytest.raises(FUZZ.FindingError):
        FUZZ._check_update(broken, b"")


def test_the_oracle_catches_a_non_canonical_prefix() -> None:
    with pytest.raises(FUZZ.FindingError):
        FUZZ._check_update(Update(withdrawn=("10.0.0.0/08",)), b"")


def test_the_oracle_catches_an_exception_behind_the_safety_net() -> None:
    """Codec.decode turns a decoder bug into a MessageError; the fuzzer must not."""
    try:
        try:
            raise IndexError("index out of range")
        except IndexError as exc:
            raise MessageError(3, 1, reason="undecodable") from exc
    except MessageError as err:
        with pytest.raises(FUZZ.FindingError):
            FUZZ._check_error(err, 2)
    FUZZ._check_error(MessageError(3, 1, reason="repeated"), 2)


def test_replay_runs_a_corpus_directory_and_files(tmp_path: Path) -> None:
    seeds = FUZZ.seed_inputs()[:5]
    for number, seed in enumerate(seeds):
        (tmp_path / f"seed-{number}").write_bytes(seed)
    assert FUZZ.replay([str(tmp_path), str(tmp_path / "seed-0")]) == len(seeds) + 1
