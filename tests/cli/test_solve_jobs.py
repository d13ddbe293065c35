"""How ``bgpemu solve`` picks one or two cores (``--jobs``, cli.solve._splitter)."""

from __future__ import annotations

import argparse
import os
from functools import partial

import pytest

from bgpemu.azure.converge import Split
from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.cli import _solve_split
from bgpemu.cli import solve as solve_cli
from bgpemu.fabric import Fabric
from bgpemu.topology import load_topology


def _args(jobs: int | None) -> argparse.Namespace:
    return argparse.Namespace(jobs=jobs)


def test_jobs_1_is_one_core_and_jobs_2_is_two_whatever_the_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(solve_cli, "_cores", lambda: 2)
    assert solve_cli._splitter(_args(1)) is None
    assert solve_cli._splitter(_args(2)) is _solve_split.converge_split
    monkeypatch.setattr(solve_cli, "_cores", lambda: 1)
    assert solve_cli._splitter(_args(2)) is _solve_split.converge_split  # asked for


def test_the_default_is_one_core_on_a_machine_with_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solve_cli, "_cores", lambda: 1)
    assert solve_cli._splitter(_args(None)) is None


def test_the_default_splits_only_a_large_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solve_cli, "_cores", lambda: 2)
    splitter = solve_cli._splitter(_args(None))
    assert isinstance(splitter, partial)
    called: list[int] = []

    def split(fabric: Fabric, max_time: float, network: Network, plan: Plan) -> Split:
        called.append(len(fabric.nodes()))
        return Split(elapsed=fabric.run_until_idle(max_time=max_time), elsewhere=None)

    network = load_topology("er-vpn-backup")
    plan = compile_network(network)
    fabric = Fabric(plan.speakers)
    done = solve_cli._if_large(split, fabric, 3600, network, plan)
    assert done is not None
    assert done.elsewhere is None
    assert done.elapsed > 0
    assert called == []  # below LARGE: converged here, no fork

    monkeypatch.setattr(solve_cli, "LARGE", 1)
    fabric = Fabric(plan.speakers)
    solve_cli._if_large(split, fabric, 3600, network, plan)
    assert called == [len(plan.speakers)]


def test_cores_falls_back_to_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert solve_cli._cores() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert solve_cli._cores() == 1


def test_no_fork_no_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork")
    assert solve_cli._splitter(_args(2)) is None
