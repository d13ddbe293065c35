"""resolve_collision(): RFC 4271 §6.8 and RFC 6286 §2.3."""

from __future__ import annotations

import pytest

from bgpemu.session import CollisionWinner, resolve_collision


def test_collision_higher_local_identifier_keeps_local_connection() -> None:
    assert resolve_collision("10.0.0.2", "10.0.0.1") is CollisionWinner.LOCALLY_INITIATED


def test_collision_lower_local_identifier_keeps_remote_connection() -> None:
    assert resolve_collision("10.0.0.1", "10.0.0.2") is CollisionWinner.REMOTELY_INITIATED


def test_collision_compares_unsigned_integers_not_strings() -> None:
    # As strings "9.0.0.0" > "10.0.0.0"; as integers it is lower.
    assert resolve_collision("9.0.0.0", "10.0.0.0") is CollisionWinner.REMOTELY_INITIATED
    # High bit set: unsigned, so 200.x is above 100.x.
    assert resolve_collision("200.0.0.1", "100.0.0.1") is CollisionWinner.LOCALLY_INITIATED


@pytest.mark.parametrize(
    ("local_as", "remote_as", "winner"),
    [
        (65002, 65001, CollisionWinner.LOCALLY_INITIATED),
        (65001, 65002, CollisionWinner.REMOTELY_INITIATED),
    ],
)
def test_collision_equal_identifiers_break_on_asn(
    local_as: int, remote_as: int, winner: CollisionWinner
) -> None:
    """RFC 6286 §2.3: the speaker with the larger AS keeps its connection."""
    got = resolve_collision("10.0.0.1", "10.0.0.1", local_as=local_as, remote_as=remote_as)
    assert got is winner


def test_collision_both_ends_agree() -> None:
    """Each end's decision keeps the same TCP connection."""
    a, b = "192.0.2.1", "192.0.2.7"
    a_keeps_own = resolve_collision(a, b) is CollisionWinner.LOCALLY_INITIATED
    b_keeps_a = resolve_collision(b, a) is CollisionWinner.REMOTELY_INITIATED
    assert a_keeps_own == b_keeps_a
