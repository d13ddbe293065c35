"""``bgpemu sessions`` (issue 15): the uptime is computed when the command reads the
documents, not frozen at their publication, and printed as FRR prints it."""

from __future__ import annotations

from bgpemu.cli._observe_render import render_sessions, sessions_as_of


def _entry(state: str, uptime: float | None, since: float | None = None) -> dict[str, object]:
    entry: dict[str, object] = {
        "peer": "B",
        "state": state,
        "uptime": uptime,
        "routes_received": 1,
        "routes_accepted": 1,
        "routes_sent": 2,
        "messages_sent": 5,
        "messages_received": 6,
    }
    if since is not None:
        entry["established_since"] = since
    return entry


def test_the_uptime_is_as_of_the_read() -> None:
    published = {"A": [_entry("Established", 1.0, since=1_000.0)]}
    read = sessions_as_of(published, now=1_000.0 + 192)
    assert read["A"][0]["uptime"] == 192.0
    assert published["A"][0]["uptime"] == 1.0  # the documents are not changed
    assert "00:03:12" in render_sessions(read)
    later = sessions_as_of(published, now=1_000.0 + 93_780)
    assert "1d02h03m" in render_sessions(later)


def test_an_older_document_reads_with_its_published_uptime() -> None:
    read = sessions_as_of({"A": [_entry("Established", 61.0), _entry("Idle", None)]}, 1e9)
    assert [s["uptime"] for s in read["A"]] == [61.0, None]
    table = render_sessions(read).splitlines()
    assert "00:01:01" in table[2]
    assert "Idle" in table[3]
    assert ":" not in table[3]
