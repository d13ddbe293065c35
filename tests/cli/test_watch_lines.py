"""``bgpemu watch`` (issue 15): a session is listed only when its state changes (docs/mqtt.md,
"Observing a lab"), and each line is flushed as it is printed (``watch > file``)."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest

from bgpemu.cli._observe_watch import _Printer, delta_line


def _delta(seq: int, *sessions: tuple[str, str]) -> dict[str, Any]:
    entries = [{"peer": peer, "state": state, "uptime": None} for peer, state in sessions]
    return {"node": "A", "seq": seq, "announce": [], "withdraw": [], "sessions": entries}


def test_a_session_is_listed_only_when_its_state_changes() -> None:
    states = {("A", "B"): "Established"}
    assert delta_line(_delta(1, ("B", "Established")), states) == "A #1: session counters"
    assert delta_line(_delta(2, ("B", "Idle")), states) == "A #2: session B Idle"
    assert delta_line(_delta(3, ("B", "Idle"), ("C", "Active")), states) == (
        "A #3: session C Active"
    )
    assert states == {("A", "B"): "Idle", ("A", "C"): "Active"}


def test_a_removed_session_is_forgotten() -> None:
    states = {("A", "B"): "Established"}
    doc = {"node": "A", "seq": 4, "sessions_removed": ["B"]}
    assert delta_line(doc, states) == "A #4: session B removed"
    assert delta_line(_delta(5, ("B", "Established")), states) == ("A #5: session B Established")


class _File(io.StringIO):
    """A file that records what was written when it was flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


@pytest.mark.parametrize("output", ["table", "json", "yaml"])
def test_each_line_is_flushed_as_it_is_printed(
    output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = _File()
    monkeypatch.setattr("sys.stdout", file)
    args = argparse.Namespace(output=output, query=None, count=None)
    printer = _Printer(args)
    printer.show("t", "delta", _delta(1, ("B", "Idle")))
    first = file.getvalue()
    printer.show("t", "delta", _delta(2, ("B", "Established")))
    assert first
    assert file.flushed[0] == first
    assert file.flushed[-1] == file.getvalue() != first
