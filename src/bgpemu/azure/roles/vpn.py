"""Role ``vpn_gateway``: each instance of a VPN gateway is one speaker (§3).

An instance originates its VNet's space (plus gateway-transit spokes and the LNG
address spaces of its connections), peers with the BGP-enabled sites and
VNet-to-VNet gateways, and with the ER gateway and (branch-to-branch) the Route
Server of its own VNet.
"""

from __future__ import annotations

import ipaddress

from bgpemu.azure.model import (
    ExpressRouteGateway,
    Network,
    OnPrem,
    RouteServer,
    SiteToSite,
    VnetToVnet,
    VpnGateway,
)
from bgpemu.azure.roles import speaker_names
from bgpemu.azure.roles._builder import (
    Builder,
    NeighborDraft,
    SpeakerDraft,
    no_restart,
    vnet_of,
    vnet_space,
)
from bgpemu.azure.roles._policies import (
    DEFAULT_ROUTES,
    reject_from,
    reject_learned_overlapping,
    reject_prefixes,
    set_weight,
)
from bgpemu.rib.decision import DecisionConfig

__all__ = [
    "VPN_MAX_PREFIXES",
    "WEIGHT_ER",
    "WEIGHT_LEARNED",
    "declare_vpn_gateways",
    "peered_prefixes",
    "wire_vpn_gateways",
]

VPN_MAX_PREFIXES = 4000
"""§3.3 [VPN-FAQ]: more prefixes from one peer drop the session."""
WEIGHT_LEARNED = 32768
"""§4.3 [ER-S2S] OBS: weight of routes learned from BGP peers of the gateway."""
WEIGHT_ER = 32769
"""§4.3 [ER-S2S] OBS: weight of routes the gateway learns through ExpressRoute."""
_APIPA = ipaddress.ip_network("169.254.0.0/16")


def declare_vpn_gateways(builder: Builder) -> None:
    """One speaker per instance (two when active-active, §3.5 [VPN-AA])."""
    network = builder.network
    for gw in network.of_type(VpnGateway):
        statics = [
            prefix
            for c in network.of_type(SiteToSite)
            if c.gateway == gw.name
            for prefix in c.local_address_prefixes
        ]
        for index, name in enumerate(speaker_names.gateway_instances(network, gw.name)):
            address = gw.bgp_peering_addresses[index]
            draft = builder.add(
                SpeakerDraft.azure(
                    name=name,
                    node=gw.name,
                    role="vpn_gateway",
                    instance=index,
                    address=address,
                    asn=gw.asn,
                    decision=DecisionConfig(max_paths=8),
                )
            )
            originate_vpn(draft, network, gw, statics)


def originate_vpn(
    draft: SpeakerDraft, network: Network, gw: VpnGateway, statics: list[str]
) -> None:
    """§3.2 [VPN-FAQ] items 1-2: the VNet (+ useRemoteGateways spokes, §2) and LNG spaces."""
    for prefix in (*vnet_space(network, gw.vnet), *statics):
        draft.originate(prefix)


def peered_prefixes(network: Network, vnet: str) -> tuple[str, ...]:
    """Peered VNets' ranges when the VNet offers gateway transit, else none (§3.3 [VPN-FAQ])."""
    own = vnet_of(network, vnet)
    if not any(p.allow_gateway_transit for p in own.peerings):
        return ()
    found: list[str] = []
    for peering in own.peerings:
        found.extend(vnet_of(network, peering.remote_virtual_network).address_space)
    return tuple(found)


def _ebgp_import(neighbor: NeighborDraft, network: Network, gw: VpnGateway) -> None:
    """§3.3 [VPN-BGP][VPN-FAQ]: exact VNet (and, with transit, peered) prefixes are
    rejected; ≤ 4,000 prefixes else the session drops; weight 32768 (§4.3 OBS)."""
    own = vnet_of(network, gw.vnet).address_space
    step = reject_prefixes("vpn-reject-vnet", (*own, *peered_prefixes(network, gw.vnet)))
    if step is not None:
        neighbor.imports.append(step)
    neighbor.imports.append(set_weight(WEIGHT_LEARNED))
    neighbor.max_prefix = no_restart(VPN_MAX_PREFIXES)


def _sibling_import(neighbor: NeighborDraft, network: Network, gw: VpnGateway, weight: int) -> None:
    """Routes from the ER gateway / Route Server of the same VNet.

    Decision: the gateway keeps its own VNet prefixes (a sibling's copy, with a
    higher weight, would otherwise win over the local one and then be filtered as a
    learned route overlapping the VNet).  ER copies get weight 32769 (§4.3 [ER-S2S]).
    """
    step = reject_prefixes("vpn-keep-own", vnet_space(network, gw.vnet))
    if step is not None:
        neighbor.imports.append(step)
    neighbor.imports.append(set_weight(weight))


def _export(neighbor: NeighborDraft, network: Network, gw: VpnGateway) -> None:
    """§3.2 [VPN-FAQ] item 3, [ARS-TS]: never a default route, never a learned route
    overlapping the VNet prefixes."""
    step = reject_prefixes("vpn-no-default", DEFAULT_ROUTES)
    if step is not None:
        neighbor.exports.append(step)
    overlap = reject_learned_overlapping("vpn-no-vnet-overlap", vnet_space(network, gw.vnet))
    if overlap is not None:
        neighbor.exports.append(overlap)


def _route_server(network: Network, vnet: str) -> RouteServer | None:
    return next((rs for rs in network.of_type(RouteServer) if rs.vnet == vnet), None)


def _er_gateway(network: Network, vnet: str) -> ExpressRouteGateway | None:
    return next((g for g in network.of_type(ExpressRouteGateway) if g.vnet == vnet), None)


def wire_vpn_gateways(builder: Builder) -> None:
    """The gateway side of every session of every VPN gateway instance."""
    network = builder.network
    for gw in network.of_type(VpnGateway):
        rs = _route_server(network, gw.vnet)
        branch_to_branch = rs is not None and rs.allow_branch_to_branch_traffic
        ergw = _er_gateway(network, gw.vnet)
        for name in speaker_names.gateway_instances(network, gw.name):
            draft = builder.drafts[name]
            _wire_instance(builder, draft, gw, ergw, rs if branch_to_branch else None)


def _wire_instance(
    builder: Builder,
    draft: SpeakerDraft,
    gw: VpnGateway,
    ergw: ExpressRouteGateway | None,
    rs: RouteServer | None,
) -> None:
    network = builder.network
    for connection in network.connections:
        if isinstance(connection, SiteToSite) and connection.gateway == gw.name:
            if not connection.enable_bgp:
                continue
            neighbor = draft.neighbor(connection.site)
            _ebgp_import(neighbor, network, gw)
            _export(neighbor, network, gw)
            _to_site(neighbor, network, connection, ergw, rs)
        elif isinstance(connection, VnetToVnet) and connection.enable_bgp:
            if connection.gateway == gw.name:
                remote = connection.remote_gateway
            elif connection.remote_gateway == gw.name:
                remote = connection.gateway
            else:
                continue
            for instance in speaker_names.gateway_instances(network, remote):
                if instance in draft.neighbors:
                    continue  # both connection objects of one VNet-to-VNet pair
                neighbor = draft.neighbor(instance)
                _ebgp_import(neighbor, network, gw)
                _export(neighbor, network, gw)
    if ergw is not None:
        neighbor = draft.neighbor(ergw.name)
        _sibling_import(neighbor, network, gw, WEIGHT_ER)
        _export(neighbor, network, gw)
    if rs is not None:
        for instance in speaker_names.route_server_instances(network, rs.name):
            neighbor = draft.neighbor(instance)
            _sibling_import(neighbor, network, gw, WEIGHT_LEARNED)
            _export(neighbor, network, gw)


def _to_site(
    neighbor: NeighborDraft,
    network: Network,
    connection: SiteToSite,
    ergw: ExpressRouteGateway | None,
    rs: RouteServer | None,
) -> None:
    """Toward one on-prem site.

    - its own LNG address space is not sent back to it (§3.2 item 2, [INF]);
    - ER-learned routes only with Route Server branch-to-branch (§3.4, §4.5
      [ER-COEX][ARS-FAQ]: no ER↔VPN transit otherwise);
    - APIPA peer address: Azure does not initiate BGP (§3.1 [VPN-BGP-HOWTO]).
    """
    own = reject_prefixes("vpn-not-back-to-site", connection.local_address_prefixes)
    if own is not None:
        neighbor.exports.append(own)
    if ergw is not None and rs is None:
        step = reject_from("vpn-no-er-transit", (ergw.name,))
        if step is not None:
            neighbor.exports.append(step)
    site = network.node(connection.site)
    if isinstance(site, OnPrem) and ipaddress.ip_address(site.bgp_peering_address) in _APIPA:
        neighbor.passive = True
