"""The §8 scenarios of azure-traffic.md on the reference topologies (topologies/traffic/),
asked through the testing API in BOTH engines: the fabric and the TCP lab must give the same
answers, the answers §8 states, and the golden files' (tests/data/traffic/)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bgpemu.azure.model import VNet
from bgpemu.azure.security import NetworkInterface
from bgpemu.azure.traffic.hops import Verdict
from bgpemu.lab.engine import ENGINES
from bgpemu.testing import Lab, LabInputError, LabStateError
from tests.testing.traffic_helpers import DATA, check_golden, lab_of

pytestmark = pytest.mark.parametrize("engine", ENGINES)

INTERNET_HOST = "13.107.21.200"
S1_VMS = ("VM1-nic", "VM2-nic", "VM3-nic", "VM4-nic")


def _decided(answer: dict[str, Any]) -> tuple[str, str | None]:
    return answer["access"], answer["ruleName"]


# --------------------------------------------------------------------------- S1


def _s1_answers(lab: Lab) -> dict[str, Any]:
    return {
        vm: {
            "inbound": lab.ip_flow(vm, INTERNET_HOST, port=80, direction="Inbound"),
            "outbound": lab.ip_flow(vm, INTERNET_HOST, port=80, direction="Outbound"),
        }
        for vm in S1_VMS
    }


S1_EXPECTED = {
    # §2.2: (inbound TCP 80 from the Internet, outbound to Internet:80), access only.
    "s1-nsg-per-vm.yaml": {
        "VM1-nic": ("Deny", "Allow"),
        "VM2-nic": ("Deny", "Allow"),
        "VM3-nic": ("Deny", "Allow"),
        "VM4-nic": ("Allow", "Allow"),
    },
    "s1-nsg1-allows-80.yaml": {
        "VM1-nic": ("Deny", "Allow"),
        "VM2-nic": ("Allow", "Allow"),
        "VM3-nic": ("Deny", "Allow"),
        "VM4-nic": ("Allow", "Allow"),
    },
    "s1-nsg2-denies-80.yaml": {
        "VM1-nic": ("Deny", "Deny"),
        "VM2-nic": ("Deny", "Allow"),
        "VM3-nic": ("Deny", "Deny"),
        "VM4-nic": ("Allow", "Allow"),
    },
}


@pytest.mark.parametrize("topology", sorted(S1_EXPECTED))
async def test_s1_every_cell_of_the_nsg_table(engine: str, topology: str) -> None:
    """§8 S1 / §2.2: every VM, both directions, in the three variants."""
    async with await lab_of(topology, engine) as lab:
        await lab.converged()
        answers = _s1_answers(lab)
    got = {vm: (a["inbound"]["access"], a["outbound"]["access"]) for vm, a in answers.items()}
    assert got == S1_EXPECTED[topology]
    check_golden(f"lab-{topology.removesuffix('.yaml')}", answers)


async def test_s1_deciding_rules(engine: str) -> None:
    """§8 S1: VM1 inbound by NSG1's DenyAllInBound, NSG2 not evaluated; VM1 behind both
    NSGs needs both to allow; VM3 outbound by NSG2's user rule."""
    async with await lab_of("s1-nsg-per-vm.yaml", engine) as lab:
        await lab.converged()
        vm1_in = lab.ip_flow("VM1-nic", INTERNET_HOST, port=80, direction="Inbound")
    assert _decided(vm1_in) == ("Deny", "defaultSecurityRules/DenyAllInBound")
    async with await lab_of("s1-nsg2-denies-80.yaml", engine) as lab:
        await lab.converged()
        vm3_out = lab.ip_flow("VM3-nic", INTERNET_HOST, port=80)
    assert vm3_out["access"] == "Deny"
    assert vm3_out["ruleName"].startswith("securityRules/")


# --------------------------------------------------------------------------- S2


async def test_s2_ip_flow_verify_shares_the_unit_tests_golden(engine: str) -> None:
    """§8 S2: the lab answers the quickstart's rows as the pure function does
    (tests/data/traffic/s2_ip_flow_verify.json, written by the unit tests)."""
    rows = json.loads((DATA / "s2_ip_flow_verify.json").read_text())
    async with await lab_of("s2-one-vm.yaml", engine) as lab:
        await lab.converged()
        for row in rows:
            source, sport = row["source"].split(":")
            destination, dport = row["destination"].split(":")
            if row["direction"] == "Outbound":
                remote, port, remote_port = destination, int(dport), int(sport)
            else:
                remote, port, remote_port = source, int(dport), int(sport)
            answer = lab.ip_flow(
                "myVm-nic",
                remote,
                port=port,
                remote_port=remote_port,
                direction=row["direction"],
                protocol=row["protocol"],
            )
            assert answer == row["answer"], row


async def test_s2_next_hop(engine: str) -> None:
    """§8 S2: Internet and the 172.16.0.0/12 None route; VnetLocal once 172.16/12 is the
    VNet's own."""
    async with await lab_of("s2-one-vm.yaml", engine) as lab:
        await lab.converged()
        internet = lab.next_hop("myVm-nic", INTERNET_HOST)
        private = lab.next_hop("myVm-nic", "172.31.0.100")
    assert internet == {
        "nextHopType": "Internet",
        "nextHopIpAddress": None,
        "routeTableId": "System Route",
    }
    assert private["nextHopType"] == "None"
    async with await lab_of("s2-one-vm-172.yaml", engine) as lab:
        await lab.converged()
        assert lab.next_hop("myVm-nic", "172.31.0.100")["nextHopType"] == "VnetLocal"


# --------------------------------------------------------------------------- S3


async def test_s3_peered_vms_reach_each_other(engine: str) -> None:
    """§8 S3: VM-B -> VM-A 443 allowed by the default rules, VirtualNetwork holding the peer."""
    async with await lab_of("s3-peered-vnets.yaml", engine) as lab:
        await lab.converged()
        answer = lab.assert_reachable("VM-B-nic", "VM-A-nic", 443)
    rules = [c.rule_name for p in answer.paths for h in p.hops for c in h.checks]
    assert rules == [
        "defaultSecurityRules/AllowVnetOutBound",
        "defaultSecurityRules/AllowVnetInBound",
    ]
    check_golden("lab-s3-peered-vnets", answer.to_json())


async def test_s3_deny_rule_in_a_acts_on_the_peer_and_replies_pass(engine: str) -> None:
    """§8 S3 second bullet: A's Deny for 10.1/16 stops VM-B -> VM-A at A's subnet NSG;
    VM-A -> VM-B is allowed and its reply passes (stateful)."""
    async with await lab_of("s3-peered-vnets-deny.yaml", engine) as lab:
        await lab.converged()
        denied = lab.assert_verdict("VM-B-nic", "VM-A-nic", "denied", port=443)
        allowed = lab.assert_reachable("VM-A-nic", "VM-B-nic", 443)
    last = denied.paths[0].hops[-1]
    assert last.name == "VM-A-nic"
    assert [(c.resource, c.association, c.rule_name, c.access) for c in last.checks] == [
        ("NSG-A", "subnet", "securityRules/Deny-VNetB-In", "Deny")
    ]
    assert allowed.reply_paths
    assert all(p.verdict is Verdict.REACHABLE for p in allowed.reply_paths)
    check_golden("lab-s3-peered-vnets-deny", {"bToA": denied.to_json(), "aToB": allowed.to_json()})


async def test_s3_effective_security_rules_expand_the_peer(engine: str) -> None:
    """§8 S3 / §4.1: A's subnet NSG lists its Deny first, and VirtualNetwork expands to
    A's range, the peer's and 168.63.129.16/32 (§3.1)."""
    async with await lab_of("s3-peered-vnets-deny.yaml", engine) as lab:
        await lab.converged()
        answer = lab.effective_security_rules("VM-A-nic")
        assert lab.effective_security_rules("10.0.0.4") == answer  # by address too
    (entry,) = answer["value"]
    assert "subnet" in entry["association"]
    rules = entry["effectiveSecurityRules"]
    assert rules[0]["name"] == "securityRules/Deny-VNetB-In"
    allow_vnet = next(r for r in rules if r["name"] == "defaultSecurityRules/AllowVnetInBound")
    assert sorted(allow_vnet["expandedSourceAddressPrefix"]) == [
        "10.0.0.0/16",
        "10.1.0.0/16",
        "168.63.129.16/32",
    ]


async def test_seed_note_an_nsg_acts_on_peered_traffic_as_on_local_traffic(engine: str) -> None:
    """The seed's note: A's inbound Deny for a source range decides a flow from the peered
    VNet exactly as it decides the same flow from a VM of A's own VNet: same hop, same
    NSG, same rule, same verdict."""
    async with await lab_of("s3-peered-vnets-deny.yaml", engine) as lab:
        await lab.converged()
        peered = lab.assert_verdict("VM-B-nic", "VM-A-nic", "denied", port=443)
        # The same rule, aimed at a local source: a second VM in A's subnet (10.0.0.5).
        network = lab.network
        nsg = network.network_security_groups[0]
        assert nsg.name == "NSG-A"
        rule = replace(nsg.security_rules[0], source_address_prefixes=("10.0.0.5/32",))
        vnet_a = network.node("VNetA")
        assert isinstance(vnet_a, VNet)
        subnet = vnet_a.subnets[0]
        local_vm = NetworkInterface(
            name="VM-A2-nic", vnet="VNetA", subnet=subnet.name, private_ip_address="10.0.0.5"
        )
        local = replace(
            network,
            network_security_groups=(
                replace(nsg, security_rules=(rule,)),
                *network.network_security_groups[1:],
            ),
            nodes=tuple(
                replace(
                    n,
                    subnets=(
                        replace(
                            subnet,
                            network_interfaces=(*subnet.network_interfaces, local_vm),
                        ),
                    ),
                )
                if n is vnet_a
                else n
                for n in network.nodes
            ),
        )
        await lab.apply_topology(local)
        await lab.converged()
        from_local = lab.assert_verdict("VM-A2-nic", "VM-A-nic", "denied", port=443)
        from_peer_now = lab.trace("VM-B-nic", "VM-A-nic", port=443)

    def decision(answer: Any) -> list[tuple[str, str, str, str, str]]:
        hop = answer.paths[0].hops[-1]
        return [(hop.name, c.resource, c.association, c.rule_name, c.access) for c in hop.checks]

    assert decision(from_local) == decision(peered)
    assert from_peer_now.verdict is Verdict.REACHABLE  # the rule no longer names 10.1/16


# --------------------------------------------------------------------------- S5

S5_VERDICTS = {
    "s5-hub-nva.yaml": Verdict.REACHABLE,
    "s5-no-udrs.yaml": Verdict.DROPPED_NONE_ROUTE,
    "s5-ip-forwarding-off.yaml": Verdict.IP_FORWARDING_OFF,
    "s5-no-forwarded-traffic.yaml": Verdict.DENIED,
    # §8 S5 row 5 says the reply is lost; with the default NSG on Spoke2 the request is
    # stopped first: 10.1/16 is in neither Spoke2's VirtualNetwork tag (no UDR for it,
    # no peering with Spoke1; decision §9.1) nor Internet, so DenyAllInBound decides.
    "s5-udr-spoke1-only.yaml": Verdict.DENIED,
}


@pytest.mark.parametrize("topology", sorted(S5_VERDICTS))
async def test_s5_spoke_to_spoke_through_the_hub_nva(engine: str, topology: str) -> None:
    """§8 S5, every row: VM1 -> VM2 TCP 443."""
    async with await lab_of(topology, engine) as lab:
        await lab.converged()
        answer = lab.assert_verdict("VM1-nic", "VM2-nic", S5_VERDICTS[topology], port=443)
    if topology == "s5-hub-nva.yaml":
        assert [h.name for h in answer.paths[0].hops] == ["VM1-nic", "nva-nic", "VM2-nic"]
        # The same answer as `bgpemu trace` (tests/cli/test_traffic_cli.py's golden).
        shared = json.loads((DATA / "cli-s5-trace.json").read_text())
        assert answer.to_connectivity_check() == shared
        assert [h.name for h in answer.reply_paths[0].hops] == ["VM2-nic", "nva-nic", "VM1-nic"]
    if topology == "s5-udr-spoke1-only.yaml":
        last = answer.paths[0].hops[-1]
        assert (last.name, [c.rule_name for c in last.checks]) == (
            "VM2-nic",
            ["defaultSecurityRules/DenyAllInBound"],
        )
    check_golden(f"lab-{topology.removesuffix('.yaml')}", answer.to_json())


# --------------------------------------------------------------------------- S6


async def test_s6_connection_troubleshoot_through_two_nvas(engine: str) -> None:
    """§8 S6: app -> DB TCP 80 Unreachable, UserRule_Port80 outbound at the second NVA;
    app -> 13.107.21.200:80 dropped by the user route (issue UserDefinedRoute)."""
    async with await lab_of("s6-two-nvas.yaml", engine) as lab:
        await lab.converged()
        to_db = lab.assert_unreachable("appNic0", "dbNic0", 80)
        to_web = lab.assert_verdict("appNic0", INTERNET_HOST, "dropped_none_route", port=80)
    check = to_db.to_connectivity_check()
    assert check["connectionStatus"] == "Unreachable"
    assert (check["probesSent"], check["probesFailed"]) == (100, 100)
    assert [(h["type"], h["address"]) for h in check["hops"]] == [
        ("Source", "10.1.1.4"),
        ("VirtualAppliance", "10.1.2.4"),
        ("VirtualAppliance", "10.1.3.4"),
        ("VnetLocal", "10.1.4.4"),
    ]
    issue = check["hops"][2]["issues"][0]
    assert (issue["origin"], issue["type"]) == ("Outbound", "NetworkSecurityRule")
    assert issue["context"] == [{"key": "RuleName", "value": "UserRule_Port80"}]
    web = to_web.to_connectivity_check()
    assert [h["type"] for h in web["hops"]] == ["Source", "Destination"]
    assert web["hops"][0]["issues"][0]["context"] == [{"key": "RouteType", "value": "User"}]
    # The same answer as `bgpemu trace` (tests/cli/test_traffic_cli.py's golden).
    assert check == json.loads((DATA / "cli-s6-trace.json").read_text())
    check_golden("lab-s6-two-nvas", {"toInternet": web})


# --------------------------------------------------------------------------- S7

S7_FLOWS = [
    # (source, destination, port, protocol, direction of the deciding IP flow verify)
    (INTERNET_HOST, "NIC1", 80, "Allow", "securityRules/Allow-HTTP-Inbound-Internet"),
    (INTERNET_HOST, "NIC3", 80, "Deny", "defaultSecurityRules/DenyAllInBound"),
]
S7_TRACES = [
    ("NIC3", "NIC4", 1433, Verdict.REACHABLE, "securityRules/Allow-Database-BusinessLogic"),
    ("NIC1", "NIC4", 1433, Verdict.DENIED, "securityRules/Deny-Database-All"),
    ("NIC1", "NIC3", 443, Verdict.REACHABLE, "defaultSecurityRules/AllowVnetInBound"),
]


async def test_s7_application_security_groups(engine: str) -> None:
    """§8 S7, every row with its deciding rule (the inbound rule at the destination)."""
    async with await lab_of("s7-asgs.yaml", engine) as lab:
        await lab.converged()
        for remote, nic, port, access, rule in S7_FLOWS:
            answer = lab.ip_flow(nic, remote, port=port, direction="Inbound")
            assert _decided(answer) == (access, rule), (remote, nic)
        for source, destination, port, verdict, rule in S7_TRACES:
            traced = lab.assert_verdict(source, destination, verdict, port=port)
            inbound = [
                c.rule_name
                for h in traced.paths[0].hops
                for c in h.checks
                if c.direction == "Inbound"
            ]
            assert inbound[-1] == rule, (source, destination)


# --------------------------------------------------------------------------- S8


async def test_s8_firewall_rule_ordering(engine: str) -> None:
    """§8 S8: SSH denied by Deny-collection (priority 100 before 200); HTTPS to a public
    address allowed by the network rule before any application rule."""
    async with await lab_of("s8-firewall-rules.yaml", engine) as lab:
        await lab.converged()
        ssh = lab.assert_verdict("VM1-nic", "VM2-nic", "denied", port=22)
        web = lab.assert_reachable("VM1-nic", "142.250.0.1", 443)

    def firewall_rules(answer: Any) -> list[tuple[str, str]]:
        return [
            (c.access, c.rule_name)
            for p in answer.paths
            for h in p.hops
            for c in h.checks
            if c.kind == "AzureFirewall"
        ]

    (access, rule), *_ = firewall_rules(ssh)
    assert access == "Deny"
    assert "Deny-collection" in rule
    (access, rule), *_ = firewall_rules(web)
    assert access == "Allow"
    assert "Allow-collection" in rule
    check_golden("lab-s8-firewall-rules", {"ssh": ssh.to_json(), "web": web.to_json()})


# --------------------------------------------------------------------------- S9


async def test_s9_destination_vm_stopped(engine: str) -> None:
    """§8 S9: AllowVnetOutBound at the source, the peering route, and no packet reaches
    the stopped VM."""
    async with await lab_of("s9-vm-stopped.yaml", engine) as lab:
        await lab.converged()
        answer = lab.assert_unreachable("vmSrc-nic", "vmDst-nic", 443)
    (path,) = answer.paths
    source = path.hops[0]
    assert [c.rule_name for c in source.checks] == ["defaultSecurityRules/AllowVnetOutBound"]
    assert source.route is not None
    assert (source.route.prefix, source.route.next_hop_type) == ("10.1.0.0/16", "VNetPeering")
    assert path.hops[-1].name == "vmDst-nic"
    assert "not running" in answer.reason
    check_golden("lab-s9-vm-stopped", answer.to_json())


# --------------------------------------------------------------------------- bad input


async def test_unknown_names_and_addresses_are_named(engine: str) -> None:
    """A trace from a name or an address nothing holds says which and why."""
    async with await lab_of("s5-hub-nva.yaml", engine) as lab:
        await lab.converged()
        with pytest.raises(LabInputError, match="no-such-vm"):
            lab.trace("no-such-vm", "VM2-nic", port=443)
        with pytest.raises(LabInputError, match=r"10\.9\.9\.9"):
            lab.trace("10.9.9.9", "VM2-nic", port=443)
        with pytest.raises(LabInputError, match="protocol"):
            lab.trace("VM1-nic", "VM2-nic", port=443, protocol="sctp")
        with pytest.raises(LabInputError, match="direction"):
            lab.ip_flow("VM1-nic", "10.2.1.4", port=443, direction="Sideways")
        with pytest.raises(LabInputError, match="verdict"):
            lab.assert_verdict("VM1-nic", "VM2-nic", "maybe", port=443)
        with pytest.raises(LabInputError, match="port"):
            lab.trace("VM1-nic", "VM2-nic", port=70000)
        # Answers are those of the last convergence: none between a change and the next.
        await lab.edit_topology(
            "remove_route", {"vnet": "Spoke1", "routeTable": "to-spoke2", "name": "spoke2-via-nva"}
        )
        with pytest.raises(LabStateError):
            lab.trace("VM1-nic", "VM2-nic", port=443)
        await lab.converged()
        assert lab.trace("VM1-nic", "VM2-nic", port=443).verdict is Verdict.DROPPED_NONE_ROUTE
