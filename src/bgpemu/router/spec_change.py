"""What changes between two sets of speaker specs, in the order an engine applies it.

A running speaker changes without downtime where BGP allows it: a neighbour added or
removed, a neighbour's router settings changed by soft reconfiguration (RFC 2918 §1),
a neighbour whose session settings changed reset (Cease / Other Configuration Change,
RFC 4486 §4 subcode 6), originated routes announced or withdrawn.  What no running
router changes in place (its address, ASN, router id, next hops, decision settings)
takes a restart.  :func:`spec_change` compares two tuples of
:class:`~bgpemu.router.spec.SpeakerSpec` by speaker name; both engines carry the
result out on running speakers (the fabric in :mod:`bgpemu.fabric.apply_change`, the TCP
lab in :mod:`bgpemu.lab.supervisor`), in this order:

1. start :attr:`SpecChange.add_speakers` (they listen before anyone dials them);
2. per :class:`SpeakerChange`: add neighbours, re-apply changed neighbour policies,
   reset neighbours whose session settings changed, originate and withdraw routes,
   remove neighbours (Cease, Peer De-configured, RFC 4486 §4 subcode 3);
3. restart :attr:`SpecChange.restart_speakers`;
4. stop :attr:`SpecChange.remove_speakers`.

Nothing here is Azure-specific: :func:`bgpemu.azure.replan.replan` compiles a new
network and builds its :class:`~bgpemu.azure.replan.PlanChange` (a :class:`SpecChange`
that also holds the two plans) with :func:`spec_change`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.types import Family

__all__ = ["SpeakerChange", "SpecChange", "spec_change"]


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
    routes: tuple[OriginatedRoute, ...] | None = None
    """The speaker's originated routes after the change (what it originates after a
    later restart), when :attr:`originate` or :attr:`withdraw` is not empty; else None."""

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
class SpecChange:
    """Everything that changes from one set of speaker specs to another, in the order to
    apply it (see the module docstring)."""

    add_speakers: tuple[SpeakerSpec, ...] = ()
    speakers: tuple[SpeakerChange, ...] = ()
    """Only speakers with something to change, by name."""
    restart_speakers: tuple[SpeakerSpec, ...] = ()
    """Speakers whose ASN, router id, next hops or decision settings changed (new spec)."""
    remove_speakers: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the two sets run the same speakers the same way."""
        return not (
            self.add_speakers or self.speakers or self.restart_speakers or self.remove_speakers
        )


def spec_change(old: Iterable[SpeakerSpec], new: Iterable[SpeakerSpec]) -> SpecChange:
    """What changes when the speakers ``old`` are to run as ``new`` (matched by name).

    Each speaker in both is compared: neighbours (by name) added, removed, or with
    changed session settings (reset); changed router settings per neighbour (soft
    reconfiguration, RFC 2918 §1); originated routes added, changed or gone; and its
    identity (ASN, router id, next hops, decision settings, listening address), which
    only a restart changes.  Equal specs give an empty :class:`SpecChange`.
    """
    before = {spec.name: spec for spec in old}
    after = {spec.name: spec for spec in new}
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
    return SpecChange(
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
    originate = tuple(route for key, route in new_routes.items() if old_routes.get(key) != route)
    withdraw = tuple(key for key in old_routes if key not in new_routes)
    return SpeakerChange(
        speaker=now.name,
        add_neighbors=tuple(added),
        remove_neighbors=tuple(sorted(old_neighbors.keys() - new_neighbors.keys())),
        reset_neighbors=tuple(reset),
        policies=tuple(policies),
        originate=originate,
        withdraw=withdraw,
        routes=now.router.routes if originate or withdraw else None,
    )
