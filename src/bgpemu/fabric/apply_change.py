"""A topology change on a running Fabric: a :class:`~bgpemu.router.spec_change.SpecChange`.

Theory of operation
-------------------
Azure creates a VNet peering or a connection without downtime: no existing BGP
session drops and only the routes that should change do.  :func:`apply_change`
therefore touches only what the change names, with the Fabric's primitives, in the
order :mod:`bgpemu.router.spec_change` documents:

1. new speakers join (:meth:`Fabric.add_node`); their sessions toward speakers that
   do not point back yet wait unwired;
2. per changed speaker: new neighbours (:meth:`Fabric.add_neighbor`, wired to the new
   speakers' waiting ends), changed neighbour settings by soft reconfiguration
   (:meth:`Fabric.set_neighbor_policy`, RFC 2918), neighbours whose session settings
   changed closed with Cease / Other Configuration Change and opened again (RFC 4486
   §4 subcode 6), originated routes announced or withdrawn, and neighbours removed
   with Cease / Peer De-configured (subcode 3);
3. speakers whose identity changed restart (subcode 6, then the new spec);
4. removed speakers leave (subcode 3).

Every step also updates the node's configuration, so a later crash and restart
starts from the new one.
"""

from __future__ import annotations

from typing import Protocol

from bgpemu.router.config import OriginatedRoute
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.router.spec_change import SpecChange
from bgpemu.types import Family
from bgpemu.wire.constants import CeaseSubcode

__all__ = ["Editable", "apply_change"]


class Editable(Protocol):
    """The primitives :func:`apply_change` uses (:class:`~bgpemu.fabric.fabric.Fabric`
    has them); this module needs nothing else of the fabric, so it imports none of it."""

    def add_node(self, spec: SpeakerSpec) -> None: ...

    def remove_node(self, name: str, *, subcode: int = ...) -> None: ...

    def add_neighbor(
        self, name: str, neighbor: NeighborSpec, policy: NeighborPolicy | None = ...
    ) -> None: ...

    def remove_neighbor(self, name: str, neighbor: str, *, subcode: int = ...) -> None: ...

    def set_neighbor_policy(self, node: str, policy: NeighborPolicy) -> None: ...

    def announce(self, node: str, route: OriginatedRoute) -> None: ...

    def withdraw(self, node: str, family: Family, prefix: str) -> None: ...

    def set_routes(self, name: str, routes: tuple[OriginatedRoute, ...]) -> None: ...

    def is_running(self, name: str) -> bool: ...


def apply_change(fabric: Editable, change: SpecChange) -> None:
    """Carry out ``change`` on ``fabric`` now (see the theory of operation)."""
    for spec in change.add_speakers:
        fabric.add_node(spec)
    for item in change.speakers:
        name = item.speaker
        for neighbor, policy in item.add_neighbors:
            fabric.add_neighbor(name, neighbor, policy)
        for policy in item.policies:
            fabric.set_neighbor_policy(name, policy)
        for neighbor, policy in item.reset_neighbors:
            fabric.remove_neighbor(
                name, neighbor.name, subcode=CeaseSubcode.OTHER_CONFIGURATION_CHANGE
            )
            fabric.add_neighbor(name, neighbor, policy)
        running = fabric.is_running(name)
        for route in item.originate:
            if running:
                fabric.announce(name, route)
        for family, prefix in item.withdraw:
            if running:
                fabric.withdraw(name, family, prefix)
        for neighbor_name in item.remove_neighbors:
            fabric.remove_neighbor(name, neighbor_name)
        if item.routes is not None:
            fabric.set_routes(name, item.routes)
    for spec in change.restart_speakers:
        fabric.remove_node(spec.name, subcode=CeaseSubcode.OTHER_CONFIGURATION_CHANGE)
        fabric.add_node(spec)
    for name in change.remove_speakers:
        fabric.remove_node(name)
