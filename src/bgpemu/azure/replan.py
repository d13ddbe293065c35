"""What changes between two compilations of a network: the runtime topology change (issue 6).

Azure changes a topology without downtime: creating a VNet peering or a connection
leaves every existing BGP session up, and only the routes that should change do.
:func:`replan` compiles the new :class:`~bgpemu.azure.model.Network` keeping every
surviving speaker's lab address, and compares the speaker specs of the two plans
(:func:`bgpemu.router.spec_change.spec_change`, which also documents the order in
which an engine, fabric or TCP lab, carries the result out on running speakers).
The result is a :class:`PlanChange`: that :class:`~bgpemu.router.spec_change.SpecChange`
with the two plans it goes between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.roles import compile_network
from bgpemu.router.spec_change import SpecChange, spec_change

__all__ = ["PlanChange", "replan"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanChange(SpecChange):
    """Everything that changes from :attr:`old` to :attr:`new`, in the order to apply it
    (the :class:`~bgpemu.router.spec_change.SpecChange` of their speaker specs)."""

    old: Plan
    new: Plan


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
    free addresses, never one ``old`` uses).  Then the speaker specs of the two plans
    are compared (:func:`~bgpemu.router.spec_change.spec_change`: neighbours, router
    settings per neighbour, originated routes, and the identity only a restart
    changes).  An unchanged network gives an empty :class:`PlanChange`.

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
    diff = spec_change(old.speakers, new.speakers)
    return PlanChange(
        old=old,
        new=new,
        add_speakers=diff.add_speakers,
        speakers=diff.speakers,
        restart_speakers=diff.restart_speakers,
        remove_speakers=diff.remove_speakers,
    )
