"""One share of a Fabric run on two cores: the same events, in the same order, per node.

Theory of operation
-------------------
The fabric (:mod:`bgpemu.fabric.transport`) runs its events in ``(time, seq)`` order,
``seq`` being the order they were queued in.  An event changes one node only, and what
it sends to another node arrives ``latency`` later: so the events of one virtual time
on different nodes do not depend on each other, and two processes may each run those of
their own nodes, provided that each node sees its events in the one-process order.
That order needs the ``seq`` of every event, which the one process gives in the order it
runs their parents.  A :class:`Shard` therefore runs in *rounds*, one virtual time at a
time, and between two rounds its process and the other exchange (``bgpemu solve``'s
shell does the moving, :mod:`bgpemu.cli._solve_split`; this module touches no pipe):

1. :meth:`Shard.summary`: the time of its next event, the ``seq`` of the first event at
   that time and of the last one that is not a timer, its events in flight
   (:attr:`Transport.work <bgpemu.fabric.transport.Transport.work>`) and whether its
   nodes are idle.  :meth:`Shard.plan` decides from both summaries what the one process
   would run next: nothing (idle, or nothing queued: the run is over), every event of the
   time up to the last message (the one process could stop only after it), all of them
   (messages in flight elsewhere: it cannot stop), or only the first (no message in
   flight: it checks for idle after each timer).
2. :meth:`Shard.run_round`: run those of its events; each new event is keyed by the
   ``seq`` of the event that queued it and its rank among that event's new events,
   which is where the one process numbers it.  Messages to the other share's nodes are
   kept aside as :class:`Posted`.
3. :meth:`Shard.settle`: with the other share's keys and messages, number every new
   event as the one process would (``seq`` continues from the split, in key order) and
   queue its own.

The same tables, times and event log (:meth:`Shard.log_entries`, merged in the one
order) as the one process, or :class:`SplitRunError`: a share refuses anything that
would need the other's state at the same instant: a connection opened, refused or
closed (``Connect``, ``ConnectFailed``, ``Close``, a session reset), a crossing session
not Established when all else is idle, or the time limit; the caller then converges on
one core from the start.  :func:`split_point` says when a fabric may be split: every
session between the two shares connected (its OPEN exchange may still be under way:
only messages cross then), with only messages and timers queued.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from bgpemu.errors import BgpEmuError
from bgpemu.fabric.links import Deliver, Event, Pair, RouterTimer, SessionTimer
from bgpemu.fabric.transport import Transport
from bgpemu.session import SessionState
from bgpemu.session.state import CONNECTED_STATES

__all__ = [
    "Abandoned",
    "Plan",
    "Posted",
    "Shard",
    "SplitRunError",
    "Summary",
    "halves",
    "run_together",
    "split_point",
]

Key = tuple[int, int]
"""A new event's place: the ``seq`` of the event that queued it, and its rank among
that event's new events (the one process numbers new events in that order)."""


LogKey = tuple[float, int, int]
"""An event-log entry's place in the one-process order (:meth:`Shard.log_entries`)."""


class SplitRunError(BgpEmuError):
    """The run needs both shares' state at one instant: converge on one core instead."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What one share tells the other before a round (see the theory of operation)."""

    time: float | None
    first: int | None
    """The ``seq`` of its first event at ``time``."""
    last_message: int | None
    """The ``seq`` of its last event at ``time`` that is not a timer."""
    work: int
    idle: bool | None
    """Whether its nodes are idle; None when that needs the other share's state (a
    session between the shares not Established, and nothing else busy here)."""


@dataclass(frozen=True, slots=True)
class Abandoned:
    """The other share met something a split run cannot do (:class:`SplitRunError`)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The round both shares run: the events at ``time`` with ``seq <= upto`` (all of them
    when ``upto`` is None), or none when ``done``."""

    done: bool
    time: float = 0.0
    upto: int | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    """A message to a node of the other share: the pair (its index in the fabric's
    pairs), the connection's id, the receiving side and the bytes, due at ``time``."""

    key: Key
    time: float
    pair: int
    conn: int
    to: int
    data: bytes


def halves(transport: Transport) -> tuple[frozenset[str], frozenset[str]]:
    """Two shares of about the same work, with few sessions between them.

    Breadth first from the first node by name, each node weighing one more than its
    sessions, until half of the weight: a vWAN hub and its branches, then the other.
    """
    nodes = transport.nodes
    weight = {name: 1 + len(host.ends) for name, host in nodes.items()}
    half = sum(weight.values()) / 2
    adjacent: dict[str, list[str]] = {name: [] for name in nodes}
    for pair in transport.pairs:
        a, b = pair.ends[0].node, pair.ends[1].node
        adjacent[a].append(b)
        adjacent[b].append(a)
    first: list[str] = []
    seen: set[str] = set()
    total = 0
    for start in sorted(nodes):
        queue = [start]
        while queue and total < half:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            first.append(name)
            total += weight[name]
            queue.extend(sorted(n for n in adjacent[name] if n not in seen))
        if total >= half:
            break
    mine = frozenset(first)
    return mine, frozenset(nodes) - mine


def _crossing(pair: Pair, mine: frozenset[str]) -> bool:
    return (pair.ends[0].node in mine) != (pair.ends[1].node in mine)


def split_point(transport: Transport, mine: frozenset[str]) -> bool:
    """Whether the fabric may be split into ``mine`` and the rest now: every session
    between them connected (OpenSent, OpenConfirm or Established on an open connection:
    only messages cross from then on), and only messages and timers queued (see the
    theory of operation)."""
    for pair in transport.pairs:
        if not _crossing(pair, mine):
            continue
        conn = pair.conn
        if conn is None or not all(conn.open) or pair.cut is not None or pair.waiting:
            return False
        if any(end.session.state not in CONNECTED_STATES for end in pair.ends):
            return False
    return all(type(event) in _RUNNABLE for _, _, event in transport.queued())


_RUNNABLE = (Deliver, SessionTimer, RouterTimer)


class Shard:
    """One share of a split run (see the theory of operation)."""

    def __init__(
        self, transport: Transport, mine: frozenset[str], log: list[tuple[float, str, str]]
    ) -> None:
        self.net = transport
        self.mine = mine
        self.seq = transport.next_seq()
        """The ``seq`` the next new event gets, as in the one process."""
        self._index = {id(pair): i for i, pair in enumerate(transport.pairs)}
        self._queue: list[tuple[float, int, Event]] = [
            entry for entry in transport.drain() if self._owner(entry[2]) in mine
        ]
        heapq.heapify(self._queue)
        transport.work = sum(type(event) is Deliver for _, _, event in self._queue)
        """Each share counts its own messages in flight (the two add up to the fabric's)."""
        self._hosts = [host for name, host in sorted(transport.nodes.items()) if name in mine]
        self._new: list[tuple[Key, float, Event]] = []
        self.posted: list[Posted] = []
        """This round's messages to the other share's nodes."""
        self._parent = 0
        self._rank = 0
        self._log = log
        self._marks: list[tuple[int, float, int]] = []
        """(log size, time, seq) before each event this share ran."""
        transport.recorder = self

    # -- the round ------------------------------------------------------------------------

    def summary(self) -> Summary:
        """This share's :class:`Summary` (step 1 of the theory of operation)."""
        queue = self._queue
        if not queue:
            return Summary(None, None, None, self.net.work, self.idle())
        time = queue[0][0]
        at = []  # the events due at ``time``, taken off the heap and put back (not a scan)
        while queue and queue[0][0] == time:
            at.append(heapq.heappop(queue))
        for entry in at:
            heapq.heappush(queue, entry)
        messages = [seq for _, seq, event in at if type(event) is Deliver]
        return Summary(
            time,
            at[0][1],
            max(messages) if messages else None,
            self.net.work,
            self.idle(),
        )

    @staticmethod
    def plan(ours: Summary, theirs: Summary, limit: float) -> Plan:
        """The next round, the same on both sides (see the theory of operation)."""
        if ours.work + theirs.work == 0 and ours.idle is not False and theirs.idle is not False:
            if ours.idle is None or theirs.idle is None:
                raise SplitRunError("a session between the shares is not Established")
            return Plan(done=True)
        times = [s.time for s in (ours, theirs) if s.time is not None]
        if not times:
            return Plan(done=True)
        time = min(times)
        if time > limit:
            raise SplitRunError("the time limit is reached")
        at = [s for s in (ours, theirs) if s.time == time]
        messages = [s.last_message for s in at if s.last_message is not None]
        if messages:
            return Plan(done=False, time=time, upto=max(messages))
        if ours.work + theirs.work > 0:
            return Plan(done=False, time=time, upto=None)
        return Plan(done=False, time=time, upto=min(s.first for s in at if s.first is not None))

    def run_round(self, plan: Plan) -> None:
        """Run this share's events of ``plan`` in ``seq`` order (step 2)."""
        net = self.net
        net.now = max(net.now, plan.time)
        queue = self._queue
        log = self._log
        upto = plan.upto
        while queue and queue[0][0] == plan.time and (upto is None or queue[0][1] <= upto):
            time, seq, event = heapq.heappop(queue)
            if type(event) not in _RUNNABLE:
                raise SplitRunError(f"a {type(event).__name__} event")
            self._parent, self._rank = seq, 0
            self._marks.append((len(log), time, seq))
            net.run(time, event)

    def push(self, time: float, event: Event) -> None:
        """A new event of this round (the transport's recorder)."""
        key = (self._parent, self._rank)
        self._rank += 1
        kind = type(event)
        if kind is Deliver:
            assert isinstance(event, Deliver)
            pair = event.conn.pair
            if pair.ends[event.to].node not in self.mine:
                self.posted.append(
                    Posted(key, time, self._index[id(pair)], event.conn.id, event.to, event.data)
                )
                return
        elif kind is not SessionTimer and kind is not RouterTimer:
            raise SplitRunError(f"a {kind.__name__} event")
        self._new.append((key, time, event))

    def settle(self, their_keys: Sequence[Key], their_posted: Iterable[Posted]) -> None:
        """Number this round's new events and queue this share's (step 3)."""
        order = {key: self.seq + i for i, key in enumerate(sorted([*self.keys(), *their_keys]))}
        self.seq += len(order)
        queue = self._queue
        for key, time, event in self._new:
            heapq.heappush(queue, (time, order[key], event))
        pairs = self.net.pairs
        for posted in their_posted:
            conn = pairs[posted.pair].conn
            if conn is None or conn.id != posted.conn:
                raise SplitRunError("a message on a connection that changed")
            event = Deliver(conn, posted.to, posted.data)
            heapq.heappush(queue, (posted.time, order[posted.key], event))
        self._new = []
        self.posted = []

    def keys(self) -> list[Key]:
        """The keys of this round's new events, the other share's ``their_keys``."""
        return [key for key, _, _ in self._new] + [p.key for p in self.posted]

    def rounds(self, limit: float) -> Generator[object, object, None]:
        """This share's side of the run, as messages: it yields what to send the other
        share and is sent what that one sent (the same generator on both sides, so the
        messages pair up): a :class:`Summary`, then the keys and messages of a round, and
        so on until idle.  A :class:`SplitRunError` on either side ends both: it is sent
        as an :class:`Abandoned` and raised on both."""
        while True:
            ours = self.summary()
            theirs = yield ours
            if isinstance(theirs, Abandoned):
                raise SplitRunError(theirs.reason)
            assert isinstance(theirs, Summary)
            plan = Shard.plan(ours, theirs, limit)
            if plan.done:
                return
            try:
                self.run_round(plan)
            except SplitRunError as exc:
                yield Abandoned(str(exc))
                raise
            reply = yield (self.keys(), self.posted)
            if isinstance(reply, Abandoned):
                raise SplitRunError(reply.reason)
            keys, posted = cast("tuple[list[Key], list[Posted]]", reply)
            self.settle(keys, posted)

    # -- state ------------------------------------------------------------------------------

    def idle(self) -> bool | None:
        """This share's part of :meth:`Transport.idle`: False as soon as one of its
        nodes is busy; None when none is but a session between the shares is not
        Established (whether it is settled depends on the far end's state)."""
        unknown = False
        for host in self._hosts:
            if not host.running:
                continue
            if host.router.next_deadline() is not None:
                return False
            for end in host.ends.values():
                pair = end.pair
                if pair is not None and _crossing(pair, self.mine):
                    if end.session.state is not SessionState.ESTABLISHED:
                        unknown = True
                elif not self.net.settled(end):
                    return False
        return None if unknown else True

    def log_entries(self, start: int) -> list[tuple[LogKey, tuple[float, str, str]]]:
        """The entries this share added to the fabric's event log from index ``start``,
        each keyed by the one-process order: the time and ``seq`` of the event that wrote
        it, then its place."""
        log = self._log
        keyed: list[tuple[LogKey, tuple[float, str, str]]] = []
        marks = self._marks
        m = 0
        for index in range(start, len(log)):
            while m + 1 < len(marks) and marks[m + 1][0] <= index:
                m += 1
            _, time, seq = marks[m]
            keyed.append(((time, seq, index), log[index]))
        return keyed

    def _owner(self, event: Event) -> str:
        """The node whose state ``event`` changes (messages, timers: all a split run has)."""
        match event:
            case Deliver(conn=conn, to=to):
                return conn.pair.ends[to].node
            case SessionTimer(end=end):
                return end.node
            case RouterTimer(node=node):
                return node
        raise SplitRunError(f"a {type(event).__name__} event")


def run_together(first: Shard, second: Shard, limit: float) -> None:
    """Run two shares to idle in this process, one round each in turn (what two
    processes do over a pipe; the tests compare it with the one-process run)."""
    a, b = first.rounds(limit), second.rounds(limit)
    to_b, to_a = next(a), next(b)
    while True:
        done = 0
        try:
            to_b_next = a.send(to_a)
        except StopIteration:
            done += 1
        try:
            to_a = b.send(to_b)
        except StopIteration:
            done += 1
        if done == 2:
            return
        if done == 1:
            raise SplitRunError("the two shares disagree on the end of the run")
        to_b = to_b_next
