"""ASNs: reserved numbers refused, the two ends of a session differ, 16-bit where needed.

Rules (shared/azure-routing.md §3.1 [VPN-FAQ][ARS-FAQ][VWAN-BGP], §4.1 [ER-ROUTING],
§5.6, §6.1): on-prem routers, NVAs, provider PEs and custom VPN gateway ASNs must not
use 8074, 8075, 12076, 65515, 65517-65520, 23456, 64496-64511 or 65535-65551 (a VPN
gateway may keep 65515 itself); an on-prem site and its VPN gateway use different ASNs;
NVAs peering with a Route Server or a vWAN hub use 16-bit ASNs.
"""

from __future__ import annotations

from collections.abc import Iterator

from bgpemu.azure.learn import see
from bgpemu.azure.model import AZURE_ASN
from bgpemu.topology.checks._index import Index, Issue
from bgpemu.topology.connections import (
    HubBgpConnectionModel,
    RouteServerPeerModel,
    SiteToSiteModel,
    VnetToVnetModel,
)
from bgpemu.topology.nodes import ExpressRouteCircuitModel, NvaModel, OnPremModel, VpnGatewayModel

__all__ = ["check_asns", "is_reserved"]

_RESERVED: tuple[tuple[int, int, str], ...] = (
    (8074, 8075, "Azure public"),
    (12076, 12076, "Azure public (ExpressRoute MSEE)"),
    (65515, 65515, "Azure private"),
    (65517, 65520, "Azure private"),
    (23456, 23456, "IANA (AS_TRANS)"),
    (64496, 64511, "IANA (documentation)"),
    (65535, 65551, "IANA"),
)


def is_reserved(asn: int) -> str | None:
    """Who reserves ``asn`` (§3.1), or None if it may be used."""
    for low, high, owner in _RESERVED:
        if low <= asn <= high:
            return owner
    return None


def _reserved(path: tuple[str | int, ...], asn: int) -> Iterator[Issue]:
    owner = is_reserved(asn)
    if owner is not None:
        yield Issue(
            path,
            f"AS {asn} is reserved ({owner})",
            f"use a private ASN in 64512-65514 or 65521-65534, or your public ASN "
            f"({see('VPN-FAQ')})",
        )


def check_asns(index: Index) -> Iterator[Issue]:
    """Every ASN rule."""
    for name, node in index.nodes.items():
        custom = isinstance(node, VpnGatewayModel) and node.asn != AZURE_ASN
        if isinstance(node, OnPremModel | NvaModel | VpnGatewayModel) and (
            custom or not isinstance(node, VpnGatewayModel)
        ):
            yield from _reserved(("nodes", name, "asn"), node.asn)
        elif isinstance(node, ExpressRouteCircuitModel) and node.provider_asn is not None:
            yield from _reserved(("nodes", name, "providerAsn"), node.provider_asn)
            peer = index.nodes.get(node.peer)
            if isinstance(peer, OnPremModel) and peer.asn == node.provider_asn:
                yield Issue(
                    ("nodes", name, "providerAsn"),
                    f"the provider uses the ASN of {node.peer} ({peer.asn})",
                    f"the PE and the customer router talk eBGP: their ASNs differ "
                    f"({see('ER-ROUTING')})",
                )
    yield from _session_ends(index)
    yield from _sixteen_bit(index)


def _session_ends(index: Index) -> Iterator[Issue]:
    for position, s2s in index.conns(SiteToSiteModel):
        site, gateway = index.nodes.get(s2s.site), index.nodes.get(s2s.gateway)
        if (
            isinstance(site, OnPremModel)
            and isinstance(gateway, VpnGatewayModel)
            and site.asn == gateway.asn
        ):
            yield Issue(
                ("connections", position, "site"),
                f"{s2s.site} uses AS {site.asn}, the ASN of {s2s.gateway}",
                f"the Azure and on-prem ASNs must differ ({see('VPN-FAQ')})",
            )
    for position, v2v in index.conns(VnetToVnetModel):
        one, two = index.nodes.get(v2v.gateway), index.nodes.get(v2v.remote_gateway)
        if (
            v2v.enable_bgp
            and isinstance(one, VpnGatewayModel)
            and isinstance(two, VpnGatewayModel)
            and one.asn == two.asn
        ):
            yield Issue(
                ("connections", position, "remoteGateway"),
                f"{v2v.gateway} and {v2v.remote_gateway} both use AS {one.asn}",
                "BGP between two gateways needs different ASNs: give one a custom ASN, or "
                f"set enableBgp: false ({see('VPN-FAQ')})",
            )


def _sixteen_bit(index: Index) -> Iterator[Issue]:
    peers: list[tuple[int, str, str]] = [
        (p, c.nva, f"a Route Server supports 16-bit ASNs only ({see('ARS-FAQ')})")
        for p, c in index.conns(RouteServerPeerModel)
    ]
    peers += [
        (p, c.nva, f"the vWAN hub router supports 16-bit ASNs only ({see('VWAN-BGP')})")
        for p, c in index.conns(HubBgpConnectionModel)
    ]
    for position, nva_name, what in peers:
        nva = index.nodes.get(nva_name)
        if isinstance(nva, NvaModel) and nva.asn > 65535:
            yield Issue(
                ("connections", position, "nva"),
                f"{nva_name} uses the 32-bit AS {nva.asn}",
                f"{what}; pick one in 64512-65514 or 65521-65534",
            )
