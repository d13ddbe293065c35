"""Roles ``expressroute`` (the MSEE pair, and the IPVPN provider PE) and ``expressroute_gateway``.

An MSEE (AS 12076) sits between the customer side (the on-prem router, or the
provider PE for IPVPN) and every ER gateway or vWAN hub connected to its circuit.
The ER gateway (AS 65515) originates its VNet's space and learns on-prem routes from
both MSEEs of each connected circuit.
"""

from __future__ import annotations

from bgpemu.azure.model import (
    MSEE_ASN,
    Connectivity,
    ExpressRouteCircuit,
    ExpressRouteConnection,
    ExpressRouteGateway,
    HubExpressRouteConnection,
    Network,
    RouteServer,
    Sku,
    VpnGateway,
)
from bgpemu.azure.plan import CompileError
from bgpemu.azure.roles import speaker_names
from bgpemu.azure.roles._builder import (
    Builder,
    NeighborDraft,
    SpeakerDraft,
    no_restart,
    usable_address,
    vnet_space,
)
from bgpemu.azure.roles._policies import (
    DEFAULT_ROUTES,
    actions,
    reject_from,
    reject_prefixes,
    set_weight,
)
from bgpemu.policy import AsOverride, Not, RemovePrivateAs, Result, RoutePolicy, SourcePeerMatch
from bgpemu.policy import Statement as _Statement
from bgpemu.rib.decision import DecisionConfig

__all__ = [
    "ER_GATEWAY_MAX_PATHS",
    "GATEWAY_MAX_PREFIXES",
    "customer_max_prefixes",
    "declare_expressroute",
    "wire_expressroute",
]

GATEWAY_MAX_PREFIXES = 1000
"""§4.2 [ER-FAQ]: Azure → on-prem, per ER connection (IPv4)."""
ER_GATEWAY_MAX_PATHS = 4
"""§4.4 [ER-FAQ]: ECMP across at most 4 circuits."""
_WEIGHT_ER = 32769
_WEIGHT_OTHER = 32768
PROVIDER_INSTANCE = 2
"""Endpoint instance of the IPVPN provider PE (after the MSEEs 0 and 1)."""


def customer_max_prefixes(circuit: ExpressRouteCircuit) -> int:
    """§4.2 [ER-FAQ][ER-ROUTING]: 4,000 (Standard) / 10,000 (Premium) IPv4 prefixes."""
    return 10000 if circuit.sku is Sku.PREMIUM else 4000


def declare_expressroute(builder: Builder) -> None:
    """MSEEs (and PE) of every circuit; every ER gateway."""
    network = builder.network
    for circuit in network.of_type(ExpressRouteCircuit):
        links = (circuit.primary_peer_address_prefix, circuit.secondary_peer_address_prefix)
        for index, (name, link) in enumerate(
            zip(speaker_names.msees(circuit.name), links, strict=True)
        ):
            address = usable_address(link, 2)  # §4.1: second usable IP = MSEE
            builder.add(
                SpeakerDraft.azure(
                    name=name,
                    node=circuit.name,
                    role="expressroute",
                    instance=index,
                    address=address,
                    asn=MSEE_ASN,
                )
            )
        if circuit.connectivity is Connectivity.IPVPN:
            if circuit.provider_asn is None:
                raise CompileError(f"IPVPN circuit {circuit.name} needs a provider_asn")
            address = usable_address(circuit.primary_peer_address_prefix, 1)
            builder.add(
                SpeakerDraft.azure(
                    name=speaker_names.provider_edge(circuit.name),
                    node=circuit.name,
                    role="expressroute",
                    instance=PROVIDER_INSTANCE,
                    address=address,
                    asn=circuit.provider_asn,
                )
            )
    for gw in network.of_type(ExpressRouteGateway):
        draft = builder.add(
            SpeakerDraft.azure(
                name=gw.name,
                node=gw.name,
                role="expressroute_gateway",
                instance=0,
                address=gw.bgp_peering_address,
                asn=gw.asn,
                decision=DecisionConfig(max_paths=ER_GATEWAY_MAX_PATHS),
            )
        )
        # §4.3 [ER-FAQ]: VNet address spaces plus useRemoteGateways spokes.
        for prefix in vnet_space(network, gw.vnet):
            draft.originate(prefix)


def wire_expressroute(builder: Builder) -> None:
    """MSEE, PE and ER gateway sides of their sessions."""
    network = builder.network
    for circuit in network.of_type(ExpressRouteCircuit):
        _wire_circuit(builder, circuit)
    for gw in network.of_type(ExpressRouteGateway):
        _wire_gateway(builder, gw)


def _customer(circuit: ExpressRouteCircuit) -> str:
    if circuit.connectivity is Connectivity.IPVPN:
        return speaker_names.provider_edge(circuit.name)
    return circuit.peer


def _wire_circuit(builder: Builder, circuit: ExpressRouteCircuit) -> None:
    network = builder.network
    customer = _customer(circuit)
    gateways = [
        (c.gateway, network.node(c.gateway))
        for c in network.of_type(ExpressRouteConnection)
        if c.circuit == circuit.name
    ]
    hubs = [c.hub for c in network.of_type(HubExpressRouteConnection) if c.circuit == circuit.name]
    for msee in speaker_names.msees(circuit.name):
        draft = builder.drafts[msee]
        _to_customer(draft.neighbor(customer), circuit)
        builder.sign(msee, customer, circuit.shared_key)  # §4.1: "MD5 possible"
        for name, gw in gateways:
            allow = isinstance(gw, ExpressRouteGateway) and gw.allow_remote_vnet_traffic
            _to_azure(draft.neighbor(name), customer, allow_remote=allow)
        for hub in hubs:
            # Decision: a hub's ER connection has no "allow remote VNet traffic" knob.
            _to_azure(draft.neighbor(hub), customer, allow_remote=False)
    if circuit.connectivity is Connectivity.IPVPN:
        pe = builder.drafts[speaker_names.provider_edge(circuit.name)]
        pe.neighbor(circuit.peer)  # plain eBGP: the provider's ASN shows in paths (§4.1)
        for msee in speaker_names.msees(circuit.name):
            pe.neighbor(msee)


def _to_customer(neighbor: NeighborDraft, circuit: ExpressRouteCircuit) -> None:
    """§4.2: ≤ 4,000/10,000 prefixes in; §4.3 [ARS-FAQ][ER-S2S]: private ASNs removed, so
    on-prem sees Azure prefixes as {12076}."""
    neighbor.max_prefix = no_restart(customer_max_prefixes(circuit))
    neighbor.exports.append(actions("msee-remove-private-as", RemovePrivateAs()))


def _to_azure(neighbor: NeighborDraft, customer: str, *, allow_remote: bool) -> None:
    """Toward an ER gateway or a hub.

    - §4.2 [ER-FAQ]: ≤ 1,000 prefixes from the gateway;
    - §4.4 [ER-GW-CFG]: routes of other gateways only with "Allow traffic from remote
      virtual networks";
    - §4.3 OBS "65515-12076-12076": 65515 in the path becomes 12076 (as-override), so a
      VNet linked to the same circuit reaches another without a loop.
    """
    neighbor.max_prefix = no_restart(GATEWAY_MAX_PREFIXES)
    if not allow_remote:
        neighbor.exports.append(
            RoutePolicy(
                (_Statement(match=Not(SourcePeerMatch(customer)), result=Result.REJECT),),
                default=Result.ACCEPT,
                name="msee-customer-routes-only",
            )
        )
    neighbor.exports.append(actions("msee-as-override", AsOverride()))


def _wire_gateway(builder: Builder, gw: ExpressRouteGateway) -> None:
    network = builder.network
    draft = builder.drafts[gw.name]
    own = vnet_space(network, gw.vnet)
    rs = next((r for r in network.of_type(RouteServer) if r.vnet == gw.vnet), None)
    branch_to_branch = rs is not None and rs.allow_branch_to_branch_traffic
    vpn_instances = _vpn_instances(network, gw.vnet)
    rs_instances = (
        speaker_names.route_server_instances(network, rs.name)
        if rs is not None and branch_to_branch
        else []
    )
    for connection in network.of_type(ExpressRouteConnection):
        if connection.gateway != gw.name:
            continue
        for msee in speaker_names.msees(connection.circuit):
            neighbor = draft.neighbor(msee)
            _keep_own(neighbor, own)
            # §4.4 [ER-OPT][ER-LINK]: RoutingWeight is evaluated before AS-path length,
            # as the weight is; §4.3 OBS: ER-learned weight 32769.
            neighbor.imports.append(set_weight(_WEIGHT_ER + connection.routing_weight))
            _to_msee(neighbor, [] if branch_to_branch else vpn_instances)
    for sibling in (*vpn_instances, *rs_instances):
        neighbor = draft.neighbor(sibling)
        _keep_own(neighbor, own)
        neighbor.imports.append(set_weight(_WEIGHT_OTHER))


def _keep_own(neighbor: NeighborDraft, own: tuple[str, ...]) -> None:
    """Decision: a gateway keeps its own VNet prefixes local (never a learned copy)."""
    step = reject_prefixes("ergw-keep-own", own)
    if step is not None:
        neighbor.imports.append(step)


def _to_msee(neighbor: NeighborDraft, vpn_instances: list[str]) -> None:
    """§4.5 [ER-COEX][ARS-FAQ]: no VPN → ER transit without Route Server branch-to-branch.

    Decision (§11 gap): the ER gateway, like the VPN gateway [VPN-FAQ], does not
    re-advertise a learned default route toward the MSEEs.
    """
    step = reject_from("ergw-no-vpn-transit", vpn_instances)
    if step is not None:
        neighbor.exports.append(step)
    no_default = reject_prefixes("ergw-no-default", DEFAULT_ROUTES)
    if no_default is not None:
        neighbor.exports.append(no_default)


def _vpn_instances(network: Network, vnet: str) -> list[str]:
    found: list[str] = []
    for gw in network.of_type(VpnGateway):
        if gw.vnet == vnet:
            found.extend(speaker_names.gateway_instances(network, gw.name))
    return found
