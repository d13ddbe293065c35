"""``bgpemu solve --jobs 2`` when its second process fails (a bug, injected here).

Each case is a real ``python -c`` process running ``bgpemu.cli.main`` with one function
of the second process replaced (it checks the process id: the first process is left as
it is), its standard output on a file as ``solve ... > out`` puts it:

* a view that fails in the second process is left to the first, which computes it over
  every snapshot as one process does: the report is byte for byte that of ``--jobs 1``;
* the second process dying while it writes its nodes' Loc-RIBs: ``solve`` says so on one
  line, that the output is incomplete and to run with ``--jobs 1``, exits 1, shows no
  traceback of its own, and leaves no process behind.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli_process import bgpemu_env, group_members

TOPOLOGY = "vwan-standard-any-to-any"

FAULTY = r"""
import os, sys
import bgpemu.azure.report as report
import bgpemu.cli._solve_split as split
from bgpemu.cli import main

first = os.getpid()
fault = sys.argv[1]
if fault == "view":
    real_view_work = report.view_work

    def view_work(network, plan, snaps, now):
        for category, members in real_view_work(network, plan, snaps, now):
            yield category, ((key, _failing(compute)) for key, compute in members)

    def _failing(compute):
        def failing():
            if os.getpid() != first:
                raise RuntimeError("a view failed in the second process")
            return compute()
        return failing

    report.view_work = view_work
    import bgpemu.cli._split_views as views
    views.view_work = view_work
elif fault == "dies":
    real_write = split._write

    def _write(members, level, first_member):
        os._exit(3)  # the second process, as it starts writing

    split._write = _write
sys.exit(main(["solve", sys.argv[2], "-o", "json", "--jobs", sys.argv[3]]))
"""


def _solve(tmp_path: Path, fault: str, jobs: str) -> tuple[int, bytes, str]:
    """Exit status, standard output and error of ``solve`` with ``fault``; nothing of its
    process group is left once it has exited."""
    out, err = tmp_path / f"{fault}-{jobs}.json", tmp_path / f"{fault}-{jobs}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", FAULTY, fault, TOPOLOGY, jobs],
            stdout=stdout,
            stderr=stderr,
            env=bgpemu_env(),
            start_new_session=True,
        )
        code = process.wait(timeout=120)
    assert group_members(process.pid) == []
    return code, out.read_bytes(), err.read_text()


def test_a_view_failing_in_the_second_process_is_computed_by_the_first(tmp_path: Path) -> None:
    code, two, err = _solve(tmp_path, "view", "2")
    assert (code, err) == (0, "")
    assert _solve(tmp_path, "none", "1")[:2] == (0, two)


def test_the_second_process_dying_while_it_writes_ends_solve_with_one_clear_line(
    tmp_path: Path,
) -> None:
    code, out, err = _solve(tmp_path, "dies", "2")
    assert code == 1
    assert "Traceback" not in err, err
    (line,) = err.splitlines()
    assert line.startswith("error: the second process of this run on two cores failed"), line
    assert "incomplete: run again with --jobs 1" in line
    assert out  # what came before, this process's own nodes
    assert not out.endswith(b"}\n")
