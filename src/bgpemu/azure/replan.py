"""What changes between two compilations of a network: the runtime topology change (issue 6).

Azure changes a topology without downtime: creating a VNet peering or a connection
leaves every existing BGP session up, and only the routes that should change do.
:func:`replan` compiles the new :class:`~bgpemu.azure.model.Network` keeping every
surviving speaker's lab address, and compares the two plans speaker by speaker.  The
result, a :class:`PlanChange`, is what an engine (fabric or TCP lab) carries out on
running speakers:

1. start :attr:`PlanChange.add_speakers` (they listen before anyone dials them);
2. per :class:`SpeakerChange`: add neighbours, re-apply changed neighbour policies
   (soft reconfiguration, RFC 2918), reset neighbours whose session settings changed,
   originate and withdraw routes, remove neighbours (Cease, Peer De-configured,
   RFC 4486 §4 subcode 3);
3. restart :attr:`PlanChange.restart_speakers` (identity or decision settings changed:
   no router can change those in place);
4. stop :attr:`PlanChange.remove_speakers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.types import Family

__all__ = ["PlanChange", "SpeakerChange", "replan"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakerChange:
    """What changes on one speaker that runs before and after."""

    speaker: str
    add_neighbors: tuple[tuple[NeighborSpec, NeighborPolicy], ...] = ()
    """New sessions: where the neighbour is, and the router's settings toward it."""
    remove_neighbors: tuple[str, ...] = ()
    """Sessions to close for good (Cease / Peer De-configured, RFC 4486 §4)."""
    reset_neighbors: tuple[tuple[NeighborSpec, NeighborPolicy], ...] = ()
    """Kept neighbours whose session settings (address, port, ASN, hold time...) changed:
    the session is closed and opened again with the new settings."""
    policies: tuple[NeighborPolicy, ...] = ()
    """Kept neighbours whose router settings changed: soft reconfiguration."""
    originate: tuple[OriginatedRoute, ...] = ()
    """Routes to start announcing, or to announce again with new attributes."""
    withdraw: tuple[tuple[Family, str], ...] = ()
    """Originated routes to stop announcing."""

    @property
    def empty(self) -> bool:
        """True when nothing changes on this speaker."""
        return not (
            self.add_neighbors
            or self.remove_neighbors
            or self.reset_neighbors
            or self.policies
            or self.originate
            or self.withdraw
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChange:
    """Everything that changes from :attr:`old` to :attr:`new`, in the order to apply it."""

    old: Plan
    new: Plan
    add_speakers: tuple[SpeakerSpec, ...] = ()
    speakers: tuple[SpeakerChange, ...] = ()
    """Only speakers with something to change, by name."""
    restart_speakers: tuple[SpeakerSpec, ...] = ()
    """Speakers whose ASN, router id, next hops or decision settings changed (new spec)."""
    remove_speakers: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the two plans run the same speakers the same way."""
        return not (
            self.add_speakers or self.speakers or self.restart_speakers or self.remove_speakers
        )


def replan(
    old: Plan,
    network: Network,
    *,
    lab_base: str = "127.0.10.1",
    port: int = 179,
    keepalive: int = 60,
    hold: int = 180,
    profile: Callable[[Plan], Plan] | None = None,
) -> PlanChange:
    """What changes when the lab running ``old`` is to run ``network`` instead.

    ``network`` is compiled with the same options as ``old`` was, every speaker of
    ``old`` keeping its lab address (a running speaker cannot move; new speakers take
    free addresses, never one ``old`` uses).  Then each speaker running in both is
    compared: neighbours (by name) added, removed, or with changed session settings
    (reset); changed router settings per neighbour (soft reconfiguration, RFC 2918
    §1); originated routes added, changed or gone; and its identity (ASN, router id,
    next hops, decision settings, listening address), which only a restart changes.
    An unchanged network gives an empty :class:`PlanChange`.

    ``profile`` is what the engine did to the compiled plan before running it (the TCP
    lab's retry timers, :func:`bgpemu.lab.profile.lab_profile`): it is applied to the
    new plan too, so that it alone never makes a session look changed.
    """
    addresses = {e.speaker: e.lab_address for e in old.endpoints.values() if not e.external}
    new = compile_network(
        network,
        lab_base=lab_base,
        port=port,
        keepalive=keepalive,
        hold=hold,
        addresses=addresses,
    )
    if profile is not None:
        new = profile(new)
    before = {spec.name: spec for spec in old.speakers}
    after = {spec.name: spec for spec in new.speakers}
    restart: list[SpeakerSpec] = []
    changes: list[SpeakerChange] = []
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if _identity(was) != _identity(now):
            restart.append(now)
            continue
        change = _speaker_change(was, now)
        if not change.empty:
            changes.append(change)
    return PlanChange(
        old=old,
        new=new,
        add_speakers=tuple(after[n] for n in sorted(after.keys() - before.keys())),
        speakers=tuple(changes),
        restart_speakers=tuple(restart),
        remove_speakers=tuple(sorted(before.keys() - after.keys())),
    )


def _identity(spec: SpeakerSpec) -> tuple[object, ...]:
    """What no running router changes in place: who it is and how it decides."""
    r: RouterConfig = spec.router
    return (
        spec.local_address,
        spec.port,
        spec.listen,
        r.asn,
        r.router_id,
        r.next_hop_v4,
        r.next_hop_v6,
        r.decision,
    )


def _speaker_change(was: SpeakerSpec, now: SpeakerSpec) -> SpeakerChange:
    """The differences of one speaker whose identity is unchanged."""
    old_neighbors = {n.name: n for n in was.neighbors}
    new_neighbors = {n.name: n for n in now.neighbors}
    added = [
        (new_neighbors[n], now.router.neighbor(n))
        for n in sorted(new_neighbors.keys() - old_neighbors.keys())
    ]
    reset: list[tuple[NeighborSpec, NeighborPolicy]] = []
    policies: list[NeighborPolicy] = []
    for n in sorted(old_neighbors.keys() & new_neighbors.keys()):
        policy = now.router.neighbor(n)
        if old_neighbors[n] != new_neighbors[n]:
            reset.append((new_neighbors[n], policy))
        elif was.router.neighbor(n) != policy:
            policies.append(policy)
    old_routes = {(r.family, r.prefix): r for r in was.router.routes}
    new_routes = {(r.family, r.prefix): r for r in now.router.routes}
    return SpeakerChange(
        speaker=now.name,
        add_neighbors=tuple(added),
        remove_neighbors=tuple(sorted(old_neighbors.keys() - new_neighbors.keys())),
        reset_neighbors=tuple(reset),
        policies=tuple(policies),
        originate=tuple(route for key, route in new_routes.items() if old_routes.get(key) != route),
        withdraw=tuple(key for key in old_routes if key not in new_routes),
    )
