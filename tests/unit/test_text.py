"""bgpemu.text: the one way a count and a duration are printed (issue 15)."""

from __future__ import annotations

import pytest

from bgpemu.text import counted, duration


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [
        (0, "session", "0 sessions"),
        (1, "session", "1 session"),
        (2, "session", "2 sessions"),
        (1, "path", "1 path"),
        (3, "prefix", "3 prefixes"),
        (1, "prefix", "1 prefix"),
        (2, "intent", "2 intents"),
    ],
)
def test_a_count_agrees_with_its_noun(count: int, noun: str, text: str) -> None:
    assert counted(count, noun) == text


def test_an_irregular_plural_is_given() -> None:
    assert counted(1, "document", "documents") == "1 document"
    assert counted(2, "UPDATE", "UPDATEs") == "2 UPDATEs"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "00:00:00"),
        (59.9, "00:00:59"),
        (192, "00:03:12"),
        (86399, "23:59:59"),
        (86400, "1d00h00m"),
        (93600 + 180 + 59, "1d02h03m"),
        (7 * 86400 + 3600, "01w0d01h"),
        (20 * 7 * 86400 + 2 * 86400, "20w2d00h"),
        (365 * 86400 + 8 * 86400, "01y01w1d"),
    ],
)
def test_a_duration_reads_as_frr_prints_a_peer_uptime(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_a_negative_duration_is_zero() -> None:
    assert duration(-5) == "00:00:00"
