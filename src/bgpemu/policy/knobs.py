"""A neighbour's LOCAL_PREF, prepend and MED settings, as its import and export policies.

The knobs every router configuration has per neighbour: LOCAL_PREF on the routes it
sends us (RFC 4271 §5.1.5), extra copies of our AS on the routes we send it (§5.1.2)
and the MULTI_EXIT_DISC we give them (§5.1.4).  The speaker file's neighbour fields
(docs/speaker.md) and an on-prem router's session policy toward Azure (azure-routing.md
§4.4 [ER-OPT] local preference, §3.3 prepend) both become policies here; each caller
names them.
"""

from __future__ import annotations

from typing import Protocol

from bgpemu.policy.actions import Action, Prepend, SetLocalPref, SetMed
from bgpemu.policy.route_policy import Result, RoutePolicy, Statement

__all__ = ["Knobs", "knob_policies"]


class Knobs(Protocol):
    """A neighbour's settings: a speaker file's neighbour, an ``azure.model.SessionPolicy``."""

    @property
    def local_pref(self) -> int | None:
        """LOCAL_PREF set on the routes received from the neighbour (None: unchanged)."""

    @property
    def prepend(self) -> int:
        """Extra copies of the local AS on the routes sent to the neighbour."""

    @property
    def med(self) -> int | None:
        """MULTI_EXIT_DISC set on the routes sent to the neighbour (None: unchanged)."""


def knob_policies(
    knobs: Knobs, *, import_name: str, export_name: str
) -> tuple[RoutePolicy | None, RoutePolicy | None]:
    """(import policy, export policy) of ``knobs``, each None when no knob of its
    direction is set.

    The import policy sets ``local_pref``; the export policy prepends ``prepend`` copies
    of the local AS, then sets ``med``.  Both accept every route.
    """
    imports = None
    if knobs.local_pref is not None:
        imports = _accept_with(import_name, SetLocalPref(knobs.local_pref))
    steps: list[Action] = []
    if knobs.prepend:
        steps.append(Prepend(count=knobs.prepend))
    if knobs.med is not None:
        steps.append(SetMed(knobs.med))
    exports = _accept_with(export_name, *steps) if steps else None
    return imports, exports


def _accept_with(name: str, *steps: Action) -> RoutePolicy:
    return RoutePolicy((Statement(actions=steps),), default=Result.ACCEPT, name=name)
