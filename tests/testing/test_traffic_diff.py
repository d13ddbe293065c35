"""lab.diff lists the watched flows whose verdict or path changed (the lab's intents, else
every matrix pair), lab.reachability and the intents of the testing API (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.azure.traffic.intents import Intent
from bgpemu.cli import main
from bgpemu.lab.engine import ENGINES
from bgpemu.testing import LabInputError
from tests.testing.helpers import TOPOLOGIES
from tests.testing.traffic_helpers import DATA, lab_of

FAILOVER = DATA / "topologies" / "er-vpn-failover.yaml"
FIREWALL = DATA / "topologies" / "firewall-symmetric.yaml"
TO_SPOKE = "CE:10.1.11.0/25 -> Spoke/App Tcp/443"


@pytest.mark.parametrize("engine", ENGINES)
async def test_diff_lists_the_flows_whose_path_changed(engine: str) -> None:
    """ExpressRoute down: the matrix pairs between on-prem and the spoke keep their
    verdict and change path; the diff says so after the route changes."""
    async with await lab_of(FAILOVER, engine) as lab:
        await lab.converged()
        before = lab.snapshot()
        await lab.er_private_peering_down("Circuit")
        await lab.converged()
        changes = lab.diff(before, lab.snapshot())
    names = [f.flow for f in changes.flows]
    assert TO_SPOKE in names
    change = changes.flow(TO_SPOKE)
    assert change is not None
    assert change.old is not None
    assert change.new is not None
    assert (change.old.verdict, change.new.verdict) == ("reachable", "reachable")
    assert "Circuit" in change.old.path
    assert "Circuit" not in change.new.path
    assert "VpnGW" in change.new.path
    text = str(changes)
    assert f"flow {TO_SPOKE}: was reachable via " in text
    assert ", now reachable via host behind CE -> CE -> Firewall -> VpnGW" in text
    assert text.index("flow ") > text.index("effective routes")  # after the route changes
    assert len(changes) == len(changes.changes) + len(changes.flows)


async def test_diff_lists_a_verdict_change_and_watches_intents() -> None:
    """With intents, only they are watched (by name); a UDR removed turns one asymmetric."""
    intents = [
        Intent(name="app-to-hub", source="App-vm", destination="Hub-vm", port=443),
        Intent(name="app-to-hub-ssh", source="App-vm", destination="Hub-vm", port=22),
    ]
    async with await lab_of(FIREWALL, "fabric") as lab:
        await lab.converged()
        results = lab.check_intents(intents)
        assert [(r.intent.name, r.actual.value, r.ok) for r in results] == [
            ("app-to-hub", "reachable", True),
            ("app-to-hub-ssh", "denied", False),
        ]
        before = lab.snapshot()
        await lab.edit_topology(
            "remove_route", {"vnet": "Hub", "routeTable": "workload-via-firewall", "name": "spoke"}
        )
        await lab.converged()
        changes = lab.diff(before, lab.snapshot())
    assert [(c.where, c.prefix) for c in changes.changes] == [("Hub/workload", "10.1.0.0/16")]
    assert [f.flow for f in changes.flows] == ["app-to-hub"]
    (change,) = changes.flows
    assert change.old is not None
    assert change.new is not None
    assert (change.old.verdict, change.new.verdict) == ("reachable", "asymmetric")
    assert (
        str(changes)
        .splitlines()[-1]
        .startswith(
            "  flow app-to-hub: was reachable via App-vm -> Firewall -> Hub-vm, now asymmetric ("
        )
    )
    assert change.to_json()["new"]["verdict"] == "asymmetric"


async def test_no_traffic_declared_no_flows_and_the_same_text() -> None:
    """A topology without interfaces, NSGs or firewalls watches no flow: its diff is the
    route diff alone (byte-identical output, the existing goldens)."""
    async with await lab_of(TOPOLOGIES / "er-vpn-backup.yaml", "fabric") as lab:
        await lab.converged()
        before = lab.snapshot()
        assert before.flows is None
        await lab.er_private_peering_down("Circuit")
        await lab.converged()
        changes = lab.diff(before, lab.snapshot())
    assert changes.flows == ()
    assert "flow " not in str(changes)
    assert str(changes).splitlines()[0] == f"{len(changes.changes)} changes:"


async def test_nothing_changed_means_no_flow_change() -> None:
    async with await lab_of(FAILOVER, "fabric") as lab:
        await lab.converged()
        before = lab.snapshot()
        await lab.advance(30)
        await lab.converged()
        changes = lab.diff(before, lab.snapshot())
    assert not changes
    assert str(changes) == "no change"


async def test_reachability_matrix_through_the_lab() -> None:
    async with await lab_of("s5-hub-nva.yaml", "fabric") as lab:
        await lab.converged()
        matrix = lab.reachability(port=443)
        assert matrix.verdict("Spoke1/App", "Spoke2/App").verdict.value == "reachable"
        assert sum(matrix.counts.values()) == len(matrix.pairs)
        with pytest.raises(LabInputError, match="protocol"):
            lab.reachability(protocol="sctp")


async def test_assert_intents_names_every_violated_intent(tmp_path: Path) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "intents:\n"
        "  - {name: web, source: VM1-nic, destination: VM2-nic, port: 443, expect: reachable}\n"
        "  - {name: ssh, source: VM1-nic, destination: VM2-nic, port: 22, expect: denied}\n"
        "  - {name: back, source: VM2-nic, destination: VM1-nic, port: 443, expect: denied}\n"
    )
    async with await lab_of("s5-hub-nva.yaml", "fabric") as lab:
        await lab.converged()
        with pytest.raises(AssertionError) as failed:
            lab.assert_intents(intents)
        message = str(failed.value)
        assert message.startswith("2 of 3 intents violated:")
        assert "ssh: expected denied, got reachable" in message
        assert "back: expected denied, got reachable" in message
        assert "VM2-nic -> nva-nic -> VM1-nic" in message
        assert [i.name for i in lab.intents] == ["web", "ssh", "back"]

        bad = tmp_path / "bad.yaml"
        bad.write_text("intents:\n  - {name: x, source: nobody, destination: VM2-nic, port: 1}\n")
        with pytest.raises(LabInputError, match="expect"):
            lab.check_intents(bad)
        with pytest.raises(LabInputError, match="nobody"):
            lab.check_intents([Intent(name="x", source="nobody", destination="VM2-nic", port=1)])


def test_cli_diff_lists_the_watched_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bgpemu diff --intents``: the intents' changes after the route changes (table) and
    under ``flows`` (json); a bad intents file is refused before anything runs."""
    change = tmp_path / "change.yaml"
    change.write_text("- {er_private_peering_down: Circuit}\n")
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "intents:\n"
        "  - {name: onprem-to-app, source: 10.1.11.10, destination: App-vm, port: 443,"
        " expect: reachable}\n"
    )
    args = ["diff", str(FAILOVER), "--change", str(change), "--intents", str(intents)]
    assert main(args) == 0
    out = capsys.readouterr().out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("  flow onprem-to-app: was reachable via host behind CE -> CE -> ")
    assert "CE -> Circuit -> ErGW -> App-vm" in last.partition(", now")[0]
    assert main([*args, "-o", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (flow,) = document["flows"]
    assert flow["flow"] == "onprem-to-app"
    assert (flow["old"]["verdict"], flow["new"]["verdict"]) == ("reachable", "reachable")
    assert "VpnGW" in flow["new"]["path"]

    intents.write_text("intents:\n  - {name: x, source: App-vm, destination: nowhere}\n")
    assert main(args) == 2
    assert "expect" in capsys.readouterr().err


def test_cli_diff_without_traffic_has_no_flows_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change = tmp_path / "change.yaml"
    change.write_text("- {er_private_peering_down: Circuit}\n")
    topology = str(TOPOLOGIES / "er-vpn-backup.yaml")
    assert main(["diff", topology, "--change", str(change), "-o", "json"]) == 0
    assert "flows" not in json.loads(capsys.readouterr().out)


SPLIT = """\
name: split-group
networkSecurityGroups: {App-nsg: {}}
nodes:
  VNet1:
    role: vnet
    addressSpace: [10.11.0.0/16]
    subnets:
      - name: App
        addressPrefix: 10.11.0.0/24
        networkSecurityGroup: App-nsg
        networkInterfaces: [{name: App-vm, privateIpAddress: 10.11.0.4}]
      - {name: GatewaySubnet, addressPrefix: 10.11.255.0/27}
  GW:
    role: vpn_gateway
    vnet: VNet1
    bgpPeeringAddresses: [10.11.255.30]
  Site:
    role: onprem
    asn: 65050
    bgpPeeringAddress: 10.51.255.254
    prefixes: [172.20.0.0/24, 172.20.1.0/24, 172.20.2.0/24]
connections:
  - {type: site_to_site, gateway: GW, site: Site, enableBgp: true}
"""


async def test_a_withdrawn_range_leaving_its_group_is_diffed_under_one_name(
    tmp_path: Path,
) -> None:
    """Regression: the matrix names an on-prem group by its first range; once that range
    is withdrawn it is a group of its own, and the rest is named by the next range.  The
    diff traces both sides on the union of the endpoints, one per name, so it lists the
    withdrawn range's flows with a verdict on each side (no 'not watched', no flow from a
    group to a same-named group)."""
    topology = tmp_path / "split.yaml"
    topology.write_text(SPLIT)
    async with await lab_of(topology, "fabric") as lab:
        await lab.converged()
        before = lab.snapshot()
        await lab.withdraw("Site", "172.20.0.0/24")
        await lab.converged()
        changes = lab.diff(before, lab.snapshot())
    assert changes.flows
    for change in changes.flows:
        assert change.old is not None, change
        assert change.new is not None, change
        assert "Site:172.20.0.0/24" in change.flow, change
        source, _, destination = change.flow.removesuffix(" Tcp/443").partition(" -> ")
        assert source != destination
    reach = changes.flow("Site:172.20.0.0/24 -> VNet1/App Tcp/443")
    assert reach is not None
    assert reach.old is not None
    assert reach.new is not None
    assert (reach.old.verdict, reach.new.verdict) == ("reachable", "denied")
