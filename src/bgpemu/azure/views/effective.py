"""``az network nic show-effective-route-table`` for a VNet subnet (§1, §2, §10).

Theory of operation.  Every candidate route of the subnet is listed, each with state
``Active`` (installed) or ``Invalid`` (overridden, §1.4.4 [UDR]):

* Default: one VnetLocal route per address range; one VNetPeering route per range of
  each peered VNet (decision: only when both VNets hold a peering object to each other,
  i.e. the peering is Connected, §2 [PEER-MGMT]); 0.0.0.0/0 Internet; 10/8, 172.16/12,
  192.168/16 and 100.64/10 None, flipped to VnetLocal when a range equals one of them
  and removed when a range contains one (§1.1 [UDR]); a user 0/0 on the subnet removes
  the four None routes (§1.1 [INF]; decision: a gateway 0/0 does not, §11);
* VirtualNetworkGateway: see :mod:`bgpemu.azure.views.sources`, unless the subnet's
  route table has ``disable_bgp_route_propagation`` (§1.3 [UDR][ARS-INJECT]);
* User: the UDRs of the subnet's route table (§1.3).

Selection (§1.4): longest prefix wins, so only same-prefix routes compete; there User >
VirtualNetworkGateway > Default.  A gateway route equal to or inside a VnetLocal or
VNetPeering range is Invalid whatever its length (§1.4.3 [UDR][ARS-FAQ]).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.model import Network, NextHopType, RouteTable, Subnet, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._gateway_route import GatewayRoute
from bgpemu.azure.views._lookup import node_of
from bgpemu.azure.views._prefixes import covered_by, covers
from bgpemu.azure.views.hub import HubTables
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.azure.views.sources import GatewayOffers, gateway_routes
from bgpemu.types import PrefixKeys

__all__ = [
    "RESERVED_PREFIXES",
    "effective_routes",
    "render_table",
    "table_rows",
]

RESERVED_PREFIXES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
"""The default routes with next hop None (RFC 1918 and RFC 6598, §1.1)."""

DEFAULT = "Default"
USER = "User"
GATEWAY = "VirtualNetworkGateway"
_LOCAL_HOPS = (str(NextHopType.VNET_LOCAL), str(NextHopType.VNET_PEERING))
_GATEWAY_HOP = str(NextHopType.VIRTUAL_NETWORK_GATEWAY)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    source: str
    prefix: str
    next_hop_type: str
    next_hops: tuple[str, ...] = ()
    name: str | None = None


def effective_routes(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    vnet: str,
    subnet: str | None = None,
    *,
    hub_tables: HubTables | None = None,
    gateway_offers: GatewayOffers | None = None,
) -> dict[str, Any]:
    """The effective routes of ``subnet`` of ``vnet`` (None: the VNet-wide table, no UDRs).

    ``hub_tables``: the vWAN hub tables already worked out over the same snapshots
    (:class:`~bgpemu.azure.views.hub.HubTables`, one per report), else computed here;
    ``gateway_offers``: the serving VNets' gateway routes already chosen over the same
    snapshots (:class:`~bgpemu.azure.views.sources.GatewayOffers`), else chosen here.
    KeyError naming the VNet or subnet when it does not exist.
    """
    node = node_of(network, vnet, (VNet,), "VNet")
    assert isinstance(node, VNet)
    table = _route_table(node, subnet)
    disabled = table is not None and table.disable_bgp_route_propagation
    user = [
        _Row(
            source=USER,
            prefix=route.address_prefix,
            next_hop_type=str(route.next_hop_type),
            next_hops=() if route.next_hop_ip_address is None else (route.next_hop_ip_address,),
            name=route.name,
        )
        for route in (() if table is None else table.routes)
    ]
    defaults = _defaults(network, node, user_default=any(r.prefix == "0.0.0.0/0" for r in user))
    tables = HubTables(network, plan, snapshots) if hub_tables is None else hub_tables
    gateway: list[GatewayRoute] = []
    if not disabled:
        gateway = list(
            gateway_routes(network, plan, snapshots, node, tables, gateway_offers).values()
        )
    active = _active(defaults, gateway, user, tables.prefix_keys)
    local, gateway, other = _az_order(defaults, gateway, tables.prefix_keys)
    value = [_row_json(row, disabled, active) for row in local]
    value.extend(_gateway_json(gateway, disabled, active))
    value.extend(_row_json(row, disabled, active) for row in other)
    value.extend(_row_json(row, disabled, active) for row in user)
    return {"value": value}


def _az_order(
    defaults: list[_Row], gateway: list[GatewayRoute], keys: PrefixKeys
) -> tuple[list[_Row], list[GatewayRoute], list[_Row]]:
    """Where az lists a row: the VNet's and the peered VNets' ranges, the gateway routes
    (by prefix), 0.0.0.0/0 and the None routes, then the UDRs in their table's order
    (the default routes in the order of the Azure docs' system-route table,
    virtual-networks-udr-overview; VirtualNetworkGateway right after VnetLocal in
    published ``-o table`` captures: tests/data/az/effective-routes.json).  Rows of one
    group keep the order they were built in (a stable sort of the gateway routes).

    Returns the ranges, the gateway routes, the rest of the defaults; the UDRs follow."""
    gateway_keys = [keys[route.prefix] for route in gateway]
    order = sorted(range(len(gateway)), key=gateway_keys.__getitem__)
    return (
        [row for row in defaults if row.next_hop_type in _LOCAL_HOPS],
        [gateway[i] for i in order],
        [row for row in defaults if row.next_hop_type not in _LOCAL_HOPS],
    )


def _row_json(row: _Row, disabled: bool, active: Mapping[str, object]) -> dict[str, Any]:
    """One Default or User row as az prints it; Active if it won its prefix (:func:`_active`)."""
    return {
        "addressPrefix": [row.prefix],
        "disableBgpRoutePropagation": disabled,
        "name": row.name,
        "nextHopIpAddress": list(row.next_hops),
        "nextHopType": row.next_hop_type,
        "source": row.source,
        "state": "Active" if active.get(row.prefix) is row else "Invalid",
    }


def _gateway_json(
    routes: list[GatewayRoute], disabled: bool, active: Mapping[str, object]
) -> list[dict[str, Any]]:
    """The VirtualNetworkGateway rows of ``routes``, as :func:`_row_json` prints a row
    (no name; the routes are shared with other VNets' views, hence no row of their own)."""
    return [
        {
            "addressPrefix": [route.prefix],
            "disableBgpRoutePropagation": disabled,
            "name": None,
            "nextHopIpAddress": list(route.next_hops),
            "nextHopType": _GATEWAY_HOP,
            "source": GATEWAY,
            "state": "Active" if active.get(route.prefix) is route else "Invalid",
        }
        for route in routes
    ]


def _route_table(vnet: VNet, subnet: str | None) -> RouteTable | None:
    if subnet is None:
        return None
    found: Subnet | None = next((s for s in vnet.subnets if s.name == subnet), None)
    if found is None:
        raise KeyError(f"VNet {vnet.name!r} has no subnet {subnet!r}")
    if found.route_table is None:
        return None
    for table in vnet.route_tables:
        if table.name == found.route_table:
            return table
    raise KeyError(f"VNet {vnet.name!r} has no route table {found.route_table!r}")


def _peered_ranges(network: Network, vnet: VNet) -> list[str]:
    """Ranges of every VNet peered both ways with ``vnet`` (§2: one route per range)."""
    ranges: list[str] = []
    for peering in vnet.peerings:
        remote = network.node(peering.remote_virtual_network)
        if isinstance(remote, VNet) and any(
            p.remote_virtual_network == vnet.name for p in remote.peerings
        ):
            ranges.extend(remote.address_space)
    return ranges


def _defaults(network: Network, vnet: VNet, *, user_default: bool) -> list[_Row]:
    local = str(NextHopType.VNET_LOCAL)
    rows = [_Row(source=DEFAULT, prefix=r, next_hop_type=local) for r in vnet.address_space]
    rows.extend(
        _Row(source=DEFAULT, prefix=r, next_hop_type=str(NextHopType.VNET_PEERING))
        for r in _peered_ranges(network, vnet)
    )
    rows.append(_Row(source=DEFAULT, prefix="0.0.0.0/0", next_hop_type=str(NextHopType.INTERNET)))
    if not user_default:
        rows.extend(
            _Row(source=DEFAULT, prefix=reserved, next_hop_type=str(NextHopType.NONE))
            for reserved in RESERVED_PREFIXES
            # Equal: the VnetLocal row is that route, flipped; superset: removed (§1.1).
            if not any(covers(r, reserved) for r in vnet.address_space)
        )
    return rows


def _active(
    defaults: list[_Row], gateway: list[GatewayRoute], user: list[_Row], keys: PrefixKeys
) -> dict[str, object]:
    """The winner of each prefix (Active; every other row is Invalid), §1.4: longest
    prefix match leaves only same-prefix routes competing, and among them User over
    VirtualNetworkGateway over Default, the first built of equals.  A gateway route
    equal to or inside a VnetLocal or VNetPeering range competes for nothing (§1.4.3)."""
    protected = covered_by(
        (row.prefix for row in defaults if row.next_hop_type in _LOCAL_HOPS), keys.__getitem__
    )
    active: dict[str, object] = {}
    for row in defaults:
        active.setdefault(row.prefix, row)
    for route in gateway:  # one per prefix: a Default row is all it can beat
        if not protected(route.prefix):
            active[route.prefix] = route
    users: set[str] = set()
    for row in user:
        if row.prefix not in users:
            users.add(row.prefix)
            active[row.prefix] = row
    return active


def table_rows(view: Mapping[str, Any]) -> Rows:
    """The rows of :func:`effective_routes` in az's columns."""
    rows: list[list[object]] = [
        [
            item["source"],
            item["state"],
            item["addressPrefix"],
            item["nextHopType"],
            item["nextHopIpAddress"],
        ]
        for item in view["value"]
    ]
    return ["Source", "State", "Address Prefix", "Next Hop Type", "Next Hop IP"], rows


def render_table(view: Mapping[str, Any]) -> str:
    """``-o table`` of :func:`effective_routes` (az's columns)."""
    return format_table(*table_rows(view))
