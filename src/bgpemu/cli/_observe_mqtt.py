"""Reading a lab's retained documents from its MQTT broker, for the observer commands.

:func:`open_lab` checks the broker and picks the lab; :func:`read` (or a :class:`Tap`)
subscribes to the topic filters a command needs, never to the whole lab
(``bgpemu/v1/<lab>/#``: a large lab retains about 1.5 GB, mostly Adj-RIBs), and waits
for the retained documents: MQTT has no end-of-retained marker, so :meth:`Tap.settle`
ends as soon as the documents a command needs are there, or else once no message arrived
for :data:`QUIET` seconds, and at the latest at ``--timeout``.  :class:`Docs` is what
arrived, by node and topic suffix (``status``, ``rib/loc``, ``rib/in/<peer>``...,
docs/mqtt.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bgpemu.errors import BgpEmuError
from bgpemu.observe.topics import LabTopics, NodeTopics, parse_topic

if TYPE_CHECKING:
    from bgpemu.observe.mqtt import Observer
    from bgpemu.observe.url import BrokerAddress

__all__ = [
    "QUIET",
    "SESSIONS",
    "Docs",
    "Tap",
    "UsageError",
    "known_lab",
    "lab_filter",
    "lab_status",
    "missing_lab",
    "name_list",
    "node_filter",
    "open_lab",
    "read",
    "split_topic",
    "stopped_warning",
    "subscribe",
]

QUIET = 0.3
"""Seconds without a message after which the broker has sent every retained document."""

SESSIONS = "sessions"


class UsageError(BgpEmuError):
    """A user-facing error: printed as ``error: ...``, exit status 2."""


def lab_filter(lab: str, suffix: str) -> str:
    """The topic ``bgpemu/v1/<lab>/<suffix>`` (``state``, ``events``)."""
    return f"{LabTopics(lab=lab).base}/{suffix}"


def node_filter(lab: str, node: str | None, suffix: str) -> str:
    """The topic filter ``bgpemu/v1/<lab>/nodes/<node>/<suffix>``; ``node`` None is every
    node (``+``).  A node that cannot be one topic level raises ``TopicError``."""
    base = (
        f"{LabTopics(lab=lab).base}/nodes/+"
        if node is None
        else NodeTopics(lab=lab, node=node).base
    )
    return f"{base}/{suffix}"


def split_topic(lab: str, topic: str) -> tuple[str | None, str] | None:
    """``(node, suffix)`` of a topic of ``lab`` (``("VpnGW.0", "rib/in/ErGW")``), with node
    None for the lab's own topics (``(None, "state")``); None for any other topic."""
    ref = parse_topic(topic)
    if ref is None or ref.lab != lab:
        return None
    return ref.node, ref.suffix


class Tap:
    """An :class:`Observer` of some topic filters of one lab, plus what the commands need:
    message arrival and a raw queue."""

    def __init__(
        self, url: str | BrokerAddress, lab: str, filters: Sequence[str], keep: bool
    ) -> None:
        from bgpemu.observe.mqtt import Observer

        if not filters:  # the Observer's default would be the whole lab
            raise ValueError("a tap needs at least one topic filter")

        tap = self

        class _Observer(Observer):
            def receive(self, topic: str, payload: bytes) -> None:
                super().receive(topic, payload)
                tap.received += 1
                if tap.queue is not None:
                    tap.queue.put_nowait((topic, payload))

        self.lab = lab
        self.received = 0
        self.queue: asyncio.Queue[tuple[str, bytes]] | None = asyncio.Queue() if keep else None
        self.observer: Observer = _Observer(url, lab=lab, filters=list(filters))

    def _arrival(self) -> Callable[[], bool]:
        """A predicate that holds once another message has arrived."""
        seen = self.received
        return lambda: self.received != seen

    def view(self) -> Docs:
        return Docs.of(self.lab, self.observer.documents)

    async def settle(
        self, want: Callable[[Docs], bool], timeout: float, *, quiet: bool = True
    ) -> Docs:
        """Wait until ``want`` holds, or until no message for :data:`QUIET` s (unless
        ``quiet`` is False: when ``want`` names documents that must come), or ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            docs = self.view()
            if want(docs):
                return docs
            left = deadline - loop.time()
            window = min(QUIET, left) if quiet else left
            if window <= 0:
                return docs
            try:
                await self.observer.wait_for(self._arrival(), timeout=window)
            except TimeoutError:
                return self.view()


@dataclass(frozen=True, slots=True, kw_only=True)
class Docs:
    """The retained documents of one lab: the lab ``state`` and every node's, by suffix."""

    lab: str
    state: dict[str, Any] | None
    nodes: dict[str, dict[str, dict[str, Any]]]

    @classmethod
    def of(cls, lab: str, documents: Mapping[str, dict[str, Any]]) -> Docs:
        """Sort ``documents`` (by topic) of ``lab``; other topics are left out."""
        state: dict[str, Any] | None = None
        nodes: dict[str, dict[str, dict[str, Any]]] = {}
        for topic, doc in documents.items():
            where = split_topic(lab, topic)
            if where is None:
                continue
            node, suffix = where
            if node is not None:
                nodes.setdefault(node, {})[suffix] = doc
            elif suffix == "state":
                state = doc
        return cls(lab=lab, state=state, nodes=nodes)

    @property
    def speakers(self) -> list[str]:
        """The lab's speakers: those in the state, and every node with a table or status."""
        names = set(self.state.get("nodes", []) if self.state else [])
        names.update(
            node
            for node, docs in self.nodes.items()
            if docs.keys() & {"status", "info", "sessions", "rib/loc"}
        )
        return sorted(names)

    def speakers_of(self, node: str) -> list[str]:
        """The speakers of topology node ``node`` (``VpnGW`` -> ``VpnGW.0``, ``VpnGW.1``), or
        ``[node]`` when it is a speaker itself."""
        speakers = self.speakers
        if node in speakers:
            return [node]
        return [s for s in speakers if s.startswith(node + ".")]

    def expected_of(self, node: str) -> list[str]:
        """:meth:`speakers_of` among the speakers the lab state lists."""
        listed = self.state.get("nodes", []) if self.state else []
        return [s for s in listed if s == node or s.startswith(node + ".")]

    def has(self, speakers: Sequence[str], *suffixes: str) -> bool:
        """Whether every one of ``speakers`` (at least one) has every one of ``suffixes``."""
        return bool(speakers) and all(
            self.nodes.get(s, {}).keys() >= set(suffixes) for s in speakers
        )

    def per_peer(self, speaker: str, table: str) -> dict[str, dict[str, Any]]:
        """``{peer: document}`` of the per-neighbour documents ``<table>/<peer>`` of
        ``speaker`` (``table`` is ``rib/in`` or ``rib/out``)."""
        start = table + "/"
        return {
            suffix[len(start) :]: doc
            for suffix, doc in self.nodes.get(speaker, {}).items()
            if suffix.startswith(start)
        }

    def session_peers(self, speaker: str, *, established: bool = False) -> list[str] | None:
        """The neighbours of ``speaker``'s ``sessions`` document (only those whose session
        is Established, which are the ones with ``rib/in|out/<peer>`` documents, when
        ``established``); None without one."""
        doc = self.nodes.get(speaker, {}).get(SESSIONS)
        if doc is None:
            return None
        return [
            str(s["peer"])
            for s in doc.get("sessions", [])
            if not established or s.get("state") == "Established"
        ]

    def views(self, kind: str) -> dict[str, dict[str, Any]]:
        """``node -> {detail: data}`` of the Azure views ``kind`` or ``kind.detail``."""
        out: dict[str, dict[str, Any]] = {}
        for node, docs in self.nodes.items():
            for suffix, doc in docs.items():
                view = suffix.removeprefix("azure/")
                if view == suffix:
                    continue
                if view == kind or view.startswith(kind + "."):
                    detail = view[len(kind) + 1 :]
                    out.setdefault(node, {})[detail] = doc.get("data")
        return out

    def not_converged_hint(self) -> str:
        if self.state is None or self.state.get("converged"):
            return ""
        return " (the lab has not converged yet: views are published once it has)"


def lab_status(state: Mapping[str, Any] | None) -> str:
    """A lab ``state``'s ``status``: ``running``, ``stopped`` or ``offline`` (docs/mqtt.md;
    a state without one, from a bgpemu before lab liveness, counts as ``running``)."""
    if state is None:
        return "running"
    return str(state.get("status", "running"))


def stopped_warning(docs: Docs) -> str | None:
    """The warning to print when ``docs`` are those of a lab that no longer runs."""
    status = lab_status(docs.state)
    if status == "running":
        return None
    how = "stopped" if status == "stopped" else "offline: it went away without stopping"
    return (
        f"warning: lab {docs.lab} is not running ({how}); these are the last documents it published"
    )


def name_list(names: Sequence[str]) -> str:
    return ", ".join(sorted(names)) or "none"


async def open_lab(args: argparse.Namespace) -> str:
    """Check the broker and pick the lab: ``--lab``, or the only one on the broker."""
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import check_broker, retained_labs

    try:
        await check_broker(args.broker, args.timeout)
        lab = args.lab
        if lab is None:
            labs = await retained_labs(args.broker, args.timeout, QUIET)
            if not labs:
                raise UsageError(
                    f"no lab on the MQTT broker at {args.mqtt} (no retained "
                    "bgpemu/v1/<lab>/state): is a lab up there?"
                )
            running = sorted(n for n, doc in labs.items() if lab_status(doc) == "running")
            if not running:
                stopped = ", ".join(f"{n} ({lab_status(labs[n])})" for n in sorted(labs))
                raise UsageError(
                    f"no running lab on the MQTT broker at {args.mqtt} (stopped: {stopped}): "
                    "give --lab to read a stopped lab's last documents"
                )
            if len(running) > 1:
                raise UsageError(
                    f"several labs on the MQTT broker at {args.mqtt} ({name_list(running)}): "
                    "give --lab"
                )
            lab = running[0]
    except ObserveError as exc:
        raise UsageError(str(exc)) from None
    return str(lab)


async def missing_lab(args: argparse.Namespace, lab: str) -> UsageError:
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import retained_labs

    try:
        labs = await retained_labs(args.broker, args.timeout, QUIET)
    except ObserveError as exc:
        return UsageError(str(exc))
    return UsageError(
        f"no lab {lab!r} on the MQTT broker at {args.mqtt} (labs: {name_list(list(labs))})"
    )


async def subscribe(args: argparse.Namespace, tap: Tap, stack: contextlib.AsyncExitStack) -> None:
    """Enter the observer (subscribed) within ``--timeout``."""
    try:
        async with asyncio.timeout(args.timeout):
            await stack.enter_async_context(tap.observer)
    except TimeoutError:
        raise UsageError(
            f"the MQTT broker at {args.mqtt} did not accept a subscription within "
            f"{args.timeout:g} s"
        ) from None


async def read(
    args: argparse.Namespace,
    lab: str,
    filters: Sequence[str],
    want: Callable[[Docs], bool],
    *,
    quiet: bool = True,
) -> Docs:
    """Subscribe to ``filters`` of ``lab`` and wait for the retained documents
    (:meth:`Tap.settle`); the subscription ends on return."""
    tap = Tap(args.broker, lab, filters, keep=False)
    async with contextlib.AsyncExitStack() as stack:
        await subscribe(args, tap, stack)
        docs = await tap.settle(want, args.timeout, quiet=quiet)
    warning = stopped_warning(docs)
    if warning is not None:
        print(warning, file=sys.stderr)
    return docs


async def known_lab(args: argparse.Namespace, docs: Docs) -> Docs:
    """``docs``, or the :func:`missing_lab` error when nothing of the lab arrived."""
    if docs.state is None and not docs.nodes:
        raise await missing_lab(args, docs.lab)
    return docs
