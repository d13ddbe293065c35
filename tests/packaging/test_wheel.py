"""The wheel is a self-contained tool (issue 15, "Works anywhere it is installed").

Builds the wheel from a copy of the sources (the repository is not written to), installs
it with its ``pytest`` extra into a fresh virtual environment, and from a temporary
directory outside the repository runs ``bgpemu examples list``, ``bgpemu validate
hub-spoke-transit``, ``bgpemu solve er-vpn-backup`` and a throwaway user project whose
test (docs/testing.md's) is run by pytest with no configuration.  The build uses this
environment's setuptools (the ``test`` extra: no build isolation, nothing fetched); the
fresh venv gets the dependencies from pip's configured sources, the ones scripts/setup-env
used.  Runs in every test command (no skip): about 20-40 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "src", "topologies", "schema")

USER_TEST = """\
from bgpemu.testing import start_lab


async def test_er_failover():
    async with await start_lab("er-vpn-backup", engine="fabric") as lab:
        await lab.converged()
        before = lab.snapshot()
        await lab.er_private_peering_down("Circuit")
        await lab.converged()
        hops = [
            r["nextHopIpAddress"]
            for r in lab.effective_routes("Spoke/App")["value"]
            if "10.1.11.0/25" in r["addressPrefix"]
        ]
        assert hops == [["10.17.11.76", "10.17.11.77"]], lab.diff(before, lab.snapshot())


async def test_the_fixture(bgpemu_lab):
    lab = await bgpemu_lab("hub-spoke-transit")
    await lab.converged()
"""


def _run(argv: list[str], cwd: Path, timeout: float = 180) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _ignore_caches(_: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", "build") or n.endswith(".egg-info")]


def test_the_wheel_works_from_anywhere(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True, ignore=_ignore_caches)
        else:
            shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(source),
        ],
        tmp_path,
    )
    (wheel,) = wheels.glob("bgpemu-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[pytest]"], tmp_path)
    bgpemu = str(venv / "bin" / "bgpemu")
    away = tmp_path / "elsewhere"
    away.mkdir()

    listed = json.loads(_run([bgpemu, "examples", "list", "-o", "json"], away))
    assert {"hub-spoke-transit", "er-vpn-backup", "s6-two-nvas"} <= {r["name"] for r in listed}
    assert "hub-spoke-transit: ok" in _run([bgpemu, "validate", "hub-spoke-transit"], away)
    routes = json.loads(
        _run(
            [bgpemu, "solve", "er-vpn-backup", "--effective-routes", "Spoke/App", "-o", "json"],
            away,
        )
    )
    assert routes["value"], routes
    _run([bgpemu, "examples", "copy", "hub-spoke-transit"], away)
    assert "ok" in _run([bgpemu, "validate", "hub-spoke-transit.yaml"], away)
    installed = _run(
        [str(python), "-c", "import bgpemu, pathlib; print(pathlib.Path(bgpemu.__file__).parent)"],
        away,
    ).strip()
    assert Path(installed).is_relative_to(venv), installed
    assert (Path(installed) / "_data" / "schema" / "topology.schema.json").is_file()
    # The web view's page ships whole: it works offline (docs/web.md).
    static = Path(installed) / "web" / "static"
    page = (static / "index.html").read_text(encoding="utf-8")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {"app.js", "timeline.js", "traffic.js", "inject.js", "actions.css"} <= set(assets)
    for asset in assets:  # every file the page loads
        assert (static / asset).is_file(), asset
    assert "Cytoscape Consortium" in (static / "vendor" / "cytoscape.LICENSE").read_text()
    assert "draws a running lab" in _run([bgpemu, "web", "--help"], away)

    project = tmp_path / "user-project"
    project.mkdir()
    (project / "test_network.py").write_text(USER_TEST)
    out = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert "2 passed" in out, out


def test_the_image_builds_from_what_the_wheel_needs() -> None:
    """The Dockerfile copies every source the wheel is built from before the package's own
    ``pip install ... .`` (the dependencies' layer comes earlier), and .dockerignore (no
    .venv, .git, caches in the build context) keeps them."""
    lines = (REPO / "Dockerfile").read_text().splitlines()
    install = next(
        i for i, line in enumerate(lines) if "pip install" in line and line.rstrip().endswith(" .")
    )
    copied = {
        word.rstrip("/")
        for line in lines[:install]
        if line.startswith("COPY ")
        for word in line.split()[1:-1]
    }
    assert set(SOURCES) <= copied, set(SOURCES) - copied
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "bench/results"} <= ignored
    assert not ignored & set(SOURCES)
