"""The web view's traffic part (issue 16): the matrix before and after, the pushes, and the
trace pickers' endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bgpemu.azure.converge import solve
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.matrix import reachability_matrix
from bgpemu.observe.payloads import traffic_event_payload, traffic_payload
from bgpemu.topology import load_topology
from bgpemu.web.traffic import KEPT_CHANGES, MAX_CHANGES, TrafficViews, endpoints, matrix_changes

NOW = 1_765_000_000.0
TOPOLOGIES = Path(__file__).resolve().parents[2] / "data" / "traffic" / "topologies"
A, B, C = "Hub/Workload", "SiteB:10.2.0.0/16", "Spoke/App"


def _matrix(names: list[str], unreachable: dict[tuple[str, str], str], port: int = 443) -> Any:
    return {
        "protocol": "Tcp",
        "port": port,
        "endpoints": [{"name": n, "kind": "subnet", "address": "10.0.0.1"} for n in names],
        "unreachable": [
            {"source": s, "destination": d, "verdict": v, "reason": "r", "weight": 1}
            for (s, d), v in unreachable.items()
        ],
    }


def test_a_link_down_changes_the_pairs_it_carried() -> None:
    up = _matrix([A, B], {})
    down = _matrix([A, B], {(A, B): "dropped_none_route", (B, A): "no_route"})
    assert matrix_changes(up, down) == [
        {"source": A, "destination": B, "before": "reachable", "after": "dropped_none_route"},
        {"source": B, "destination": A, "before": "reachable", "after": "no_route"},
    ]
    assert matrix_changes(down, up)[0]["after"] == "reachable"
    assert matrix_changes(down, down) == []


def test_an_endpoint_added_or_removed_is_absent_on_the_other_side() -> None:
    before = _matrix([A, B], {(A, B): "no_route"})
    after = _matrix([A, B, C], {(A, C): "denied"})
    assert matrix_changes(before, after) == [
        {"source": A, "destination": B, "before": "no_route", "after": "reachable"},
        {"source": A, "destination": C, "before": "absent", "after": "denied"},
    ]


def test_matrices_of_other_flows_are_not_compared() -> None:
    assert matrix_changes(_matrix([A, B], {}), _matrix([A, B], {(A, B): "denied"}, 22)) == []


def test_a_new_matrix_is_pushed_with_the_pairs_that_changed() -> None:
    views = TrafficViews()
    up = traffic_payload("demo", "reachability", _matrix([A, B], {}))
    down = traffic_payload("demo", "reachability", _matrix([A, B], {(A, B): "no_route"}))
    first = views.on_document("reachability", up, NOW)
    assert first == [{"type": "traffic", "view": "reachability", "data": up["data"]}]
    second = views.on_document("reachability", down, NOW + 1)
    assert second[0] == {"type": "traffic", "view": "reachability", "data": down["data"]}
    assert second[1] == {
        "type": "flows-changed",
        "data": {
            "time": NOW + 1,
            "matrix": [{"source": A, "destination": B, "before": "reachable", "after": "no_route"}],
            "total": 1,
            "intents": [],
        },
    }
    assert views.snapshot() == {
        "reachability": down["data"],
        "intents": None,
        "changes": [second[1]["data"]],  # a page opened now still sees what changed
    }


def test_a_huge_change_is_cut_and_counted() -> None:
    names = [f"V{n}/s" for n in range(40)]
    views = TrafficViews()
    views.on_document("reachability", traffic_payload("d", "reachability", _matrix(names, {})), NOW)
    cut = {(s, d): "no_route" for s in names for d in names if s != d}
    pushed = views.on_document(
        "reachability", traffic_payload("d", "reachability", _matrix(names, cut)), NOW
    )
    assert len(pushed[1]["data"]["matrix"]) == MAX_CHANGES
    assert pushed[1]["data"]["total"] == 40 * 39


def test_the_snapshot_keeps_the_last_changes() -> None:
    views = TrafficViews()
    for n in range(KEPT_CHANGES + 2):
        event = traffic_event_payload(
            "demo", event="intents_changed", data={"changed": [{"name": str(n)}]}
        )
        views.on_event(event, NOW + n)
    kept = views.snapshot()["changes"]
    assert [c["intents"][0]["name"] for c in kept] == [str(n) for n in range(2, KEPT_CHANGES + 2)]


def test_garbage_keeps_the_last_good_document_and_a_cleared_one_is_none() -> None:
    views = TrafficViews()
    good = traffic_payload("demo", "intents", {"ok": 1, "violated": 0, "intents": []})
    views.on_document("intents", good, NOW)
    garbage: object
    for garbage in ({"schema": "bgpemu/v1/traffic", "view": "intents", "data": 3}, {}, []):
        assert views.on_document("intents", garbage, NOW) == []
    assert views.on_document("reachability", good, NOW) == []  # the intents' document
    assert views.on_document("other", good, NOW) == []
    assert views.snapshot()["intents"] == good["data"]
    assert views.on_document("intents", None, NOW) == [
        {"type": "traffic", "view": "intents", "data": None}
    ]
    assert views.snapshot()["intents"] is None


def test_changed_intents_are_pushed_as_changed_flows() -> None:
    changed = [{"name": "vm1-to-siteb", "before": "reachable", "after": "no_route", "path": "x"}]
    event = traffic_event_payload("demo", event="intents_changed", data={"changed": changed})
    assert TrafficViews().on_event(event, NOW) == [
        {
            "type": "flows-changed",
            "data": {"time": NOW, "matrix": [], "total": 0, "intents": changed},
        }
    ]
    answered = traffic_event_payload("demo", event="answered", data={"changed": changed})
    assert TrafficViews().on_event(answered, NOW) == []


def _endpoints_of(name: str) -> list[dict[str, str]]:
    return endpoints(solve(load_topology(TOPOLOGIES / name)).network, None)


def test_the_pickers_offer_interfaces_subnets_ranges_and_the_matrix_endpoints() -> None:
    solution = solve(load_topology(TOPOLOGIES / "lab-vpn-site.yaml"))
    ctx = TrafficContext(solution.network, solution.plan, solution.snapshots)
    matrix = reachability_matrix(ctx).to_json()
    found = endpoints(solution.network, matrix)
    assert found[:4] == [
        {"name": "VM1", "kind": "interface", "address": "10.0.1.4", "subnet": "Hub/Workload"},
        {"name": "Hub/Workload", "kind": "subnet", "address": "10.0.1.1", "prefix": "10.0.1.0/24"},
        {
            "name": "Hub/GatewaySubnet",
            "kind": "subnet",
            "address": "10.0.255.1",
            "prefix": "10.0.255.0/27",
        },
        {
            "name": "SiteB:10.2.0.0/16",
            "kind": "onprem",
            "address": "10.2.0.1",
            "prefix": "10.2.0.0/16",
        },
    ]
    names = [e["name"] for e in found]
    assert len(names) == len(set(names))
    assert {e["name"] for e in matrix["endpoints"]} <= set(names)
    assert endpoints(None, matrix) == matrix["endpoints"]
    firewall = _endpoints_of("firewall-symmetric.yaml")
    assert {
        "name": "Firewall",
        "kind": "firewall",
        "address": "10.0.3.4",
        "subnet": "Hub/AzureFirewallSubnet",
    } in firewall
    nva = _endpoints_of("nva-pair-failover.yaml")
    assert {"name": "nva1", "kind": "nva", "address": "10.0.1.4", "subnet": "Hub/nva"} in nva
    assert endpoints(None, None) == []
