"""Issue 14, "Must show": what a failure does to traffic, in BOTH engines (the fabric in
virtual time, the TCP lab with the lab's short timers).

* ExpressRoute private peering down: on-prem -> spoke moves from the ExpressRoute path to
  the VPN path, the verdict unchanged.
* The active NVA of a pair crashes silently: traffic moves to the passive NVA once the
  Route Server's hold timer expires (the fabric's convergence ends at that deadline).
* A UDR removed by a topology edit (``remove_route``): the reply bypasses the firewall
  the request crosses, and the trace says asymmetric (azure-traffic.md §6 P1).

The topologies are under tests/data/traffic/topologies/ (each header says what it shows).
"""

from __future__ import annotations

import pytest

from bgpemu.azure.traffic.hops import HopType, Verdict
from bgpemu.azure.traffic.trace import Trace
from bgpemu.lab.engine import ENGINES
from tests.testing.traffic_helpers import DATA, lab_of

pytestmark = pytest.mark.parametrize("engine", ENGINES)

TOPOLOGIES = DATA / "topologies"
ONPREM_HOST = "10.1.11.10"
"""A host in CE's (and the on-prem Firewall router's) announced range 10.1.11.0/25."""
INTERNET_HOST = "13.107.21.200"
LAB_HOLD = 9.0
"""The lab timers' hold time (``timers="lab"``: keepalive 3 s, hold 9 s)."""


def kinds(answer: Trace) -> set[tuple[str, str]]:
    """(hop type, name) of every hop of every forward path."""
    return {(h.type.value, h.name) for p in answer.paths for h in p.hops}


async def test_er_private_peering_down_moves_onprem_to_spoke_onto_the_vpn(engine: str) -> None:
    async with await lab_of(TOPOLOGIES / "er-vpn-failover.yaml", engine) as lab:
        await lab.converged()
        before = lab.assert_reachable(ONPREM_HOST, "App-vm", 443)
        assert ("ExpressRouteCircuit", "Circuit") in kinds(before)
        assert ("VirtualNetworkGateway", "ErGW") in kinds(before)
        assert ("VirtualNetworkGateway", "VpnGW") not in kinds(before)

        await lab.er_private_peering_down("Circuit")
        await lab.converged()
        after = lab.assert_reachable(ONPREM_HOST, "App-vm", 443)
        assert ("VirtualNetworkGateway", "VpnGW") in kinds(after)
        assert not {k for k in kinds(after) if k[1] in ("Circuit", "ErGW")}
        # Both VPN gateway instances carry it (active-active, ECMP at the on-prem edge).
        assert {h.address for p in after.paths for h in p.hops if h.name == "VpnGW"} == {
            "10.17.11.76",
            "10.17.11.77",
        }
        # The same NSG rule admits it on either path.
        rules = {c.rule_name for a in (before, after) for p in a.paths for c in p.hops[-1].checks}
        assert rules == {"defaultSecurityRules/AllowVnetInBound"}

        await lab.er_private_peering_up("Circuit")
        await lab.converged()
        again = lab.assert_reachable(ONPREM_HOST, "App-vm", 443)
        assert kinds(again) == kinds(before)


async def test_active_nva_crash_moves_traffic_to_the_passive_one(engine: str) -> None:
    async with await lab_of(TOPOLOGIES / "nva-pair-failover.yaml", engine, processes=None) as lab:
        await lab.converged()
        before = lab.assert_reachable("App-vm", INTERNET_HOST, 443)
        assert [h.name for h in before.paths[0].hops] == ["App-vm", "nva1", "Internet"]

        await lab.crash("nva1")
        report = await lab.converged(timeout=60)
        after = lab.assert_reachable("App-vm", INTERNET_HOST, 443)
        assert [h.name for h in after.paths[0].hops] == ["App-vm", "nva2", "Internet"]
        assert after.paths[0].hops[1].address == "10.0.1.5"
        if engine == "fabric":
            # A silent crash: the Route Server withdraws nva1's route when its hold timer
            # expires, at most one hold time after the crash (virtual seconds).
            assert LAB_HOLD - 3.0 - 0.01 <= report.duration_s <= LAB_HOLD + 0.1


async def test_udr_removed_the_reply_bypasses_the_firewall(engine: str) -> None:
    async with await lab_of(TOPOLOGIES / "firewall-symmetric.yaml", engine) as lab:
        await lab.converged()
        symmetric = lab.assert_reachable("App-vm", "Hub-vm", 443)
        assert {p.stateful for p in symmetric.paths} == {("Firewall",)}
        assert {p.stateful for p in symmetric.reply_paths} == {("Firewall",)}

        await lab.edit_topology(
            "remove_route", {"vnet": "Hub", "routeTable": "workload-via-firewall", "name": "spoke"}
        )
        await lab.converged()
        answer = lab.assert_verdict("App-vm", "Hub-vm", "asymmetric", port=443)
    assert [p.verdict for p in answer.paths] == [Verdict.REACHABLE]
    assert [h.name for h in answer.paths[0].hops] == ["App-vm", "Firewall", "Hub-vm"]
    (reply,) = answer.reply_paths
    assert [(h.type, h.name) for h in reply.hops] == [
        (HopType.SOURCE, "Hub-vm"),
        (HopType.VNET_PEERING, "App-vm"),
    ]
    assert "Firewall" in answer.reason
    assert "P1" in {w.id for w in answer.warnings}
