"""An export that raises for one peer resets that peer only (decision 12, issue 12)."""

from __future__ import annotations

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
