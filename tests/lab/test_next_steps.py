"""The "next" block of ``lab up`` (issue 15): once converged, a lab that keeps running
names on stderr the commands worth trying, with its topology's names, and each of them
works on that lab.  er-vpn-backup is scripts/run's default lab."""

from __future__ import annotations

import shlex

import pytest

from tests.cli_process import ROOT, EmbeddedLab, embedded_lab, run_bgpemu

TOPOLOGY = ROOT / "topologies" / "er-vpn-backup.yaml"
pytestmark = pytest.mark.integration


async def _next_block(lab: EmbeddedLab) -> list[list[str]]:
    """The commands of the block (``bgpemu`` dropped), read off the lab's stderr."""
    await lab.stderr_until(r"^next, from another terminal:")
    commands = []
    for _ in range(3):
        line = (await lab.stderr_until(r"^  \S")).string
        argv = shlex.split(line, comments=True)
        assert argv[0] == "bgpemu", line
        commands.append(argv[1:])
    return commands


async def test_the_next_block_names_commands_that_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with embedded_lab(TOPOLOGY, "nextsteps", tmp_path, extra=("--no-web",)) as lab:
        commands = await _next_block(lab)
        assert [c[0] for c in commands] == ["effective-routes", "fail", "learned-routes"]
        view, failure, learned = commands
        assert view == ["effective-routes", "Spoke/App"]
        status, before, err = await run_bgpemu(*view, "-o", "table", env=lab.env)
        assert status == 0, err
        assert "192.168.11.18 192.168.11.22" in before, before  # over ExpressRoute
        status, out, err = await run_bgpemu(*failure, env=lab.env)
        assert status == 0, err
        status, after, err = await run_bgpemu(*view, "-o", "table", env=lab.env)
        assert status == 0, err
        assert "10.17.11.76 10.17.11.77" in after, after  # the VPN backup took over
        status, out, err = await run_bgpemu(*learned, "-o", "json", env=lab.env)
        assert status == 0, err
        assert "192.168.11.88" in out
