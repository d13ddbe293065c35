"""``bgpemu solve --jobs 2`` writes byte for byte what ``--jobs 1`` writes.

On two cores (:mod:`bgpemu.cli._solve_split`) ``solve`` forks: the second process
converges half of the nodes, serves their tables through a pipe and, with ``-o json`` to
a real standard output, writes their Loc-RIBs to file descriptor 1 itself.  So every
run here is a process of its own.  Most go through :data:`DRIVER`: one interpreter per
``--jobs`` value that runs ``bgpemu.cli.main`` once per case, its file descriptors 1 and
2 on files (as ``bgpemu solve ... > out``), and records what the split did (its
``converge_split``, ``Shard.rounds`` and ``os.fork`` wrapped: split or abandoned and why,
the process forked and whether it was reaped, what was read from it).  A few run
``python -m bgpemu`` itself.

1. Every shipped routing topology (``-o json``, the table, ``-o yaml``), ``--query``,
   every view option and a generated vWAN: the same stdout, exit status 0 and nothing on
   stderr with ``--jobs 1`` and ``--jobs 2``, and with ``--jobs 2`` the run did split.
2. tests/data/split/route-server-over-limit.yaml: sessions close after the split, the
   split run is abandoned, and ``solve`` converges again on one core, to the same bytes.
3. No process is left behind: the forked one is reaped before ``solve`` returns, and
   nothing of the command's process group outlives it.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bgpemu.topology.shipped import shipped_topologies
from tests.cli_process import ROOT, bgpemu_env, group_members, run_bgpemu

sys.path.insert(0, str(ROOT / "bench"))
_generators = importlib.import_module("_lab.generators")
vwan_standard: Callable[..., str] = _generators.vwan_standard

ROUTING = sorted(t.name for t in shipped_topologies() if t.folder == "")
"""The shipped topologies of ``topologies/*.yaml`` (``traffic/`` has no BGP speakers)."""
OVER_LIMIT = str(ROOT / "tests" / "data" / "split" / "route-server-over-limit.yaml")
VWAN = "vwan-2x5x50.yaml"
"""vwan_standard(hubs=2, branches=5, prefixes=50, vnets=2), written to a temporary folder."""

DRIVER = r"""
import json, os, sys, traceback
import bgpemu.cli._solve_split as split
from bgpemu.cli import main
from bgpemu.fabric.shard import Shard, SplitRunError

cases, results_path = json.loads(sys.argv[1]), sys.argv[2]
record = {}
real_converge, real_rounds, real_fork = split.converge_split, Shard.rounds, os.fork
real_snapshot, real_write_views = split.Elsewhere.snapshot, split.Elsewhere.write_views


def converge_split(fabric, max_time, network, plan):
    record["split"] = "attempted"
    result = real_converge(fabric, max_time, network, plan)  # the forked one never returns
    if result is None:
        record["split"] = "abandoned"
    elif result.elsewhere is None:
        record["split"] = "idle before a split point"
    else:
        record.update(split="split", elsewhere=sorted(result.elsewhere.names))
    return result


def fork():
    pid = real_fork()
    if pid:
        record.setdefault("forked", []).append(pid)
    return pid


def rounds(self, limit):
    try:
        return (yield from real_rounds(self, limit))
    except SplitRunError as exc:
        record["reason"] = str(exc)
        raise


def snapshot(self, name):
    record["snapshots"] = record.get("snapshots", 0) + 1
    return real_snapshot(self, name)


def write_views(self, keys, level, first):
    record["views_elsewhere"] = record.get("views_elsewhere", 0) + len(keys)
    return real_write_views(self, keys, level, first)


class Stdout:
    # sys.stdout, counting what this process writes there.
    def __init__(self, stdout):
        self.stdout, self.written = stdout, 0

    def write(self, text):
        self.written += len(text.encode())
        return self.stdout.write(text)

    def __getattr__(self, name):
        return getattr(self.stdout, name)


split.converge_split, Shard.rounds, os.fork = converge_split, rounds, fork
split.Elsewhere.snapshot, split.Elsewhere.write_views = snapshot, write_views
results = {}
saved = os.dup(1), os.dup(2)
for key, argv, out, err in cases:
    record.clear()
    with open(out, "wb") as o, open(err, "wb") as e:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(o.fileno(), 1); os.dup2(e.fileno(), 2)
        real_stdout = sys.stdout = Stdout(sys.stdout)
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            code, record["error"] = "raised", traceback.format_exc()
        finally:
            sys.stdout = real_stdout.stdout
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
    record["elsewhere_wrote"] = os.path.getsize(out) - real_stdout.written
    for pid in record.get("forked", []):  # reaped by solve already, or not
        try:
            os.waitpid(pid, os.WNOHANG)
            record["reaped"] = False
        except ChildProcessError:
            record.setdefault("reaped", True)
    results[key] = dict(record, code=code)
with open(results_path, "w") as f:
    json.dump(results, f)
"""
"""Runs ``main(ARGV)`` for each case of ``argv[1]`` (JSON: key, argv, stdout file, stderr
file) with file descriptors 1 and 2 on those files, and writes key -> what it recorded to
the file ``argv[2]``: the exit status; what ``converge_split`` did (``split``: ``split``,
with the nodes ``elsewhere`` and whether that process was ``reaped`` when ``main``
returned; ``abandoned``, with the ``reason`` a share gave); the snapshots read from the
other process; the Azure views it computed (``views_elsewhere``); the bytes of stdout this
process did not write (``elsewhere_wrote``)."""


def _cases(vwan: Path) -> dict[str, list[str]]:
    """Case id -> ``bgpemu`` arguments (``--jobs`` added per run)."""
    cases: dict[str, list[str]] = {}
    for name in ROUTING:
        cases[f"{name} -o json"] = ["solve", name, "-o", "json"]
        cases[f"{name} table"] = ["solve", name]
        cases[f"{name} -o yaml"] = ["solve", name, "-o", "yaml"]
    views = {
        "query report": ["vwan-standard-any-to-any", "-o", "json", "--query", "nodes.*[].prefix"],
        "query view": ["er-vpn-backup", "--learned-routes", "VpnGW", "--query", "value[].network"],
        "effective-routes": ["er-vpn-backup", "--effective-routes", "Spoke/App", "-o", "json"],
        "effective-routes table": ["er-vpn-backup", "--effective-routes", "Hub/Workload"],
        "learned-routes": ["er-vpn-backup", "--learned-routes", "VpnGW", "-o", "json"],
        "learned-routes table": ["er-vpn-backup", "--learned-routes", "ErGW"],
        "advertised-routes": [
            "er-vpn-backup", "--advertised-routes", "VpnGW", "--peer", "192.168.11.88",
            "-o", "json",
        ],
        "bgp-peer-status": ["er-vpn-backup", "--bgp-peer-status", "VpnGW", "-o", "json"],
        "bgp-peer-status table": ["s2s-bgp", "--bgp-peer-status", "VNet1GW"],
        "hub-routes": ["vwan-standard-any-to-any", "--hub-routes", "Hub2", "-o", "json"],
        "hub-routes table": ["vwan-custom-route-tables", "--hub-routes", "hub/RT_SHARED"],
        "route-server-routes": [
            "nva-ha-route-server", "--route-server-routes", "ars", "--peer", "nva2",
            "-o", "json",
        ],
        "route-server-routes advertised": [
            "route-server-sdwan-er-b2b-on", "--route-server-routes", "ars", "--peer", "sdwan",
            "--direction", "advertised",
        ],
        "circuit-routes": ["er-vpn-backup", "--circuit-routes", "Circuit", "-o", "json"],
        "circuit-routes secondary": ["er-vpn-backup", "--circuit-routes", "Circuit/secondary"],
        "node": ["vwan-standard-any-to-any", "--node", "Hub2", "-o", "json"],
        "node table": ["nva-ha-route-server", "--node", "ars"],
    }  # fmt: skip
    cases.update((f"view {key}", ["solve", *argv]) for key, argv in views.items())
    cases[f"{VWAN} -o json"] = ["solve", str(vwan), "-o", "json"]
    cases[f"{VWAN} table"] = ["solve", str(vwan)]
    cases["over-limit -o json"] = ["solve", OVER_LIMIT, "-o", "json"]
    cases["over-limit node"] = ["solve", OVER_LIMIT, "--node", "ars"]
    return cases


@dataclass(frozen=True, slots=True)
class Run:
    """One case run by the driver."""

    out: bytes
    err: str
    record: dict[str, Any]


Runs = dict[tuple[str, int], Run]
"""(case id, --jobs) -> its run."""


def _vwan(folder: Path) -> Path:
    path = folder / VWAN
    path.write_text(vwan_standard(hubs=2, branches=5, prefixes=50, vnets=2))
    return path


def _drive(folder: Path, cases: dict[str, list[str]]) -> Runs:
    """Every case with ``--jobs 1`` in one driver and ``--jobs 2`` in another, side by side
    (their own output to files: a forked process left behind cannot hold them up)."""
    drivers: dict[int, subprocess.Popen[bytes]] = {}
    for jobs in (1, 2):
        runs = [
            (key, [*argv, "--jobs", str(jobs)], str(folder / f"{i}-{jobs}.out"),
             str(folder / f"{i}-{jobs}.err"))
            for i, (key, argv) in enumerate(cases.items())
        ]  # fmt: skip
        with (folder / f"driver-{jobs}.out").open("wb") as out:
            drivers[jobs] = subprocess.Popen(
                [sys.executable, "-c", DRIVER, json.dumps(runs), str(folder / f"{jobs}.json")],
                env=bgpemu_env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
    try:
        for process in drivers.values():
            process.wait(timeout=120)
    finally:
        for process in drivers.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    got: Runs = {}
    for jobs, process in drivers.items():
        said = (folder / f"driver-{jobs}.out").read_text()
        assert (process.returncode, said) == (0, ""), said
        records = json.loads((folder / f"{jobs}.json").read_text())
        for i, key in enumerate(cases):
            stdout, stderr = folder / f"{i}-{jobs}.out", folder / f"{i}-{jobs}.err"
            got[key, jobs] = Run(stdout.read_bytes(), stderr.read_text(), records[key])
    return got


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("split")
    return _drive(folder, _cases(_vwan(folder)))


def _case_ids() -> Iterator[str]:
    yield from (key for key in _cases(Path(VWAN)) if not key.startswith("over-limit"))


# -- 1. the same bytes, split ---------------------------------------------------------------


def test_every_shipped_routing_topology_and_view_option_is_a_case() -> None:
    assert len(ROUTING) >= 10
    cases = _cases(Path(VWAN))
    options = {arg for argv in cases.values() for arg in argv if arg.startswith("--")}
    assert options == {
        "--query", "--effective-routes", "--learned-routes", "--advertised-routes",
        "--peer", "--bgp-peer-status", "--hub-routes", "--route-server-routes",
        "--direction", "--circuit-routes", "--node",
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_case_ids()))
def test_two_cores_write_exactly_what_one_writes(runs: Runs, case: str) -> None:
    one, two = runs[case, 1], runs[case, 2]
    assert one.record == {"code": 0, "elsewhere_wrote": 0}  # converge_split never called
    assert one.err == ""
    assert (two.record["code"], two.err) == (0, ""), two.record.get("error")
    assert one.out.strip()
    assert two.out == one.out
    # It did run on two cores: the other process converged some nodes, and is gone.
    assert two.record["split"] == "split"
    assert two.record["elsewhere"]
    assert len(two.record["forked"]) == 1
    assert two.record["reaped"] is True
    if case == f"{VWAN} -o json":
        # -o json to a real stdout: that process wrote (part of) its nodes' Loc-RIBs to
        # file descriptor 1 itself, in their place.
        assert two.record["elsewhere_wrote"] > 0


def test_the_views_read_snapshots_of_the_other_process(runs: Runs) -> None:
    views = [case for case in _case_ids() if case.startswith("view")]
    reading = [case for case in views if runs[case, 2].record.get("snapshots")]
    assert len(reading) >= len(views) // 2, reading


async def test_the_command_on_pipes_writes_the_same_bytes(tmp_path: Path) -> None:
    """``python -m bgpemu solve`` itself, its stdout a pipe (file descriptor 1 still):
    the vWAN split, the Route Server over its limit abandoned."""
    vwan = str(_vwan(tmp_path))
    for topology in (vwan, OVER_LIMIT):
        one, two = await asyncio.gather(
            *(run_bgpemu("solve", topology, "-o", "json", "--jobs", jobs, env=bgpemu_env())
              for jobs in ("1", "2"))
        )  # fmt: skip
        assert (one[0], one[2]) == (0, "")
        assert one[1].startswith("{")
        assert two == one


# -- 2. the fallback -------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["over-limit -o json", "over-limit node"])
def test_a_session_reset_after_the_split_falls_back_to_one_core(runs: Runs, case: str) -> None:
    one, two = runs[case, 1], runs[case, 2]
    assert one.record == {"code": 0, "elsewhere_wrote": 0}
    assert (two.record["code"], two.err, one.err) == (0, "", "")
    # Split, then abandoned when Route Server closed nva2's session (over its limit).
    assert two.record["split"] == "abandoned"
    assert two.record["reason"] == "a Close event"
    assert len(two.record["forked"]) == 1
    assert two.record["reaped"] is True
    assert two.out == one.out
    if case == "over-limit -o json":  # Route Server has nva1's route, none of nva2's
        nodes = json.loads(one.out)["nodes"]
        for instance in ("ars.0", "ars.1"):
            prefixes = {entry["prefix"] for entry in nodes[instance]}
            assert prefixes == {"10.0.0.0/16", "10.200.0.0/16"}, instance
        assert len(nodes["nva2"]) == 1001


# -- 3. nothing left behind ------------------------------------------------------------------


@pytest.mark.parametrize("topology", ["vwan", "over-limit"])
def test_no_process_outlives_the_command(tmp_path: Path, topology: str) -> None:
    """``python -m bgpemu solve --jobs 2`` in a process group of its own (split, or split
    and abandoned): once it has exited, no member of the group is left (the forked
    process inherits the group).  Its output goes to files, so that a process left
    holding them cannot hold the test."""
    path = str(_vwan(tmp_path)) if topology == "vwan" else OVER_LIMIT
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bgpemu", "solve", path, "-o", "json", "--jobs", "2"],
            env=bgpemu_env(), stdout=stdout, stderr=stderr, start_new_session=True,
        )  # fmt: skip
    try:
        assert process.wait(timeout=60) == 0, err.read_text()
        assert group_members(process.pid) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if group_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
    assert out.read_bytes().startswith(b"{")
    assert err.read_text() == ""
