"""Intents (issue 14): expected verdicts checked against traces; endpoints no node holds
named with the intent, field and why."""

from __future__ import annotations

import pytest

from bgpemu.azure.traffic.hops import Verdict
from bgpemu.azure.traffic.intents import (
    EXPECTATIONS,
    Intent,
    check_intents,
    evaluate_intents,
    satisfied,
)
from bgpemu.azure.traffic.matrix import resolve_endpoint
from tests.unit.azure.traffic.networks import context, s2, s5


def intent(name: str, source: str, destination: str, expect: str, port: int = 443) -> Intent:
    """An intent written on line ``ord(name[0]) - 96`` as ``intents[ord(name[0]) - 97]``."""
    return Intent(
        name=name,
        source=source,
        destination=destination,
        port=port,
        expect=expect,
        where=f"intents.yaml:{ord(name[0]) - 96}",
        path=f"intents[{ord(name[0]) - 97}]",
    )


def test_expectations_are_the_verdicts_and_unreachable() -> None:
    assert EXPECTATIONS == (
        "reachable",
        "denied",
        "no_route",
        "dropped_none_route",
        "ip_forwarding_off",
        "loop",
        "asymmetric",
        "undetermined",
        "unreachable",
    )
    assert satisfied("unreachable", Verdict.DENIED)
    assert not satisfied("unreachable", Verdict.REACHABLE)
    assert satisfied("denied", Verdict.DENIED)
    assert not satisfied("denied", Verdict.NO_ROUTE)
    with pytest.raises(ValueError, match="'blocked' is not one of"):
        satisfied("blocked", Verdict.DENIED)


def test_s5_intents_hold_or_are_named_violated() -> None:
    """§8 S5 without UDRs: spoke to spoke is dropped by the None route, the hub reachable."""
    ctx = context(s5(udr_spoke1=False, udr_spoke2=False))
    results = evaluate_intents(
        ctx,
        [
            intent("spokes", "spoke1/app", "vm2", "reachable"),
            intent("spokes-dropped", "vm1", "10.2.0.4", "dropped_none_route"),
            intent("spokes-unreachable", "10.1.0.4", "spoke2/app", "unreachable"),
            intent("hub", "vm1", "nva1", "reachable", port=22),
        ],
    )
    assert [(r.intent.name, r.actual.value, r.ok) for r in results] == [
        ("spokes", "dropped_none_route", False),
        ("spokes-dropped", "dropped_none_route", True),
        ("spokes-unreachable", "dropped_none_route", True),
        ("hub", "reachable", True),
    ]
    assert "10.0.0.0/8" in results[0].reason
    assert results[3].summary == "vm1 -> nva1"
    assert results[0].to_json()["expect"] == "reachable"
    assert results[0].to_json()["actual"] == "dropped_none_route"


def test_with_udrs_the_path_goes_through_the_nva() -> None:
    (result,) = evaluate_intents(context(s5()), [intent("spokes", "vm1", "vm2", "reachable")])
    assert result.ok
    assert result.summary == "vm1 -> nva1 -> vm2"


def test_every_endpoint_nothing_holds_is_named_at_once() -> None:
    ctx = context(s5())
    problems = check_intents(
        ctx,
        [
            intent("a", "10.9.9.9", "vm2", "reachable"),
            intent("b", "vm1", "10.2.0.99", "reachable"),
            intent("c", "vm7", "spoke2/db", "reachable"),
            intent("d", "vm1", "13.107.21.200", "reachable"),
        ],
    )
    assert [(p.file, p.location) for p in problems] == [
        ("intents.yaml:1", "intents[0].source"),
        ("intents.yaml:2", "intents[1].destination"),
        ("intents.yaml:3", "intents[2].source"),
        ("intents.yaml:3", "intents[2].destination"),
    ]
    messages = [p.message for p in problems]
    assert len(messages) == 4
    assert "source 10.9.9.9 is held by no interface" in messages[0]
    assert "destination 10.2.0.99 lies in spoke2/app, but no interface" in messages[1]
    assert "'vm7'" in messages[2]
    assert "no subnet 'db' in a VNet 'spoke2'" in messages[3]


def test_a_destination_outside_every_vnet_is_traced() -> None:
    """§8 S2: 172.31.0.100 is in no VNet: traced (next hop None), not refused."""
    ctx = context(s2())
    assert resolve_endpoint(ctx, "172.31.0.100", role="destination") == "172.31.0.100"
    with pytest.raises(ValueError, match=r"source 172\.31\.0\.100 is held by no"):
        resolve_endpoint(ctx, "172.31.0.100", role="source")
    (result,) = evaluate_intents(ctx, [intent("p9", "vm1", "172.31.0.100", "unreachable", 80)])
    assert result.ok


def test_undetermined_meets_only_an_intent_that_expects_it() -> None:
    """A firewall `undetermined` (decision §9.9) is not known to pass or to be dropped:
    an intent expecting reachable or unreachable is not ok, one expecting it by name is."""
    assert "undetermined" in EXPECTATIONS
    assert not satisfied("reachable", Verdict.UNDETERMINED)
    assert not satisfied("unreachable", Verdict.UNDETERMINED)
    assert satisfied("undetermined", Verdict.UNDETERMINED)
