"""The sequence numbers of one node's tables: snapshots in, documents and deltas out (pure).

Theory of operation.  The shell takes a :class:`RouterSnapshot` of the node whenever
its router changes (coalescing bursts) and hands it to :meth:`NodeFeed.advance`.
The first snapshot yields every table document at ``seq`` 0 and no delta.  Each
later snapshot that differs bumps the node ``seq`` by one, gives the changed tables
that ``seq`` as their version, and yields their new documents plus one ``event``
whose ``base`` lists the versions it applies to.  ``advance(..., full=True)``
returns every document (the shell asks for that after it had to drop a delta, so
observers who saw the gap in ``seq`` get a fresh retained snapshot).  No clock is
read: ``now`` (monotonic seconds, the sessions' clock) only dates session uptimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.observe.payloads import delta_payload, table_payload
from bgpemu.observe.topics import TABLES, NodeTopic

__all__ = ["NodeFeed", "Publication"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Publication:
    """What to publish after one snapshot."""

    documents: dict[NodeTopic, dict[str, Any]] = field(default_factory=dict)
    """Retained table documents to (re)publish, by table."""
    event: dict[str, Any] | None = None
    """The delta, if anything changed."""


class NodeFeed:
    """Versions of a node's tables and the last snapshot they describe."""

    def __init__(self) -> None:
        self.seq = 0
        self.versions: dict[str, int] = {str(t): 0 for t in TABLES}
        self._last: RouterSnapshot | None = None

    @property
    def last(self) -> RouterSnapshot | None:
        """The snapshot the published documents describe."""
        return self._last

    def documents(self, now: float | None = None) -> dict[NodeTopic, dict[str, Any]]:
        """Every table document of the last snapshot, at the current versions."""
        if self._last is None:
            return {}
        snap = self._last
        return {t: table_payload(t, snap, seq=self.versions[str(t)], now=now) for t in TABLES}

    def advance(
        self, snap: RouterSnapshot, now: float | None = None, *, full: bool = False
    ) -> Publication:
        """Documents and delta for ``snap`` (see the module docstring)."""
        old, self._last = self._last, snap
        if old is None:
            return Publication(
                documents={t: table_payload(t, snap, seq=0, now=now) for t in TABLES}
            )
        event = delta_payload(old, snap, seq=self.seq + 1, versions=self.versions, now=now)
        changed: set[NodeTopic] = set()
        if event is not None:
            self.seq += 1
            changed = {NodeTopic(t) for t in event["base"]}
            for table in changed:
                self.versions[str(table)] = self.seq
        wanted = TABLES if full else tuple(t for t in TABLES if t in changed)
        return Publication(
            documents={
                t: table_payload(t, snap, seq=self.versions[str(t)], now=now) for t in wanted
            },
            event=event,
        )
