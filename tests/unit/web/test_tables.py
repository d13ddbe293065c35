"""A node's tables on the page: the list, the topic of each, one filtered page."""

from __future__ import annotations

import json

import pytest

from bgpemu.observe.rib_rows import LOC_RIB_COLUMNS
from bgpemu.web.protocol import RequestError
from bgpemu.web.tables import azure_node, page_of, table_list, table_page, table_topic
from bgpemu.web.view import LabView
from tests.unit.web.helpers import (
    BASE,
    LAB,
    info_message,
    plan_of,
    sessions_message,
    topology_message,
)


def _route(prefix: str, best: bool = True) -> dict[str, object]:
    return {
        "prefix": prefix,
        "next_hop": "10.0.0.1",
        "as_path": [65001],
        "origin": "igp",
        "local_pref": 100,
        "med": None,
        "peer": "Firewall",
        "best": best,
        "multipath": False,
        "reason": "only path" if best else None,
    }


def _loc_rib(count: int) -> dict[str, object]:
    routes = [_route(f"10.{i // 256}.{i % 256}.0/24") for i in range(count)]
    return {"schema": "bgpemu/v1/rib-loc", "node": "VpnGW.0", "seq": 1, "routes": routes}


def _view() -> LabView:
    view = LabView(LAB)
    plan = plan_of("er-vpn-backup")
    view.receive(*topology_message("er-vpn-backup"), 0.0)
    view.receive(*info_message(plan, "VpnGW.0"), 0.0)
    view.receive(*sessions_message("VpnGW.0", {"ErGW": "Established", "Firewall": "Idle"}), 0.0)
    return view


def test_a_speaker_lists_its_ribs_and_its_gateways_azure_views() -> None:
    view = _view()
    view.watch(["nodes/VpnGW/azure/+"])
    for name in ("learned-routes", "bgp-peer-status"):
        view.receive(f"{BASE}/nodes/VpnGW/azure/{name}", b'{"data": {"value": []}}', 0.0)
    ids = [t["id"] for t in table_list(view, "VpnGW.0")]
    assert ids == [
        "rib/loc",
        "rib/in/ErGW",
        "rib/out/ErGW",
        "rib/in/Firewall",
        "rib/out/Firewall",
        "azure/bgp-peer-status",
        "azure/learned-routes",
    ]
    assert azure_node(view, "VpnGW.0") == "VpnGW"
    assert azure_node(view, "vnet:Spoke") == "Spoke"
    assert table_topic(view, "VpnGW.0", "rib/in/ErGW") == "nodes/VpnGW.0/rib/in/ErGW"
    assert table_topic(view, "vnet:Spoke", "azure/effective-routes.App") == (
        "nodes/Spoke/azure/effective-routes.App"
    )


@pytest.mark.parametrize(
    ("node", "table", "field"),
    [
        ("Nowhere", "rib/loc", "node: 'Nowhere'"),
        ("vnet:Spoke", "rib/loc", "no BGP speaker"),
        ("VpnGW.0", "rib/in/a/b", "neighbour"),
        ("VpnGW.0", "rib/in/#", "neighbour"),
        ("VpnGW.0", "azure/", "view"),
        ("VpnGW.0", "routes", "is not a table"),
    ],
)
def test_a_bad_table_is_refused_naming_the_field(node: str, table: str, field: str) -> None:
    with pytest.raises(RequestError, match=field):
        table_topic(_view(), node, table)


def test_a_loc_rib_page_shows_why_each_best_path_won_and_is_paged() -> None:
    doc = _loc_rib(1200)
    page = table_page("rib/loc", doc, "", 1000, 500)
    assert page["columns"] == list(LOC_RIB_COLUMNS)
    assert page["total"] == 1200
    assert len(page["rows"]) == 200
    assert page["rows"][0] == [
        "10.3.232.0/24",
        "10.0.0.1",
        "65001",
        "Firewall",
        "*",
        "",
        "only path",
    ]
    assert json.dumps(page)  # JSON as is


def test_a_filter_is_prefix_text_or_an_address_the_routes_contain() -> None:
    doc = _loc_rib(600)
    # Text: the prefixes that start with it (10.1.2.0, 10.1.20-29, 10.1.200-255).
    assert table_page("rib/loc", doc, "10.1.2", 0, 100)["total"] == 67
    assert table_page("rib/loc", doc, "1.2.0", 0, 100)["total"] == 0
    contains = table_page("rib/loc", doc, "10.2.5.77", 0, 100)
    assert [r[0] for r in contains["rows"]] == ["10.2.5.0/24"]
    assert table_page("rib/loc", doc, "192.0.2.1", 0, 100)["total"] == 0


def test_an_azure_view_uses_the_azure_cli_columns() -> None:
    view = {
        "value": [
            {
                "source": "Default",
                "state": "Active",
                "addressPrefix": ["10.0.0.0/8", "172.16.0.0/12"],
                "nextHopType": "None",
                "nextHopIpAddress": [],
            }
        ]
    }
    page = table_page("azure/effective-routes.App", {"data": view}, "172.16.9.9", 0, 10)
    assert page["columns"] == ["Source", "State", "Address Prefix", "Next Hop Type", "Next Hop IP"]
    assert page["rows"] == [["Default", "Active", "10.0.0.0/8 172.16.0.0/12", "None", ""]]


def test_a_document_of_the_wrong_shape_is_a_clear_error() -> None:
    with pytest.raises(RequestError, match="not a table document"):
        table_page("rib/loc", {"routes": [{"prefix": "10.0.0.0/8"}]}, "", 0, 10)
    assert table_page("rib/loc", {"routes": "x"}, "", 0, 10)["total"] == 0


@pytest.mark.parametrize(
    ("address", "prefixes", "kept"),
    [
        ("10.1.2.3", "10.0.0.0/8 10.1.2.0/24 10.1.3.0/24 0.0.0.0/0 10.1.2.3/32", 4),
        ("10.1.2.3", "10.1.2.0/33 10.1.2/24 x/8 10.1.2.256/24 10.1.2.0", 0),
        ("2001:db8::1", "2001:db8::/32 2001:db9::/32 10.0.0.0/8", 1),
    ],
)
def test_an_address_filter_keeps_the_prefixes_that_contain_it(
    address: str, prefixes: str, kept: int
) -> None:
    rows = [[p] for p in prefixes.split()]
    page = page_of((["Prefix"], rows), address, 0, 100)
    assert page["total"] == kept
