"""Pydantic models of the topology file's nodes, one per ``role`` (the discriminator).

Keys are the camelCase ARM property names where Azure has one (``addressSpace``,
``useRemoteGateways``, ``bgpPeeringAddress``...); docs/topology.md lists every field.
Section numbers (§) refer to shared/azure-routing.md, whose rules the loader checks.
Each model is named after the :mod:`bgpemu.azure.model` class it compiles to, plus
``Model`` (docs/topology.md, "One name per concept").
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from bgpemu.azure.model import AZURE_ASN, Connectivity, RoutingPreference, Sku, VWanType
from bgpemu.config.keys import Md5Key
from bgpemu.topology._base import (
    U32,
    Asn,
    Community,
    IpAddress,
    Ipv4Address,
    Ipv4Prefix,
    Model,
    Name,
    Prefix,
    Prepend,
    models_by_tag,
)
from bgpemu.topology.firewall import AzureFirewallModel
from bgpemu.topology.security import NetworkInterfaceModel

__all__ = [
    "ROLE_MODELS",
    "AnnouncementModel",
    "AzureFirewallModel",
    "ExpressRouteCircuitModel",
    "ExpressRouteGatewayModel",
    "ExternalModel",
    "HubRouteTableModel",
    "HubStaticRouteModel",
    "NodeModel",
    "NvaModel",
    "OnPremModel",
    "P2sConfigModel",
    "PeeringModel",
    "RouteServerModel",
    "RouteTableModel",
    "SessionPolicyModel",
    "SubnetModel",
    "UserRouteModel",
    "VNetModel",
    "VWanHubModel",
    "VWanModel",
    "VpnGatewayModel",
]

MaxPaths = Annotated[int, Field(ge=1, le=64)]


def _announcement(value: object) -> object:
    """A bare prefix string is short for ``{prefix: ...}``."""
    return {"prefix": value} if isinstance(value, str) else value


def _external(value: object) -> object:
    """``external: true`` is short for ``external: {}``; ``false`` for no key."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


# --------------------------------------------------------------------------- shared


class AnnouncementModel(Model):
    """A prefix a customer router or NVA originates."""

    prefix: Prefix
    as_path_prepend: Prepend = 0
    # A new list per announcement, not a deep copy of a ``[]`` default (a vWAN of 100
    # branches has 20,000 announcements); the schema shows the same default.
    communities: list[Community] = Field(default_factory=list, json_schema_extra={"default": []})
    """``ASN:VALUE`` or a well-known name (``no-advertise``, ``no-export``...), RFC 1997."""
    med: U32 | None = None


Announcements = list[
    Annotated[
        AnnouncementModel,
        BeforeValidator(_announcement, json_schema_input_type=str | AnnouncementModel),
    ]
]


class SessionPolicyModel(Model):
    """What the customer side sets on one session: LOCAL_PREF in, prepend/MED out (§4.4)."""

    local_pref: U32 | None = None
    prepend: Prepend = 0
    med: U32 | None = None


# --------------------------------------------------------------------------- VNet


class UserRouteModel(Model):
    """One UDR (§1.3); users cannot create VNetPeering next hops."""

    name: Name
    address_prefix: Prefix
    next_hop_type: Literal[
        "VirtualAppliance", "VirtualNetworkGateway", "VnetLocal", "Internet", "None"
    ]
    next_hop_ip_address: IpAddress | None = None


class RouteTableModel(Model):
    """A route table; ``disableBgpRoutePropagation`` = "Propagate gateway routes: No" (§1.3)."""

    name: Name
    disable_bgp_route_propagation: bool = False
    routes: list[UserRouteModel] = []


class SubnetModel(Model):
    """A subnet; ``routeTable`` names a route table of the same VNet."""

    name: Name
    address_prefix: Prefix
    route_table: Name | None = None
    network_security_group: Name | None = None
    """The subnet's NSG (NSG-S), a key of ``networkSecurityGroups``; not on GatewaySubnet,
    RouteServerSubnet or AzureFirewallSubnet (azure-traffic.md §1.4)."""
    network_interfaces: list[NetworkInterfaceModel] = []
    """The virtual machines' interfaces in this subnet."""


class PeeringModel(Model):
    """This VNet's side of a VNet peering (§2)."""

    remote_virtual_network: Name
    allow_virtual_network_access: bool = True
    allow_forwarded_traffic: bool = False
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False


class VNetModel(Model):
    """``role: vnet`` (§1, §2)."""

    role: Literal["vnet"]
    address_space: Annotated[list[Prefix], Field(min_length=1)]
    subnets: list[SubnetModel] = []
    route_tables: list[RouteTableModel] = []
    peerings: list[PeeringModel] = []


# --------------------------------------------------------------------------- speakers


class ExternalModel(Model):
    """A real router at ``bgpPeeringAddress`` instead of an emulated one."""

    port: Annotated[int, Field(ge=1, le=65535)] = 179


class OnPremModel(Model):
    """``role: onprem``: a customer router (§3.1)."""

    role: Literal["onprem"]
    asn: Asn
    bgp_peering_address: IpAddress
    router_id: Ipv4Address | None = None
    max_paths: MaxPaths = 4
    prefixes: Announcements = []
    external: Annotated[
        ExternalModel | None,
        BeforeValidator(_external, json_schema_input_type=bool | ExternalModel | None),
    ] = None


class VpnGatewayModel(Model):
    """``role: vpn_gateway`` (§3)."""

    role: Literal["vpn_gateway"]
    vnet: Name
    asn: Asn = AZURE_ASN
    active_active: bool = False
    bgp_peering_addresses: list[IpAddress] | None = None
    apipa_addresses: list[Ipv4Address] = []


class ExpressRouteGatewayModel(Model):
    """``role: expressroute_gateway`` (§4.4): AS 65515."""

    role: Literal["expressroute_gateway"]
    vnet: Name
    bgp_peering_address: IpAddress | None = None
    allow_remote_vnet_traffic: bool = False


class ExpressRouteCircuitModel(Model):
    """``role: expressroute``: a circuit and its private peering (§4.1)."""

    role: Literal["expressroute"]
    sku: Sku = Sku.STANDARD
    connectivity: Connectivity = Connectivity.COLOCATION
    peer: Name
    provider_asn: Asn | None = None
    primary_peer_address_prefix: Ipv4Prefix
    secondary_peer_address_prefix: Ipv4Prefix
    peer_policy: SessionPolicyModel = SessionPolicyModel()
    shared_key: Md5Key | None = None
    """The private peering's TCP-MD5 key (RFC 2385) on both MSEE sessions: text,
    ``{env: NAME}`` or ``{file: PATH}`` (§4.1: "Authentication optional (MD5 possible)")."""


class RouteServerModel(Model):
    """``role: route_server`` (§6): two instances, AS 65515."""

    role: Literal["route_server"]
    vnet: Name
    allow_branch_to_branch_traffic: bool = False
    hub_routing_preference: RoutingPreference = RoutingPreference.EXPRESS_ROUTE
    virtual_router_ips: Annotated[list[Ipv4Address], Field(min_length=2, max_length=2)] | None = (
        None
    )


class NvaModel(Model):
    """``role: nva``: a BGP speaker in a VNet (§6, §7)."""

    role: Literal["nva"]
    vnet: Name
    address: Ipv4Address
    asn: Asn
    prefixes: Announcements = []
    next_hop: IpAddress | None = None
    as_override: bool = False
    prepend: Prepend = 0
    max_paths: MaxPaths = 4
    subnet: Name | None = None
    """The subnet of ``vnet`` its interface is in (``address`` must be inside it)."""
    enable_ip_forwarding: bool = True
    """An appliance forwards (azure-traffic.md §5.3); ``false`` models pitfall P3."""
    network_security_group: Name | None = None
    """Its interface's NSG (NSG-N)."""
    application_security_groups: list[Name] = []


class VWanModel(Model):
    """``role: vwan`` (§5.1)."""

    role: Literal["vwan"]
    type: VWanType = VWanType.STANDARD
    allow_branch_to_branch_traffic: bool = True


class HubStaticRouteModel(Model):
    """A static route of a hub route table; ``nextHop`` names a connection of the hub."""

    name: Name
    destinations: Annotated[list[Prefix], Field(min_length=1)]
    next_hop: Name


class HubRouteTableModel(Model):
    """A hub route table (§5.3)."""

    name: Name
    labels: list[Name] = []
    routes: list[HubStaticRouteModel] = []


class P2sConfigModel(Model):
    """A point-to-site configuration; its pools appear as routes (§5.3)."""

    name: Name
    address_pools: Annotated[list[Prefix], Field(min_length=1)]


class VWanHubModel(Model):
    """``role: vwan_hub`` (§5.2-§5.6)."""

    role: Literal["vwan_hub"]
    vwan: Name
    address_prefix: Ipv4Prefix
    hub_routing_preference: RoutingPreference = RoutingPreference.EXPRESS_ROUTE
    virtual_router_ips: Annotated[list[Ipv4Address], Field(min_length=2, max_length=2)] | None = (
        None
    )
    route_tables: list[HubRouteTableModel] = []
    p2s: list[P2sConfigModel] = Field(default=[], alias="p2s")


NodeModel = Annotated[
    OnPremModel
    | VNetModel
    | VpnGatewayModel
    | ExpressRouteGatewayModel
    | ExpressRouteCircuitModel
    | RouteServerModel
    | NvaModel
    | VWanModel
    | VWanHubModel
    | AzureFirewallModel,
    Field(discriminator="role"),
]

ROLE_MODELS: dict[str, type[Model]] = models_by_tag(NodeModel, "role", Model)
"""Role name -> model, in the order docs/topology.md describes them (the union's)."""
