"""The testing API on a firewall `undetermined` decision (decision §9.9 of
azure-traffic.md): neither assert_reachable nor assert_unreachable holds, the verdict
is asserted by name.  The assertions are pure over a traffic index, so a stand-in lab
serves one built in code (no engine needed)."""

from __future__ import annotations

import pytest

from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.testing.traffic import LabTraffic
from tests.unit.azure.traffic.networks import context
from tests.unit.azure.traffic.test_trace import firewalled, with_application_rule


class _Lab(LabTraffic):
    """A lab whose converged network is the firewalled S5 with an application rule."""

    def __init__(self) -> None:
        self._ctx = context(with_application_rule(firewalled()))

    def traffic(self) -> TrafficContext:
        return self._ctx


def test_undetermined_is_neither_reachable_nor_unreachable() -> None:
    lab = _Lab()
    with pytest.raises(AssertionError, match="expected reachable, got undetermined"):
        lab.assert_reachable("vm1", "vm2", 8443)
    with pytest.raises(AssertionError, match="expected unreachable, got undetermined"):
        lab.assert_unreachable("vm1", "vm2", 8443)
    answer = lab.assert_verdict("vm1", "vm2", "undetermined", port=8443)
    assert answer.verdict is Verdict.UNDETERMINED
    lab.assert_unreachable("vm1", "vm2", 22)
