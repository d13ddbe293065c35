"""Topology changes in a running lab (issue 6), both engines: a VNet with its peerings, a VPN
site with its connection and a vWAN hub connection come and go; no existing session drops, only
the routes that should change do, and removing the addition restores the tables exactly."""

from __future__ import annotations

from typing import Any

import pytest

from bgpemu.testing import ENGINES, Lab, LabInputError, LabSnapshot, start_lab
from tests.testing.helpers import TOPOLOGIES, effective_hops, node_hops

SPOKE3: dict[str, Any] = {
    "role": "vnet",
    "addressSpace": ["10.3.0.0/16"],
    "subnets": [{"name": "App", "addressPrefix": "10.3.1.0/24"}],
}


def _sessions(snap: LabSnapshot) -> dict[tuple[str, str], tuple[str, float | None]]:
    """(speaker, peer) -> (state, when the current Established began)."""
    return {
        (name, p.peer): (p.state, p.established_at)
        for name, router in snap.routers.items()
        for p in router.peers
    }


def _transitions(lab: Lab) -> dict[tuple[str, str], int]:
    if lab.kind != "fabric":
        return {}
    return {
        (name, peer): s.counters.established_transitions
        for name in lab.fabric.nodes()
        for peer, s in lab.fabric.sessions(name).items()
    }


def _kept(lab: Lab, before: dict[tuple[str, str], tuple[str, float | None]]) -> None:
    """Every session of ``before`` is still up, never having dropped."""
    now = _sessions(lab.snapshot())
    assert {k: now.get(k) for k in before} == before


async def _add_spoke3(lab: Lab) -> None:
    await lab.add_node("Spoke3", SPOKE3)
    await lab.add_peering("Hub", "Spoke3", allowForwardedTraffic=True, allowGatewayTransit=True)
    await lab.add_peering("Spoke3", "Hub", allow_forwarded_traffic=True, use_remote_gateways=True)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_spoke_peered_at_runtime_gets_gateway_routes_and_nothing_else_changes(
    engine: str,
) -> None:
    async with await start_lab(TOPOLOGIES / "hub-spoke-transit.yaml", engine) as lab:
        await lab.converged()
        before = lab.snapshot()
        sessions = _sessions(before)
        assert sessions
        assert {s for s, _ in sessions.values()} == {"Established"}
        transitions = _transitions(lab)

        await _add_spoke3(lab)
        report = await lab.converged()
        assert report.updates > 0
        _kept(lab, sessions)
        assert _transitions(lab) == transitions
        assert node_hops(lab, "OnPrem", "10.3.0.0/16") == ["10.0.255.4"]  # via the VPN gateway
        assert effective_hops(lab, "Spoke3/App", "192.168.0.0/16") == ["10.0.255.4"]
        hub = [
            r
            for r in lab.effective_routes("Hub/Shared")["value"]
            if r["addressPrefix"] == ["10.3.0.0/16"]
        ]
        assert [r["nextHopType"] for r in hub] == ["VNetPeering"]
        changes = lab.diff(before, lab.snapshot())
        assert changes
        assert {c.prefix for c in changes.changes if c.kind == "node"} == {"10.3.0.0/16"}
        unexpected = [
            c
            for c in changes.changes
            if c.prefix != "10.3.0.0/16" and not (c.where or "").startswith("Spoke3")
        ]
        assert not unexpected, changes

        await lab.remove_peering("Spoke3", "Hub")
        await lab.remove_peering("Hub", "Spoke3")
        await lab.remove_node("Spoke3")
        await lab.converged()
        _kept(lab, sessions)
        assert not lab.diff(before, lab.snapshot())
        assert lab.document == before_document(lab)


def before_document(lab: Lab) -> dict[str, Any]:
    """The file as written: the document of record a lab started from it holds."""
    import yaml

    document: dict[str, Any] = yaml.safe_load((TOPOLOGIES / "hub-spoke-transit.yaml").read_text())
    return document


BRANCH: dict[str, Any] = {
    "role": "onprem",
    "asn": 65020,
    "bgpPeeringAddress": "172.16.9.1",
    "prefixes": ["10.60.0.0/16"],
}


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_vpn_site_connected_at_runtime_and_disconnected(engine: str) -> None:
    async with await start_lab(TOPOLOGIES / "hub-spoke-transit.yaml", engine) as lab:
        await lab.converged()
        before = lab.snapshot()
        sessions = _sessions(before)

        await lab.add_node("Branch", BRANCH)
        change = await lab.add_connection(type="site_to_site", gateway="HubGW", site="Branch")
        assert [s.name for s in change.add_speakers] == []  # the node came first
        await lab.converged()
        _kept(lab, sessions)
        assert node_hops(lab, "Branch", "10.0.0.0/16") == ["10.0.255.4"]
        assert node_hops(lab, "OnPrem", "10.60.0.0/16") == ["10.0.255.4"]  # transit via the gateway
        assert effective_hops(lab, "Spoke1/App", "10.60.0.0/16") == ["10.0.255.4"]
        assert lab.names.sessions("Branch", "HubGW")

        change = await lab.remove_connection({"type": "site_to_site", "site": "Branch"})
        removed = {s.speaker: s.remove_neighbors for s in change.speakers}
        assert removed == {"Branch": ("HubGW",), "HubGW": ("Branch",)}
        await lab.remove_node("Branch")
        await lab.converged()
        _kept(lab, sessions)
        assert not lab.diff(before, lab.snapshot())
        with pytest.raises(LabInputError, match="no node or speaker 'Branch'"):
            lab.names.speakers("Branch")


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_hub_vpn_connection_added_and_removed(engine: str) -> None:
    async with await start_lab(TOPOLOGIES / "vwan-basic.yaml", engine) as lab:
        await lab.converged()
        before = lab.snapshot()
        sessions = _sessions(before)
        branch = {**BRANCH, "bgpPeeringAddress": "10.50.3.1", "prefixes": ["10.50.3.0/24"]}

        await lab.add_node("Branch3", branch)
        await lab.add_connection(type="hub_vpn", hub="hub1", site="Branch3")
        await lab.converged()
        _kept(lab, sessions)
        routes = lab.hub_routes("hub1")["value"]
        assert any(r["addressPrefixes"] == ["10.50.3.0/24"] for r in routes), routes
        assert node_hops(lab, "Branch1", "10.50.3.0/24")
        assert node_hops(lab, "Branch3", "10.50.1.0/24")

        await lab.remove_connection(type="hub_vpn", hub="hub1", site="Branch3")
        await lab.remove_node("Branch3")
        await lab.converged()
        _kept(lab, sessions)
        assert not lab.diff(before, lab.snapshot())


async def test_bad_edits_name_the_problem_and_leave_the_lab_untouched() -> None:
    async with await start_lab(TOPOLOGIES / "hub-spoke-transit.yaml") as lab:
        await lab.converged()
        before = lab.snapshot()
        plan, network = lab.plan, lab.network
        for call, message in (
            (lab.add_peering("Nope", "Hub"), "add_peering Nope->Hub: no VNet 'Nope'"),
            (lab.add_peering("Spoke1", "Hub"), "Spoke1 already peers with Hub"),
            (lab.add_peering("Spoke1", "Nope"), "'Nope' is not a node of this topology"),
            (lab.remove_peering("Spoke1", "Spoke2"), "no peering to 'Spoke2'"),
            (lab.remove_node("Hub"), "'Hub' is still referred to by: .*peering Spoke1->Hub"),
            (lab.add_node("Hub", SPOKE3), "a node is already called 'Hub'"),
            (
                lab.remove_connection(type="site_to_site", site="Nope"),
                "no site_to_site connection",
            ),
            (
                lab.add_connection(type="site_to_site", gateway="HubGW", site="Spoke1"),
                "site",
            ),
        ):
            with pytest.raises(LabInputError, match=message):
                await call
        assert lab.plan is plan
        assert lab.network is network
        assert lab.snapshot() is before  # still converged: nothing was done


async def test_a_lab_of_a_network_built_in_code_is_replaced_whole_not_edited() -> None:
    """The document of record comes from the loader: a Network made in code (here with
    ``dataclasses.replace``) runs, refuses edits with the reason, and takes a file."""
    from dataclasses import replace

    from bgpemu.topology import load_topology

    path = TOPOLOGIES / "hub-spoke-transit.yaml"
    built = replace(load_topology(path), name="built")
    async with await start_lab(built) as lab:
        await lab.converged()
        with pytest.raises(LabInputError, match=r"add_peering Spoke1->Spoke2: .*built in code"):
            await lab.add_peering("Spoke1", "Spoke2")
        with pytest.raises(LabInputError, match="network 'built' was built in code"):
            _ = lab.document
        await lab.apply_topology(path)
        await lab.add_peering("Spoke1", "Spoke2")
        assert lab.document["nodes"]["Spoke1"]["peerings"][-1] == {"remoteVirtualNetwork": "Spoke2"}


async def test_apply_topology_runs_a_changed_file(tmp_path: Any) -> None:
    source = (TOPOLOGIES / "hub-spoke-transit.yaml").read_text(encoding="utf-8")
    changed = source.replace(
        "prefixes: [192.168.0.0/16]", "prefixes: [192.168.0.0/16, 10.9.0.0/16]"
    )
    path = tmp_path / "changed.yaml"
    path.write_text(changed, encoding="utf-8")
    async with await start_lab(TOPOLOGIES / "hub-spoke-transit.yaml") as lab:
        await lab.converged()
        sessions = _sessions(lab.snapshot())
        change = await lab.apply_topology(path)
        assert [(s.speaker, [r.prefix for r in s.originate]) for s in change.speakers] == [
            ("OnPrem", ["10.9.0.0/16"])
        ]
        await lab.converged()
        _kept(lab, sessions)
        assert effective_hops(lab, "Spoke1/App", "10.9.0.0/16") == ["10.0.255.4"]
        bad = tmp_path / "bad.yaml"
        bad.write_text(changed.replace("asn: 65010", "asn: 65515"), encoding="utf-8")
        with pytest.raises(LabInputError, match=r"bad\.yaml"):
            await lab.apply_topology(bad)
        lab.snapshot()


HUB_SPOKE = str(TOPOLOGIES / "hub-spoke-transit.yaml")
CHANGE = """\
- {add_node: {name: Spoke3, role: vnet, addressSpace: [10.3.0.0/16],
              subnets: [{name: App, addressPrefix: 10.3.1.0/24}]}}
- {add_peering: {vnet: Hub, remoteVirtualNetwork: Spoke3, allowGatewayTransit: true}}
- {add_peering: {vnet: Spoke3, remoteVirtualNetwork: Hub, useRemoteGateways: true}}
- {fail_link: [HubGW, OnPrem]}
"""


def test_a_change_file_adds_a_spoke(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from bgpemu.cli import main

    path = tmp_path / "change.yaml"
    path.write_text(CHANGE, encoding="utf-8")
    assert main(["diff", HUB_SPOKE, "--change", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("add_node ")
    assert "node OnPrem 10.0.0.0/16: 10.0.255.4 as-path 65515 (best, from HubGW) -> no route" in out
    assert "node HubGW 10.3.0.0/16: no route -> 10.0.255.4" in out


def test_a_change_file_with_bad_edits_reports_each_with_its_line(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from bgpemu.cli import main

    path = tmp_path / "change.yaml"
    text = (
        "- {add_peering: {vnet: Nope, remoteVirtualNetwork: Hub}}\n"
        "- {add_peering: {vnet: Spoke1, remoteVirtualNetwork: Hub}}\n"
        "- {remove_node: Hub}\n"
        "- {add_node: {name: X, role: vnet, addressSpace: [10.9.0.0/16]}}\n"
        "- {crash: X}\n"
    )
    path.write_text(text, encoding="utf-8")
    assert main(["diff", HUB_SPOKE, "--change", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: [0] add_peering: add_peering Nope->Hub: no VNet 'Nope'" in err
    assert f"{path}:2: [1] add_peering: add_peering Spoke1->Hub: " in err
    assert "Spoke1 already peers with Hub" in err
    assert f"{path}:3: [2] remove_node: remove_node Hub: 'Hub' is still referred to by" in err
    assert f"{path}:5: [4] crash: node: no node or speaker 'X'" in err  # a VNet runs no speaker
    assert "4 problems found; nothing was run." in err
