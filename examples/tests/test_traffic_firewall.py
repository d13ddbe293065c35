"""Example: spokes talk through the hub's Azure Firewall. Is HTTPS allowed and SSH denied,
by which rule, and which flows break if someone deletes a route?
(topologies/traffic/s8-firewall-rules.yaml)

Runs in both engines: the in-memory fabric (virtual time) and real speakers over TCP.
"""

from pathlib import Path

import pytest

from bgpemu.azure.traffic.intents import Intent
from bgpemu.testing import ENGINES
from bgpemu.testing.plugin import LabFactory

TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "traffic" / "s8-firewall-rules.yaml"

INTENTS = [
    Intent(name="web", source="VM1-nic", destination="VM2-nic", port=443),
    Intent(name="no-ssh", source="VM1-nic", destination="VM2-nic", port=22, expect="denied"),
]


@pytest.mark.parametrize("engine", ENGINES)
async def test_spoke_to_spoke_through_the_firewall(bgpemu_lab: LabFactory, engine: str) -> None:
    lab = await bgpemu_lab(TOPOLOGY, engine=engine)
    await lab.converged()

    web = lab.assert_reachable("VM1-nic", "VM2-nic", 443)  # fails with the trace explained
    assert [hop.name for hop in web.paths[0].hops] == ["VM1-nic", "HubFirewall", "VM2-nic"]
    ssh = lab.assert_verdict("VM1-nic", "VM2-nic", "denied", port=22)
    print(ssh.reason)  # which rule of which collection denied it
    lab.assert_intents(INTENTS)  # from now on, lab.diff watches these two flows

    # What if someone deletes Spoke1's route to Spoke2 and its default route?
    before = lab.snapshot()
    for route in ("spoke2", "default"):
        await lab.edit_topology(
            "remove_route", {"vnet": "Spoke1", "routeTable": "via-firewall", "name": route}
        )
    await lab.converged()
    changes = lab.diff(before, lab.snapshot())
    print(changes)
    web_change = changes.flow("web")
    assert web_change is not None
    assert web_change.new is not None
    assert web_change.new.verdict == "dropped_none_route"  # falls on 10.0.0.0/8 -> None
    ssh_change = changes.flow("no-ssh")  # still unreachable, now for another reason
    assert ssh_change is not None
    assert ssh_change.new is not None
    assert ssh_change.new.verdict == "dropped_none_route"
