"""What every traffic answer looks up, built once per converged network (L6, pure).

Theory of operation.  A :class:`TrafficContext` is made from the inputs of the Azure
views (``network, plan, snapshots``) and indexes, once:

* **owners** (:class:`~bgpemu.azure.traffic.owners.Owner`): every address a packet can
  be delivered to, by integer address: the virtual machines' interfaces, the NVAs, the
  Azure Firewalls, and every BGP endpoint of the plan (VPN gateway instances, ER
  gateways, the MSEEs of a circuit, Route Server instances, vWAN hub routers, on-prem
  routers) (§5.1 step 3, §5.2);
* **on-prem hosts**: the ranges each on-prem router announces, longest match first
  (decision §9.12: an address inside them is a host behind that router);
* **subnets**: every subnet prefix of every VNet, longest match first, so a packet's
  position (which subnet's effective routes it is looked up in, §5.1 step 2, §5.3) is
  found from an address;
* **effective routes** per subnet, made when first asked and kept: the Active rows of
  :func:`bgpemu.azure.views.effective.effective_routes` (the one place that computes
  them) in a longest-prefix-match table of integers (§5.1 step 2 [UDR] "LPM"), and the
  subnet's service tags (:func:`bgpemu.azure.traffic.tags.service_tags`) from the same
  rows.  The pieces every subnet's view shares are worked out once per context: each
  serving VNet's gateway routes (every spoke of one hub is offered the same, §2
  [GW-TRANSIT]; :class:`~bgpemu.azure.views.sources.GatewayOffers`) and each vWAN hub
  route table (:class:`~bgpemu.azure.views.hub.HubTables`).

No ``ipaddress`` object is made on a lookup: addresses are the integer keys of
:func:`bgpemu.azure.traffic.flow.address_value` (``version << 128 | address``), which a
:class:`~bgpemu.azure.traffic.flow.Flow` carries already.  Every longest match is a
:class:`~bgpemu.azure.traffic.lpm.PrefixTable`.  Section numbers (§) refer to
``shared/azure-traffic.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.model import Network, Nva, OnPrem, RouteTable, Subnet, VNet, VWanHub
from bgpemu.azure.plan import Plan
from bgpemu.azure.security import AzureFirewall
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.traffic.firewall import FirewallPolicy
from bgpemu.azure.traffic.flow import address_value
from bgpemu.azure.traffic.hops import RouteUsed
from bgpemu.azure.traffic.lpm import PrefixTable
from bgpemu.azure.traffic.nsg import SecurityIndex
from bgpemu.azure.traffic.owners import Owner, OwnerKind
from bgpemu.azure.traffic.tags import ServiceTags, service_tags
from bgpemu.azure.views._lookup import resource_id
from bgpemu.azure.views.effective import effective_routes
from bgpemu.azure.views.hub import HubTables
from bgpemu.azure.views.sources import GatewayOffers
from bgpemu.rib.route import RibRoute
from bgpemu.types import PrefixKeys

__all__ = ["EffectiveRoute", "Position", "TrafficContext"]

_AZURE_FIREWALL_SUBNET = "AzureFirewallSubnet"
_GATEWAY_SUBNET = "GatewaySubnet"


_ROLE_KINDS = {
    "onprem": OwnerKind.ONPREM,
    "vpn_gateway": OwnerKind.VPN_GATEWAY,
    "expressroute": OwnerKind.MSEE,
    "expressroute_gateway": OwnerKind.EXPRESSROUTE_GATEWAY,
    "route_server": OwnerKind.ROUTE_SERVER,
    "vwan_hub": OwnerKind.HUB_ROUTER,
    "nva": OwnerKind.NVA,
}
"""The plan's endpoint roles (:class:`bgpemu.azure.plan.Endpoint`) as owner kinds."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EffectiveRoute:
    """One Active effective route of a subnet (§4.3: what next hop answers from)."""

    prefix: str
    next_hop_type: str
    next_hops: tuple[str, ...]
    source: str
    """``Default``, ``User`` or ``VirtualNetworkGateway`` (§4.3)."""
    name: str | None = None
    """The UDR's name (User routes)."""
    route_table_id: str = "System Route"
    """The route table's resource id for a UDR, else ``System Route`` (§4.3 [NW-NH])."""
    overrides: tuple[str, ...] = ()
    """The next-hop types and sources of the Invalid routes to the same prefix it beat
    (``"Default None"``, ``"VirtualNetworkGateway VirtualNetworkGateway"``), §1.4 [UDR]."""


_NAMED_SOURCES = frozenset({OwnerKind.INTERFACE, OwnerKind.NVA, OwnerKind.FIREWALL})

Position = tuple[str, str | None]
"""Where a packet is looked up: ``(vnet, subnet)`` (subnet None: the VNet-wide table)."""


@dataclass(slots=True)
class TrafficContext:
    """The converged network's traffic index: owners, hosts, subnets, effective routes."""

    network: Network
    plan: Plan
    snapshots: Mapping[str, RouterSnapshot]
    owners: dict[int, Owner] = field(default_factory=dict)
    hosts: PrefixTable[str] = field(default_factory=PrefixTable)
    """On-prem announced ranges -> the on-prem node announcing them (decision §9.12)."""
    subnets: PrefixTable[Position] = field(default_factory=PrefixTable)
    vnets: PrefixTable[str] = field(default_factory=PrefixTable)
    """VNet address ranges -> VNet name."""
    _routes: dict[Position, PrefixTable[EffectiveRoute]] = field(default_factory=dict)
    _tables: dict[Position, list[EffectiveRoute]] = field(default_factory=dict)
    _tags: dict[Position, ServiceTags] = field(default_factory=dict)
    _ribs: dict[str, PrefixTable[tuple[RibRoute, ...]]] = field(default_factory=dict)
    _security: SecurityIndex | None = None
    _policies: dict[str, FirewallPolicy] = field(default_factory=dict)
    _keys: dict[str, int] = field(default_factory=dict)
    _vnets: dict[str, VNet] = field(default_factory=dict)
    _subnet_of: dict[Position, Subnet] = field(default_factory=dict)
    _used: dict[tuple[Position, EffectiveRoute], RouteUsed] = field(default_factory=dict)
    _hubs: HubTables | None = None
    _offers: GatewayOffers = field(init=False)
    _hub_lpm: dict[tuple[str, str], PrefixTable[tuple[str, dict[str, Any]]]] = field(
        default_factory=dict
    )
    _prefix_keys: PrefixKeys = field(default_factory=PrefixKeys)
    """One sort key per prefix for the context (every spoke's effective routes hold the
    same gateway prefixes, every branch's Loc-RIB the same branch prefixes)."""

    def __post_init__(self) -> None:
        network = self.network
        self._offers = GatewayOffers(network, self.plan, self.snapshots)
        for vnet in network.of_type(VNet):
            self._vnets[vnet.name] = vnet
            for prefix in vnet.address_space:
                self.vnets.add(prefix, vnet.name)
            for subnet in vnet.subnets:
                self.subnets.add(subnet.address_prefix, (vnet.name, subnet.name))
                self._subnet_of.setdefault((vnet.name, subnet.name), subnet)
        for vnet in network.of_type(VNet):
            for subnet in vnet.subnets:
                for nic in subnet.network_interfaces:
                    self._own(
                        Owner(
                            kind=OwnerKind.INTERFACE,
                            name=nic.name,
                            address=nic.private_ip_address,
                            vnet=nic.vnet,
                            subnet=nic.subnet,
                            resource_id=resource_id(
                                network,
                                "networkInterfaces",
                                nic.name,
                                "ipConfigurations",
                                "ipconfig1",
                            ),
                            forwarding=nic.enable_ip_forwarding,
                            running=nic.running,
                            interface=nic,
                        )
                    )
        for firewall in network.firewalls:
            self._own(
                Owner(
                    kind=OwnerKind.FIREWALL,
                    name=firewall.name,
                    address=firewall.private_ip_address,
                    vnet=firewall.vnet,
                    subnet=_AZURE_FIREWALL_SUBNET,
                    resource_id=resource_id(network, "azureFirewalls", firewall.name),
                    stateful=True,
                    firewall=firewall,
                )
            )
        for endpoint in self.plan.endpoints.values():
            kind = _ROLE_KINDS.get(endpoint.role)
            if kind is None:
                continue
            node = network.node(endpoint.node)
            vnet_name = getattr(node, "vnet", None)
            position = self.position_of(endpoint.azure_address)
            nva = node if isinstance(node, Nva) else None
            self._own(
                Owner(
                    kind=kind,
                    name=endpoint.node,
                    address=endpoint.azure_address,
                    vnet=vnet_name if isinstance(vnet_name, str) else None,
                    subnet=(
                        self._nva_subnet(nva)
                        if nva is not None
                        else _subnet_of(kind, position, vnet_name)
                    ),
                    speaker=endpoint.speaker,
                    resource_id=_node_id(network, kind, endpoint.node),
                    forwarding=nva.enable_ip_forwarding if nva is not None else True,
                    stateful=nva is not None,
                    nva=nva,
                )
            )
        for hub in network.of_type(VWanHub):
            # A hub router is one speaker, but VNets see both virtualRouterIps as next hops.
            speakers = self.plan.of_node(hub.name)
            for address in hub.virtual_router_ips:
                self._own(
                    Owner(
                        kind=OwnerKind.HUB_ROUTER,
                        name=hub.name,
                        address=address,
                        speaker=speakers[0].speaker if speakers else None,
                        resource_id=_node_id(network, OwnerKind.HUB_ROUTER, hub.name),
                    )
                )
        for onprem in network.of_type(OnPrem):
            for announcement in onprem.prefixes:
                self.hosts.add(announcement.prefix, onprem.name)

    def _nva_subnet(self, nva: Nva) -> str | None:
        """The subnet ``nva`` sits in, as its NSGs see it
        (:meth:`SecurityIndex.position <bgpemu.azure.traffic.nsg.SecurityIndex.position>`,
        the one place that works it out: its declared subnet, else the longest subnet of
        its VNet holding its address); None when no subnet of its VNet holds it."""
        try:
            return self.security.position(nva)[1]
        except KeyError:
            return None

    def _own(self, owner: Owner) -> None:
        """Index ``owner`` by its address; the first holder of an address keeps it."""
        self.owners.setdefault(address_value(owner.address), owner)

    # ----------------------------------------------------------------- lookups

    def owner(self, address: int) -> Owner | None:
        """The interface, appliance, gateway or router holding ``address`` (None: none)."""
        return self.owners.get(address)

    def host_router(self, address: int) -> str | None:
        """The on-prem router announcing the longest range holding ``address``."""
        found = self.hosts.lookup(address)
        return None if found is None else found[1]

    def position_of(self, address: str | int) -> Position | None:
        """The subnet holding ``address`` (or its VNet, subnet None); None: in no VNet."""
        key = address_value(address) if isinstance(address, str) else address
        found = self.subnets.lookup(key)
        if found is not None:
            return found[1]
        vnet = self.vnets.lookup(key)
        return None if vnet is None else (vnet[1], None)

    def position(self, owner: Owner) -> Position | None:
        """Where packets ``owner`` sends are looked up: its subnet's effective routes
        (§5.1 step 2; an NVA's onward lookup, §5.3), its VNet-wide table when the
        subnet is not declared (a gateway without a GatewaySubnet); None outside Azure."""
        if owner.vnet is None:
            return None
        position = (owner.vnet, owner.subnet)
        if owner.subnet is not None and position in self._subnet_of:
            return position
        return (owner.vnet, None)

    def find(self, name_or_address: str) -> Owner:
        """The owner of an address, or the interface / NVA / firewall called so.

        ValueError naming it when nothing holds that address or has that name.
        """
        try:
            key = address_value(name_or_address)
        except ValueError:
            key = None
        if key is not None:
            owner = self.owners.get(key)
            if owner is None:
                raise ValueError(
                    f"no interface, appliance, firewall, gateway or router holds address "
                    f"{name_or_address} in network {self.network.name!r}"
                )
            return owner
        for owner in self.owners.values():
            if owner.name == name_or_address and owner.kind in _NAMED_SOURCES:
                return owner
        raise ValueError(
            f"no interface, NVA or firewall named {name_or_address!r} "
            f"in network {self.network.name!r}"
        )

    def route_used(self, position: Position, route: EffectiveRoute) -> RouteUsed:
        """``route`` of ``position``'s effective routes as a trace hop prints it, with why
        it won (§1.4 [UDR]: the longest prefix holding the destination, then, among the
        routes to that prefix, User > VirtualNetworkGateway > Default); made once."""
        key = (position, route)
        used = self._used.get(key)
        if used is None:
            name = f" {route.name}" if route.name else ""
            length = route.prefix.rpartition("/")[2]
            why = f"longest prefix match (/{length}), {route.source}{name} route"
            if route.overrides:
                why += (
                    f", over {', '.join(route.overrides)} (User > VirtualNetworkGateway > Default)"
                )
            vnet, subnet = position
            used = self._used[key] = RouteUsed(
                table=f"{vnet}/{subnet}" if subnet else vnet,
                prefix=route.prefix,
                next_hop_type=route.next_hop_type,
                next_hops=route.next_hops,
                source=route.source,
                why=why,
            )
        return used

    def hub_route(
        self, hub: str, table: str, destination: int
    ) -> tuple[str, dict[str, Any]] | None:
        """``(prefix, row)`` of the longest prefix of ``hub``'s route ``table`` holding
        ``destination`` (a row of :func:`bgpemu.azure.views.hub.hub_routes`, the one
        place that selects a hub table's routes, §5.3-§5.5); None when none does or the
        table does not exist."""
        key = (hub, table)
        lpm = self._hub_lpm.get(key)
        if lpm is None:
            lpm = self._hub_lpm[key] = PrefixTable()
            try:
                rows = self.hub_tables.routes(hub, table)["value"]
            except KeyError:
                rows = []
            for row in rows:
                for prefix in row["addressPrefixes"]:
                    lpm.add(prefix, (prefix, row))
        found = lpm.lookup(destination)
        return None if found is None else found[1]

    def key(self, address: str) -> int:
        """:func:`~bgpemu.azure.traffic.flow.address_value` of ``address``, remembered
        (the next hops of routes are the same few texts on every trace)."""
        found = self._keys.get(address)
        if found is None:
            found = self._keys[address] = address_value(address)
        return found

    def vnet(self, name: str) -> VNet:
        """The VNet called ``name`` (KeyError naming it if there is none)."""
        try:
            return self._vnets[name]
        except KeyError:
            raise KeyError(f"no VNet named {name!r} in network {self.network.name!r}") from None

    def subnet(self, position: Position) -> Subnet | None:
        """The subnet of ``position`` (None for a VNet-wide position)."""
        return self._subnet_of.get(position)

    def route_table(self, position: Position) -> RouteTable | None:
        """The route table associated with ``position``'s subnet, if any."""
        subnet = self.subnet(position)
        if subnet is None or subnet.route_table is None:
            return None
        vnet = self.vnet(position[0])
        return next((t for t in vnet.route_tables if t.name == subnet.route_table), None)

    def routes(self, position: Position) -> list[EffectiveRoute]:
        """The Active effective routes of ``position`` (made once, then kept)."""
        table = self._tables.get(position)
        if table is None:
            self._index(position)
            table = self._tables[position]
        return table

    def lookup(self, position: Position, destination: int) -> EffectiveRoute | None:
        """The Active effective route ``destination`` matches at ``position`` (§5.1 step 2:
        longest prefix; the effective-routes view has already chosen between sources
        of one prefix, §1.4 [UDR])."""
        table = self._routes.get(position)
        if table is None:
            table = self._index(position)
        found = table.lookup(destination)
        return None if found is None else found[1]

    def forwarding(self, speaker: str, destination: int) -> tuple[RibRoute, ...]:
        """The best path and the rest of its multipath set to ``destination`` in
        ``speaker``'s Loc-RIB, longest prefix first (a router forwards by its FIB,
        decision §9.12; a gateway by its own best path, §5.2); () when it has none or
        no snapshot."""
        found = self.forwarding_table(speaker).lookup(destination)
        return () if found is None else found[1]

    def forwarding_table(self, speaker: str) -> PrefixTable[tuple[RibRoute, ...]]:
        """``speaker``'s Loc-RIB as :meth:`forwarding` looks it up (best path first, then
        the rest of its multipath set by peer), made when first asked and kept."""
        table = self._ribs.get(speaker)
        if table is None:
            table = self._ribs[speaker] = PrefixTable()
            snap = self.snapshots.get(speaker)
            grouped: dict[str, list[RibRoute]] = {}
            for route in () if snap is None else snap.loc_rib:
                if route.best or route.multipath:
                    grouped.setdefault(route.prefix, []).append(route)
            for prefix, routes in grouped.items():
                if len(routes) > 1:
                    routes.sort(key=lambda r: (not r.best, r.peer or ""))
                table.add_key(self._prefix_keys[prefix], tuple(routes))
        return table

    @property
    def hub_tables(self) -> HubTables:
        """The vWAN hub route tables over this context's snapshots, each worked out once
        (:class:`bgpemu.azure.views.hub.HubTables`): the hub tables a trace reads and
        those every connected VNet's effective routes read (§5.3) are the same."""
        if self._hubs is None:
            self._hubs = HubTables(self.network, self.plan, self.snapshots)
        return self._hubs

    @property
    def security(self) -> SecurityIndex:
        """The network's NSGs and application security groups, compiled per service tags
        on first use (:class:`bgpemu.azure.traffic.nsg.SecurityIndex`), kept."""
        if self._security is None:
            self._security = SecurityIndex(self.network)
        return self._security

    def firewall_policy(self, firewall: AzureFirewall) -> FirewallPolicy:
        """``firewall``'s policy compiled once (:meth:`FirewallPolicy.of`), kept by name."""
        policy = self._policies.get(firewall.name)
        if policy is None:
            policy = self._policies[firewall.name] = FirewallPolicy.of(firewall)
        return policy

    def tags(self, position: Position) -> ServiceTags:
        """The service tags as ``position``'s NSGs see them (§3, decisions §9.1, §9.2:
        :func:`bgpemu.azure.traffic.tags.service_tags` of its effective routes), kept."""
        found = self._tags.get(position)
        if found is None:
            self._index(position)
            found = self._tags[position]
        return found

    def _index(self, position: Position) -> PrefixTable[EffectiveRoute]:
        vnet_name, subnet_name = position
        view = effective_routes(
            self.network,
            self.plan,
            self.snapshots,
            vnet_name,
            subnet_name,
            hub_tables=self.hub_tables,
            gateway_offers=self._offers,
        )
        table_id = "System Route"
        route_table = self.route_table(position)
        if route_table is not None:
            table_id = resource_id(self.network, "routeTables", route_table.name)
        beaten: dict[str, list[str]] = {}
        for item in view["value"]:
            if item["state"] != "Active":
                beaten.setdefault(item["addressPrefix"][0], []).append(
                    f"{item['source']} {item['nextHopType']}"
                )
        rows = [
            EffectiveRoute(
                prefix=item["addressPrefix"][0],
                next_hop_type=item["nextHopType"],
                next_hops=tuple(item["nextHopIpAddress"]),
                source=item["source"],
                name=item["name"],
                route_table_id=table_id if item["source"] == "User" else "System Route",
                overrides=tuple(beaten.get(item["addressPrefix"][0], ())),
            )
            for item in view["value"]
            if item["state"] == "Active"
        ]
        self._tags[position] = service_tags(view)
        lpm: PrefixTable[EffectiveRoute] = PrefixTable()
        for row in rows:
            lpm.add_key(self._prefix_keys[row.prefix], row)
        self._tables[position] = rows
        self._routes[position] = lpm
        return lpm

    def interfaces(self) -> Iterator[Owner]:
        """Every virtual machine interface, in file order."""
        return (o for o in self.owners.values() if o.kind is OwnerKind.INTERFACE)


def _subnet_of(kind: OwnerKind, position: Position | None, vnet: object) -> str | None:
    """The subnet of a plan endpoint other than an NVA (``TrafficContext._nva_subnet``):
    the subnet of its VNet holding its address; a gateway's GatewaySubnet when its
    address is in no declared subnet."""
    if position is not None and position[1] is not None and position[0] == vnet:
        return position[1]
    if kind in (OwnerKind.VPN_GATEWAY, OwnerKind.EXPRESSROUTE_GATEWAY):
        return _GATEWAY_SUBNET
    return None


def _node_id(network: Network, kind: OwnerKind, node: str) -> str:
    """The ARM-like resource id of a plan endpoint's node."""
    kinds = {
        OwnerKind.VPN_GATEWAY: "virtualNetworkGateways",
        OwnerKind.EXPRESSROUTE_GATEWAY: "virtualNetworkGateways",
        OwnerKind.MSEE: "expressRouteCircuits",
        OwnerKind.ROUTE_SERVER: "virtualHubs",
        OwnerKind.HUB_ROUTER: "virtualHubs",
        OwnerKind.NVA: "networkInterfaces",
    }
    collection = kinds.get(kind)
    if collection is None:
        return "Unknown"
    return resource_id(network, collection, node)
