"""policy.knobs: a neighbour's LOCAL_PREF, prepend and MED as its import and export
policies, the one translation the speaker file and the on-prem roles share."""

from __future__ import annotations

from dataclasses import dataclass

from bgpemu.policy import (
    Prepend,
    Result,
    RoutePolicy,
    SetLocalPref,
    SetMed,
    Statement,
    knob_policies,
)


@dataclass(frozen=True)
class _Neighbor:
    local_pref: int | None = None
    prepend: int = 0
    med: int | None = None


def _knobs(
    local_pref: int | None = None, prepend: int = 0, med: int | None = None
) -> tuple[RoutePolicy | None, RoutePolicy | None]:
    return knob_policies(_Neighbor(local_pref, prepend, med), import_name="in", export_name="out")


def test_no_knob_no_policy() -> None:
    assert _knobs() == (None, None)


def test_local_pref_is_set_on_import_only() -> None:
    imports, exports = _knobs(local_pref=150)
    assert imports == RoutePolicy(
        (Statement(actions=(SetLocalPref(150),)),), default=Result.ACCEPT, name="in"
    )
    assert exports is None


def test_prepend_then_med_on_export() -> None:
    imports, exports = _knobs(prepend=2, med=0)
    assert imports is None
    assert exports == RoutePolicy(
        (Statement(actions=(Prepend(count=2), SetMed(0))),), default=Result.ACCEPT, name="out"
    )


def test_each_direction_alone() -> None:
    assert _knobs(local_pref=0, med=5) == (
        RoutePolicy((Statement(actions=(SetLocalPref(0),)),), default=Result.ACCEPT, name="in"),
        RoutePolicy((Statement(actions=(SetMed(5),)),), default=Result.ACCEPT, name="out"),
    )
