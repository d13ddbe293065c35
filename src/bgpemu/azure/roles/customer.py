"""Customer speakers: on-prem routers (role ``onprem``) and NVAs (role ``nva``).

Both are ordinary eBGP routers: they originate their announcements and apply the
knobs of their sessions.  Which sessions they have follows from the connections
that name them.
"""

from __future__ import annotations

from bgpemu.azure.model import (
    BgpPeering,
    Connectivity,
    ExpressRouteCircuit,
    HubBgpConnection,
    HubVpnConnection,
    Nva,
    OnPrem,
    RouteServerPeer,
    SessionPolicy,
    SiteToSite,
)
from bgpemu.azure.roles import speaker_names
from bgpemu.azure.roles._builder import Builder, External, SpeakerDraft
from bgpemu.azure.roles._policies import actions, exact
from bgpemu.policy import (
    NO_ADVERTISE,
    NO_EXPORT,
    NO_EXPORT_SUBCONFED,
    AddCommunities,
    And,
    AsOverride,
    Prepend,
    Result,
    RoutePolicy,
    SourcePeerMatch,
    Statement,
    knob_policies,
    parse_community,
)
from bgpemu.policy.actions import Action
from bgpemu.rib.decision import DecisionConfig

__all__ = ["declare_customers", "wire_customers"]

_SENT_ONLY = frozenset({NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED})
"""RFC 1997 well-known communities that the originator must still send (see below)."""


def declare_customers(builder: Builder) -> None:
    """One speaker per on-prem router (none for an external one) and per NVA."""
    for onprem in builder.network.of_type(OnPrem):
        if onprem.external:
            builder.add_external(
                External(
                    name=onprem.name,
                    address=onprem.bgp_peering_address,
                    port=onprem.external_port,
                    asn=onprem.asn,
                )
            )
            continue
        _declare(builder, onprem, "onprem", onprem.bgp_peering_address, onprem.bgp_peering_address)
    for nva in builder.network.of_type(Nva):
        _declare(builder, nva, "nva", nva.address, nva.next_hop or nva.address)


def _declare(builder: Builder, node: OnPrem | Nva, role: str, address: str, next_hop: str) -> None:
    """A customer router's speaker: its own router id and ECMP width (unlike an Azure
    role's, :meth:`SpeakerDraft.azure`), one instance, its announcements."""
    draft = builder.add(
        SpeakerDraft(
            name=node.name,
            node=node.name,
            role=role,
            instance=0,
            azure_address=address,
            asn=node.asn,
            router_id=node.router_id,
            next_hop=next_hop,
            decision=DecisionConfig(max_paths=node.max_paths),
        )
    )
    _announce(draft, node)


def _announce(draft: SpeakerDraft, node: OnPrem | Nva) -> None:
    for item in node.prefixes:
        communities: tuple[int, ...] = ()
        if item.communities:
            parsed = map(parse_community, item.communities)
            communities = tuple(c for c in parsed if c not in _SENT_ONLY)
        draft.originate(
            item.prefix, med=item.med, communities=communities, prepend=item.as_path_prepend
        )


def _tag_on_export(draft: SpeakerDraft, node: OnPrem | Nva) -> None:
    """Well-known communities of an announcement are attached on export.

    RFC 1997 communities such as NO_ADVERTISE would stop the originator itself from
    sending the route; a customer tagging a route NO_ADVERTISE toward Route Server
    (§6.3 [ARS-FAQ][ARS-INJECT]) means "send it tagged", so the tag is added by the
    export policy (decision).
    """
    statements = []
    for item in node.prefixes:
        tags = tuple(c for c in map(parse_community, item.communities) if c in _SENT_ONLY)
        if tags:
            statements.append(
                Statement(
                    match=And(SourcePeerMatch(""), exact((item.prefix,))),
                    actions=(AddCommunities(tags),),
                )
            )
    if not statements:
        return
    policy = RoutePolicy(tuple(statements), default=Result.ACCEPT, name="tag-announcements")
    for neighbor in draft.neighbors.values():
        neighbor.exports.append(policy)


def wire_customers(builder: Builder) -> None:
    """The customer side of every session that names an on-prem router or an NVA."""
    network = builder.network
    for connection in network.connections:
        match connection:
            case SiteToSite(enable_bgp=True, site=site, gateway=gw, site_policy=policy):
                for remote in speaker_names.gateway_instances(network, gw):
                    _onprem_side(builder, site, remote, policy)
            case HubVpnConnection(enable_bgp=True, site=site, hub=hub, site_policy=policy):
                _onprem_side(builder, site, hub, policy)
            case BgpPeering(a=a, b=b, password=password):
                _customer_side(builder, a, b)
                _customer_side(builder, b, a)
                builder.sign(a, b, password)
            case RouteServerPeer(route_server=rs, nva=nva):
                for remote in speaker_names.route_server_instances(network, rs):
                    _customer_side(builder, nva, remote)
            case HubBgpConnection(hub=hub, nva=nva):
                _customer_side(builder, nva, hub)
            case _:
                pass
    for circuit in network.of_type(ExpressRouteCircuit):
        if circuit.connectivity is Connectivity.IPVPN:
            remotes = [speaker_names.provider_edge(circuit.name)]
        else:
            remotes = speaker_names.msees(circuit.name)
        for remote in remotes:
            _onprem_side(builder, circuit.peer, remote, circuit.peer_policy)
    customers: list[OnPrem | Nva] = [*network.of_type(OnPrem), *network.of_type(Nva)]
    for node in customers:
        draft = builder.speaker(node.name)
        if draft is not None:
            _tag_on_export(draft, node)


def _customer_side(builder: Builder, local: str, remote: str) -> None:
    node = builder.network.node(local)
    if isinstance(node, OnPrem):
        _onprem_side(builder, local, remote, SessionPolicy())
    elif isinstance(node, Nva):
        _nva_side(builder, node, remote)


def _onprem_side(builder: Builder, local: str, remote: str, policy: SessionPolicy) -> None:
    """An on-prem router's session knobs (§4.4 [ER-OPT] local preference; §3.3 prepend)."""
    draft = builder.speaker(local)
    if draft is None:
        return
    neighbor = draft.neighbor(remote)
    imports, exports = knob_policies(
        policy, import_name=f"local-pref-{policy.local_pref}", export_name=f"export-{remote}"
    )
    if imports is not None:
        neighbor.imports.append(imports)
    if exports is not None:
        neighbor.exports.append(exports)


def _nva_side(builder: Builder, nva: Nva, remote: str) -> None:
    """An NVA's export knobs: as-override (§6.6 [ARS-DUAL][ARS-MULTI]) and prepend
    (§7 [ARS-INJECT]: the passive NVA advertises a longer AS path)."""
    draft = builder.speaker(nva.name)
    if draft is None:
        return
    neighbor = draft.neighbor(remote)
    steps: list[Action] = []
    if nva.as_override:
        steps.append(AsOverride())
    if nva.prepend:
        steps.append(Prepend(count=nva.prepend))
    if steps:
        neighbor.exports.append(actions(f"nva-export-{remote}", *steps))
