"""Role ``vwan_hub``: the hub router, its VPN/ER gateways folded in, one speaker (§5).

The hub tags every route with the large community of the connection it came from
(:mod:`bgpemu.azure.hubrouting`) so that, in this hub and in every other hub of the
WAN, the propagation settings of that connection can be applied at export time:

- a branch or NVA connection (associated to Default, §5.3) receives the routes whose
  connection propagates to this hub's Default table, minus what branch-to-branch,
  ER-to-ER and default-route rules forbid, with the tags stripped;
- another Standard hub of the WAN (iBGP full mesh) receives every best route but
  0/0, tags kept, with ``65520 65520`` prepended (§5.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.azure.hubrouting import (
    DEFAULT_TABLE,
    HubConnection,
    connection_tags,
    hub_connections,
    propagates_to,
)
from bgpemu.azure.model import (
    AZURE_ASN,
    HUB_PREPEND_ASN,
    HubBgpConnection,
    HubExpressRouteConnection,
    HubVnetConnection,
    HubVpnConnection,
    Network,
    Nva,
    VWan,
    VWanHub,
    VWanType,
)
from bgpemu.azure.roles import speaker_names
from bgpemu.azure.roles._builder import Builder, NeighborDraft, SpeakerDraft
from bgpemu.azure.roles._policies import DEFAULT_ROUTES, actions, exact, set_weight
from bgpemu.azure.roles.route_server import preference_weight
from bgpemu.policy import (
    AddLargeCommunities,
    LargeCommunityMatch,
    Prepend,
    RemoveLargeCommunities,
    Result,
    RoutePolicy,
    Statement,
)
from bgpemu.rib.decision import DecisionConfig

__all__ = [
    "HUB_MAX_PATHS",
    "P2S_TAG_FUNCTION",
    "declare_hubs",
    "hub_weight",
    "p2s_tag",
    "wire_hubs",
]

Tag = tuple[int, int, int]

P2S_TAG_FUNCTION = 2
"""Second field of the tag of a hub's P2S pools: ``65515:2:<n>``, n = hub position."""
HUB_MAX_PATHS = 8
"""§5.5 step 4 [VWAN-HRP]: remaining equal routes → ECMP (width: decision)."""
_RANK = 32001
"""One routing-preference rank outweighs any ER RoutingWeight (0..32000, §4.4)."""


def p2s_tag(network: Network, hub: str) -> Tag:
    """The tag of ``hub``'s P2S address pools (decision: a pseudo-connection)."""
    hubs = [h.name for h in network.of_type(VWanHub)]
    return (AZURE_ASN, P2S_TAG_FUNCTION, hubs.index(hub) + 1)


def hub_weight(hub: VWanHub, kind: str, routing_weight: int = 0) -> int:
    """§5.5 [VWAN-HRP][VWAN-FAQ]: routing preference as a weight (local over remote:
    remote-hub routes are iBGP, weight 0); ER connections add their RoutingWeight."""
    return preference_weight(hub.hub_routing_preference, kind) * _RANK + routing_weight


def _vwan(network: Network, hub: VWanHub) -> VWan:
    node = network.node(hub.vwan)
    if not isinstance(node, VWan):
        raise TypeError(f"{hub.vwan} is not a vWAN")
    return node


def declare_hubs(builder: Builder) -> None:
    """One speaker per hub, with its tagged originations (§5.3)."""
    network = builder.network
    tags = connection_tags(network)
    for hub in network.of_type(VWanHub):
        address = hub.virtual_router_ips[0]
        draft = builder.add(
            SpeakerDraft.azure(
                name=hub.name,
                node=hub.name,
                role="vwan_hub",
                instance=0,
                address=address,
                asn=hub.asn,
                decision=DecisionConfig(max_paths=HUB_MAX_PATHS),
            )
        )
        _originate(draft, network, hub, tags)


def _originate(draft: SpeakerDraft, network: Network, hub: VWanHub, tags: dict[str, Tag]) -> None:
    """VNet connections' spaces and propagated static routes (never 0/0, §5.3
    [VWAN-BGP-HOWTO]), VPN sites' static prefixes, P2S pools (§5.3)."""
    for connection in hub_connections(network, hub.name):
        tag = tags[connection.name]
        if isinstance(connection, HubVnetConnection):
            vnet = network.node(connection.vnet)
            for prefix in getattr(vnet, "address_space", ()):
                draft.originate(prefix, large_communities=(tag,))
            if connection.propagate_static_routes:
                for route in connection.static_routes:
                    for prefix in route.destinations:
                        if prefix not in DEFAULT_ROUTES:
                            draft.originate(prefix, large_communities=(tag,))
        elif isinstance(connection, HubVpnConnection):
            for prefix in connection.address_prefixes:
                draft.originate(prefix, large_communities=(tag,))
    for p2s in hub.p2s:
        for prefix in p2s.address_pools:
            draft.originate(prefix, large_communities=(p2s_tag(network, hub.name),))


def wire_hubs(builder: Builder) -> None:
    """Branch, ER, NVA and inter-hub sessions of every hub."""
    network = builder.network
    exports = _exports(network)
    tags = exports.tags
    for hub in network.of_type(VWanHub):
        draft = builder.drafts[hub.name]
        wan = _vwan(network, hub)
        if wan.type is VWanType.STANDARD:
            for other in network.of_type(VWanHub):
                if other.vwan == hub.vwan and other.name != hub.name:
                    _to_hub(draft.neighbor(other.name))
        for connection in exports.connections[hub.name]:
            remotes, kind, routing_weight = _remotes(network, connection)
            tag = tags[connection.name]
            export = _branch_export(network, hub, wan, connection, exports)
            for remote in remotes:
                neighbor = draft.neighbor(remote)
                neighbor.imports.append(
                    actions(f"hub-tag-{connection.name}", AddLargeCommunities((tag,)))
                )
                neighbor.imports.append(set_weight(hub_weight(hub, kind, routing_weight)))
                neighbor.exports.append(export)


def _remotes(network: Network, connection: HubConnection) -> tuple[list[str], str, int]:
    """(speakers, kind, RoutingWeight) behind a hub connection; none for a VNet."""
    if isinstance(connection, HubVpnConnection):
        return ([connection.site] if connection.enable_bgp else []), "vpn", 0
    if isinstance(connection, HubExpressRouteConnection):
        return speaker_names.msees(connection.circuit), "er", connection.routing_weight
    if isinstance(connection, HubBgpConnection):
        return [connection.nva], "nva", 0
    return [], "vnet", 0


def _to_hub(neighbor: NeighborDraft) -> None:
    """§5.4 [VWAN-HRP][VWAN-DEEP]: ``65520 65520`` prepended (iBGP: nothing else is);
    §5.3 [VWAN-ROUTING]: 0/0 never leaves the hub; tags kept."""
    neighbor.exports.append(
        RoutePolicy(
            (
                Statement(match=exact(DEFAULT_ROUTES), result=Result.REJECT),
                Statement(actions=(Prepend(asn=HUB_PREPEND_ASN, count=2),)),
            ),
            default=Result.ACCEPT,
            name="hub-to-hub",
        )
    )


def _kind(connection: HubConnection | None) -> str:
    if isinstance(connection, HubVpnConnection):
        return "vpn"
    if isinstance(connection, HubExpressRouteConnection):
        return "er"
    if isinstance(connection, HubBgpConnection):
        return "nva"
    if connection is None:
        return "p2s"
    return "vnet"


def _blocked(source: str, target: str, branch_to_branch: bool) -> bool:
    """§5.4 [VWAN-FAQ][VWAN-RI][VWAN-DEEP]: ER-learned never to another circuit;
    [VWAN-FAQ][VWAN-GT]: branch-to-branch off stops VPN/ER/P2S ↔ VPN/ER; §5.6
    [VWAN-BGP]: and NVA ↔ VPN/ER."""
    if source == "er" and target == "er":
        return True
    if branch_to_branch:
        return False
    branches = {"vpn", "er", "p2s"}
    if source in branches and target in {"vpn", "er", "nva"}:
        return True
    return source == "nva" and target in branches


def _internet_security(network: Network, hub: VWanHub, connection: HubConnection) -> bool:
    """§5.3 [VWAN-FAQ][VWAN-EFF]: ``enableInternetSecurity`` of the target connection;
    an NVA's comes from the VNet connection hosting it (decision; True if none)."""
    if isinstance(connection, HubVpnConnection | HubExpressRouteConnection | HubVnetConnection):
        return connection.enable_internet_security
    nva = network.node(connection.nva)
    vnet = nva.vnet if isinstance(nva, Nva) else None
    for other in hub_connections(network, hub.name):
        if isinstance(other, HubVnetConnection) and other.vnet == vnet:
            return other.enable_internet_security
    return True


def _all_tags(network: Network, tags: dict[str, Tag]) -> tuple[Tag, ...]:
    every = [
        tags[c.name]
        for c in network.connections
        if isinstance(
            c, HubVnetConnection | HubVpnConnection | HubExpressRouteConnection | HubBgpConnection
        )
    ]
    every.extend(p2s_tag(network, h.name) for h in network.of_type(VWanHub))
    return tuple(every)


@dataclass(frozen=True, slots=True)
class _Source:
    """Routes that reach a hub's Default table: from a connection, or a hub's P2S pools."""

    connection: str | None
    """The connection's name; None for P2S pools."""
    kind: str
    """:func:`_kind` of the connection."""
    tag: Tag


@dataclass(frozen=True, slots=True, kw_only=True)
class _Exports:
    """What every hub's branch exports read, computed once per compilation (each hub
    connection's export looks at every connection of the WAN)."""

    tags: dict[str, Tag]
    """:func:`connection_tags`."""
    connections: dict[str, list[HubConnection]]
    """:func:`hub_connections` of every hub, by hub name."""
    sources: dict[str, tuple[_Source, ...]]
    """By hub name: every source whose routes propagate to its Default table, in the
    order of the WAN's hubs, each hub's connections then its P2S pools."""
    strip: RemoveLargeCommunities
    """Every hub connection's tag and every hub's P2S tag, removed on export."""


def _exports(network: Network) -> _Exports:
    tags = connection_tags(network)
    hubs = network.of_type(VWanHub)
    connections = {h.name: hub_connections(network, h.name) for h in hubs}
    sources: dict[str, tuple[_Source, ...]] = {}
    for hub in hubs:
        found: list[_Source] = []
        for other in hubs:
            if other.vwan != hub.vwan:
                continue
            for source in connections[other.name]:
                if propagates_to(network, source, hub, DEFAULT_TABLE):
                    found.append(_Source(source.name, _kind(source), tags[source.name]))
            if other.p2s:
                # Decision: P2S pools propagate like branches, to the Default tables.
                found.append(_Source(None, "p2s", p2s_tag(network, other.name)))
        sources[hub.name] = tuple(found)
    strip = RemoveLargeCommunities(_all_tags(network, tags))
    return _Exports(tags=tags, connections=connections, sources=sources, strip=strip)


def _branch_export(
    network: Network, hub: VWanHub, wan: VWan, target: HubConnection, exports: _Exports
) -> RoutePolicy:
    """What a branch or NVA connection of ``hub`` receives (see the module docstring):
    never back over the same connection (e.g. the other MSEE of a circuit)."""
    target_kind = _kind(target)
    allowed = [
        source.tag
        for source in exports.sources[hub.name]
        if source.connection != target.name
        and not _blocked(source.kind, target_kind, wan.allow_branch_to_branch_traffic)
    ]
    statements: list[Statement] = []
    if not _internet_security(network, hub, target):
        statements.append(Statement(match=exact(DEFAULT_ROUTES), result=Result.REJECT))
    if allowed:
        statements.append(
            Statement(
                match=LargeCommunityMatch(any_of=tuple(allowed)),
                actions=(exports.strip,),
                result=Result.ACCEPT,
            )
        )
    return RoutePolicy(tuple(statements), default=Result.REJECT, name=f"hub-to-{target.name}")
