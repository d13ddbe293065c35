"""``bgpemu completion bash|zsh`` (issue 15): a valid script, generated from the parser,
that completes subcommands, options, option choices and topology files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bgpemu.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def _complete(script: str, words: list[str], cwd: Path) -> list[str]:
    """COMPREPLY for ``words`` (the last one being completed), in a bash subprocess."""
    quoted = " ".join("'" + word + "'" for word in words)
    program = (
        f"{script}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _bgpemu\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", program], cwd=cwd, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.split()


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_script_is_valid_shell(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script(shell, capsys)
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "complete -o filenames -F _bgpemu bgpemu" in script
    if shell == "zsh":  # zsh runs the bash function through bashcompinit
        assert "bashcompinit && bashcompinit" in script


def test_bash_completes_commands_options_choices_and_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = _script("bash", capsys)
    (tmp_path / "hub.yaml").write_text("")
    (tmp_path / "other.yaml").write_text("")
    assert _complete(script, ["bgpemu", "so"], tmp_path) == ["solve"]
    assert _complete(script, ["bgpemu", "lab", ""], tmp_path) == ["up", "down", "status"]
    assert "--exit-after-converged" in _complete(script, ["bgpemu", "lab", "up", "--"], tmp_path)
    assert _complete(script, ["bgpemu", "routes", "A", "-o", ""], tmp_path) == [
        "table",
        "json",
        "yaml",
    ]
    assert _complete(script, ["bgpemu", "--log-level", "w"], tmp_path) == ["warning"]
    assert _complete(script, ["bgpemu", "lab", "up", "h"], tmp_path) == ["hub.yaml"]
    assert _complete(script, ["bgpemu", "diff", "x", "--change", "o"], tmp_path) == ["other.yaml"]


def test_every_subcommand_is_offered(capsys: pytest.CaptureFixture[str]) -> None:
    script = _script("bash", capsys)
    offered = _complete(script, ["bgpemu", ""], ROOT)
    for command in ("speaker", "solve", "lab", "watch", "trace", "completion", "broker"):
        assert command in offered
