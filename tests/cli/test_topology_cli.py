"""``bgpemu validate`` and ``bgpemu solve TOPOLOGY`` with the Azure views."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bgpemu.azure.converge import solve
from bgpemu.azure.views import effective_routes, hub_routes, learned_routes
from bgpemu.cli import main
from bgpemu.observe.payloads import rib_loc_payload
from bgpemu.topology import load_topology

ROOT = Path(__file__).parents[2]
TOPOLOGIES = ROOT / "topologies"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_validate_accepts_every_reference_topology(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted(TOPOLOGIES.glob("*.yaml")):
        assert main(["validate", str(path)]) == 0, path
        assert ": ok (" in capsys.readouterr().out


def test_validate_reports_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "nodes:\n"
        "  a: {role: router}\n"
        "  s: {role: onprem, asn: 12076, bgpPeeringAddress: 10.0.0.1}\n"
    )
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "nodes.a" in err
    assert "nodes.s" in err
    assert "12076" in err
    assert "problem(s) found" in err


def test_solve_views_print_exactly_the_view_functions_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = TOPOLOGIES / "er-vpn-backup.yaml"
    s = solve(load_topology(path))
    assert _json(
        capsys, "solve", str(path), "--effective-routes", "Spoke/App", "-o", "json"
    ) == effective_routes(s.network, s.plan, s.snapshots, "Spoke", "App")
    assert _json(
        capsys, "solve", str(path), "--learned-routes", "VpnGW", "-o", "json"
    ) == learned_routes(s.network, s.plan, s.snapshots, "VpnGW")
    hubs = TOPOLOGIES / "vwan-standard-any-to-any.yaml"
    h = solve(load_topology(hubs))
    assert _json(capsys, "solve", str(hubs), "--hub-routes", "Hub1", "-o", "json") == hub_routes(
        h.network, h.plan, h.snapshots, "Hub1"
    )


def test_solve_node_and_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(TOPOLOGIES / "er-vpn-backup.yaml")
    nodes = _json(capsys, "solve", path, "--node", "VpnGW", "-o", "json")
    assert isinstance(nodes, dict)
    assert sorted(nodes) == ["VpnGW.0", "VpnGW.1"]
    # The shape of `bgpemu routes NODE -o json`: the routes of each speaker's rib/loc document.
    solution = solve(load_topology(path))
    for speaker in ("VpnGW.0", "VpnGW.1"):
        expected = rib_loc_payload(solution.snapshots[speaker], seq=0)["routes"]
        assert nodes[speaker] == expected
        assert any(r["best"] and r["peer"] == "ErGW" for r in expected)
    assert main(["solve", path, "--node", "VpnGW"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["Speaker", "Prefix", "NextHop"]
    assert any(line.startswith("VpnGW.1") and "10.1.11.0/25" in line for line in table)
    assert main(["solve", path, "--effective-routes", "Hub/Workload"]) == 0
    out = capsys.readouterr().out
    assert "10.1.11.0/25" in out
    assert "VirtualNetworkGateway" in out


def test_solve_names_an_unknown_vnet_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(TOPOLOGIES / "s2s-bgp.yaml")
    assert main(["solve", path, "--effective-routes", "NoSuchVNet"]) == 2
    assert "NoSuchVNet" in capsys.readouterr().err


def test_solve_full_report_json(capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, "solve", str(TOPOLOGIES / "s2s-bgp.yaml"), "-o", "json")
    assert isinstance(report, dict)
    assert set(report) >= {"nodes", "effectiveRoutes", "learnedRoutes", "hubRoutes"}
