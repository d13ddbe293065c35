"""The service tags of one subnet (§3 of ``shared/azure-traffic.md``, decisions §9.1, §9.2).

``VirtualNetwork`` depends on the subnet's routes, so tags are computed per subnet from its
effective routes, the ``value`` rows :func:`bgpemu.azure.views.effective.effective_routes`
returns (no engine needed):

* ``VirtualNetwork`` (decision §9.1, [TAGS][NSG-DIAG][ISSUE-22178][ISSUE-124192]): the
  VNet's ranges (``Default`` rows with next hop ``VnetLocal``), the ranges of Connected
  peerings (``Default`` rows ``VNetPeering``), 168.63.129.16/32 [ISSUE-32725], and the
  prefix of every ``VirtualNetworkGateway``- and ``User``-sourced row of the subnet,
  whatever its state, including 0.0.0.0/0, which collapses the tag to every IPv4 address.
* ``Internet`` (decision §9.2, [TAGS][NW-IPFV-CLI]): IPv4 public unicast, i.e. every IPv4
  address minus 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 224/4 and
  240/4, minus the subnet's ``VirtualNetwork``.  IPv6 is out of scope (§9.14): no IPv6
  address is ``Internet``.
* ``AzureLoadBalancer``: 168.63.129.16/32 (§3.3 [TAGS]).

Classic spellings (``VIRTUAL_NETWORK``, ``INTERNET``, ``AZURE_LOADBALANCER``, §3.4) name the
same tags: :func:`bgpemu.azure.security.service_tag` spells them (the one table of tags).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.security import service_tag
from bgpemu.azure.traffic.flow import AddressSet, prefix_interval

__all__ = [
    "AZURE_LOAD_BALANCER",
    "HOST_ADDRESS",
    "INTERNET",
    "VIRTUAL_NETWORK",
    "ServiceTags",
    "service_tags",
]

VIRTUAL_NETWORK = "VirtualNetwork"
INTERNET = "Internet"
AZURE_LOAD_BALANCER = "AzureLoadBalancer"
_TAGS = (VIRTUAL_NETWORK, INTERNET, AZURE_LOAD_BALANCER)

HOST_ADDRESS = "168.63.129.16/32"
"""Azure's host virtual IP: in ``VirtualNetwork`` [ISSUE-32725] and the whole of
``AzureLoadBalancer`` (§3.3)."""

_NOT_INTERNET = AddressSet.of(
    (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_PUBLIC_IPV4 = AddressSet.of(("0.0.0.0/0",)).difference(_NOT_INTERNET)

_ROUTED_SOURCES = frozenset({"VirtualNetworkGateway", "User"})


@dataclass(frozen=True, slots=True)
class ServiceTags:
    """The service tags as one subnet's NSG evaluation sees them.

    ``expansions``: per tag, the prefixes effective security rules print for it
    (``expandedSourceAddressPrefix``, §3.5); ``addresses``: the same as an
    :class:`~bgpemu.azure.traffic.flow.AddressSet` for matching.  Equal expansions make
    equal values, so a compiled NSG can be cached per tags.
    """

    expansions: tuple[tuple[str, tuple[str, ...]], ...]
    addresses: Mapping[str, AddressSet] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )
    """Computed from ``expansions`` when not given (:func:`service_tags` gives them)."""

    def __post_init__(self) -> None:
        if not self.addresses:
            object.__setattr__(
                self, "addresses", {tag: AddressSet.of(cidrs) for tag, cidrs in self.expansions}
            )

    def expansion(self, tag: str) -> list[str]:
        """The printed expansion of ``tag``; KeyError for an unknown tag."""
        return list(dict(self.expansions)[_known(tag)])

    def of(self, tag: str) -> AddressSet:
        """The addresses of ``tag``; KeyError for an unknown tag."""
        return self.addresses[_known(tag)]


def _known(tag: str) -> str:
    canonical = service_tag(tag)
    if canonical is None:
        raise KeyError(f"{tag!r} is not a service tag (known: {', '.join(_TAGS)})")
    return canonical


def service_tags(routes: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> ServiceTags:
    """The service tags of the subnet whose effective routes are ``routes`` (the answer of
    ``effective_routes(...)`` or its ``value`` rows); decisions §9.1 and §9.2."""
    rows = routes["value"] if isinstance(routes, Mapping) else routes
    local: list[str] = []
    peered: list[str] = []
    routed: list[str] = []
    for row in rows:
        source, hop = row["source"], row["nextHopType"]
        if source in _ROUTED_SOURCES:
            routed.extend(row["addressPrefix"])
        elif source == "Default" and hop == "VnetLocal":
            local.extend(row["addressPrefix"])
        elif source == "Default" and hop == "VNetPeering":
            peered.extend(row["addressPrefix"])
    spans = _spans((*local, HOST_ADDRESS, *peered, *routed))
    virtual_network = _outermost(spans)
    vnet_addresses = AddressSet.of_intervals(interval for _, interval in spans)
    internet = _PUBLIC_IPV4.difference(vnet_addresses)
    return ServiceTags(
        (
            (VIRTUAL_NETWORK, virtual_network),
            (INTERNET, tuple(internet.prefixes())),
            (AZURE_LOAD_BALANCER, (HOST_ADDRESS,)),
        ),
        {
            VIRTUAL_NETWORK: vnet_addresses,
            INTERNET: internet,
            AZURE_LOAD_BALANCER: AddressSet.of((HOST_ADDRESS,)),
        },
    )


def _spans(prefixes: Iterable[str]) -> list[tuple[str, tuple[int, int]]]:
    """``prefixes`` without repeats, in order, each with its interval of set keys."""
    return [(prefix, prefix_interval(prefix)) for prefix in dict.fromkeys(prefixes)]


def _outermost(spans: list[tuple[str, tuple[int, int]]]) -> tuple[str, ...]:
    """The prefixes of ``spans`` in order without any inside another one, so a
    0.0.0.0/0 leaves only itself (the collapse observed in [ISSUE-22178]).  CIDRs nest or
    are disjoint, so one sweep in address order (widest first) finds the covered ones."""
    covered: set[str] = set()
    reach = -1
    widest_first = sorted(spans, key=lambda span: (span[1][0], -span[1][1]))
    for prefix, (_, end) in widest_first:
        if end <= reach:
            covered.add(prefix)
        reach = max(reach, end)
    return tuple(prefix for prefix, _ in spans if prefix not in covered)
