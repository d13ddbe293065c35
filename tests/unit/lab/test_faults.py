"""How a lab describes a worker process that died or froze (bgpemu.lab.faults)."""

from __future__ import annotations

import dataclasses
import multiprocessing
from pathlib import Path

import pytest

from bgpemu.azure.roles import compile_network
from bgpemu.lab.faults import WorkerEvent, WorkerFault, exit_cause, is_stopped, signal_name
from bgpemu.lab.protocol import Fatal
from bgpemu.lab.worker import WorkerConfig, worker_main
from bgpemu.topology import load_topology

TOPOLOGIES = Path(__file__).resolve().parents[3] / "topologies"


@pytest.mark.parametrize(
    ("exitcode", "fatal", "cause"),
    [
        (-9, None, "was killed by signal 9 (SIGKILL)"),
        (-11, None, "was killed by signal 11 (SIGSEGV)"),
        (1, "KeyError: 'x' (at worker.py:9 in f)", "exited with status 1: KeyError: 'x' (at "),
        (0, None, "exited with status 0"),
        (None, None, "closed its pipe to the lab"),
    ],
)
def test_exit_causes_name_the_signal_or_the_status_and_the_error(
    exitcode: int | None, fatal: str | None, cause: str
) -> None:
    assert exit_cause(exitcode, fatal).startswith(cause)


def test_a_signal_without_a_name_is_still_named_by_number() -> None:
    assert signal_name(9) == "SIGKILL"
    assert signal_name(200) == "signal 200"


@pytest.mark.parametrize(
    ("stat", "stopped"),
    [
        ("4711 (python) S 1 4711 4711 0 -1", False),
        ("4711 (python) R 1 4711 4711 0 -1", False),
        ("4711 (python) T 1 4711 4711 0 -1", True),
        ("4711 (python) t 1 4711 4711 0 -1", True),
        ("4711 (a) T (b) S 1 4711", False),  # the name holds ") T (": read after the last )
        ("4711 (a) T (b) T 1 4711", True),
        ("", False),
        ("garbage", False),
    ],
)
def test_the_stopped_state_is_read_after_the_command_name(stat: str, stopped: bool) -> None:
    assert is_stopped(stat) is stopped


def test_a_fault_names_the_worker_its_process_its_speakers_and_the_cause() -> None:
    fault = WorkerFault(
        event=WorkerEvent.EXITED,
        worker=2,
        pid=4711,
        speakers=("HubGW", "SiteB"),
        cause=exit_cause(-9),
        at=0.0,
    )
    assert fault.describe() == (
        "lab worker 2 (pid 4711; speakers HubGW, SiteB) was killed by signal 9 (SIGKILL)"
    )


def test_a_worker_dying_of_an_exception_tells_the_parent_what_and_where() -> None:
    """A real worker process whose start fails (a speaker without its endpoint)."""
    plan = compile_network(load_topology(TOPOLOGIES / "s2s-transit.yaml"))
    nope = dataclasses.replace(plan.speakers[0], name="Nope")
    config = WorkerConfig(specs=(nope,), endpoints=plan.endpoints)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=worker_main, args=(config, child), daemon=True)
    process.start()
    child.close()
    try:
        assert parent.poll(30)
        message = parent.recv()
        process.join(30)
    finally:
        if process.is_alive():
            process.kill()
        parent.close()
    assert isinstance(message, Fatal)
    assert message.error.startswith("KeyError: 'Nope' (at worker.py:")
    assert process.exitcode == 1
    assert exit_cause(process.exitcode, message.error).startswith(
        "exited with status 1: KeyError: 'Nope'"
    )
