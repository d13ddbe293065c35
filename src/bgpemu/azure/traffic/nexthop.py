"""``az network watcher show-next-hop`` (REST ``…/nextHop``): §4.3 of azure-traffic.md.

The next hop of a packet from a source interface to a destination is the Active
effective route of the source's subnet that the destination matches longest (§5.1
step 2 [UDR]), printed as Network Watcher prints it [NW-NH][NW-NH-API]:

* ``nextHopType``: the effective route's own name (``VnetLocal``, ``VNetPeering``,
  ``VirtualAppliance``, ``VirtualNetworkGateway``, ``Internet``, ``None``) — decision
  §9.4: the effective-route vocabulary, not the API enum or the portal's names (mapping in
  docs/azure-behaviours.md, Traffic);
* ``nextHopIpAddress``: the route's next hop (None when it has none); with several (an
  ECMP route: active-active gateway instances, several NVAs) the lowest, and
  ``nextHopIpAddresses`` lists them all (decision §9.11: report the set);
* ``routeTableId``: the route table's resource id when a UDR won, else ``System Route``.
"""

from __future__ import annotations

from typing import Any

from bgpemu.azure.traffic.flow import address_value
from bgpemu.azure.traffic.index import TrafficContext

__all__ = ["next_hop"]


def next_hop(ctx: TrafficContext, source: str, destination: str) -> dict[str, Any]:
    """The next hop from ``source`` (an interface, NVA or firewall name, or an address one
    of them holds) to ``destination`` (§4.3).

    ValueError naming the source when nothing in a VNet holds it, or the destination when
    it is not an address.
    """
    owner = ctx.find(source)
    position = ctx.position(owner)
    if position is None:
        raise ValueError(
            f"source {source} ({owner.kind} {owner.name!r}) is not in a virtual network: "
            "next hop answers for Azure interfaces only"
        )
    try:
        key = address_value(destination)
    except ValueError:
        raise ValueError(f"destination {destination!r} is not an IP address") from None
    route = ctx.lookup(position, key)
    if route is None:
        return {"nextHopType": "None", "nextHopIpAddress": None, "routeTableId": "System Route"}
    answer: dict[str, Any] = {
        "nextHopType": route.next_hop_type,
        "nextHopIpAddress": route.next_hops[0] if route.next_hops else None,
        "routeTableId": route.route_table_id,
    }
    if len(route.next_hops) > 1:
        answer["nextHopIpAddresses"] = list(route.next_hops)
    return answer
