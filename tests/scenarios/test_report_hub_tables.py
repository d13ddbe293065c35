"""The report works out each vWAN hub route table once (``azure.views.HubTables``).

A hub's table is read by the effective routes of every VNet associated with it and
printed among the hub routes: vWAN 2 x 50 x 200 computed each hub's default table three
times (about 0.3 s each).  The views must be those computed without the shared tables.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bgpemu.azure import views
from bgpemu.azure.hubrouting import route_tables
from bgpemu.azure.model import VNet, VWanHub
from bgpemu.azure.report import azure_views, report_members
from bgpemu.azure.views import hub as hub_view
from tests.scenarios.conftest import solved


@pytest.mark.parametrize("name", ["vwan-standard-any-to-any", "vwan-custom-route-tables"])
def test_each_hub_table_is_computed_once_per_report(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    solution = solved(name)
    network, plan, snaps = solution.network, solution.plan, solution.snapshots
    expected = {
        "effectiveRoutes": {
            f"{vnet.name}/{subnet.name}": views.effective_routes(
                network, plan, snaps, vnet.name, subnet.name
            )
            for vnet in network.of_type(VNet)
            for subnet in vnet.subnets
            if subnet.name not in ("GatewaySubnet", "RouteServerSubnet")
        },
        "hubRoutes": {
            f"{hub.name}/{table}": views.hub_routes(network, plan, snaps, hub.name, table)
            for hub in network.of_type(VWanHub)
            for table in route_tables(hub)
        },
    }
    calls: Counter[tuple[str, str]] = Counter()
    computed = hub_view.hub_routes

    def counting(*args: Any) -> dict[str, Any]:
        calls[(args[3], args[4])] += 1
        return computed(*args)

    monkeypatch.setattr(hub_view, "hub_routes", counting)
    members = dict(report_members(solution))
    report = {key: dict(members[key]) for key in ("effectiveRoutes", "hubRoutes")}
    assert report == expected
    assert calls
    assert set(calls.values()) == {1}, calls
    calls.clear()
    every = azure_views(network, plan, snaps, 0.0)
    assert {key: every[key] for key in expected} == expected
    assert set(calls.values()) == {1}, calls
