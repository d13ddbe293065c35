"""The Azure views by name (azure.catalog): one table, the wire strings unchanged."""

from __future__ import annotations

import argparse

import pytest

from bgpemu.azure.catalog import AzureView
from bgpemu.azure.model import Network
from bgpemu.azure.report import azure_views
from bgpemu.cli import _parser
from bgpemu.testing.diff import VIEW_LABELS
from tests.unit.azure.helpers import plan_of

# The strings of the report (solve -o json), of the MQTT schema bgpemu/v1 (topic level
# and the document's "view") and of bgpemu diff: a change here is a schema change.
WIRE = [
    ("effectiveRoutes", "effective-routes", "effective routes"),
    ("learnedRoutes", "learned-routes", "learned routes"),
    ("bgpPeerStatus", "bgp-peer-status", "BGP peer status"),
    ("routeServerRoutes", "routes", "Route Server routes"),
    ("hubRoutes", "hub-routes", "hub routes"),
    ("circuitRoutes", "circuit-routes", "circuit routes"),
]


def test_the_spellings_are_those_on_the_wire_in_the_report_order() -> None:
    assert [(v.key, v.segment, v.label) for v in AzureView] == WIRE


def test_the_report_categories_are_the_view_keys_in_order() -> None:
    views = azure_views(Network(name="empty", nodes=()), plan_of(), {}, 0.0)
    assert list(views) == [view.key for view in AzureView]


def test_of_key_and_topic_view() -> None:
    assert AzureView.of_key("hubRoutes") is AzureView.HUB_ROUTES
    assert AzureView.HUB_ROUTES.topic_view("defaultRouteTable") == "hub-routes.defaultRouteTable"
    assert AzureView.LEARNED_ROUTES.topic_view(None) == "learned-routes"
    assert AzureView.LEARNED_ROUTES.topic_view("") == "learned-routes"
    with pytest.raises(KeyError, match="effective-routes"):
        AzureView.of_key("effective-routes")


def test_diff_labels_come_from_the_catalog() -> None:
    assert {"node": "node", **{key: label for key, _, label in WIRE}} == VIEW_LABELS


@pytest.mark.parametrize(
    "view", [AzureView.EFFECTIVE_ROUTES, AzureView.LEARNED_ROUTES, AzureView.HUB_ROUTES]
)
def test_the_observer_commands_are_the_topic_segments(view: AzureView) -> None:
    commands = next(
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert view.segment in commands.choices
