"""Reading a lab's retained documents from its MQTT broker, for the observer commands.

:func:`open_tap` checks the broker and picks the lab; :class:`Tap` subscribes to
``bgpemu/v1/<lab>/#`` and waits for the retained documents: MQTT has no end-of-retained
marker, so :meth:`Tap.settle` ends as soon as the documents a command needs are there, or
else once no message arrived for :data:`QUIET` seconds, and at the latest at ``--timeout``.
:class:`Docs` is what arrived, by node and topic suffix (docs/mqtt.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bgpemu.observe.mqtt import Observer

__all__ = [
    "QUIET",
    "Docs",
    "Tap",
    "UsageError",
    "collect",
    "missing_lab",
    "name_list",
    "open_tap",
    "subscribe",
]

QUIET = 0.3
"""Seconds without a message after which the broker has sent every retained document."""


class UsageError(Exception):
    """A user-facing error: printed as ``error: ...``, exit status 2."""


class Tap:
    """An :class:`Observer` plus what the commands need: message arrival and a raw queue."""

    def __init__(self, url: str, lab: str, keep: bool) -> None:
        from bgpemu.observe.mqtt import Observer

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
        self.observer: Observer = _Observer(url, lab=lab)

    def _arrival(self) -> Callable[[], bool]:
        """A predicate that holds once another message has arrived."""
        seen = self.received
        return lambda: self.received != seen

    def view(self) -> Docs:
        return Docs.of(self.lab, self.observer.documents)

    async def settle(self, want: Callable[[Docs], bool], timeout: float) -> Docs:
        """Wait until ``want`` holds, or until no message for :data:`QUIET` s, or ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            docs = self.view()
            if want(docs):
                return docs
            window = min(QUIET, deadline - loop.time())
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
        from bgpemu.observe.topics import parse_topic

        state: dict[str, Any] | None = None
        nodes: dict[str, dict[str, dict[str, Any]]] = {}
        for topic, doc in documents.items():
            ref = parse_topic(topic)
            if ref is None:
                continue
            if ref.node is None:
                if ref.kind == "state":
                    state = doc
                continue
            suffix = f"azure/{ref.view}" if ref.view is not None else str(ref.kind)
            nodes.setdefault(ref.node, {})[suffix] = doc
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

    def has(self, speakers: Sequence[str], suffix: str) -> bool:
        return bool(speakers) and all(suffix in self.nodes.get(s, {}) for s in speakers)

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


def name_list(names: Sequence[str]) -> str:
    return ", ".join(sorted(names)) or "none"


async def open_tap(args: argparse.Namespace, keep: bool = False) -> Tap:
    """Check the broker, pick the lab, and return a tap ready to enter."""
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import check_broker, retained_labs

    try:
        await check_broker(args.mqtt, args.timeout)
        lab = args.lab
        if lab is None:
            labs = await retained_labs(args.mqtt, args.timeout, QUIET)
            if not labs:
                raise UsageError(
                    f"no lab on the MQTT broker at {args.mqtt} (no retained "
                    "bgpemu/v1/<lab>/state): is a lab up there?"
                )
            if len(labs) > 1:
                raise UsageError(
                    f"several labs on the MQTT broker at {args.mqtt} ({name_list(list(labs))}): "
                    "give --lab"
                )
            lab = next(iter(labs))
        return Tap(args.mqtt, lab, keep)
    except ObserveError as exc:
        raise UsageError(str(exc)) from None


async def missing_lab(args: argparse.Namespace, lab: str) -> UsageError:
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import retained_labs

    try:
        labs = await retained_labs(args.mqtt, args.timeout, QUIET)
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


async def collect(
    args: argparse.Namespace, want: Callable[[Docs], bool], build: Callable[[Docs], Any]
) -> Any:
    """Subscribe, wait for the retained documents, and return ``build(documents)``."""
    tap = await open_tap(args)
    async with contextlib.AsyncExitStack() as stack:
        await subscribe(args, tap, stack)
        docs = await tap.settle(want, args.timeout)
    if docs.state is None and not docs.nodes:
        raise await missing_lab(args, tap.lab)
    return build(docs)
