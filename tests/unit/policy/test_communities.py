"""Community parsing and printing, community and large-community matches."""

from __future__ import annotations

import pytest

from bgpemu.policy import (
    BLACKHOLE,
    GRACEFUL_SHUTDOWN,
    NO_ADVERTISE,
    NO_EXPORT,
    NO_EXPORT_SUBCONFED,
    CommunityMatch,
    LargeCommunityMatch,
    format_community,
    format_large_community,
    parse_communities,
    parse_community,
    parse_large_communities,
    parse_large_community,
)

from .helpers import context, path


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("65001:100", (65001 << 16) | 100),
        ("0:0", 0),
        ("65535:65535", 0xFFFFFFFF),
        ("no-export", 0xFFFFFF01),
        ("NO_EXPORT", 0xFFFFFF01),
        ("no-advertise", 0xFFFFFF02),
        ("no-export-subconfed", 0xFFFFFF03),
        ("graceful-shutdown", 0xFFFF0000),
        ("blackhole", 0xFFFF029A),
        ("4259840100", 4259840100),
        (4259840100, 4259840100),
    ],
)
def test_parse_community(text: str | int, value: int) -> None:
    assert parse_community(text) == value


@pytest.mark.parametrize("text", ["65536:1", "1:65536", "abc", "1:2:3", "-1:2", "", 2**32, -1])
def test_parse_community_rejects(text: str | int) -> None:
    with pytest.raises(ValueError, match="community"):
        parse_community(text)


def test_well_known_values_are_rfc_1997_8326_7999() -> None:
    assert (NO_EXPORT, NO_ADVERTISE, NO_EXPORT_SUBCONFED) == (0xFFFFFF01, 0xFFFFFF02, 0xFFFFFF03)
    assert (GRACEFUL_SHUTDOWN, BLACKHOLE) == (0xFFFF0000, 0xFFFF029A)


def test_format_community_round_trips() -> None:
    for text in ("65001:100", "0:1", "no-export", "no-advertise", "no-export-subconfed"):
        assert format_community(parse_community(text)) == text
    assert parse_communities("1:2", "no-export") == (65538, NO_EXPORT)


def test_large_community_parse_and_format() -> None:
    assert parse_large_community("65001:1:4294967295") == (65001, 1, 4294967295)
    assert parse_large_community((1, 2, 3)) == (1, 2, 3)
    assert parse_large_communities("1:2:3", "4:5:6") == ((1, 2, 3), (4, 5, 6))
    assert format_large_community((65001, 1, 2)) == "65001:1:2"
    for bad in ("1:2", "1:2:3:4", "1:2:x", "1:2:4294967296"):
        with pytest.raises(ValueError, match="large community"):
            parse_large_community(bad)


C1, C2, C3 = parse_communities("65001:1", "65001:2", "65001:3")


@pytest.mark.parametrize(
    ("match", "have", "expected"),
    [
        (CommunityMatch(any_of=(C1, C2)), (C2,), True),
        (CommunityMatch(any_of=(C1, C2)), (C3,), False),
        (CommunityMatch(any_of=(C1,)), (), False),
        (CommunityMatch(all_of=(C1, C2)), (C2, C3, C1), True),
        (CommunityMatch(all_of=(C1, C2)), (C1, C3), False),
        (CommunityMatch(any_of=(C3,), all_of=(C1,)), (C1, C3), True),
        (CommunityMatch(any_of=(C3,), all_of=(C1,)), (C1,), False),
        (CommunityMatch(any_of=(C3,), all_of=(C1,)), (C3,), False),
        (CommunityMatch(any_of=(NO_EXPORT,)), (NO_EXPORT,), True),
    ],
)
def test_community_match(match: CommunityMatch, have: tuple[int, ...], expected: bool) -> None:
    assert match.matches(path(communities=have), context()) is expected


def test_community_match_accepts_text_and_needs_a_condition() -> None:
    match = CommunityMatch(any_of=("65001:1", "no-export"))  # type: ignore[arg-type]
    assert match == CommunityMatch(any_of=(C1, NO_EXPORT))
    assert str(match) == "community any-of [65001:1, no-export]"
    with pytest.raises(ValueError, match="any_of or all_of"):
        CommunityMatch()


L1, L2, L3 = (65001, 0, 1), (65001, 0, 2), (65001, 0, 3)


@pytest.mark.parametrize(
    ("match", "have", "expected"),
    [
        (LargeCommunityMatch(any_of=(L1, L2)), (L2,), True),
        (LargeCommunityMatch(any_of=(L1, L2)), (L3,), False),
        (LargeCommunityMatch(all_of=(L1, L2)), (L1, L2, L3), True),
        (LargeCommunityMatch(all_of=(L1, L2)), (L1,), False),
        (LargeCommunityMatch(any_of=(L3,), all_of=(L1,)), (L1, L3), True),
        (LargeCommunityMatch(any_of=(L3,), all_of=(L1,)), (L3,), False),
    ],
)
def test_large_community_match(
    match: LargeCommunityMatch, have: tuple[tuple[int, int, int], ...], expected: bool
) -> None:
    assert match.matches(path(large=have), context()) is expected


def test_large_community_match_accepts_text_and_needs_a_condition() -> None:
    match = LargeCommunityMatch(all_of=("65001:0:1",))  # type: ignore[arg-type]
    assert match == LargeCommunityMatch(all_of=(L1,))
    assert str(match) == "large-community all-of [65001:0:1]"
    with pytest.raises(ValueError, match="any_of or all_of"):
        LargeCommunityMatch()
