"""The view parts that follow what happens to the lab (issue 16): timeline and traffic.

Pure.  The server hands every lab-level document it follows (``state``, ``topology``,
``events``, ``traffic/<view>``) to each part of its :class:`~bgpemu.web.view.LabView`
(:class:`~bgpemu.web.protocol.Part`, docs/web.md "Extension points"), with the time it
arrived; a part keeps what it needs and returns the page messages to push:

* :class:`TimelinePart`: ``{"type": "timeline", "entry": ...}`` for each injection,
  convergence, refusal, worker fault, intent change and lab start or stop
  (:mod:`bgpemu.web.timeline`); the snapshot's ``timeline``;
* :class:`TrafficPart`: ``{"type": "traffic", ...}`` and ``{"type": "flows-changed",
  ...}`` (:mod:`bgpemu.web.traffic`); the snapshot's ``traffic``.  It also keeps the
  lab's ``topology`` document and its network and plan (:meth:`TrafficPart.model`) for
  the trace, inject and endpoints requests (:mod:`bgpemu.web.extensions`): a
  :class:`~bgpemu.web.protocol.TopologyPart`, it is handed the compilation the server
  made for the graph, once per document; a document given alone
  (:meth:`TrafficPart.receive`) is compiled on demand, once.
"""

from __future__ import annotations

from typing import Any

from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.observe.topics import TopicRef
from bgpemu.web.timeline import Timeline
from bgpemu.web.topology_doc import CompiledTopology, compile_topology
from bgpemu.web.traffic import TrafficViews

__all__ = ["Message", "TimelinePart", "TrafficPart"]

Message = dict[str, Any]


class TimelinePart:
    """The lab's timeline (a :class:`~bgpemu.web.protocol.Part`)."""

    def __init__(self) -> None:
        self.timeline = Timeline()

    def receive(self, ref: TopicRef, doc: dict[str, Any] | None, now: float) -> list[Message]:
        """A ``state`` or ``events`` document: its timeline entry, if it makes one."""
        if ref.kind == "state":
            entry = self.timeline.on_state(doc, now)
        elif ref.kind == "events":
            entry = self.timeline.on_event(doc, now)
        else:
            return []
        return [] if entry is None else [{"type": "timeline", "entry": entry}]

    def snapshot(self) -> dict[str, Any]:
        """``{"timeline": [entries, oldest first]}``."""
        return {"timeline": self.timeline.entries()}


class TrafficPart:
    """The lab's traffic documents, and its topology for the traffic requests."""

    def __init__(self) -> None:
        self.views = TrafficViews()
        self._topology: dict[str, Any] | None = None
        self._compiled: CompiledTopology | None = None
        """The compilation of the lab's topology document (stale unless its ``doc`` is
        :attr:`_topology`)."""

    def receive(self, ref: TopicRef, doc: dict[str, Any] | None, now: float) -> list[Message]:
        """``traffic/<view>`` and ``events`` documents: what to push; ``topology``: kept."""
        if ref.kind == "traffic" and ref.view is not None:
            return self.views.on_document(ref.view, doc, now)
        if ref.kind == "events":
            return self.views.on_event(doc, now)
        if ref.kind == "topology" and doc != self._topology:
            self._topology, self._compiled = doc, None
        return []

    def receive_topology(
        self, ref: TopicRef, compiled: CompiledTopology, now: float
    ) -> list[Message]:
        """A ``topology`` document with its compilation (the graph's): kept for
        :meth:`model`."""
        self._topology, self._compiled = compiled.doc, compiled
        return []

    def snapshot(self) -> dict[str, Any]:
        """``{"traffic": {"reachability": data|None, "intents": data|None, "changes":
        [...]}}``."""
        return {"traffic": self.views.snapshot()}

    def model(self) -> tuple[Network, Plan] | None:
        """The network and plan of the lab's ``topology`` document (loaded and planned
        as ``bgpemu graph`` does, once per document); None without one, or when it cannot
        be compiled (:attr:`problem` says why; the graph's view reports it too).

        Handed by the view (:meth:`receive_topology`), it is at hand; a document given
        alone is compiled here, and a large topology takes a while (vWAN 2 x 50 x 200:
        0.5 s), so the server calls this in a worker thread: what it compiles is kept
        only if the document is still the lab's when it is done."""
        doc = self._topology
        if doc is None:
            return None
        compiled = self._compiled
        if compiled is None or compiled.doc is not doc:
            compiled = compile_topology(doc)
            if self._topology is doc:
                self._compiled = compiled
        return compiled.model

    @property
    def problem(self) -> str | None:
        """Why the lab's topology document could not be compiled (None: it could, or it
        was not tried yet, or there is none)."""
        compiled = self._compiled
        if compiled is None or compiled.doc is not self._topology or compiled.error is None:
            return None
        return f"the lab's topology document cannot be read: {compiled.error}"

    @property
    def reachability(self) -> dict[str, Any] | None:
        """The newest reachability matrix (``traffic/reachability``'s data)."""
        data = self.views.snapshot()["reachability"]
        return dict(data) if data is not None else None
