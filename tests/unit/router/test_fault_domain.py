"""An export that raises for one peer resets that peer only (decision 12, issue 12)."""

from __future__ import annotations

from dataclasses import replace

from bgpemu.policy import PolicyContext
from bgpemu.rib.path import Path
from bgpemu.router.exports import Announce
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.types import IPV4_UNICAST
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import AsPathSegment, Origin, PathAttributes, SegmentType, Update

from .test_core import make_router


def _raises(path: Path, context: PolicyContext, /) -> Path | None:
    raise RuntimeError("injected export fault")


def test_an_export_policy_that_raises_resets_its_peer_not_the_sender() -> None:
    router = make_router(NeighborPolicy(name="e2", export_policy=_raises), up=("e1", "e2", "i1"))
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),),
        next_hop="192.0.2.1",
    )
    out = router.update_received("e1", Update(attributes=attributes, nlri=("10.9.0.0/24",)), 1.0)
    # The UPDATE from e1 is taken, and i1 gets the route ...
    assert out.exports["i1"]
    assert isinstance(out.exports["i1"][0], Announce)
    assert out.exports["i1"][0].family == IPV4_UNICAST
    # ... e2, whose export raised, gets nothing but a reset carrying the error ...
    assert "e2" not in out.exports
    (reset,) = out.resets
    assert reset.peer == "e2"
    assert (reset.notification.code, reset.notification.subcode) == (
        ErrorCode.CEASE,
        CeaseSubcode.OUT_OF_RESOURCES,
    )
    assert isinstance(reset.error, RuntimeError)
    # ... and e1, the sender, is not reset.
    assert all(r.peer != "e1" for r in out.resets)


def test_prefixes_not_announced_leave_the_adj_rib_out() -> None:
    """RFC 8654 §4: what the shell withdrew instead of announcing (too long for the
    session) is not in the Adj-RIB-Out: a refresh does not offer it, a withdrawal of
    it sends nothing, and a later path with other attributes is announced."""
    router = make_router(up=("e1", "e2"))
    attributes = PathAttributes(
        origin=Origin.IGP,
        as_path=(AsPathSegment(SegmentType.AS_SEQUENCE, (65001,)),),
        next_hop="192.0.2.1",
    )
    update = Update(attributes=attributes, nlri=("10.9.0.0/24", "10.9.1.0/24"))
    (announce,) = router.update_received("e1", update, 1.0).exports["e2"]
    assert isinstance(announce, Announce)
    router.not_announced("e2", announce)
    rib_out = router.adj_rib_out("e2")
    assert rib_out is not None
    assert rib_out.count() == 0
    assert router.route_refresh("e2", IPV4_UNICAST, 2.0).exports["e2"] == []
    gone = router.update_received("e1", Update(withdrawn=("10.9.0.0/24",)), 3.0)
    assert "e2" not in gone.exports
    other = replace(attributes, med=5)
    again = router.update_received("e1", Update(attributes=other, nlri=("10.9.1.0/24",)), 4.0)
    assert [type(e) for e in again.exports["e2"]] == [Announce]
