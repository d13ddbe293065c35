"""AS-path regex: rendering, anchors, the `_` boundary, sets and confederation segments."""

from __future__ import annotations

import pytest

from bgpemu.policy import AsPathRegex, as_path_string
from bgpemu.wire.messages import AsPathSegment, SegmentType

from .helpers import aset, context, path, seq

CONFED_SEQ = AsPathSegment(SegmentType.AS_CONFED_SEQUENCE, (64512, 64513))
CONFED_SET = AsPathSegment(SegmentType.AS_CONFED_SET, (64514, 64515))


@pytest.mark.parametrize(
    ("as_path", "rendered"),
    [
        ((), ""),
        ((seq(65002),), "65002"),
        ((seq(65002, 65003),), "65002 65003"),
        ((seq(65002), aset(65004, 65005)), "65002 {65004,65005}"),
        ((CONFED_SEQ, seq(65002)), "(64512 64513) 65002"),
        ((CONFED_SET, seq(65002)), "({64514,64515}) 65002"),
    ],
)
def test_as_path_string_renders_like_a_router_cli(
    as_path: tuple[AsPathSegment, ...], rendered: str
) -> None:
    assert as_path_string(as_path) == rendered


# (pattern, AS_PATH, matches)
CASES = [
    ("^$", (), True),  # locally originated
    ("^$", (seq(65002),), False),
    ("^65002_", (seq(65002, 65003),), True),  # learned from a neighbour in 65002
    ("^65002_", (seq(650021, 65003),), False),
    ("^65002_", (seq(65003, 65002),), False),
    ("_65003$", (seq(65002, 65003),), True),  # originated by 65003
    ("_65003$", (seq(65003, 65002),), False),
    ("_65003_", (seq(65002, 65003, 65004),), True),  # transits 65003 anywhere
    ("_65003_", (seq(65002, 165003, 65004),), False),  # not a substring of another ASN
    ("_65003_", (seq(65002, 650031),), False),
    ("_65003_", (seq(65003),), True),  # boundary at both ends of the string
    ("65003", (seq(165003),), True),  # without `_` it is a plain substring search
    ("_65004_", (seq(65002), aset(65004, 65005)), True),  # `{` and `,` are boundaries
    ("_65005_", (seq(65002), aset(65004, 65005)), True),  # `}` too
    ("_64513_", (CONFED_SEQ, seq(65002)), True),  # `(` and `)` too
    ("^65002 65003$", (seq(65002, 65003),), True),
    ("^(65002_)+$", (seq(65002, 65002, 65002),), True),  # prepended by one AS only
    ("^(65002_)+$", (seq(65002, 65002, 65003),), False),
    ("^[0-9]+$", (seq(65002),), True),  # a single-AS path
    ("^[0-9]+$", (seq(65002, 65003),), False),
    (r"^65002\_", (seq(65002, 65003),), False),  # `\_` is a literal underscore
]


@pytest.mark.parametrize(("pattern", "as_path", "expected"), CASES)
def test_as_path_regex_cases(
    pattern: str, as_path: tuple[AsPathSegment, ...], expected: bool
) -> None:
    regex = AsPathRegex(pattern)
    assert regex.matches(path(as_path=as_path), context()) is expected


def test_as_path_regex_rejects_a_bad_pattern_when_built() -> None:
    with pytest.raises(ValueError, match="AS-path regex"):
        AsPathRegex("^(65002")


def test_as_path_regex_is_hashable_comparable_and_printable() -> None:
    assert AsPathRegex("_65002_") == AsPathRegex("_65002_")
    assert AsPathRegex("_65002_") != AsPathRegex("_65003_")
    assert len({AsPathRegex("_65002_"), AsPathRegex("_65002_")}) == 1
    assert str(AsPathRegex("^65002_")) == "as-path ~ /^65002_/"
