"""``scripts/setup-env`` and ``scripts/run`` do not reinstall when nothing changed (issue 15).

Each test copies the two scripts into a temporary checkout whose ``.venv/bin/python`` is a
stand-in that logs every ``-m pip`` call (and fails it when asked), and whose
``.venv/bin/bgpemu`` logs its arguments: the scripts run for real, pip does not.  The
install is editable, so only ``pyproject.toml``, the extras asked for and the setup script
itself decide whether pip must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_FAKE_PYTHON = """\
#!/bin/sh
# Stand-in for the venv's python: logs pip calls, runs anything else with the real one.
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "pip $*" >> "$LOG"
    case "$*" in *" -e "*) [ -e "$FAIL_PIP" ] && exit 1 ;; esac
    exit 0
fi
exec "$REAL_PYTHON" "$@"
"""

_FAKE_BGPEMU = """\
#!/bin/sh
echo "bgpemu $*" >> "$LOG"
"""


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    for script in ("setup-env", "run"):
        shutil.copy2(REPO / "scripts" / script, root / "scripts" / script)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n')
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", _FAKE_PYTHON), ("bgpemu", _FAKE_BGPEMU)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return root


def _run(root: Path, *argv: str, fail_pip: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        LOG=str(root / "calls.log"),
        REAL_PYTHON=sys.executable,
        PYTHON=sys.executable,
        FAIL_PIP=str(root / ("fail" if fail_pip else "never")),
    )
    if fail_pip:
        (root / "fail").touch()
    try:
        return subprocess.run(
            [str(root / "scripts" / argv[0]), *argv[1:]],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        (root / "fail").unlink(missing_ok=True)


def _pip_installs(root: Path) -> list[str]:
    """The ``pip install -e SPEC`` calls logged so far (the pip self-upgrade left out)."""
    log = root / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[-1] for line in lines if line.startswith("pip") and " -e " in line]


def test_second_setup_does_not_call_pip(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    assert _run(root, "setup-env").returncode == 0
    assert _pip_installs(root) == ["."]
    assert _run(root, "setup-env").returncode == 0
    assert _pip_installs(root) == ["."]


def test_second_run_does_not_call_pip(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    for _ in range(2):
        done = _run(root, "run", "--exit-after-converged")
        assert done.returncode == 0, done.stderr
    assert _pip_installs(root) == ["."]
    calls = (root / "calls.log").read_text().splitlines()
    runs = [line for line in calls if line.startswith("bgpemu")]
    assert (
        runs == ["bgpemu --log-level warning lab up er-vpn-backup --exit-after-converged"] * 2
    )  # the default lab: ExpressRoute with a VPN backup, a hub and a spoke


def test_a_new_extra_reinstalls_and_a_subset_does_not(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    _run(root, "setup-env")
    _run(root, "setup-env", "test")
    assert _pip_installs(root) == [".", ".[test]"]
    _run(root, "setup-env")  # scripts/run after scripts/test: the test extra is a superset
    _run(root, "setup-env", "test")
    assert _pip_installs(root) == [".", ".[test]"]


def test_pyproject_or_script_change_reinstalls(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    _run(root, "setup-env", "test")
    with (root / "pyproject.toml").open("a") as f:
        f.write('version = "2"\n')
    _run(root, "setup-env", "test")
    assert _pip_installs(root) == [".[test]", ".[test]"]
    with (root / "scripts" / "setup-env").open("a") as f:
        f.write("# changed\n")
    _run(root, "setup-env", "test")
    assert _pip_installs(root) == [".[test]"] * 3


def test_failed_install_is_retried(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    assert _run(root, "setup-env", fail_pip=True).returncode != 0
    assert _run(root, "setup-env").returncode == 0
    assert _run(root, "setup-env").returncode == 0
    assert _pip_installs(root) == [".", "."]


def test_a_venv_without_the_command_reinstalls(tmp_path: Path) -> None:
    """The stamp vouches for an install: a venv whose bgpemu is gone (uninstalled, or the
    venv rebuilt over the stamp) is installed again."""
    root = _checkout(tmp_path)
    _run(root, "setup-env")
    (root / ".venv" / "bin" / "bgpemu").unlink()
    assert _run(root, "setup-env").returncode == 0
    assert _pip_installs(root) == [".", "."]
