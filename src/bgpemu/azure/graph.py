"""A topology as a graph to draw: nodes by role, grouped as Azure groups them, in tiers.

A pure function of a :class:`~bgpemu.azure.model.Network` and its compiled
:class:`~bgpemu.azure.plan.Plan` (no rendering here): ``bgpemu graph`` renders it as
Graphviz dot or Mermaid (:mod:`bgpemu.azure.graph_render`), and a web view can reuse it.

- **Nodes** are the BGP speakers of the plan (an on-prem router, each instance of a VPN
  gateway or Route Server, each MSEE of a circuit and the IPVPN provider PE, an ER
  gateway, a vWAN hub router, an NVA), plus each VNet and each Azure Firewall.
- **Groups** follow Azure's containment: a VNet holds its gateways, Route Server, NVAs
  and firewall (azure-routing.md §1, §3.1, §6.1); a node with several instances (an
  active-active gateway, the Route Server's two instances, a circuit's MSEE pair, §3.1,
  §4.1, §6.1) is a group of its instances; a Virtual WAN holds its hubs (§5.1).
- **Tiers** lay the picture out top to bottom: on-prem, circuits and gateways, hubs,
  VNets (and what lives in them).
- **Edges** are the BGP sessions (``eBGP 65001-65515``, ``iBGP 65515``) labelled with the
  connection that brings them up (S2S, ER connection, hub VPN connection...), the
  connections without a session (a hub's VNet connection, a static S2S), and the VNet
  peerings with their flags (§2).

Everything is in file order (nodes, then connections), so the output is stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from bgpemu.azure import model as m
from bgpemu.azure.plan import Endpoint, Plan
from bgpemu.azure.roles.expressroute import PROVIDER_INSTANCE

__all__ = [
    "EdgeKind",
    "Graph",
    "GraphEdge",
    "GraphGroup",
    "GraphNode",
    "Tier",
    "role_tier",
    "topology_graph",
]


class Tier(IntEnum):
    """Layout rows, top to bottom."""

    ONPREM = 0
    EDGE = 1
    """ExpressRoute circuits and the VNets' gateways."""
    HUB = 2
    VNET = 3


class EdgeKind(IntEnum):
    """What an edge stands for."""

    SESSION = 0
    """A BGP session between two speakers."""
    CONNECTION = 1
    """An Azure connection that carries no BGP session (hub VNet connection, static S2S)."""
    PEERING = 2
    """A VNet peering (§2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphGroup:
    """A box drawn around nodes: a VNet, a multi-instance node, a Virtual WAN."""

    id: str
    label: str
    kind: str
    """``vnet``, ``vwan`` or the role of a multi-instance node (``vpn_gateway``...)."""
    parent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphNode:
    """One thing drawn: a speaker, a VNet or a firewall."""

    id: str
    label: str
    role: str
    """The topology role (``onprem``, ``vpn_gateway``, ``vnet``, ``azure_firewall``...)."""
    tier: Tier
    group: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphEdge:
    """A line between two nodes, with what it is."""

    a: str
    b: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    """A topology's picture: groups (parents first), nodes and edges, in file order."""

    name: str
    groups: tuple[GraphGroup, ...]
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


_TIERS = {
    "onprem": Tier.ONPREM,
    "expressroute": Tier.EDGE,
    "vpn_gateway": Tier.EDGE,
    "expressroute_gateway": Tier.EDGE,
    "vwan_hub": Tier.HUB,
}
"""Roles not listed (route_server, nva, vnet, azure_firewall) sit in the VNet tier."""


def role_tier(role: str) -> Tier:
    """The layout row of a node of topology role ``role``."""
    return _TIERS.get(role, Tier.VNET)


_ROLE_LABELS = {
    "onprem": "on-prem",
    "vpn_gateway": "VPN gateway",
    "expressroute": "ExpressRoute circuit",
    "expressroute_gateway": "ER gateway",
    "route_server": "Route Server",
    "nva": "NVA",
    "vwan_hub": "vWAN hub",
}


def _vnet_id(name: str) -> str:
    return f"vnet:{name}"


def _node_vnet(node: m.Node) -> str | None:
    if isinstance(node, m.VpnGateway | m.ExpressRouteGateway | m.RouteServer | m.Nva):
        return node.vnet
    return None


def _speaker_label(endpoint: Endpoint, several: bool) -> str:
    if endpoint.role == "expressroute":
        what = "provider PE" if endpoint.instance >= PROVIDER_INSTANCE else "MSEE"
        return f"{endpoint.speaker}\n{what} AS {endpoint.asn}"
    if several:
        return f"{endpoint.speaker}\ninstance {endpoint.instance} AS {endpoint.asn}"
    return f"{endpoint.speaker}\n{_ROLE_LABELS.get(endpoint.role, endpoint.role)} AS {endpoint.asn}"


def _groups_and_nodes(
    network: m.Network, plan: Plan
) -> tuple[list[GraphGroup], list[GraphNode], dict[str, str]]:
    """Groups, nodes, and the graph node that stands for each topology node (for the
    connections without a session)."""
    groups: list[GraphGroup] = []
    nodes: list[GraphNode] = []
    anchor: dict[str, str] = {}
    for node in network.nodes:
        if isinstance(node, m.VWan):
            groups.append(
                GraphGroup(id=f"vwan:{node.name}", label=f"vWAN {node.name}", kind="vwan")
            )
            continue
        if isinstance(node, m.VNet):
            vid = _vnet_id(node.name)
            groups.append(GraphGroup(id=vid, label=f"VNet {node.name}", kind="vnet"))
            label = f"{node.name}\n{' '.join(node.address_space)}"
            nodes.append(GraphNode(id=vid, label=label, role="vnet", tier=Tier.VNET, group=vid))
            anchor[node.name] = vid
            continue
        endpoints = plan.of_node(node.name)
        if not endpoints:
            continue
        vnet = _node_vnet(node)
        parent = (
            f"vwan:{node.vwan}"
            if isinstance(node, m.VWanHub)
            else (_vnet_id(vnet) if vnet is not None else None)
        )
        group = parent
        role = endpoints[0].role
        several = len(endpoints) > 1
        if several:
            group = f"node:{node.name}"
            label = f"{_ROLE_LABELS.get(role, role)} {node.name}"
            groups.append(GraphGroup(id=group, label=label, kind=role, parent=parent))
        tier = role_tier(role)
        for endpoint in endpoints:
            nodes.append(
                GraphNode(
                    id=endpoint.speaker,
                    label=_speaker_label(endpoint, several),
                    role=endpoint.role,
                    tier=tier,
                    group=group,
                )
            )
        anchor[node.name] = endpoints[0].speaker
    for firewall in network.firewalls:
        fid = f"firewall:{firewall.name}"
        nodes.append(
            GraphNode(
                id=fid,
                label=f"{firewall.name}\nAzure Firewall {firewall.private_ip_address}",
                role="azure_firewall",
                tier=Tier.VNET,
                group=_vnet_id(firewall.vnet),
            )
        )
    return groups, nodes, anchor


def _connection_ends(connection: m.Connection) -> tuple[str, str, str]:
    """The two topology nodes a connection links, and its name on an edge."""
    match connection:
        case m.SiteToSite():
            return (
                connection.site,
                connection.gateway,
                "S2S" if connection.enable_bgp else "S2S static",
            )
        case m.VnetToVnet():
            return connection.gateway, connection.remote_gateway, "VNet-to-VNet"
        case m.ExpressRouteConnection():
            return connection.circuit, connection.gateway, "ER connection"
        case m.HubVnetConnection():
            return connection.hub, connection.vnet, "hub VNet connection"
        case m.HubVpnConnection():
            return connection.site, connection.hub, "hub VPN connection"
        case m.HubExpressRouteConnection():
            return connection.circuit, connection.hub, "hub ER connection"
        case m.HubBgpConnection():
            return connection.hub, connection.nva, "hub BGP connection"
        case m.RouteServerPeer():
            return connection.route_server, connection.nva, "Route Server peer"
        case m.BgpPeering():
            return connection.a, connection.b, "BGP peering"


def _session_label(local_as: int, peer_as: int) -> str:
    if local_as == peer_as:
        return f"iBGP {local_as}"
    return f"eBGP {local_as}-{peer_as}"


def _peering_flags(peering: m.Peering) -> str:
    flags = [
        name
        for name, on in (
            ("no-access", not peering.allow_virtual_network_access),
            ("forwarded", peering.allow_forwarded_traffic),
            ("gateway-transit", peering.allow_gateway_transit),
            ("remote-gateways", peering.use_remote_gateways),
        )
        if on
    ]
    return ",".join(flags) or "-"


def _peering_edges(network: m.Network) -> Iterable[GraphEdge]:
    """One edge per peered pair, each side's flags (``A: flags / B: flags``), §2."""
    vnets = {vnet.name: vnet for vnet in network.of_type(m.VNet)}
    done: set[frozenset[str]] = set()
    for vnet in vnets.values():
        for peering in vnet.peerings:
            remote = peering.remote_virtual_network
            pair = frozenset((vnet.name, remote))
            if pair in done:
                continue
            done.add(pair)
            sides = [f"{vnet.name}: {_peering_flags(peering)}"]
            other = vnets.get(remote)
            back = (
                [p for p in other.peerings if p.remote_virtual_network == vnet.name]
                if other
                else []
            )
            sides.append(f"{remote}: {_peering_flags(back[0])}" if back else f"{remote}: none")
            yield GraphEdge(
                a=_vnet_id(vnet.name),
                b=_vnet_id(remote),
                kind=EdgeKind.PEERING,
                label="peering\n" + "\n".join(sides),
            )


def _via(a: Endpoint, b: Endpoint, kinds: dict[frozenset[str], str]) -> str | None:
    """The connection a session between ``a`` and ``b`` belongs to.  On an IPVPN circuit
    the private peering is between the MSEEs and the provider PE, and the customer
    router peers with the PE over the provider's IPVPN (§4.1).  The hub routers of one
    Virtual WAN peer with each other (§5.4)."""
    if a.node == b.node and a.role == "expressroute":
        return "ER private peering"
    if a.role == b.role == "vwan_hub":
        return "hub-to-hub"
    if "expressroute" in (a.role, b.role) and max(a.instance, b.instance) >= PROVIDER_INSTANCE:
        return "IPVPN"
    return kinds.get(frozenset((a.node, b.node)))


def topology_graph(network: m.Network, plan: Plan) -> Graph:
    """The picture of ``network`` compiled into ``plan`` (see the module docstring)."""
    groups, nodes, anchor = _groups_and_nodes(network, plan)
    kinds: dict[frozenset[str], str] = {}
    for connection in network.connections:
        a, b, kind = _connection_ends(connection)
        kinds.setdefault(frozenset((a, b)), kind)
    for circuit in network.of_type(m.ExpressRouteCircuit):
        kinds.setdefault(frozenset((circuit.peer, circuit.name)), "ER private peering")
    place = {node.id: (node.tier, index) for index, node in enumerate(nodes)}
    sessions: list[tuple[str, str, int, int]] = []
    linked: set[frozenset[str]] = set()
    seen: set[frozenset[str]] = set()
    for spec in plan.speakers:
        for neighbor in spec.neighbors:
            pair = frozenset((spec.name, neighbor.name))
            if pair in seen or neighbor.name not in place or spec.name not in place:
                continue
            seen.add(pair)
            linked.add(frozenset(plan.endpoints[name].node for name in pair))
            local, peer = neighbor.session.local_as, neighbor.session.peer_as
            if place[neighbor.name] < place[spec.name]:
                sessions.append((neighbor.name, spec.name, peer, local))
            else:
                sessions.append((spec.name, neighbor.name, local, peer))
    sessions.sort(key=lambda session: (place[session[0]], place[session[1]]))
    edges: list[GraphEdge] = []
    for a, b, a_as, b_as in sessions:
        via = _via(plan.endpoints[a], plan.endpoints[b], kinds)
        session = _session_label(a_as, b_as)
        label = session if via is None else f"{via}\n{session}"
        edges.append(GraphEdge(a=a, b=b, kind=EdgeKind.SESSION, label=label))
    for connection in network.connections:
        a, b, kind = _connection_ends(connection)
        if frozenset((a, b)) in linked or a not in anchor or b not in anchor:
            continue
        linked.add(frozenset((a, b)))
        if place[anchor[b]] < place[anchor[a]]:
            a, b = b, a
        edges.append(GraphEdge(a=anchor[a], b=anchor[b], kind=EdgeKind.CONNECTION, label=kind))
    edges.extend(_peering_edges(network))
    return Graph(name=network.name, groups=tuple(groups), nodes=tuple(nodes), edges=tuple(edges))
