"""spec_change: the diff of two sets of speaker specs, with no Azure network involved."""

from __future__ import annotations

from dataclasses import replace

from bgpemu.azure.snapshot import snapshot
from bgpemu.fabric import Fabric
from bgpemu.router.spec import SpeakerSpec
from bgpemu.router.spec_change import spec_change
from bgpemu.types import IPV4_UNICAST
from tests.helpers import neighbor, speaker_spec


def _pair(routes_a: tuple[str, ...], *, hold_time: int = 90) -> tuple[SpeakerSpec, SpeakerSpec]:
    a = speaker_spec(
        "A",
        "10.0.0.1",
        179,
        asn=65001,
        router_id="10.0.0.1",
        routes=routes_a,
        neighbors=[
            neighbor(
                "B",
                "10.0.0.2",
                179,
                local_as=65001,
                peer_as=65002,
                router_id="10.0.0.1",
                hold_time=hold_time,
            )
        ],
    )
    b = speaker_spec(
        "B",
        "10.0.0.2",
        179,
        asn=65002,
        router_id="10.0.0.2",
        neighbors=[
            neighbor("A", "10.0.0.1", 179, local_as=65002, peer_as=65001, router_id="10.0.0.2")
        ],
    )
    return a, b


def test_equal_specs_change_nothing() -> None:
    assert spec_change(_pair(("10.1.0.0/16",)), _pair(("10.1.0.0/16",))).empty


def test_routes_neighbors_and_identity() -> None:
    old = _pair(("10.1.0.0/16", "10.2.0.0/16"))
    new_a, new_b = _pair(("10.2.0.0/16", "10.3.0.0/16"), hold_time=30)
    change = spec_change(old, (new_a, new_b, replace(new_b, name="C", local_address="10.0.0.3")))
    assert [s.name for s in change.add_speakers] == ["C"]
    assert change.restart_speakers == ()
    assert change.remove_speakers == ()
    (item,) = change.speakers
    assert item.speaker == "A"
    assert [r.prefix for r in item.originate] == ["10.3.0.0/16"]
    assert item.withdraw == ((IPV4_UNICAST, "10.1.0.0/16"),)
    assert item.routes == new_a.router.routes
    assert [spec.session.hold_time for spec, _ in item.reset_neighbors] == [30]
    restarted = spec_change(old, (replace(new_a, router=replace(new_a.router, asn=65009)),))
    assert [s.name for s in restarted.restart_speakers] == ["A"]
    assert restarted.remove_speakers == ("B",)
    only_neighbors = spec_change(old, _pair(("10.1.0.0/16", "10.2.0.0/16"), hold_time=30))
    assert only_neighbors.speakers[0].routes is None


def test_a_fabric_applies_a_spec_change_like_a_fresh_start() -> None:
    """The fabric carries out a plain SpecChange (not only an Azure PlanChange), and
    ends where a fabric started on the new specs ends."""
    old = _pair(("10.1.0.0/16", "10.2.0.0/16"))
    new = _pair(("10.2.0.0/16", "10.3.0.0/16"))
    fabric = Fabric(old)
    fabric.run_until_idle()
    fabric.apply(spec_change(old, new))
    fabric.run_until_idle()
    fresh = Fabric(new)
    fresh.run_until_idle()
    for name in ("A", "B"):
        got = snapshot(name, fabric.router(name), fabric.sessions(name))
        want = snapshot(name, fresh.router(name), fresh.sessions(name))
        assert got.loc_rib == want.loc_rib
        assert got.adj_rib_in == want.adj_rib_in
    learned = snapshot("B", fabric.router("B"), fabric.sessions("B")).loc_rib
    assert sorted(r.prefix for r in learned) == ["10.2.0.0/16", "10.3.0.0/16"]
    # A restart starts from the new routes: the fabric kept the SpeakerChange's routes.
    fabric.stop_node("A")
    fabric.start_node("A")
    fabric.run_until_idle()
    again = snapshot("B", fabric.router("B"), fabric.sessions("B")).loc_rib
    assert sorted(r.prefix for r in again) == ["10.2.0.0/16", "10.3.0.0/16"]
