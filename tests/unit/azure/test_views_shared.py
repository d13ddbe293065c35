"""What the views of one report share (``azure.views.hub.HubTables``): each prefix's sort
key, each hub's paths and the routes a hub table programs into its VNets, worked out
once and read by every view, with the views unchanged."""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bgpemu.types
from bgpemu.azure import views
from bgpemu.azure.hubrouting import DEFAULT_TABLE, route_tables
from bgpemu.azure.model import HubVnetConnection, VNet, VWanHub
from bgpemu.azure.views import hub as hub_view
from bgpemu.azure.views._prefixes import covered_by
from bgpemu.azure.views.hub import HubTables
from bgpemu.azure.views.sources import gateway_routes
from bgpemu.types import PrefixKeys, prefix_key
from tests.scenarios.conftest import solved

_V4 = st.builds(
    lambda address, length: str(ipaddress.ip_network((address, length), strict=False)),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)
_V6 = st.builds(
    lambda low, length: str(ipaddress.ip_network((0x20010DB8 << 96 | low, length), strict=False)),
    st.integers(0, 2**64),
    st.integers(0, 128),
)


@settings(max_examples=200, deadline=None)
@given(prefixes=st.lists(_V4 | _V6, max_size=40))
def test_prefix_keys_give_prefix_key_and_its_order(prefixes: list[str]) -> None:
    keys = PrefixKeys()
    doubled = prefixes + prefixes[::-1]
    assert sorted(doubled, key=keys.__getitem__) == sorted(doubled, key=prefix_key)
    assert keys == {p: prefix_key(p) for p in prefixes}


def test_prefix_keys_compute_each_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[str] = Counter()
    computed = prefix_key

    def counting(prefix: str) -> tuple[int, int, int]:
        calls[prefix] += 1
        return computed(prefix)

    monkeypatch.setattr(bgpemu.types, "prefix_key", counting)
    keys = PrefixKeys()
    for _ in range(3):
        sorted(["10.1.0.0/16", "10.0.0.0/8", "2001:db8::/32"], key=keys.__getitem__)
    assert calls == {"10.1.0.0/16": 1, "10.0.0.0/8": 1, "2001:db8::/32": 1}


def test_prefix_keys_refuse_what_is_not_a_prefix() -> None:
    keys = PrefixKeys()
    with pytest.raises(ValueError, match="not-a-prefix"):
        keys["not-a-prefix"]
    assert not keys


@settings(max_examples=300, deadline=None)
@given(outers=st.lists(_V4 | _V6, max_size=3), inner=_V4 | _V6)
def test_covered_by_over_the_memo_is_covered_by(outers: list[str], inner: str) -> None:
    keys = PrefixKeys()
    assert covered_by(outers, keys.__getitem__)(inner) is covered_by(outers)(inner)


def _vnets_of(solution: Any, hub: str) -> list[VNet]:
    network = solution.network
    connected = {
        c.vnet for c in network.connections if isinstance(c, HubVnetConnection) and c.hub == hub
    }
    return [v for v in network.of_type(VNet) if v.name in connected]


def test_one_hub_table_programs_the_same_routes_into_its_vnets() -> None:
    """VNet1 and VNet2 of Hub1 read Hub1's Default table (§5.3): one route object per
    prefix for both, each VNet leaving out its own range, as each VNet gets alone."""
    solution = solved("vwan-standard-any-to-any")
    network, plan, snaps = solution.network, solution.plan, solution.snapshots
    hub = network.node("Hub1")
    assert isinstance(hub, VWanHub)
    tables = HubTables(network, plan, snaps)
    first, second = _vnets_of(solution, "Hub1")
    shared = [gateway_routes(network, plan, snaps, v, tables) for v in (first, second)]
    alone = [gateway_routes(network, plan, snaps, v) for v in (first, second)]
    assert shared == alone
    programmed = tables.programmed(hub, DEFAULT_TABLE)
    assert tables.programmed(hub, DEFAULT_TABLE) is programmed
    common = shared[0].keys() & shared[1].keys()
    assert common
    assert all(shared[0][p] is shared[1][p] for p in common)
    assert {r.prefix for r in programmed} - shared[0].keys() == set(first.address_space)
    assert {r.prefix for r in programmed} - shared[1].keys() == set(second.address_space)


def test_each_hub_path_list_is_made_once_per_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Default and None tables of a hub, and the effective routes of its VNets,
    choose from one list of the hub speaker's paths."""
    solution = solved("vwan-standard-any-to-any")
    network, plan, snaps = solution.network, solution.plan, solution.snapshots
    calls: Counter[str] = Counter()
    made = hub_view._paths

    def counting(snap: Any) -> Any:
        calls[snap.name] += 1
        return made(snap)

    monkeypatch.setattr(hub_view, "_paths", counting)
    every = views.HubTables(network, plan, snaps)
    for hub in network.of_type(VWanHub):
        for table in route_tables(hub):
            every.routes(hub.name, table)
        for vnet in _vnets_of(solution, hub.name):
            views.effective_routes(network, plan, snaps, vnet.name, "default", hub_tables=every)
    assert calls
    assert set(calls.values()) == {1}, calls
