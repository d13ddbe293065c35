"""Pydantic models of the topology file's connections, one per ``type`` (the discriminator).

Each model lists its two ends in ``ENDS`` (attribute, roles it may name): the loader
checks the references with it and derives the default connection name
``<end1>-<end2>`` from it.  Each model is named after the :mod:`bgpemu.azure.model`
class it compiles to, plus ``Model`` (docs/topology.md, "One name per concept").
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from bgpemu.config.keys import Md5Key
from bgpemu.topology._base import IpAddress, Model, Name, Prefix, models_by_tag
from bgpemu.topology.nodes import SessionPolicyModel

__all__ = [
    "CONNECTION_MODELS",
    "CONNECTION_TYPES",
    "BgpPeeringModel",
    "ConnectionModel",
    "ExpressRouteConnectionModel",
    "HubBgpConnectionModel",
    "HubExpressRouteConnectionModel",
    "HubRoutingModel",
    "HubVnetConnectionModel",
    "HubVpnConnectionModel",
    "PropagatedRouteTablesModel",
    "RouteServerPeerModel",
    "SiteToSiteModel",
    "VnetStaticRouteModel",
    "VnetToVnetModel",
]

RoutingWeight = Annotated[int, Field(ge=0, le=32000)]
"""ExpressRoute connection weight, 0-32000, higher preferred (§4.4 [ER-LINK])."""


class _Connection(Model):
    ENDS: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()

    name: Name | None = None
    """Default: ``<end1>-<end2>``."""

    def ends(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(attribute, node name, allowed roles) for both ends."""
        return [(attr, str(getattr(self, attr)), roles) for attr, roles in self.ENDS]

    def effective_name(self) -> str:
        """The connection's name, explicit or derived from its two ends."""
        if self.name is not None:
            return self.name
        return "-".join(name for _, name, _ in self.ends())


class PropagatedRouteTablesModel(Model):
    """Where a hub connection's routes go: route tables of its hub, and labels (§5.3)."""

    names: list[Name] = []
    labels: list[Name] = []


class HubRoutingModel(Model):
    """Association and propagation of a hub connection (§5.3).

    Without ``propagatedRouteTables`` a connection propagates to ``defaultRouteTable`` and
    the ``default`` label; once given, only what it lists.
    """

    associated_route_table: Name = "defaultRouteTable"
    propagated_route_tables: PropagatedRouteTablesModel | None = None


class SiteToSiteModel(_Connection):
    """A VPN gateway to an on-prem site (its local network gateway, §3)."""

    ENDS = (("gateway", ("vpn_gateway",)), ("site", ("onprem",)))
    type: Literal["site_to_site"]
    gateway: Name
    site: Name
    enable_bgp: bool = True
    local_address_prefixes: list[Prefix] = []
    site_policy: SessionPolicyModel = SessionPolicyModel()


class VnetToVnetModel(_Connection):
    """A VNet-to-VNet connection between two VPN gateways (§3.4)."""

    ENDS = (("gateway", ("vpn_gateway",)), ("remote_gateway", ("vpn_gateway",)))
    type: Literal["vnet_to_vnet"]
    gateway: Name
    remote_gateway: Name
    enable_bgp: bool = True


class ExpressRouteConnectionModel(_Connection):
    """An ExpressRoute gateway linked to a circuit (§4.4)."""

    ENDS = (("gateway", ("expressroute_gateway",)), ("circuit", ("expressroute",)))
    type: Literal["expressroute"]
    gateway: Name
    circuit: Name
    routing_weight: RoutingWeight = 0


class VnetStaticRouteModel(Model):
    """A static route of a hub VNet connection: next hop = an NVA IP in that VNet (§5.3)."""

    name: Name
    address_prefixes: Annotated[list[Prefix], Field(min_length=1)]
    next_hop_ip_address: IpAddress


class HubVnetConnectionModel(_Connection):
    """A hub virtual network connection (§5.3)."""

    ENDS = (("hub", ("vwan_hub",)), ("vnet", ("vnet",)))
    type: Literal["hub_vnet"]
    hub: Name
    vnet: Name
    routing_configuration: HubRoutingModel = HubRoutingModel()
    static_routes: list[VnetStaticRouteModel] = []
    propagate_static_routes: bool = False
    enable_internet_security: bool = True


class HubVpnConnectionModel(_Connection):
    """A VPN site connected to the hub's VPN gateway (§5.3)."""

    ENDS = (("hub", ("vwan_hub",)), ("site", ("onprem",)))
    type: Literal["hub_vpn"]
    hub: Name
    site: Name
    enable_bgp: bool = True
    address_prefixes: list[Prefix] = []
    routing_configuration: HubRoutingModel = HubRoutingModel()
    enable_internet_security: bool = False
    site_policy: SessionPolicyModel = SessionPolicyModel()


class HubExpressRouteConnectionModel(_Connection):
    """An ExpressRoute circuit connected to the hub's ER gateway (§5.3)."""

    ENDS = (("hub", ("vwan_hub",)), ("circuit", ("expressroute",)))
    type: Literal["hub_expressroute"]
    hub: Name
    circuit: Name
    routing_weight: RoutingWeight = 0
    routing_configuration: HubRoutingModel = HubRoutingModel()
    enable_internet_security: bool = False


class HubBgpConnectionModel(_Connection):
    """An NVA peering with the hub router (§5.6)."""

    ENDS = (("hub", ("vwan_hub",)), ("nva", ("nva",)))
    type: Literal["hub_bgp"]
    hub: Name
    nva: Name


class RouteServerPeerModel(_Connection):
    """An NVA peering with both Route Server instances (§6.1)."""

    ENDS = (("route_server", ("route_server",)), ("nva", ("nva",)))
    type: Literal["route_server_peer"]
    route_server: Name
    nva: Name


class BgpPeeringModel(_Connection):
    """A plain BGP session between two customer speakers (on-prem or NVA)."""

    ENDS = (("a", ("onprem", "nva")), ("b", ("onprem", "nva")))
    type: Literal["bgp"]
    a: Name
    b: Name
    password: Md5Key | None = None
    """The session's TCP-MD5 key (RFC 2385): text, ``{env: NAME}`` or ``{file: PATH}``."""


ConnectionModel = Annotated[
    SiteToSiteModel
    | VnetToVnetModel
    | ExpressRouteConnectionModel
    | HubVnetConnectionModel
    | HubVpnConnectionModel
    | HubExpressRouteConnectionModel
    | HubBgpConnectionModel
    | RouteServerPeerModel
    | BgpPeeringModel,
    Field(discriminator="type"),
]

CONNECTION_MODELS: dict[str, type[_Connection]] = models_by_tag(
    ConnectionModel, "type", _Connection
)
"""Connection type -> model, in the union's order."""
CONNECTION_TYPES: tuple[str, ...] = tuple(CONNECTION_MODELS)
