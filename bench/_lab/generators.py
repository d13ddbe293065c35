"""Large generated topologies for the lab benchmark (issue 5), as topology YAML text.

Pure functions: parameters in, the text of a topology file out (the format of
docs/topology.md), so the same call always gives the same file.  Every generated file
passes ``bgpemu validate``; tests/bench/test_lab_generators.py loads and compiles small
sizes.

- :func:`vwan_standard`: a Standard Virtual WAN, ``hubs`` hubs, each with ``vnets``
  connected VNets and ``branches`` VPN branches (BGP), every branch announcing
  ``prefixes`` /24s.  Speakers: one per hub router and one per branch.
- :func:`hub_spoke`: a hub VNet whose VPN gateway talks BGP to an on-prem router that
  announces ``prefixes`` /24s, and ``spokes`` spoke VNets peered with the hub with
  gateway transit (hub side ``allowGatewayTransit``, spoke side ``useRemoteGateways``).
  Speakers: the gateway (two instances when ``active_active``) and the on-prem router.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bgpemu.topology.checks import is_reserved

__all__ = [
    "SIZES",
    "GeneratedTopology",
    "generate",
    "hub_spoke",
    "private_asns",
    "vwan_standard",
]

_BRANCH_PREFIXES = ipaddress.IPv4Network("10.0.0.0/8")
"""Branch announcements: consecutive /24s (at most 65,536 in all)."""
_BRANCH_PEERS = ipaddress.IPv4Network("100.64.0.0/10")
"""Branch BGP peer IPs (outside every VNet and hub)."""
_HUB_VNETS = ipaddress.IPv4Network("172.16.0.0/12")
"""VNets connected to vWAN hubs: consecutive /24s."""
_ONPREM_PREFIXES = ipaddress.IPv4Network("172.20.0.0/14")
"""The hub-and-spoke on-prem router's announcements: consecutive /24s (at most 1,024)."""


def private_asns(start: int = 64512) -> Iterator[int]:
    """Private ASNs from ``start`` that Azure accepts for a customer (16-bit, then 32-bit).

    Skips every ASN the topology checks refuse (65515, 65517-65520, 65535-65551, ...).
    """
    asn = start
    while asn <= 4294967294:
        if asn == 65535:
            asn = 4200000000
        if is_reserved(asn) is None:
            yield asn
        asn += 1


def _slash24(block: ipaddress.IPv4Network, index: int) -> str:
    """The ``index``-th /24 of ``block`` (ValueError when it does not fit)."""
    if block.prefixlen > 24 or index >= 2 ** (24 - block.prefixlen):
        raise ValueError(f"/24 number {index} does not fit in {block}")
    return str(ipaddress.IPv4Network((int(block.network_address) + (index << 8), 24)))


def _dump(name: str, comment: str, nodes: dict[str, Any], connections: list[Any]) -> str:
    document = {"name": name, "nodes": nodes, "connections": connections}
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=100)
    header = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return header + text


def vwan_standard(*, hubs: int = 2, branches: int = 50, prefixes: int = 200, vnets: int = 2) -> str:
    """A Standard Virtual WAN: ``hubs`` x (``vnets`` VNets + ``branches`` BGP VPN branches).

    Hub *h* (1-based) is ``Hub<h>`` with 192.168.<h>.0/24.  Branch *b* of hub *h* is
    ``Hub<h>-Branch<b>``, with its own private ASN and a BGP peer IP in 100.64.0.0/10,
    and announces ``prefixes`` consecutive /24s of 10.0.0.0/8 (no two branches overlap).
    VNet *v* of hub *h* is ``Hub<h>-VNet<v>``, a /24 of 172.16.0.0/12.  Every connection
    uses the default routing configuration (associated to and propagating to Default),
    so every branch learns every other branch's prefixes (§5.3, branch-to-branch on).
    """
    if not 1 <= hubs <= 254 or branches < 0 or prefixes < 0 or vnets < 0:
        raise ValueError("hubs must be 1..254; branches, prefixes and vnets >= 0")
    nodes: dict[str, Any] = {"wan": {"role": "vwan", "type": "Standard"}}
    connections: list[Any] = []
    asns = private_asns()
    branch_index = 0
    for h in range(1, hubs + 1):
        hub = f"Hub{h}"
        nodes[hub] = {"role": "vwan_hub", "vwan": "wan", "addressPrefix": f"192.168.{h}.0/24"}
    for h in range(1, hubs + 1):
        hub = f"Hub{h}"
        for v in range(1, vnets + 1):
            vnet = f"{hub}-VNet{v}"
            space = _slash24(_HUB_VNETS, (h - 1) * vnets + v - 1)
            subnet = space.replace("/24", "/26")
            nodes[vnet] = {
                "role": "vnet",
                "addressSpace": [space],
                "subnets": [{"name": "default", "addressPrefix": subnet}],
            }
            connections.append({"type": "hub_vnet", "hub": hub, "vnet": vnet})
        for b in range(1, branches + 1):
            site = f"{hub}-Branch{b:03d}"
            first = branch_index * prefixes
            nodes[site] = {
                "role": "onprem",
                "asn": next(asns),
                "bgpPeeringAddress": str(_BRANCH_PEERS.network_address + branch_index + 1),
                "prefixes": [_slash24(_BRANCH_PREFIXES, first + k) for k in range(prefixes)],
            }
            connections.append({"type": "hub_vpn", "hub": hub, "site": site, "enableBgp": True})
            branch_index += 1
    comment = (
        f"Generated by bench/_lab/generators.py: vwan_standard(hubs={hubs}, "
        f"branches={branches}, prefixes={prefixes}, vnets={vnets}).\n"
        f"{hubs * branches} BGP branches x {prefixes} /24s = {hubs * branches * prefixes} prefixes."
    )
    name = f"vwan-{hubs}x{branches}x{prefixes}"
    return _dump(name, comment, nodes, connections)


def hub_spoke(*, spokes: int = 100, prefixes: int = 500, active_active: bool = False) -> str:
    """A hub VNet with a VPN gateway to on-prem (BGP) and ``spokes`` gateway-transit spokes.

    ``Hub`` is 10.0.0.0/16 (GatewaySubnet 10.0.255.0/27), ``HubGW`` its VPN gateway
    (AS 65515; two instances when ``active_active``), ``OnPrem`` (AS 65010, peer IP
    172.16.0.1) announces ``prefixes`` consecutive /24s of 172.20.0.0/14.  Spoke *i*
    (``Spoke<i>``, 10.<i>.0.0/16, one ``App`` subnet) peers with the hub and uses its
    gateway (§2 [GW-TRANSIT]); the spokes do not peer with each other.
    """
    if not 0 <= spokes <= 254 or prefixes < 0:
        raise ValueError("spokes must be 0..254 and prefixes >= 0")
    spoke_names = [f"Spoke{i:03d}" for i in range(1, spokes + 1)]
    nodes: dict[str, Any] = {
        "Hub": {
            "role": "vnet",
            "addressSpace": ["10.0.0.0/16"],
            "subnets": [
                {"name": "Shared", "addressPrefix": "10.0.1.0/24"},
                {"name": "GatewaySubnet", "addressPrefix": "10.0.255.0/27"},
            ],
            "peerings": [
                {
                    "remoteVirtualNetwork": spoke,
                    "allowForwardedTraffic": True,
                    "allowGatewayTransit": True,
                }
                for spoke in spoke_names
            ],
        },
        "HubGW": {"role": "vpn_gateway", "vnet": "Hub", "activeActive": active_active},
        "OnPrem": {
            "role": "onprem",
            "asn": 65010,
            "bgpPeeringAddress": "172.16.0.1",
            "prefixes": [_slash24(_ONPREM_PREFIXES, k) for k in range(prefixes)],
        },
    }
    for i, spoke in enumerate(spoke_names, start=1):
        nodes[spoke] = {
            "role": "vnet",
            "addressSpace": [f"10.{i}.0.0/16"],
            "subnets": [{"name": "App", "addressPrefix": f"10.{i}.1.0/24"}],
            "peerings": [
                {
                    "remoteVirtualNetwork": "Hub",
                    "allowForwardedTraffic": True,
                    "useRemoteGateways": True,
                }
            ],
        }
    connections = [
        {"type": "site_to_site", "gateway": "HubGW", "site": "OnPrem", "enableBgp": True}
    ]
    comment = (
        f"Generated by bench/_lab/generators.py: hub_spoke(spokes={spokes}, "
        f"prefixes={prefixes}, active_active={active_active}).\n"
        f"{spokes} spokes using the hub's VPN gateway; on-prem announces {prefixes} /24s."
    )
    name = f"hub-spoke-{spokes}x{prefixes}{'-aa' if active_active else ''}"
    return _dump(name, comment, nodes, connections)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedTopology:
    """One benchmark topology: a file stem, the generator and its parameters."""

    stem: str
    kind: str
    """``vwan`` (:func:`vwan_standard`) or ``hub_spoke`` (:func:`hub_spoke`)."""
    params: tuple[tuple[str, Any], ...]

    def text(self) -> str:
        """The topology YAML."""
        kwargs = dict(self.params)
        if self.kind == "vwan":
            return vwan_standard(**kwargs)
        if self.kind == "hub_spoke":
            return hub_spoke(**kwargs)
        raise ValueError(f"unknown generator {self.kind!r}")

    def write(self, directory: Path) -> Path:
        """Write the topology to ``directory/<stem>.yaml``; return the path."""
        path = directory / f"{self.stem}.yaml"
        path.write_text(self.text())
        return path


SIZES: dict[str, tuple[GeneratedTopology, ...]] = {
    "small": (
        GeneratedTopology(
            stem="vwan-2x5x20",
            kind="vwan",
            params=(("hubs", 2), ("branches", 5), ("prefixes", 20), ("vnets", 2)),
        ),
        GeneratedTopology(
            stem="hub-spoke-10x50",
            kind="hub_spoke",
            params=(("spokes", 10), ("prefixes", 50)),
        ),
    ),
    "medium": (
        GeneratedTopology(
            stem="vwan-2x10x200",
            kind="vwan",
            params=(("hubs", 2), ("branches", 10), ("prefixes", 200), ("vnets", 2)),
        ),
        GeneratedTopology(
            stem="vwan-2x25x200",
            kind="vwan",
            params=(("hubs", 2), ("branches", 25), ("prefixes", 200), ("vnets", 2)),
        ),
    ),
    "full": (
        GeneratedTopology(
            stem="vwan-2x50x200",
            kind="vwan",
            params=(("hubs", 2), ("branches", 50), ("prefixes", 200), ("vnets", 2)),
        ),
        GeneratedTopology(
            stem="hub-spoke-100x500",
            kind="hub_spoke",
            params=(("spokes", 100), ("prefixes", 500)),
        ),
    ),
}
"""The benchmark's topologies by ``--sizes``: ``full`` is issue 5's (2 hubs x 50 branches
x 200 prefixes, and a hub with 100 peered spokes), ``medium`` the vWAN at a fifth and a
half of the branches (how the time grows), ``small`` a quick check of the script."""


def generate(size: str, directory: Path) -> list[Path]:
    """Write every topology of ``size`` into ``directory``; return their paths."""
    return [topology.write(directory) for topology in SIZES[size]]
