"""RFC 1997 well-known communities on export, per peer type."""

from __future__ import annotations

import pytest

from bgpemu.policy import (
    NO_ADVERTISE,
    NO_EXPORT,
    NO_EXPORT_SUBCONFED,
    Direction,
    parse_community,
    well_known_filter,
)
from bgpemu.rib.path import PeerInfo

from .helpers import EBGP_PEER, IBGP_PEER, context, path

OTHER = parse_community("65001:100")

# (communities, peer, exported?)
CASES = [
    ((), EBGP_PEER, True),
    ((), IBGP_PEER, True),
    ((OTHER,), EBGP_PEER, True),
    ((NO_ADVERTISE,), EBGP_PEER, False),
    ((NO_ADVERTISE,), IBGP_PEER, False),
    ((NO_EXPORT,), EBGP_PEER, False),
    ((NO_EXPORT,), IBGP_PEER, True),
    ((OTHER, NO_EXPORT), EBGP_PEER, False),
    ((NO_EXPORT_SUBCONFED,), EBGP_PEER, False),
    ((NO_EXPORT_SUBCONFED,), IBGP_PEER, True),
]


@pytest.mark.parametrize(("communities", "peer", "exported"), CASES)
def test_well_known_filter_on_export(
    communities: tuple[int, ...], peer: PeerInfo, exported: bool
) -> None:
    p = path(communities=communities)
    result = well_known_filter(p, context(peer, Direction.EXPORT))
    assert result is (p if exported else None)


@pytest.mark.parametrize("community", [NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED])
def test_well_known_filter_never_blocks_import(community: int) -> None:
    p = path(communities=(community,))
    assert well_known_filter(p, context(EBGP_PEER, Direction.IMPORT)) is p
