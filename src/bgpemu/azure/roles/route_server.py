"""Role ``route_server``: two speakers (instances) of AS 65515 (§6).

Each instance originates the VNet's space (plus useRemoteGateways spokes, §6.3),
peers with every NVA of a RouteServerPeer connection and, with branch-to-branch on,
with the VPN and ER gateways of its VNet (iBGP when both are 65515, §6.4).
"""

from __future__ import annotations

from bgpemu.azure.model import (
    ExpressRouteGateway,
    RouteServer,
    RouteServerPeer,
    RoutingPreference,
    VpnGateway,
)
from bgpemu.azure.roles import speaker_names
from bgpemu.azure.roles._builder import Builder, NeighborDraft, SpeakerDraft, no_restart, vnet_space
from bgpemu.azure.roles._policies import actions, reject_prefixes, set_weight
from bgpemu.policy import SetMed
from bgpemu.rib.decision import DecisionConfig

__all__ = [
    "NVA_MAX_PREFIXES",
    "ROUTE_SERVER_MAX_PATHS",
    "declare_route_servers",
    "preference_weight",
    "wire_route_servers",
]

NVA_MAX_PREFIXES = 1000
"""§6.2 [ARS-LIMITS]: routes per BGP peer; exceeding drops the session."""
ROUTE_SERVER_MAX_PATHS = 8
"""§7 [AAC-NVA-HA]: up to 8 NVAs (the peer limit) in one ECMP set."""


def preference_weight(preference: RoutingPreference, source: str) -> int:
    """§6.5 [ARS-PREF] (and §5.5 [VWAN-HRP]) as a weight, evaluated before AS path.

    ``source`` is ``"er"``, ``"vpn"`` or ``"nva"``.  ExpressRoute: ER 2, VPN/NVA 1;
    VpnGateway: VPN/NVA 2, ER 1; ASPath: 0 for all (AS path decides).
    """
    if preference is RoutingPreference.AS_PATH:
        return 0
    er_first = preference is RoutingPreference.EXPRESS_ROUTE
    if source == "er":
        return 2 if er_first else 1
    return 1 if er_first else 2


def declare_route_servers(builder: Builder) -> None:
    """Two instances per Route Server (§6.1 [ARS-FAQ]: two BGP endpoints)."""
    network = builder.network
    for rs in network.of_type(RouteServer):
        for index, name in enumerate(speaker_names.route_server_instances(network, rs.name)):
            address = rs.virtual_router_ips[index]
            draft = builder.add(
                SpeakerDraft.azure(
                    name=name,
                    node=rs.name,
                    role="route_server",
                    instance=index,
                    address=address,
                    asn=rs.asn,
                    # §6.3 [ARS-FAQ]: equal AS-path length from several NVAs → ECMP.
                    decision=DecisionConfig(max_paths=ROUTE_SERVER_MAX_PATHS, multipath_relax=True),
                )
            )
            for prefix in vnet_space(network, rs.vnet):
                draft.originate(prefix)


def wire_route_servers(builder: Builder) -> None:
    """The Route Server side of its NVA and gateway sessions."""
    network = builder.network
    for rs in network.of_type(RouteServer):
        own = vnet_space(network, rs.vnet)
        peers = [c.nva for c in network.of_type(RouteServerPeer) if c.route_server == rs.name]
        siblings: list[tuple[str, str]] = []
        if rs.allow_branch_to_branch_traffic:
            for gw in network.of_type(VpnGateway):
                if gw.vnet == rs.vnet:
                    siblings.extend(
                        (i, "vpn") for i in speaker_names.gateway_instances(network, gw.name)
                    )
            for ergw in network.of_type(ExpressRouteGateway):
                if ergw.vnet == rs.vnet:
                    siblings.append((ergw.name, "er"))
        for instance in speaker_names.route_server_instances(network, rs.name):
            draft = builder.drafts[instance]
            for nva in peers:
                _from_nva(draft.neighbor(nva), rs, own)
            for sibling, kind in siblings:
                neighbor = draft.neighbor(sibling)
                _keep_own(neighbor, own)
                weight = preference_weight(rs.hub_routing_preference, kind)
                neighbor.imports.append(set_weight(weight))


def _keep_own(neighbor: NeighborDraft, own: tuple[str, ...]) -> None:
    """Decision: the Route Server keeps its own VNet prefixes (a learned copy never wins)."""
    step = reject_prefixes("ars-keep-own", own)
    if step is not None:
        neighbor.imports.append(step)


def _from_nva(neighbor: NeighborDraft, rs: RouteServer, own: tuple[str, ...]) -> None:
    """Import from an NVA.

    - §6.2 [ARS-LIMITS]: ≤ 1,000 routes, else the session drops;
    - §6.3 [AAC-SDWAN]: AS path is the only preference an NVA can express: MED reset
      to 0 (decision for the §11 gap on MED);
    - §6.5 [ARS-PREF]: routing-preference weight for NVA routes.
    """
    neighbor.max_prefix = no_restart(NVA_MAX_PREFIXES)
    _keep_own(neighbor, own)
    neighbor.imports.append(actions("ars-ignore-med", SetMed(0)))
    neighbor.imports.append(set_weight(preference_weight(rs.hub_routing_preference, "nva")))
