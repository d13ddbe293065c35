"""The public Azure documentation pages that bgpemu's messages, help and docs cite.

A rule bgpemu enforces is written down, with its source, in the project's reference notes;
a user cannot open those, so whatever a user reads cites the public page instead: the
learn.microsoft.com article behind each source key (the key is the notes' name for it,
e.g. ``VPN-FAQ``).  :func:`see` gives the text a hint ends with.  One place for the
addresses: ``tests/unit/test_public_citations.py`` refuses any other in a message, the
docs, the README, the schemas or the shipped topologies.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["PAGES", "Key", "public", "see"]

Key = Literal[
    "AAC-NVA-HA",
    "AAC-SDWAN",
    "ARS-DUAL",
    "ARS-ERVPN",
    "ARS-FAQ",
    "ARS-INJECT",
    "ARS-LIMITS",
    "ARS-MULTI",
    "ARS-NHIP",
    "ARS-OV",
    "ARS-PREF",
    "ARS-QS",
    "ARS-TS",
    "ASG",
    "AVNM-VER",
    "AVNM-VER-HOW",
    "ER-ASYM",
    "ER-BFD",
    "ER-COEX",
    "ER-FAQ",
    "ER-GW",
    "ER-GW-CFG",
    "ER-LINK",
    "ER-OPT",
    "ER-ROUTING",
    "ER-S2S",
    "FW-FAQ",
    "FW-FT",
    "FW-HYBRID",
    "FW-LB",
    "FW-RULES",
    "FW-SNAT",
    "GW-SETTINGS",
    "GW-TRANSIT",
    "ISSUE-124192",
    "ISSUE-22178",
    "ISSUE-32725",
    "LIMITS",
    "NIC-IPFWD",
    "NSG-DIAG",
    "NSG-HOW",
    "NSG-OV",
    "NVA-TS",
    "NW-CT",
    "NW-CT-API",
    "NW-IPFV",
    "NW-IPFV-CLI",
    "NW-NH",
    "NW-NH-API",
    "NW-NH-CLI",
    "PEER",
    "PEER-MGMT",
    "PR-101300",
    "TAGS",
    "UDR",
    "VPN-AA",
    "VPN-BGP",
    "VPN-BGP-HOWTO",
    "VPN-FAQ",
    "VPN-HA",
    "VPN-SKU",
    "VWAN-BGP",
    "VWAN-BGP-HOWTO",
    "VWAN-DEEP",
    "VWAN-EFF",
    "VWAN-FAQ",
    "VWAN-GT",
    "VWAN-HRP",
    "VWAN-HUB",
    "VWAN-LIMITS",
    "VWAN-RI",
    "VWAN-RMAP",
    "VWAN-ROUTING",
    "VWAN-S-ANY",
    "VWAN-S-CUSTOM",
    "VWAN-S-ISO",
    "VWAN-S-NVA",
    "VWAN-S-SHARED",
    "VWAN-TYPES",
]
"""A source key of the reference notes with a public page."""

PAGES: dict[Key, str] = {
    "AAC-NVA-HA": (
        "https://learn.microsoft.com/azure/architecture/networking/guide/network-virtual-appliance-high-availability"
    ),
    "AAC-SDWAN": (
        "https://learn.microsoft.com/azure/architecture/networking/guide/sdwan-integration-in-hub-and-spoke-network-topologies"
    ),
    "ARS-DUAL": "https://learn.microsoft.com/azure/route-server/about-dual-homed-network",
    "ARS-ERVPN": "https://learn.microsoft.com/azure/route-server/expressroute-vpn-support",
    "ARS-FAQ": "https://learn.microsoft.com/azure/route-server/route-server-faq",
    "ARS-INJECT": "https://learn.microsoft.com/azure/route-server/route-injection-in-spokes",
    "ARS-LIMITS": "https://learn.microsoft.com/azure/route-server/route-server-faq",
    "ARS-MULTI": "https://learn.microsoft.com/azure/route-server/multiregion",
    "ARS-NHIP": "https://learn.microsoft.com/azure/route-server/next-hop-ip",
    "ARS-OV": "https://learn.microsoft.com/azure/route-server/overview",
    "ARS-PREF": "https://learn.microsoft.com/azure/route-server/hub-routing-preference",
    "ARS-QS": (
        "https://learn.microsoft.com/azure/route-server/quickstart-configure-route-server-portal"
    ),
    "ARS-TS": "https://learn.microsoft.com/azure/route-server/troubleshoot-route-server",
    "ASG": "https://learn.microsoft.com/azure/virtual-network/application-security-groups",
    "AVNM-VER": (
        "https://learn.microsoft.com/azure/virtual-network-manager/concept-virtual-network-verifier"
    ),
    "AVNM-VER-HOW": (
        "https://learn.microsoft.com/azure/virtual-network-manager/how-to-verify-reachability-with-virtual-network-verifier"
    ),
    "ER-ASYM": "https://learn.microsoft.com/azure/expressroute/expressroute-asymmetric-routing",
    "ER-BFD": "https://learn.microsoft.com/azure/expressroute/expressroute-bfd",
    "ER-COEX": (
        "https://learn.microsoft.com/azure/expressroute/expressroute-howto-coexist-resource-manager"
    ),
    "ER-FAQ": "https://learn.microsoft.com/azure/expressroute/expressroute-faqs",
    "ER-GW": (
        "https://learn.microsoft.com/azure/expressroute/expressroute-about-virtual-network-gateways"
    ),
    "ER-GW-CFG": (
        "https://learn.microsoft.com/azure/expressroute/expressroute-howto-add-gateway-portal-resource-manager"
    ),
    "ER-LINK": "https://learn.microsoft.com/azure/expressroute/expressroute-howto-linkvnet-arm",
    "ER-OPT": "https://learn.microsoft.com/azure/expressroute/expressroute-optimize-routing",
    "ER-ROUTING": "https://learn.microsoft.com/azure/expressroute/expressroute-routing",
    "ER-S2S": (
        "https://learn.microsoft.com/azure/expressroute/use-s2s-vpn-as-backup-for-expressroute-privatepeering"
    ),
    "FW-FAQ": "https://learn.microsoft.com/azure/firewall/firewall-faq",
    "FW-FT": "https://learn.microsoft.com/azure/firewall/forced-tunneling",
    "FW-HYBRID": "https://learn.microsoft.com/azure/firewall/tutorial-hybrid-portal",
    "FW-LB": "https://learn.microsoft.com/azure/firewall/integrate-lb",
    "FW-RULES": "https://learn.microsoft.com/azure/firewall/rule-processing",
    "FW-SNAT": "https://learn.microsoft.com/azure/firewall/snat-private-range",
    "GW-SETTINGS": (
        "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-about-vpn-gateway-settings#gwsub"
    ),
    "GW-TRANSIT": (
        "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-peering-gateway-transit"
    ),
    "ISSUE-124192": "https://github.com/MicrosoftDocs/azure-docs/issues/124192",
    "ISSUE-22178": "https://github.com/MicrosoftDocs/azure-docs/issues/22178",
    "ISSUE-32725": "https://github.com/MicrosoftDocs/azure-docs/issues/32725",
    "LIMITS": (
        "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-resource-manager-virtual-networking-limits"
    ),
    "NIC-IPFWD": (
        "https://learn.microsoft.com/azure/virtual-network/virtual-network-network-interface#enable-or-disable-ip-forwarding"
    ),
    "NSG-DIAG": (
        "https://learn.microsoft.com/azure/virtual-network/diagnose-network-traffic-filter-problem"
    ),
    "NSG-HOW": (
        "https://learn.microsoft.com/azure/virtual-network/network-security-group-how-it-works"
    ),
    "NSG-OV": "https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview",
    "NVA-TS": "https://learn.microsoft.com/azure/virtual-network/virtual-network-troubleshoot-nva",
    "NW-CT": "https://learn.microsoft.com/azure/network-watcher/connection-troubleshoot-overview",
    "NW-CT-API": (
        "https://learn.microsoft.com/javascript/api/@azure-rest/arm-network/connectivityinformationoutput"
    ),
    "NW-IPFV": "https://learn.microsoft.com/azure/network-watcher/ip-flow-verify-overview",
    "NW-IPFV-CLI": (
        "https://learn.microsoft.com/azure/network-watcher/diagnose-vm-network-traffic-filtering-problem-cli"
    ),
    "NW-NH": "https://learn.microsoft.com/azure/network-watcher/next-hop-overview",
    "NW-NH-API": (
        "https://learn.microsoft.com/javascript/api/@azure-rest/arm-network/nexthopresultoutput"
    ),
    "NW-NH-CLI": (
        "https://learn.microsoft.com/azure/network-watcher/diagnose-vm-network-routing-problem-cli"
    ),
    "PEER": "https://learn.microsoft.com/azure/virtual-network/virtual-network-peering-overview",
    "PEER-MGMT": "https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-peering",
    "PR-101300": "https://github.com/MicrosoftDocs/azure-docs/pull/101300",
    "TAGS": "https://learn.microsoft.com/azure/virtual-network/service-tags-overview",
    "UDR": "https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview",
    "VPN-AA": "https://learn.microsoft.com/azure/vpn-gateway/about-active-active-gateways",
    "VPN-BGP": "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-bgp-overview",
    "VPN-BGP-HOWTO": "https://learn.microsoft.com/azure/vpn-gateway/bgp-howto",
    "VPN-FAQ": "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq",
    "VPN-HA": "https://learn.microsoft.com/azure/vpn-gateway/vpn-gateway-highlyavailable",
    "VPN-SKU": "https://learn.microsoft.com/azure/vpn-gateway/about-gateway-skus",
    "VWAN-BGP": "https://learn.microsoft.com/azure/virtual-wan/scenario-bgp-peering-hub",
    "VWAN-BGP-HOWTO": "https://learn.microsoft.com/azure/virtual-wan/create-bgp-peering-hub-portal",
    "VWAN-DEEP": "https://learn.microsoft.com/azure/virtual-wan/routing-deep-dive",
    "VWAN-EFF": "https://learn.microsoft.com/azure/virtual-wan/effective-routes-virtual-hub",
    "VWAN-FAQ": "https://learn.microsoft.com/azure/virtual-wan/virtual-wan-faq",
    "VWAN-GT": (
        "https://learn.microsoft.com/azure/virtual-wan/virtual-wan-global-transit-network-architecture"
    ),
    "VWAN-HRP": (
        "https://learn.microsoft.com/azure/virtual-wan/about-virtual-hub-routing-preference"
    ),
    "VWAN-HUB": "https://learn.microsoft.com/azure/virtual-wan/hub-settings",
    "VWAN-LIMITS": (
        "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#virtual-wan-limits"
    ),
    "VWAN-RI": "https://learn.microsoft.com/azure/virtual-wan/how-to-routing-policies",
    "VWAN-RMAP": "https://learn.microsoft.com/azure/virtual-wan/route-maps-about",
    "VWAN-ROUTING": "https://learn.microsoft.com/azure/virtual-wan/about-virtual-hub-routing",
    "VWAN-S-ANY": "https://learn.microsoft.com/azure/virtual-wan/scenario-any-to-any",
    "VWAN-S-CUSTOM": "https://learn.microsoft.com/azure/virtual-wan/scenario-isolate-vnets-custom",
    "VWAN-S-ISO": "https://learn.microsoft.com/azure/virtual-wan/scenario-isolate-vnets",
    "VWAN-S-NVA": "https://learn.microsoft.com/azure/virtual-wan/scenario-route-through-nva",
    "VWAN-S-SHARED": "https://learn.microsoft.com/azure/virtual-wan/scenario-shared-services-vnet",
    "VWAN-TYPES": "https://learn.microsoft.com/azure/virtual-wan/upgrade-virtual-wan",
}
"""Each key's page (ARS-LIMITS: the limits are shown in the Route Server FAQ)."""


def see(*keys: Key) -> str:
    """``see URL[, URL...]``: the pages of ``keys``, each once, in order."""
    urls = list(dict.fromkeys(PAGES[key] for key in keys))
    return "see " + ", ".join(urls)


_SECTION = (
    r"§\s*\d+(?:\.\d+)*(?:'s)?(?:\s*-\s*§?\s*\d+(?:\.\d+)*)?(?:\s+(?:S\d+|item \d+|step \d+))?"
)
_KEY = r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\]"
_CITATION = (
    rf"(?:(?:shared/)?azure-(?:routing|traffic)\.md\s*)?(?:{_SECTION}|{_KEY})"
    rf"(?:(?:\s*,\s*|\s+)(?:{_SECTION}|{_KEY}))*:?"
)
"""A run of citations; compiled when :func:`public` first needs it (``re``'s cache), not
when this module is imported: 4 ms of every command's start."""
_RFC_SECTION = re.compile(r"(RFC \d+ )§")


def public(text: str) -> str:
    """``text`` (a docstring shown to users, e.g. as a schema description) with the notes'
    citations replaced: source keys by their pages (:func:`see`), section numbers
    dropped; an RFC's section (``RFC 4271 §8``) is public and stays."""
    text = _RFC_SECTION.sub(r"\1\0", text)

    def cite(match: re.Match[str]) -> str:
        keys = [k for k in re.findall(_KEY, match.group(0)) if k in PAGES]
        return see(*keys) if keys else ""

    text = re.sub(_CITATION, cite, text)
    text = re.sub(r"\(\s*(?:,\s*)?\)", "", text)  # a parenthesis left empty
    text = re.sub(r"\(\s*,?\s*", "(", text)
    text = re.sub(r",\s*\)", ")", text)
    text = re.sub(r"[ \t]+([.,;:)])", r"\1", text)
    return text.replace("\0", "§")
