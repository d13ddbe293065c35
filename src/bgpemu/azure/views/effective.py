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

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bgpemu.azure.model import Network, NextHopType, RouteTable, Subnet, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.views._lookup import node_of
from bgpemu.azure.views._prefixes import covered_by, covers
from bgpemu.azure.views.hub import HubTables
from bgpemu.azure.views.render import Rows, format_table
from bgpemu.azure.views.sources import GatewayOffers, gateway_routes
from bgpemu.types import prefix_key

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
_PRECEDENCE = {USER: 0, GATEWAY: 1, DEFAULT: 2}


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
    rows = _defaults(network, node, user_default=any(r.prefix == "0.0.0.0/0" for r in user))
    if not disabled:
        rows.extend(
            _Row(
                source=GATEWAY,
                prefix=route.prefix,
                next_hop_type=str(NextHopType.VIRTUAL_NETWORK_GATEWAY),
                next_hops=route.next_hops,
            )
            for route in gateway_routes(
                network, plan, snapshots, node, hub_tables, gateway_offers
            ).values()
        )
    rows.extend(user)
    states = _states(rows)
    ordered = sorted(range(len(rows)), key=lambda i: _az_order(rows[i]))
    return {
        "value": [
            {
                "addressPrefix": [rows[i].prefix],
                "disableBgpRoutePropagation": disabled,
                "name": rows[i].name,
                "nextHopIpAddress": list(rows[i].next_hops),
                "nextHopType": rows[i].next_hop_type,
                "source": rows[i].source,
                "state": states[i],
            }
            for i in ordered
        ]
    }


def _az_order(row: _Row) -> tuple[int, tuple[int, int, int]]:
    """Where az lists a row: the VNet's and the peered VNets' ranges, the gateway routes
    (by prefix), 0.0.0.0/0 and the None routes, then the UDRs in their table's order
    (the default routes in the order of the Azure docs' system-route table,
    virtual-networks-udr-overview; VirtualNetworkGateway right after VnetLocal in
    published ``-o table`` captures: tests/data/az/effective-routes.json).  The sort is
    stable: rows of one group keep the order they were built in."""
    if row.source == GATEWAY:
        return 1, prefix_key(row.prefix)
    if row.source == USER:
        return 3, (0, 0, 0)
    return (0 if row.next_hop_type in _LOCAL_HOPS else 2), (0, 0, 0)


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


def _states(rows: list[_Row]) -> list[str]:
    """Active for the winner of each prefix, Invalid for the rest (§1.4)."""
    protected = covered_by(
        r.prefix
        for r in rows
        if r.source == DEFAULT
        and r.next_hop_type in (NextHopType.VNET_LOCAL, NextHopType.VNET_PEERING)
    )
    states = ["Invalid"] * len(rows)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.source == GATEWAY and protected(row.prefix):
            continue
        groups[row.prefix].append(i)
    for members in groups.values():
        winner = min(members, key=lambda i: _PRECEDENCE[rows[i].source])
        states[winner] = "Active"
    return states


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
