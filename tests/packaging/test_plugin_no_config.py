"""The pytest plugin in a user's project with no configuration (issue 15): no
``asyncio_mode``, no ini file.  An ``async def`` test that requests a bgpemu fixture or
whose module imports bgpemu runs under pytest-asyncio; an unrelated async test is left
alone (pytest refuses it, as it would without bgpemu).  Run in a child pytest whose
rootdir is a temporary directory, so the repository's pyproject.toml does not apply.
Without the plugin's collection hook the first two failed ('async def functions are not
natively supported')."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = {
    "test_with_bgpemu.py": """
import pytest

from bgpemu.testing import start_lab


async def test_a_module_that_imports_bgpemu():
    async with await start_lab("er-vpn-backup") as lab:
        await lab.converged()


class TestInAClass:
    async def test_the_fixture(self, bgpemu_lab):
        lab = await bgpemu_lab("hub-spoke-transit")
        await lab.converged()


@pytest.mark.asyncio
async def test_already_marked():
    pass
""",
    "test_unrelated.py": """
async def test_not_ours():
    pass
""",
}


def test_the_plugin_needs_no_configuration(tmp_path: Path) -> None:
    for name, text in USER_TESTS.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout + result.stderr
    assert "3 passed" in out, out
    assert "FAILED test_unrelated.py::test_not_ours" in out, out
    assert "1 failed" in out, out
