"""The commands worth trying once a lab has converged (issue 15: a newcomer is never left
to guess what the lab is for).

:func:`next_steps` reads them off the topology, never off one file: a view of what Azure
programs (a spoke subnet's effective routes, else a vWAN hub's), a failure to inject (the
ExpressRoute circuit first, the link whose loss shows a backup taking over), and a flow
to trace when the topology declares interfaces, else a gateway's or a Route Server's
learned routes.  ``lab up`` prints them on stderr after its summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.azure.model import (
    BgpPeering,
    ExpressRouteCircuit,
    ExpressRouteGateway,
    HubVpnConnection,
    Network,
    RouteServerPeer,
    SiteToSite,
    VNet,
    VpnGateway,
    VWanHub,
)
from bgpemu.topology.checks.security import RESERVED_SUBNETS

__all__ = ["NextStep", "next_steps"]


@dataclass(frozen=True, slots=True)
class NextStep:
    """One command (its arguments after ``bgpemu``) and what it shows."""

    argv: tuple[str, ...]
    what: str


def next_steps(network: Network) -> list[NextStep]:
    """Up to three commands for a running lab of ``network``, in the order to try them."""
    found = [_view(network), _failure(network), _trace(network) or _learned(network)]
    return [step for step in found if step is not None]


def _view(network: Network) -> NextStep | None:
    """A subnet's effective routes, a spoke's first (one that uses its hub's gateways sees
    on-prem through them); else a vWAN hub's default route table."""
    vnets = network.of_type(VNet)
    spokes = [v for v in vnets if any(p.use_remote_gateways for p in v.peerings)]
    for vnet in spokes + vnets:
        for subnet in vnet.subnets:
            if subnet.name not in RESERVED_SUBNETS:
                where = f"{vnet.name}/{subnet.name}"
                return NextStep(
                    ("effective-routes", where), f"the routes Azure programs in {where}"
                )
    hubs = network.of_type(VWanHub)
    if hubs:
        return NextStep(("hub-routes", hubs[0].name), f"{hubs[0].name}'s effective routes")
    return None


def _failure(network: Network) -> NextStep | None:
    """The link to take down: an ExpressRoute circuit's private peering, else a VPN
    site's, a Route Server's NVA, a hub's VPN site, an eBGP session."""
    pairs: list[tuple[str, str]] = [(c.name, c.peer) for c in network.of_type(ExpressRouteCircuit)]
    pairs += [(c.gateway, c.site) for c in network.of_type(SiteToSite) if c.enable_bgp]
    pairs += [(c.route_server, c.nva) for c in network.of_type(RouteServerPeer)]
    pairs += [(c.hub, c.site) for c in network.of_type(HubVpnConnection) if c.enable_bgp]
    pairs += [(c.a, c.b) for c in network.of_type(BgpPeering)]
    if not pairs:
        return None
    a, b = pairs[0]
    return NextStep(
        ("fail", "link", a, b),
        f"take the link {a}-{b} down, then look again ('restore link' undoes it)",
    )


def _trace(network: Network) -> NextStep | None:
    """A flow between two running interfaces, VMs' before appliances' (IP forwarding on),
    of two VNets if there are."""
    nics = sorted(
        (
            nic
            for vnet in network.of_type(VNet)
            for subnet in vnet.subnets
            for nic in subnet.network_interfaces
            if nic.running
        ),
        key=lambda nic: nic.enable_ip_forwarding,
    )
    if len(nics) < 2:
        return None
    source = nics[0]
    others = [n for n in nics[1:] if n.vnet != source.vnet] or nics[1:]
    target = others[0]
    return NextStep(
        ("trace", source.name, target.name),
        f"every hop from {source.name} to {target.name}, and the rule that let it through",
    )


def _learned(network: Network) -> NextStep | None:
    """A gateway's learned routes (VPN first), else a Route Server's from its first NVA."""
    gateways: list[VpnGateway | ExpressRouteGateway] = [
        *network.of_type(VpnGateway),
        *network.of_type(ExpressRouteGateway),
    ]
    if gateways:
        name = gateways[0].name
        return NextStep(("learned-routes", name), f"the routes {name} learned, with their weights")
    peers = network.of_type(RouteServerPeer)
    if peers:
        where = f"{peers[0].route_server}/{peers[0].nva}"
        return NextStep(("route-server-routes", where), f"the routes {where} learned")
    return None
