"""The Azure network a topology describes, as plain frozen values (L6, no pydantic).

``bgpemu.topology`` validates a topology file with pydantic and converts it into a
:class:`Network` of these dataclasses; :mod:`bgpemu.azure.roles` compiles a Network
into speakers (one :class:`~bgpemu.router.spec.SpeakerSpec` per BGP endpoint), and
:mod:`bgpemu.azure.views` turns converged RIBs plus the Network into the tables the
Azure CLI shows.  Field names are the snake_case of the ARM property names; every
default cites the rule of ``shared/azure-routing.md`` it follows (section numbers
below refer to that file).

Values here are already validated and resolved: addresses that Azure allocates
(gateway BGP peer IPs, Route Server and hub router IPs) are filled in by the loader,
every name a value refers to exists, and prefixes are normalised strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from bgpemu.azure.security import AzureFirewall, NetworkInterface, NetworkSecurityGroup
from bgpemu.types import TcpMd5Key

__all__ = [
    "AZURE_ASN",
    "HUB_PREPEND_ASN",
    "MSEE_ASN",
    "Announcement",
    "BgpPeering",
    "Connection",
    "Connectivity",
    "ExpressRouteCircuit",
    "ExpressRouteConnection",
    "ExpressRouteGateway",
    "HubBgpConnection",
    "HubExpressRouteConnection",
    "HubRouteTable",
    "HubRouting",
    "HubStaticRoute",
    "HubVnetConnection",
    "HubVpnConnection",
    "Network",
    "NextHopType",
    "Node",
    "Nva",
    "OnPrem",
    "P2sConfig",
    "Peering",
    "RouteServer",
    "RouteServerPeer",
    "RouteTable",
    "RoutingPreference",
    "SessionPolicy",
    "SiteToSite",
    "Sku",
    "Subnet",
    "UserRoute",
    "VNet",
    "VWan",
    "VWanHub",
    "VWanType",
    "VnetToVnet",
    "VpnGateway",
]

_T = TypeVar("_T")

AZURE_ASN = 65515
"""VPN/ER gateways, Route Server and the vWAN hub router (§3.1, §4.4, §5.2, §6.1)."""
MSEE_ASN = 12076
"""Microsoft Enterprise Edge routers of ExpressRoute (§4.1)."""
HUB_PREPEND_ASN = 65520
"""Prepended twice on routes one vWAN hub sends another (§5.4)."""


class NextHopType(StrEnum):
    """``nextHopType`` values of effective routes and UDRs (§1.1-§1.3)."""

    VNET_LOCAL = "VnetLocal"
    INTERNET = "Internet"
    VIRTUAL_APPLIANCE = "VirtualAppliance"
    VIRTUAL_NETWORK_GATEWAY = "VirtualNetworkGateway"
    NONE = "None"
    VNET_PEERING = "VNetPeering"


class RoutingPreference(StrEnum):
    """Hub / Route Server routing preference (§5.5, §6.5)."""

    EXPRESS_ROUTE = "ExpressRoute"
    VPN_GATEWAY = "VpnGateway"
    AS_PATH = "ASPath"


class Connectivity(StrEnum):
    """ExpressRoute connectivity model (§4.1): who peers with the MSEEs."""

    COLOCATION = "colocation"
    """Cloud exchange co-location: the customer router peers with the MSEEs."""
    POINT_TO_POINT = "point-to-point"
    """Point-to-point Ethernet: the customer router peers with the MSEEs."""
    IPVPN = "ipvpn"
    """Any-to-any IPVPN: the provider's PE peers with the MSEEs; its ASN shows in paths."""


class Sku(StrEnum):
    """ExpressRoute circuit SKU: decides the on-prem → Azure prefix limit (§4.2)."""

    STANDARD = "Standard"
    PREMIUM = "Premium"


class VWanType(StrEnum):
    """Virtual WAN type (§5.1)."""

    BASIC = "Basic"
    STANDARD = "Standard"


# --------------------------------------------------------------------------- shared


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement:
    """A prefix a customer router or NVA originates into BGP."""

    prefix: str
    as_path_prepend: int = 0
    communities: tuple[str, ...] = ()
    """``"ASN:VALUE"`` or a well-known name (``no-advertise``...), RFC 1997."""
    med: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    """What the customer side of one session sets on what it learns / sends (§4.4, §4.5)."""

    local_pref: int | None = None
    """LOCAL_PREF on routes learned over this session (e.g. 150 on ER, §9 scenario 5)."""
    prepend: int = 0
    """Extra copies of the customer's ASN on routes sent over this session (§3.3)."""
    med: int | None = None


# --------------------------------------------------------------------------- VNets


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRoute:
    """One UDR of a route table (§1.3)."""

    name: str
    address_prefix: str
    next_hop_type: NextHopType
    next_hop_ip_address: str | None = None
    """Only (and always) for VirtualAppliance."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteTable:
    """A route table; ``disable_bgp_route_propagation`` = "Propagate gateway routes: No"."""

    name: str
    routes: tuple[UserRoute, ...] = ()
    disable_bgp_route_propagation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Subnet:
    """A subnet and the name of its route table in the same VNet (0 or 1, §1.3)."""

    name: str
    address_prefix: str
    route_table: str | None = None
    network_security_group: str | None = None
    """The subnet's NSG (NSG-S, §1.4 of azure-traffic.md); refused on GatewaySubnet,
    RouteServerSubnet and AzureFirewallSubnet."""
    network_interfaces: tuple[NetworkInterface, ...] = ()
    """The virtual machines' interfaces in this subnet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Peering:
    """This VNet's side of a VNet peering (§2; defaults as the portal's)."""

    remote_virtual_network: str
    allow_virtual_network_access: bool = True
    allow_forwarded_traffic: bool = False
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VNet:
    """Role ``vnet``: address space, subnets, route tables, peerings (§1, §2)."""

    name: str
    address_space: tuple[str, ...]
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    peerings: tuple[Peering, ...] = ()


# --------------------------------------------------------------------------- speakers


@dataclass(frozen=True, slots=True, kw_only=True)
class OnPrem:
    """Role ``onprem``: a customer router; ``external`` = a real router at that address."""

    name: str
    asn: int
    bgp_peering_address: str
    """The router's BGP peer IP as Azure sees it (LNG ``bgpPeeringAddress``, §3.1)."""
    router_id: str
    prefixes: tuple[Announcement, ...] = ()
    """The prefixes it originates, each with its attributes (YAML ``prefixes``)."""
    external: bool = False
    external_port: int = 179
    max_paths: int = 4
    """ECMP width of the customer router (it sees active-active gateways as 2 paths)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VpnGateway:
    """Role ``vpn_gateway`` (§3): in ``vnet``; one instance, or two if active-active."""

    name: str
    vnet: str
    asn: int = AZURE_ASN
    active_active: bool = False
    bgp_peering_addresses: tuple[str, ...]
    """One per instance, from GatewaySubnet (``bgpPeeringAddress``, §3.1)."""
    apipa_addresses: tuple[str, ...] = ()
    """Custom APIPA BGP addresses (169.254.21.0-169.254.22.255), one per instance."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpressRouteCircuit:
    """Role ``expressroute``: a circuit, its MSEE pair (AS 12076) and private peering (§4)."""

    name: str
    sku: Sku = Sku.STANDARD
    connectivity: Connectivity = Connectivity.COLOCATION
    peer: str
    """The ``onprem`` node that (directly or through the provider) peers with the MSEEs."""
    provider_asn: int | None = None
    """IPVPN only: the provider PE's ASN (it appears in AS paths)."""
    primary_peer_address_prefix: str
    """/30: first usable address = customer (or PE), second = MSEE (§4.1)."""
    secondary_peer_address_prefix: str
    peer_policy: SessionPolicy = SessionPolicy()
    """What the customer side applies on its sessions toward the circuit."""
    shared_key: TcpMd5Key | None = None
    """The private peering's ``sharedKey``: the TCP-MD5 key (RFC 2385) of both sessions
    between the MSEEs and the customer side (§4.1 [ER-ROUTING]: "MD5 possible")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpressRouteGateway:
    """Role ``expressroute_gateway`` (§4.4): ASN 65515, in ``vnet``."""

    name: str
    vnet: str
    asn: int = AZURE_ASN
    bgp_peering_address: str
    allow_remote_vnet_traffic: bool = False
    """"Allow traffic from remote virtual networks" (off by default on new gateways)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteServer:
    """Role ``route_server`` (§6): two instances, ASN 65515."""

    name: str
    vnet: str
    asn: int = AZURE_ASN
    virtual_router_ips: tuple[str, str]
    """``virtualRouterIps``: the two instances, from RouteServerSubnet."""
    allow_branch_to_branch_traffic: bool = False
    hub_routing_preference: RoutingPreference = RoutingPreference.EXPRESS_ROUTE


@dataclass(frozen=True, slots=True, kw_only=True)
class Nva:
    """Role ``nva``: a BGP speaker inside a VNet (§6, §7)."""

    name: str
    vnet: str
    address: str
    """The NVA's private IP (its BGP address and default next hop)."""
    asn: int
    router_id: str
    prefixes: tuple[Announcement, ...] = ()
    """The prefixes it originates, each with its attributes (YAML ``prefixes``)."""
    next_hop: str | None = None
    """Next hop it sets on its advertisements (e.g. an internal load balancer, §7)."""
    as_override: bool = False
    """Replace the peer's ASN in AS paths it sends (dual-homed ARS designs, §6.6)."""
    prepend: int = 0
    """Extra copies of its ASN on everything it advertises (active/passive, §7)."""
    max_paths: int = 4
    subnet: str | None = None
    """The subnet of ``vnet`` its interface is in (the one holding ``address``)."""
    enable_ip_forwarding: bool = True
    """Its interface forwards packets not addressed to it (an appliance does; set false
    to model the pitfall P3 of azure-traffic.md §6)."""
    network_security_group: str | None = None
    application_security_groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VWan:
    """Role ``vwan`` (§5.1, §5.4)."""

    name: str
    type: VWanType = VWanType.STANDARD
    allow_branch_to_branch_traffic: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class HubStaticRoute:
    """A static route of a hub route table; next hop = a hub connection (§5.3)."""

    name: str
    destinations: tuple[str, ...]
    next_hop: str
    """Name of a connection of this hub (usually a VNet connection with an NVA)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HubRouteTable:
    """A hub route table (Default and None always exist, §5.3)."""

    name: str
    labels: tuple[str, ...] = ()
    routes: tuple[HubStaticRoute, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class P2sConfig:
    """A point-to-site configuration: client address pools appear as routes (§5.3)."""

    name: str
    address_pools: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VWanHub:
    """Role ``vwan_hub`` (§5.2-§5.6): the hub router with its gateways folded in."""

    name: str
    vwan: str
    address_prefix: str
    asn: int = AZURE_ASN
    virtual_router_ips: tuple[str, str]
    """``virtualRouterIps`` of the hub router (from the hub address space)."""
    hub_routing_preference: RoutingPreference = RoutingPreference.EXPRESS_ROUTE
    route_tables: tuple[HubRouteTable, ...] = ()
    """Custom tables plus Default (label ``default``) and None, always present."""
    p2s: tuple[P2sConfig, ...] = ()


Node = (
    OnPrem
    | VNet
    | VpnGateway
    | ExpressRouteCircuit
    | ExpressRouteGateway
    | RouteServer
    | Nva
    | VWan
    | VWanHub
)


# --------------------------------------------------------------------------- connections


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteToSite:
    """An IPsec connection between a VPN gateway and an on-prem site (its LNG, §3)."""

    name: str
    gateway: str
    site: str
    enable_bgp: bool = True
    local_address_prefixes: tuple[str, ...] = ()
    """The LNG address space: static routes in addition to BGP (§3.1)."""
    site_policy: SessionPolicy = SessionPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class VnetToVnet:
    """A VNet-to-VNet connection between two VPN gateways (§3.4)."""

    name: str
    gateway: str
    remote_gateway: str
    enable_bgp: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpressRouteConnection:
    """An ER gateway linked to a circuit, with its routing weight (§4.4)."""

    name: str
    gateway: str
    circuit: str
    routing_weight: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HubRouting:
    """Association and propagation of a hub connection (§5.3)."""

    associated_route_table: str = "defaultRouteTable"
    propagated_route_tables: tuple[str, ...] = ("defaultRouteTable",)
    labels: tuple[str, ...] = ("default",)


@dataclass(frozen=True, slots=True, kw_only=True)
class HubVnetConnection:
    """A hub virtual network connection (§5.3)."""

    name: str
    hub: str
    vnet: str
    routing_configuration: HubRouting = HubRouting()
    static_routes: tuple[HubStaticRoute, ...] = ()
    """Next hop: an NVA IP in that VNet (``next_hop`` holds the IP here)."""
    propagate_static_routes: bool = False
    enable_internet_security: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class HubVpnConnection:
    """A VPN site connected to the hub's VPN gateway (§5.3)."""

    name: str
    hub: str
    site: str
    enable_bgp: bool = True
    address_prefixes: tuple[str, ...] = ()
    routing_configuration: HubRouting = HubRouting()
    enable_internet_security: bool = False
    site_policy: SessionPolicy = SessionPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class HubExpressRouteConnection:
    """An ExpressRoute circuit connected to the hub's ER gateway (§5.3)."""

    name: str
    hub: str
    circuit: str
    routing_weight: int = 0
    routing_configuration: HubRouting = HubRouting()
    enable_internet_security: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HubBgpConnection:
    """An NVA in a VNet connected to the hub peering with the hub router (§5.6)."""

    name: str
    hub: str
    nva: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteServerPeer:
    """An NVA peering with both Route Server instances (§6.1)."""

    name: str
    route_server: str
    nva: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BgpPeering:
    """A plain eBGP session between two customer speakers (on-prem or NVA), e.g. SD-WAN."""

    name: str
    a: str
    b: str
    password: TcpMd5Key | None = None
    """The session's TCP-MD5 key (RFC 2385): customer routers may sign their sessions."""


Connection = (
    SiteToSite
    | VnetToVnet
    | ExpressRouteConnection
    | HubVnetConnection
    | HubVpnConnection
    | HubExpressRouteConnection
    | HubBgpConnection
    | RouteServerPeer
    | BgpPeering
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """A whole topology: nodes by name, and the connections between them."""

    name: str
    nodes: tuple[Node, ...]
    connections: tuple[Connection, ...] = ()
    network_security_groups: tuple[NetworkSecurityGroup, ...] = ()
    application_security_groups: tuple[str, ...] = ()
    firewalls: tuple[AzureFirewall, ...] = ()
    source: object = field(default=None, init=False, compare=False, repr=False)
    """The topology document this network was compiled from (a
    :class:`bgpemu.topology.source.TopologySource`: the model of record, which runtime
    edits change and compile again); None for a network built in code.  Set by the
    loader only: a network made with ``dataclasses.replace`` is one built in code (it
    no longer is what the document says).  Not part of equality: two documents that
    compile to equal values are equal networks."""

    def node(self, name: str) -> Node:
        """The node called ``name`` (KeyError if none)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def of_type(self, kind: type[_T]) -> list[_T]:
        """Every node or connection of class ``kind``, in file order."""
        return [item for item in (*self.nodes, *self.connections) if isinstance(item, kind)]
