"""The traffic commands (issue 14): ``bgpemu trace / next-hop / ip-flow / effective-nsg /
reachability / verify`` over the reference topologies of ``topologies/traffic``: golden
answers of S5 and S6, S2's rows, exit statuses, bad intents files, unknown addresses."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from bgpemu.cli import main

ROOT = Path(__file__).parents[2]
TOPOLOGIES = ROOT / "topologies" / "traffic"
GOLDEN = ROOT / "tests" / "data" / "traffic"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def topology(name: str) -> str:
    return str(TOPOLOGIES / f"{name}.yaml")


def golden(name: str, document: Any) -> None:
    """Compare with tests/data/traffic/<name>.json (BGPEMU_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if os.environ.get("BGPEMU_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


# --------------------------------------------------------------------------- trace


def test_s5_trace_is_connection_troubleshoot_json(capsys: pytest.CaptureFixture[str]) -> None:
    """§8 S5 row 2: Source -> VirtualAppliance 10.0.1.4 -> VM2, Reachable (§4.4's shape)."""
    status, out, _ = run(
        capsys, "trace", topology("s5-hub-nva"), "VM1-nic", "VM2-nic", "--port", "443"
    )
    assert status == 0
    answer = json.loads(out)
    assert answer["connectionStatus"] == "Reachable"
    assert [(h["type"], h["address"]) for h in answer["hops"]] == [
        ("Source", "10.1.1.4"),
        ("VirtualAppliance", "10.0.1.4"),
        ("VNetPeering", "10.2.1.4"),
    ]
    golden("cli-s5-trace", answer)


def test_s6_trace_names_the_rule_at_the_second_nva(capsys: pytest.CaptureFixture[str]) -> None:
    """§8 S6 [NW-CT-CLI]: Unreachable, 100/100 probes failed, UserRule_Port80 outbound at
    the second NVA hop."""
    status, out, _ = run(
        capsys, "trace", topology("s6-two-nvas"), "appNic0", "10.1.4.4", "--port", "80"
    )
    assert status == 0
    answer = json.loads(out)
    assert (answer["connectionStatus"], answer["probesFailed"]) == ("Unreachable", 100)
    assert [h["type"] for h in answer["hops"]] == [
        "Source",
        "VirtualAppliance",
        "VirtualAppliance",
        "VnetLocal",
    ]
    assert answer["hops"][2]["issues"] == [
        {
            "origin": "Outbound",
            "severity": "Error",
            "type": "NetworkSecurityRule",
            "context": [{"key": "RuleName", "value": "UserRule_Port80"}],
        }
    ]
    golden("cli-s6-trace", answer)


def test_s6_internet_variant_is_dropped_by_the_user_route(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(
        capsys,
        "trace",
        topology("s6-two-nvas"),
        "appNic0",
        "13.107.21.200",
        "--port",
        "80",
        "--query",
        "hops[0].issues[0].context",
    )
    assert status == 0
    assert "RouteType" in out
    assert "User" in out


def test_full_trace_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "trace", topology("s5-no-udrs"), "Spoke1/App", "Spoke2/App", "--full"
    )
    assert status == 0
    answer = json.loads(out)
    assert answer["verdict"] == "dropped_none_route"
    assert answer["flow"]["sourcePort"] == 50000
    assert [w["id"] for w in answer["warnings"]] == ["P6"]
    status, out, _ = run(
        capsys, "trace", topology("s5-hub-nva"), "VM1-nic", "VM2-nic", "-o", "table"
    )
    assert status == 0
    assert "reply path 1: reachable" in out
    last = out.rstrip().splitlines()[-1]
    assert last == "Tcp 10.1.1.4:50000 -> 10.2.1.4:443: reachable: delivered to VM2-nic"


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("10.9.9.9", "VM2-nic", "source 10.9.9.9 is held by no interface"),
        ("VM1-nic", "10.2.1.99", "destination 10.2.1.99 lies in Spoke2/App, but no interface"),
        ("VM9-nic", "VM2-nic", "no interface, NVA or firewall named 'VM9-nic'"),
        ("Spoke9/App", "VM2-nic", "no subnet 'App' in a VNet 'Spoke9'"),
    ],
)
def test_a_trace_from_or_to_what_nothing_holds_is_refused(
    capsys: pytest.CaptureFixture[str], source: str, destination: str, message: str
) -> None:
    status, out, err = run(capsys, "trace", topology("s5-hub-nva"), source, destination)
    assert status == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_bad_flow_values_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys, "trace", topology("s5-hub-nva"), "VM1-nic", "VM2-nic", "--protocol", "sctp"
    )
    assert (status, "protocol 'sctp' is not one of" in err) == (2, True)
    status, _, err = run(
        capsys, "trace", topology("s5-hub-nva"), "VM1-nic", "VM2-nic", "--port", "70000"
    )
    assert (status, "70000" in err) == (2, True)


def test_a_bad_topology_is_refused_with_every_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nnodes: {a: {role: vnet}}\n")
    status, _, err = run(capsys, "reachability", str(bad))
    assert status == 2
    assert "nothing was answered" in err


# --------------------------------------------------------------------------- the others


def test_s2_next_hop_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """§8 S2: 13.107.21.200 -> Internet; 172.31.0.100 -> None (172.16.0.0/12)."""
    for destination, expected in (("13.107.21.200", "Internet"), ("172.31.0.100", "None")):
        status, out, _ = run(
            capsys, "next-hop", topology("s2-one-vm"), "myVm-nic", destination, "-o", "json"
        )
        assert status == 0
        assert json.loads(out) == {
            "nextHopType": expected,
            "nextHopIpAddress": None,
            "routeTableId": "System Route",
        }


@pytest.mark.parametrize(
    ("direction", "local", "remote", "access", "rule"),
    [
        (
            "Outbound",
            "10.0.0.4:60000",
            "13.107.21.200:80",
            "Allow",
            "defaultSecurityRules/AllowInternetOutBound",
        ),
        (
            "Outbound",
            "10.0.0.4:60000",
            "172.31.0.100:80",
            "Deny",
            "defaultSecurityRules/DenyAllOutBound",
        ),
        (
            "Inbound",
            "10.0.0.4:80",
            "172.31.0.100:60000",
            "Deny",
            "defaultSecurityRules/DenyAllInBound",
        ),
    ],
)
def test_s2_ip_flow_verify_rows(
    capsys: pytest.CaptureFixture[str],
    direction: str,
    local: str,
    remote: str,
    access: str,
    rule: str,
) -> None:
    """§8 S2's test-ip-flow rows, with az's flags."""
    status, out, _ = run(
        capsys,
        "ip-flow",
        topology("s2-one-vm"),
        "myVm-nic",
        "--direction",
        direction,
        "--protocol",
        "TCP",
        "--local",
        local,
        "--remote",
        remote,
        "-o",
        "json",
    )
    assert status == 0
    assert json.loads(out) == {"access": access, "ruleName": rule}


def test_ip_flow_refuses_a_local_side_that_is_not_the_interface(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(
        capsys,
        "ip-flow",
        topology("s2-one-vm"),
        "myVm-nic",
        "--direction",
        "Outbound",
        "--protocol",
        "TCP",
        "--local",
        "10.0.0.9:1",
        "--remote",
        "nonsense",
    )
    assert status == 2
    assert "--remote 'nonsense' is not IP:PORT" in err


def test_s3_effective_nsg_expands_the_peer_in_virtual_network(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """§8 S3: VirtualNetwork of VM-A's subnet holds both VNets and 168.63.129.16/32."""
    status, out, _ = run(
        capsys,
        "effective-nsg",
        topology("s3-peered-vnets-deny"),
        "VM-A-nic",
        "--query",
        "value[0].effectiveSecurityRules[?name=='defaultSecurityRules/AllowVnetInBound']"
        " | [0].expandedSourceAddressPrefix",
        "-o",
        "json",
    )
    assert status == 0
    assert sorted(json.loads(out)) == ["10.0.0.0/16", "10.1.0.0/16", "168.63.129.16/32"]
    status, out, _ = run(capsys, "effective-nsg", topology("s3-peered-vnets-deny"), "VM-A-nic")
    assert status == 0
    assert "securityRules/Deny-VNetB-In" in out


def test_effective_nsg_of_an_interface_without_nsg(capsys: pytest.CaptureFixture[str]) -> None:
    """Azure's answer is an empty list; the table says why."""
    status, out, _ = run(capsys, "effective-nsg", topology("s5-hub-nva"), "nva-nic", "-o", "json")
    assert (status, json.loads(out)) == (0, {"value": []})
    status, out, _ = run(capsys, "effective-nsg", topology("s5-hub-nva"), "nva-nic")
    assert out.startswith("no NSG on the interface or its subnet: every flow is allowed")


def test_s5_reachability_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    """§8 S5 row 1: the spokes cannot reach each other (None route), the hub can."""
    status, out, _ = run(capsys, "reachability", topology("s5-no-udrs"), "-o", "yaml")
    assert status == 0
    matrix = yaml.safe_load(out)
    assert matrix["summary"] == {"reachable": 4, "dropped_none_route": 2}
    assert [(p["source"], p["destination"]) for p in matrix["unreachable"]] == [
        ("Spoke1/App", "Spoke2/App"),
        ("Spoke2/App", "Spoke1/App"),
    ]
    status, out, _ = run(capsys, "reachability", topology("s5-hub-nva"), "--port", "22")
    assert status == 0
    assert out.startswith("Tcp port 22: 3 endpoints, 6 pairs")
    assert "reachable  6" in out


# --------------------------------------------------------------------------- verify

INTENTS = """\
intents:
  - {name: spokes-via-nva, source: Spoke1/App, destination: VM2-nic, port: 443, expect: reachable}
  - {name: hub-ssh, source: VM1-nic, destination: 10.0.1.4, port: 22, expect: reachable}
"""


def test_verify_exits_0_when_every_intent_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(INTENTS)
    status, out, err = run(
        capsys, "verify", topology("s5-hub-nva"), "--intents", str(intents), "-o", "json"
    )
    assert (status, err) == (0, "")
    assert [(r["name"], r["actual"], r["ok"]) for r in json.loads(out)] == [
        ("spokes-via-nva", "reachable", True),
        ("hub-ssh", "reachable", True),
    ]


def test_verify_exits_1_and_names_every_violated_intent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without UDRs (§8 S5 row 1) the spoke intent is violated; the hub one holds."""
    intents = tmp_path / "intents.yaml"
    intents.write_text(INTENTS)
    status, out, err = run(capsys, "verify", topology("s5-no-udrs"), "--intents", str(intents))
    assert status == 1
    assert err.splitlines() == [
        f"violated: {intents}:2: spokes-via-nva: expected reachable, got "
        "dropped_none_route (route 10.0.0.0/8 (Default) of Spoke1/App has next hop None)",
        "1 intent violated",
    ]
    assert "spokes-via-nva" in out
    assert "NO" in out


def test_verify_refuses_a_bad_intents_file_with_every_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "intents:\n  - {name: a, source: VM1-nic, destination: VM2-nic, expect: maybe}\n"
    )
    status, out, err = run(capsys, "verify", topology("s5-hub-nva"), "--intents", str(intents))
    assert status == 2
    assert out == ""
    assert f"error: {intents}:2: intents[0].expect: expect 'maybe' is not one of" in err
    assert f"error: {intents}:2: intents[0]: port is required for Tcp" not in err
    assert "1 problem found; nothing was answered." in err


def test_verify_names_every_endpoint_nothing_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "intents:\n"
        "  - {name: a, source: VM1-nic, destination: 10.2.1.99, port: 1, expect: reachable}\n"
        "  - {name: b, source: ghost, destination: VM2-nic, port: 1, expect: reachable}\n"
    )
    status, _, err = run(capsys, "verify", topology("s5-hub-nva"), "--intents", str(intents))
    assert status == 2
    assert f"error: {intents}:2: intents[0].destination: destination 10.2.1.99" in err
    assert f"error: {intents}:3: intents[1].source: no interface, NVA or firewall named" in err
    assert "2 problems found" in err


def test_verify_of_a_missing_intents_file(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys, "verify", topology("s5-hub-nva"), "--intents", "/nonexistent/intents.yaml"
    )
    assert status == 2
    assert "/nonexistent/intents.yaml" in err


# --------------------------------------------------------------------------- solve


@pytest.mark.parametrize(
    ("solve", "command"),
    [
        (
            ["--trace", "appNic0", "10.1.4.4", "--port", "80", "--full"],
            ["trace", "appNic0", "10.1.4.4", "--port", "80", "--full"],
        ),
        (["--next-hop", "appNic0", "10.1.4.4"], ["next-hop", "appNic0", "10.1.4.4"]),
        (["--effective-nsg", "nva2Nic"], ["effective-nsg", "nva2Nic"]),
        (
            ["--reachability", "--port", "80", "--protocol", "tcp"],
            ["reachability", "--port", "80", "--protocol", "tcp"],
        ),
        (
            [
                "--ip-flow",
                "nva2Nic",
                "--flow-direction",
                "Outbound",
                "--protocol",
                "TCP",
                "--local",
                "10.1.3.4:50000",
                "--remote",
                "10.1.4.4:80",
            ],
            [
                "ip-flow",
                "nva2Nic",
                "--direction",
                "Outbound",
                "--protocol",
                "TCP",
                "--local",
                "10.1.3.4:50000",
                "--remote",
                "10.1.4.4:80",
            ],
        ),
    ],
)
def test_solve_answers_as_the_traffic_commands_do(
    capsys: pytest.CaptureFixture[str], solve: list[str], command: list[str]
) -> None:
    """``solve TOPOLOGY --trace ...`` is ``trace TOPOLOGY ...``: the same output."""
    s6 = topology("s6-two-nvas")
    status, via_solve, _ = run(capsys, "solve", s6, *solve, "-o", "json")
    assert status == 0
    status, direct, _ = run(capsys, command[0], s6, *command[1:], "-o", "json")
    assert status == 0
    assert json.loads(via_solve) == json.loads(direct)


def test_solve_intents_exit_status_is_verify_s(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    intents = tmp_path / "intents.yaml"
    intents.write_text(INTENTS)
    status, _, err = run(capsys, "solve", topology("s5-no-udrs"), "--intents", str(intents))
    assert status == 1
    assert "violated: " in err


def test_solve_traffic_options_refused_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "solve", topology("s2-one-vm"), "--ip-flow", "myVm-nic")
    assert status == 2
    assert "--ip-flow NIC needs --flow-direction, --protocol, --local and --remote" in err
    triangle = str(ROOT / "examples" / "triangle" / "r1.yaml")
    status, _, err = run(capsys, "solve", "--config", triangle, "--reachability")
    assert status == 2
    assert "the traffic answers need a TOPOLOGY file" in err


def test_an_undetermined_flow_is_reported_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """S8 without the network rule for 443: HTTPS to a public address meets only the
    application rule (google, FQDN): `undetermined` (decision §9.9), connection status
    `Unknown` (§9.5); an intent expecting reachable is violated by it."""
    text = (TOPOLOGIES / "s8-firewall-rules.yaml").read_text()
    assert text.count("destinationPorts: ['80', '443']") == 1
    s8 = tmp_path / "s8-no-443.yaml"
    s8.write_text(text.replace("destinationPorts: ['80', '443']", "destinationPorts: ['80']"))
    status, out, err = run(capsys, "trace", str(s8), "VM1-nic", "142.250.0.1", "--port", "443")
    assert (status, err) == (0, "")
    check = json.loads(out)
    assert (check["connectionStatus"], check["probesFailed"]) == ("Unknown", None)
    intents = tmp_path / "intents.yaml"
    intents.write_text(
        "intents:\n"
        "  - {name: web, source: VM1-nic, destination: 142.250.0.1, port: 443, expect: reachable}\n"
        "  - {name: web-known, source: VM1-nic, destination: 142.250.0.1, port: 443,"
        " expect: undetermined}\n"
    )
    status, out, err = run(capsys, "verify", str(s8), "--intents", str(intents), "-o", "json")
    assert status == 1
    assert [(r["name"], r["actual"], r["ok"]) for r in json.loads(out)] == [
        ("web", "undetermined", False),
        ("web-known", "undetermined", True),
    ]
    assert "web: expected reachable, got undetermined (firewall HubFirewall: undetermined" in err


def test_a_traffic_answer_converges_with_the_collector_paused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``solve`` (``runtime.daemon_gc.converging``): the fabric converges with the
    collector paused and the thresholds of ``daemon_gc``; afterwards the collector runs
    with the previous thresholds and nothing is left frozen."""
    import gc

    from bgpemu.fabric import Fabric
    from bgpemu.runtime.daemon_gc import DAEMON_GC_THRESHOLDS

    seen: list[tuple[tuple[int, int, int], bool]] = []
    real = Fabric.run_until_idle

    def recording(self: Fabric, *args: Any, **kwargs: Any) -> float:
        seen.append((gc.get_threshold(), gc.isenabled()))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Fabric, "run_until_idle", recording)
    before = gc.get_threshold()
    status, _, _ = run(
        capsys, "trace", topology("s5-hub-nva"), "VM1-nic", "VM2-nic", "--port", "443"
    )
    assert status == 0
    assert seen == [(DAEMON_GC_THRESHOLDS, False)]
    assert gc.get_threshold() == before
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
