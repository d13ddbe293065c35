"""Testing API for users' convergence tests (issue 6): a lab in either engine, exact
convergence, Azure-shaped tables, failure injection and readable diffs; and (issue 14)
traffic: traces, next hop, IP flow verify, the reachability matrix, intents and
assertions that explain a trace (:mod:`bgpemu.testing.traffic`), flows in diffs.

::

    async with await start_lab("er-vpn-backup", engine="fabric") as lab:
        await lab.converged()
        before = lab.snapshot()
        await lab.er_private_peering_down("Circuit")
        report = await lab.converged()
        print(report, lab.diff(before, lab.snapshot()))

The pytest plugin (:mod:`bgpemu.testing.plugin`, loaded by its entry point) adds the
``bgpemu_lab`` fixture and the ``--bgpemu-engine`` option.  See docs/testing.md.
"""

from bgpemu.lab.errors import LabInputError
from bgpemu.testing.diff import Change, Diff, FlowChange, FlowState, LabSnapshot, Route
from bgpemu.testing.lab import ENGINES, Convergence, Lab, LabStateError, start_lab

__all__ = [
    "ENGINES",
    "Change",
    "Convergence",
    "Diff",
    "FlowChange",
    "FlowState",
    "Lab",
    "LabInputError",
    "LabSnapshot",
    "LabStateError",
    "Route",
    "start_lab",
]
