"""Builders for the traffic tests: networks of VNets, subnets and interfaces in code, and
the service tags of a subnet from its effective routes (no engine: no gateways)."""

from __future__ import annotations

from bgpemu.azure.model import Network, Peering, Subnet, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.traffic.tags import ServiceTags, service_tags
from bgpemu.azure.views import effective_routes

NO_PLAN = Plan(speakers=(), endpoints={})


def tags_of(network: Network, vnet: str, subnet: str) -> ServiceTags:
    """The service tags of ``subnet`` of ``vnet`` from its effective routes."""
    return service_tags(effective_routes(network, NO_PLAN, {}, vnet, subnet))


def vnet(
    name: str, space: str, *subnets: Subnet, peers: tuple[str, ...] = (), **kwargs: object
) -> VNet:
    """A VNet with one address range, ``subnets`` and a peering to each of ``peers``."""
    return VNet(
        name=name,
        address_space=(space,),
        subnets=subnets,
        peerings=tuple(Peering(remote_virtual_network=peer) for peer in peers),
        **kwargs,  # type: ignore[arg-type]
    )
