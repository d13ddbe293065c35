"""The record of one gateway route offered to a VNet (:mod:`bgpemu.azure.views.sources`).

Its own module so that the vWAN hub view (:class:`~bgpemu.azure.views.hub.HubTables`)
can build the routes a hub table programs into its VNets (§5.3) once per report,
without importing the module that reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["GatewayRoute", "SourceKind"]


class SourceKind(Enum):
    """Which Azure gateway programmed a route into the VNet."""

    EXPRESS_ROUTE = "ExpressRoute"
    VPN = "VpnGateway"
    NVA = "RouteServer"
    HUB = "VirtualHub"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayRoute:
    """One prefix as one gateway source offers it."""

    prefix: str
    kind: SourceKind
    as_path_length: int
    next_hops: tuple[str, ...]
