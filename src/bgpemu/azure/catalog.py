"""The Azure views by name: each view's every spelling, defined once (pure).

A view is named in four places, and each name is one field of :class:`AzureView`:

* :attr:`~AzureView.key`: its category in ``bgpemu solve -o json``'s report and in
  :func:`~bgpemu.azure.report.azure_views` (``effectiveRoutes``), which the testing API
  (:class:`~bgpemu.testing.lab.Lab`) and ``bgpemu diff`` read;
* :attr:`~AzureView.segment`: its MQTT topic level ``nodes/<node>/azure/<segment>[.<detail>]``
  and the ``view`` of that document (docs/mqtt.md);
* :attr:`~AzureView.command`: the observer command that prints it, its key in kebab case
  (``bgpemu effective-routes``, ``bgpemu route-server-routes``: the segment ``routes``
  is the Loc-RIB command's name);
* :attr:`~AzureView.label`: how ``bgpemu diff`` names a change there ("effective routes").

The strings are those of the MQTT schema ``bgpemu/v1`` and of the report: they do not
change (a renamed view is a new schema version).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["AzureView"]


class AzureView(Enum):
    """One Azure view (see the module docstring); in the report's order."""

    EFFECTIVE_ROUTES = ("effectiveRoutes", "effective-routes", "effective routes")
    """``az network nic show-effective-route-table`` of a VNet's subnet."""
    LEARNED_ROUTES = ("learnedRoutes", "learned-routes", "learned routes")
    """``az network vnet-gateway list-learned-routes`` of a VPN or ER gateway."""
    BGP_PEER_STATUS = ("bgpPeerStatus", "bgp-peer-status", "BGP peer status")
    """``az network vnet-gateway list-bgp-peer-status``."""
    ROUTE_SERVER_ROUTES = ("routeServerRoutes", "routes", "Route Server routes")
    """A Route Server's learned and advertised routes of one NVA peering."""
    HUB_ROUTES = ("hubRoutes", "hub-routes", "hub routes")
    """``az network vhub get-effective-routes`` of one route table of a vWAN hub."""
    CIRCUIT_ROUTES = ("circuitRoutes", "circuit-routes", "circuit routes")
    """``az network express-route list-route-tables`` of one path of a circuit."""

    def __init__(self, key: str, segment: str, label: str) -> None:
        self.key = key
        self.segment = segment
        self.label = label

    @property
    def command(self) -> str:
        """The observer command that prints this view: :attr:`key` in kebab case
        (``bgpPeerStatus`` -> ``bgp-peer-status``)."""
        return "".join(f"-{c.lower()}" if c.isupper() else c for c in self.key)

    @classmethod
    def of_key(cls, key: str) -> AzureView:
        """The view whose report category is ``key``; KeyError if none is."""
        for view in cls:
            if view.key == key:
                return view
        raise KeyError(f"no Azure view has the report category {key!r}")

    def topic_view(self, detail: str | None = None) -> str:
        """The ``view`` of one document of it: ``segment`` or ``segment.detail``
        (``effective-routes.Workload``: a subnet; ``hub-routes.defaultRouteTable``...)."""
        return f"{self.segment}.{detail}" if detail else self.segment
