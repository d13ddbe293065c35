"""The lab's timeline on the web page (issue 16): injections, convergences, refusals, faults.

Pure (no clock: the server passes the time it received each document).  The lab says
what happens to it on its ``events`` topic (docs/mqtt.md, "control and events"): an
injection ``injected``, then ``converged`` with its duration, the UPDATEs it took, the
prefixes and (speaker, prefix) best-path changes; ``rejected`` with the reason; a worker
process that died, froze or runs again.  Its retained ``state`` says when it converged
first, and when it stopped or went offline.  :func:`event_entry` and :func:`state_entry`
turn those documents into timeline entries, the shape the page's ``timeline`` message
carries (docs/web.md)::

    {"time": 1732470000.5, "event": "converged", "op": "fail_link",
     "detail": "fail_link HubGW-SiteB", "duration": 0.031, "updates": 4,
     "best_path_changes": 5, "prefixes": 3}

Every field comes from the broker, which anyone allowed to publish there can fill: a
document that is not a lab event is no entry, a field of the wrong type is null, a
detail is cut to :data:`MAX_DETAIL` characters.  :class:`Timeline` keeps the last
:data:`MAX_ENTRIES` entries (the page's snapshot carries them).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

from bgpemu.lab.operations import QUESTIONS

__all__ = [
    "LAB_EVENTS",
    "MAX_DETAIL",
    "MAX_ENTRIES",
    "Timeline",
    "event_entry",
    "state_entry",
]

MAX_ENTRIES = 500
"""Entries a timeline keeps (the oldest go first)."""

MAX_DETAIL = 500
"""Characters of a detail kept (an ``apply`` refusal lists every problem of a file)."""

LAB_EVENTS = (
    "injected",
    "converged",
    "rejected",
    "worker_exited",
    "worker_stopped",
    "worker_resumed",
)
"""The ``lab-event`` events that make an entry (docs/mqtt.md)."""

_QUIET_OPS = frozenset(QUESTIONS)
"""Traffic questions (:data:`bgpemu.lab.operations.QUESTIONS`): a refused question changed
nothing in the lab, so it is answered to its asker, not written in the timeline."""

_LAB_EVENT = "bgpemu/v1/lab-event"
_TRAFFIC_EVENT = "bgpemu/v1/traffic-event"

Entry = dict[str, Any]


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= MAX_DETAIL else value[: MAX_DETAIL - 3] + "..."


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _entry(
    now: float,
    event: str,
    *,
    op: str | None = None,
    detail: str | None = None,
    duration: float | None = None,
    updates: int | None = None,
    best_path_changes: int | None = None,
    prefixes: int | None = None,
) -> Entry:
    return {
        "time": now,
        "event": event,
        "op": op,
        "detail": detail or "",
        "duration": duration,
        "updates": updates,
        "best_path_changes": best_path_changes,
        "prefixes": prefixes,
    }


def event_entry(doc: object, now: float) -> Entry | None:
    """The entry for one document of the lab's ``events`` topic received at ``now`` (Unix
    time), or None: a traffic answer, a refused traffic question, anything that is not a
    lab event.  A ``traffic-event`` ``intents_changed`` is an entry too (``detail`` names
    the intents and their verdicts before and after)."""
    if not isinstance(doc, Mapping):
        return None
    schema, event = doc.get("schema"), doc.get("event")
    if schema == _TRAFFIC_EVENT and event == "intents_changed":
        return _intents_entry(doc.get("data"), now)
    if schema != _LAB_EVENT or event not in LAB_EVENTS:
        return None
    op = _text(doc.get("op"))
    if event == "rejected" and op in _QUIET_OPS:
        return None
    return _entry(
        now,
        str(event),
        op=op,
        detail=_text(doc.get("detail")),
        duration=_seconds(doc.get("duration")),
        updates=_count(doc.get("updates")),
        best_path_changes=_count(doc.get("best_path_changes")),
        prefixes=_count(doc.get("prefixes")),
    )


def _intents_entry(data: object, now: float) -> Entry | None:
    changed = data.get("changed") if isinstance(data, Mapping) else None
    if not isinstance(changed, list):
        return None
    words = []
    for item in changed:
        if isinstance(item, Mapping):
            name, before, after = (_text(item.get(k)) for k in ("name", "before", "after"))
            words.append(f"{name}: {before} -> {after}")
    return _entry(now, "intents_changed", detail=_text("; ".join(words)))


def state_entry(
    before: Mapping[str, Any] | None, after: object, now: float, *, run_converged: bool
) -> Entry | None:
    """The entry for the lab's ``state`` turning from ``before`` (None: none seen yet) to
    ``after``, received at ``now``; ``run_converged``: whether this run of the lab (its
    ``id``) was seen converged before.  None when it is no news.

    News: a run converged for the first time (``lab_converged``, at the lab's ``since``
    when it gives one: a page opened on a lab that runs for hours still shows when it
    converged; the ``duration`` is the lab's ``convergence_time`` from ``lab up`` when
    the run was seen converging, else the detail says it: a late ``since`` is the last
    convergence, not the first); a new run seen before it converged (``lab_started``);
    the lab ``stopped`` or ``offline`` (``lab_offline``: its MQTT will).  A convergence
    after an injection is the ``converged`` event's entry, not this one's."""
    if not isinstance(after, Mapping):
        return None
    same_run = before is not None and before.get("id") == after.get("id")
    status = after.get("status")
    if status in ("stopped", "offline"):
        if same_run and before is not None and before.get("status") == status:
            return None
        return _entry(now, f"lab_{status}", detail=_state_detail(after))
    if status != "running" or (same_run and run_converged):
        return None
    if after.get("converged") is not True:
        return None if same_run else _entry(now, "lab_started", detail=_state_detail(after))
    since = _seconds(after.get("since"))
    first = _seconds(after.get("convergence_time"))
    detail = _state_detail(after)
    if not same_run and first is not None:
        detail += f" (first converged {first:g} s after lab up)"
    return _entry(
        now if since is None else since,
        "lab_converged",
        detail=detail,
        duration=first if same_run else None,
    )


def _state_detail(state: Mapping[str, Any]) -> str:
    """``lab demo: 2/2 sessions established``."""
    lab = _text(state.get("lab")) or "?"
    established = _count(state.get("sessions_established"))
    expected = _count(state.get("sessions_expected"))
    if established is None or expected is None:
        return f"lab {lab}"
    return f"lab {lab}: {established}/{expected} sessions established"


class Timeline:
    """The last :data:`MAX_ENTRIES` entries, oldest first, and the lab state they were
    taken from (:func:`state_entry` compares each state with the one before)."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._state: dict[str, Any] | None = None
        self._run_converged = False

    def on_event(self, doc: object, now: float) -> Entry | None:
        """Record the entry of an ``events`` document, if it makes one; it is returned
        (the page's ``timeline`` message carries it)."""
        return self._add(event_entry(doc, now))

    def on_state(self, doc: object, now: float) -> Entry | None:
        """Record the entry of a new ``state`` document, if it is news."""
        if not isinstance(doc, Mapping):
            return None
        before = self._state
        same_run = before is not None and before.get("id") == doc.get("id")
        entry = state_entry(before, doc, now, run_converged=same_run and self._run_converged)
        self._run_converged = (same_run and self._run_converged) or doc.get("converged") is True
        self._state = dict(doc)
        return self._add(entry)

    def _add(self, entry: Entry | None) -> Entry | None:
        if entry is not None:
            self._entries.append(entry)
        return entry

    def entries(self) -> list[Entry]:
        """Every entry kept, oldest first (copies: the page's snapshot)."""
        return [dict(e) for e in self._entries]
