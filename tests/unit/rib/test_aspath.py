"""AS_PATH length (RFC 4271 §9.1.2.2 a, RFC 5065 §5.3) and loop detection (RFC 4271 §9.1.2)."""

from __future__ import annotations

import pytest

from bgpemu.rib import as_path_length, as_path_loop, neighbor_as
from bgpemu.rib.decision import DecisionConfig, Step, compare
from bgpemu.wire.messages import AsPathSegment, SegmentType

from .factories import aset, attrs, path, peer, seq

CONFED_SEQ = AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512, 64513))
CONFED_SET = AsPathSegment(SegmentType.AS_CONFED_SET, (64514, 64515, 64516))


@pytest.mark.parametrize(
    ("segments", "length"),
    [
        ((), 0),
        ((seq(1, 2, 3),), 3),
        ((aset(1, 2, 3, 4),), 1),
        ((seq(1, 2), aset(3, 4, 5)), 3),
        ((CONFED_SEQ, seq(1)), 1),
        ((CONFED_SET, CONFED_SEQ), 0),
        ((CONFED_SEQ, seq(1, 2), aset(7), aset(8, 9)), 4),
    ],
)
def test_as_path_length_counting(segments: tuple[AsPathSegment, ...], length: int) -> None:
    assert as_path_length(attrs(*segments)) == length


def test_as_set_counts_one_in_the_decision() -> None:
    with_set = path(
        attrs(seq(65001, 65002), aset(3, 4, 5, 6)), source=peer("a", router_id="9.9.9.9")
    )
    longer = path(attrs(seq(65001, 65002, 65003, 65004)), source=peer("b", router_id="1.1.1.1"))
    assert compare(with_set, longer, DecisionConfig()) == ("A", Step.AS_PATH_LENGTH)


def test_confed_segments_do_not_count_in_the_decision() -> None:
    confed = path(attrs(CONFED_SEQ, seq(65001)), source=peer("a", router_id="9.9.9.9"))
    plain = path(attrs(seq(65001, 65002)), source=peer("b", router_id="1.1.1.1"))
    assert compare(confed, plain, DecisionConfig()) == ("A", Step.AS_PATH_LENGTH)


@pytest.mark.parametrize(
    ("segments", "allowas_in", "loop"),
    [
        ((), 0, False),
        ((seq(65001, 65002),), 0, False),
        ((seq(65001, 65000),), 0, True),
        ((seq(65000, 65001, 65000),), 1, True),
        ((seq(65000, 65001, 65000),), 2, False),
        ((seq(65001), aset(65000, 65002)), 0, True),
        ((seq(65001), aset(65000, 65002)), 1, False),
        ((seq(65000), seq(65000)), 1, True),
        ((AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (65000,)),), 0, True),
    ],
)
def test_as_path_loop(segments: tuple[AsPathSegment, ...], allowas_in: int, loop: bool) -> None:
    assert as_path_loop(attrs(*segments), 65000, allowas_in) is loop


def test_as_path_loop_default_is_rfc_strict() -> None:
    assert as_path_loop(attrs(seq(1, 65000)), 65000)


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ((), 65000),
        ((seq(7, 8),), 7),
        ((aset(7, 8),), 65000),
        ((CONFED_SEQ, seq(9)), 9),
        ((CONFED_SEQ,), 65000),
        ((AsPathSegment(SegmentType.AS_SEQUENCE, ()), seq(3)), 65000),
    ],
)
def test_neighbor_as(segments: tuple[AsPathSegment, ...], expected: int) -> None:
    assert neighbor_as(attrs(*segments), 65000) == expected
