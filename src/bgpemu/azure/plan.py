"""What compiling a :class:`~bgpemu.azure.model.Network` produces: speakers and endpoints.

Every BGP endpoint of the network is one speaker (one Router): an on-prem router, an
NVA, each instance of a VPN gateway or Route Server, each MSEE of a circuit, an ER
gateway, a vWAN hub router.  A speaker listens on its *lab address* (127.0.0.N by
default, so the TCP lab can run them all on one machine) but speaks for an *Azure
address* (the BGP peer IP Azure shows): that is the NEXT_HOP it advertises and the
address the views print.  Neighbour names are the remote speakers' names, so a path's
``source.name`` identifies the speaker it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bgpemu.errors import BgpEmuError
from bgpemu.router.spec import SpeakerSpec

__all__ = ["CompileError", "Endpoint", "Plan"]

_VIEWS_WITHOUT_ADJ_RIB_OUT = frozenset({"vwan_hub"})
"""Roles none of whose views reads the Adj-RIB-Out (:meth:`Plan.views_without_adj_rib_out`)."""


class CompileError(BgpEmuError, ValueError):
    """A network that cannot be compiled into a :class:`Plan` (timers that do not fit
    the session's derivation, a speaker name used twice, an IPVPN circuit without its
    provider ASN); the message names the object.  A ``ValueError`` too, as it was."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One speaker of the plan, and the Azure object it stands for."""

    speaker: str
    """The speaker's name (unique; e.g. ``vpngw``, ``vpngw.1``, ``er1.primary``)."""
    node: str
    """The topology node it belongs to."""
    role: str
    """The node's role (``onprem``, ``vpn_gateway``, ``expressroute`` ...)."""
    instance: int = 0
    """Instance index within the node (gateway / Route Server instance, 0 = primary MSEE)."""
    azure_address: str
    """The BGP peer IP Azure shows for it (its advertised NEXT_HOP)."""
    lab_address: str
    """The address its speaker listens on and its neighbours connect to."""
    asn: int
    external: bool = False
    """A real router outside bgpemu: no speaker is started for it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Speakers to run (either engine) and the endpoint behind every speaker name."""

    speakers: tuple[SpeakerSpec, ...]
    endpoints: Mapping[str, Endpoint] = field(default_factory=dict)
    """By speaker name; includes external endpoints, which have no SpeakerSpec."""

    def view_speakers(self) -> frozenset[str]:
        """The speakers the Azure views read: those of Azure nodes (every role but
        ``onprem``; customer routers only appear through what Azure learned from them).

        At scale most speakers are customer routers holding full tables (a vWAN branch
        learns every other branch): reading theirs would cost far more than the views.
        """
        return frozenset(name for name, e in self.endpoints.items() if e.role != "onprem")

    def views_without_adj_rib_out(self) -> frozenset[str]:
        """The view speakers whose Adj-RIBs-Out no Azure view reads: the vWAN hubs'
        (hub routes and effective routes read a hub's Loc-RIB and Adj-RIBs-In,
        :mod:`bgpemu.azure.views.hub`; only gateways and Route Servers show what they
        advertise).  A hub's toward 50 branches of 20,000 routes is a million routes:
        not worth gathering from another process (a lab worker, the other process of
        ``solve --jobs 2``)."""
        return frozenset(
            name for name, e in self.endpoints.items() if e.role in _VIEWS_WITHOUT_ADJ_RIB_OUT
        )

    def of_node(self, node: str) -> list[Endpoint]:
        """The endpoints of topology node ``node``, by instance."""
        found = [e for e in self.endpoints.values() if e.node == node]
        return sorted(found, key=lambda e: (e.instance, e.speaker))
