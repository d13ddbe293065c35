"""The transport of the Fabric: links, connections and timers in virtual time.

Theory of operation
-------------------
A :class:`Transport` moves bytes and time between the :class:`Host` nodes of a
:class:`~bgpemu.fabric.fabric.Fabric`, and nothing else: every input it produces goes
to the host's sans-IO :class:`~bgpemu.router.node.Node` (a connection up, bytes, a
FIN, a failed connection request, a session or router deadline), and what the node
returns goes back through ``carry_out`` (the Fabric, which hands the bytes and
connection requests to :meth:`Transport.send`, :meth:`~Transport.close_tcp` and
:meth:`~Transport.connect_tcp`, and re-arms timers with :meth:`~Transport.arm`).

Time is virtual.  The queue is a heap of ``(time, seq, event)``: ``seq`` is a global
counter, so events at the same time run in the order they were scheduled.  Bytes,
connection requests and FINs arrive ``latency`` seconds after they were sent.  Every
session and router deadline is queued as a timer event (re-queued whenever it
changes; stale entries are skipped), so a 180 s hold timer costs one event, not 180 s.
:attr:`Transport.work` counts the events in flight other than timers (the Fabric is
idle only when it is zero).

One connection per pair (:mod:`bgpemu.fabric.links`): a request is accepted when the
far session listens (Connect or Active); it waits while the far session is in Idle
with its IdleHoldTimer armed (a SYN retransmitted until the listener takes it); it
is lost while the link is cut or the far node crashed (re-sent when that ends);
otherwise it fails after ``latency``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

from bgpemu.fabric.links import (
    Close,
    Connect,
    ConnectFailed,
    Connection,
    Deliver,
    End,
    Event,
    Pair,
    RouterTimer,
    SessionTimer,
)
from bgpemu.router.core import Router
from bgpemu.router.node import Node
from bgpemu.router.node_effects import NodeEffect
from bgpemu.router.spec import SpeakerSpec
from bgpemu.session import Session, SessionState, Timer

__all__ = ["Host", "Transport"]

_ACCEPTING = (SessionState.CONNECT, SessionState.ACTIVE)


class Host:
    """One node of the fabric: its spec, its sans-IO node, its ends and whether it runs."""

    __slots__ = ("armed", "core", "crashed", "ends", "incarnation", "running", "spec")

    def __init__(self, spec: SpeakerSpec) -> None:
        self.spec = spec
        self.core = Node(Router(spec.router))
        """The router and sessions glued together (:mod:`bgpemu.router.node`)."""
        self.ends: dict[str, End] = {}
        """One end per neighbour, sorted by name."""
        self.running = True
        self.crashed = False
        self.incarnation = 0
        self.armed: float | None = None
        """The router deadline queued (see :meth:`Transport.arm_router`)."""

    @property
    def router(self) -> Router:
        """The host's router."""
        return self.core.router


class Recorder(Protocol):
    """What takes the new events of one share of a split run (:mod:`bgpemu.fabric.shard`)."""

    def push(self, time: float, event: Event) -> None:
        """Take ``event``, due at ``time``, instead of the queue."""


CarryOut = Callable[[Host, list[NodeEffect]], None]
"""Carries out what a host's node returned (the Fabric's ``_carry_out``)."""


class Transport:
    """The event queue and the links of a fabric (see the theory of operation)."""

    def __init__(self, nodes: dict[str, Host], latency: float, carry_out: CarryOut) -> None:
        self.nodes = nodes
        """The hosts by name (the Fabric's own dict: it adds and removes them)."""
        self.latency = latency
        self.now = 0.0
        self.pairs: list[Pair] = []
        self.work = 0
        """Events in flight other than timers: messages, connection requests, FINs."""
        self._carry_out = carry_out
        self._queue: list[tuple[float, int, Event]] = []
        self._seq = itertools.count()
        self._conn_ids = itertools.count(1)
        self.recorder: Recorder | None = None
        """Takes every new event instead of the queue while one share of a split run
        goes (:mod:`bgpemu.fabric.shard`)."""

    def next_time(self) -> float | None:
        """The time of the next queued event, or None when nothing is queued."""
        return self._queue[0][0] if self._queue else None

    def is_running(self, name: str) -> bool:
        """Host ``name`` exists and is running (not stopped or crashed)."""
        node = self.nodes.get(name)
        return node is not None and node.running

    def later(self, event: Event) -> None:
        """Queue ``event`` one ``latency`` from now."""
        self.push(self.now + self.latency, event)

    def replay(self, pair: Pair) -> None:
        """The link of ``pair`` is back after a silent cut: the held-back bytes and FINs
        are delivered (TCP retransmission) and lost connection requests re-sent."""
        conn = pair.conn
        if conn is not None:
            backlog, conn.backlog = conn.backlog, []
            for side, data in backlog:
                if data is None:
                    self.later(Close(conn, 1 - side))
                else:
                    self.later(Deliver(conn, 1 - side, data))
        for end in pair.ends:
            self.resend_lost(end)

    def resend_lost(self, end: End) -> None:
        """A connection request of ``end`` that went nowhere arrives now (re-sent)."""
        if end.syn_lost and end.session.state is SessionState.CONNECT:
            end.syn_lost = False
            self.later(Connect(end, end.attempt))

    def idle(self) -> bool:
        """No router deadline and every session settled (:meth:`Fabric.run_until_idle
        <bgpemu.fabric.fabric.Fabric.run_until_idle>`, with no work in flight)."""
        for node in self.nodes.values():
            if not node.running:
                continue
            if node.router.next_deadline() is not None:
                return False
            for end in node.ends.values():
                if not self.settled(end):
                    return False
        return True

    def settled(self, end: End) -> bool:
        """The session of ``end`` is settled (:meth:`idle`)."""
        session = end.session
        if session.state is SessionState.ESTABLISHED:
            return True
        pair = end.pair
        if pair is None or pair.cut is not None:
            return True
        far = pair.other(end)
        if not self.nodes[far.node].running:
            return True
        if _stopped(session) or _stopped(far.session):
            return True
        return session.config.passive and far.session.config.passive

    def push(self, time: float, event: Event) -> None:
        """Queue ``event`` at ``time`` (after every event already queued for that time)."""
        if not isinstance(event, SessionTimer | RouterTimer):
            self.work += 1
        if self.recorder is not None:
            self.recorder.push(time, event)
            return
        heapq.heappush(self._queue, (time, next(self._seq), event))

    def queued(self) -> list[tuple[float, int, Event]]:
        """The queued ``(time, seq, event)`` entries, in no particular order."""
        return list(self._queue)

    def drain(self) -> list[tuple[float, int, Event]]:
        """Take every queued entry off the queue (a split run queues them itself)."""
        queue, self._queue = self._queue, []
        return queue

    def next_seq(self) -> int:
        """The ``seq`` the next queued event would get (where a split run starts numbering)."""
        return next(self._seq)

    def step(self) -> None:
        """Run the next event: a timer hands the node its deadline, a connection event
        the node its input; the effects go to ``carry_out``."""
        time, _, event = heapq.heappop(self._queue)
        self.run(time, event)

    def run(self, time: float, event: Event) -> None:
        """Run ``event``, due at ``time``, taken off the queue (:meth:`step`)."""
        self.now = max(self.now, time)
        match event:
            case SessionTimer(end=end, deadline=deadline):
                if end.armed == deadline and self.is_running(end.node):
                    end.armed = None
                    owner = self.nodes[end.node]
                    self._carry_out(owner, owner.core.on_timers(end.name, self.now))
                return
            case RouterTimer(node=name, deadline=deadline):
                node = self.nodes.get(name)
                if node is not None and node.armed == deadline and node.running:
                    node.armed = None
                    self._carry_out(node, node.core.on_router_timer(self.now))
                return
        self.work -= 1
        match event:
            case Connect(end=end, attempt=attempt):
                self._on_connect(end, attempt)
            case ConnectFailed(end=end, attempt=attempt):
                if end.attempt == attempt and end.session.state is SessionState.CONNECT:
                    owner = self.nodes[end.node]
                    self._carry_out(owner, owner.core.connect_failed(end.name, self.now))
            case Deliver(conn=conn, to=to, data=data):
                self._on_deliver(conn, to, data)
            case Close(conn=conn, to=to):
                end = conn.pair.ends[to]
                if end.pair is not conn.pair:
                    return  # an end removed since (topology change)
                if conn.open[to] and self.is_running(end.node):
                    self.close_side(conn, to)
                    owner = self.nodes[end.node]
                    self._carry_out(owner, owner.core.closed(end.name, conn.id, self.now))

    def _on_connect(self, end: End, attempt: int) -> None:
        """A connection request arrives: accept it, or refuse it with a reset."""
        pair = end.pair
        if (
            pair is None
            or pair.ends[end.side] is not end  # a session of a node since restarted
            or end.attempt != attempt
            or end.session.state is not SessionState.CONNECT
        ):
            return
        if pair.cut is not None:
            end.syn_lost = True
            return
        far = pair.other(end)
        far_node = self.nodes[far.node]
        if far_node.crashed:
            end.syn_lost = True
            return
        busy = pair.conn is not None and any(pair.conn.open)
        if not busy and far_node.running and _restarting(far.session):
            # The far session is in Idle but will start by itself (IdleHoldTimer): the
            # request waits, like a SYN retransmitted until the listener takes it.
            pair.waiting = (end, attempt)
            return
        if busy or not far_node.running or far.session.state not in _ACCEPTING:
            self.push(self.now + self.latency, ConnectFailed(end, attempt))
            return
        pair.waiting = None
        conn = Connection(next(self._conn_ids), pair)
        pair.conn = conn
        far.attempt += 1  # the far end's own attempt, if any, is abandoned
        far.syn_lost = False
        near_node = self.nodes[end.node]
        self._carry_out(
            near_node, near_node.core.connected(end.name, conn.id, inbound=False, now=self.now)
        )
        self._carry_out(
            far_node, far_node.core.connected(far.name, conn.id, inbound=True, now=self.now)
        )

    def release_waiting(self, end: End, state: SessionState) -> None:
        """The session of ``end`` listens again: a waiting request from the far end arrives."""
        pair = end.pair
        if pair is None or pair.waiting is None or state not in _ACCEPTING:
            return
        initiator, attempt = pair.waiting
        if initiator is end:
            return
        pair.waiting = None
        self.push(self.now + self.latency, Connect(initiator, attempt))

    def _on_deliver(self, conn: Connection, to: int, data: bytes) -> None:
        end = conn.pair.ends[to]
        node = self.nodes.get(end.node)
        if node is None or end.pair is not conn.pair or node.crashed:
            return  # an end removed since (topology change), or a crashed node
        if not conn.open[to] or not node.running:
            if conn.open[1 - to] and conn.pair.cut is None:
                self.push(self.now + self.latency, Close(conn, 1 - to))  # a reset
            return
        self._carry_out(node, node.core.received(end.name, conn.id, data, self.now))

    def close_side(self, conn: Connection, side: int) -> None:
        """Side ``side`` of ``conn`` is closed (its FIN sent, or its node gone)."""
        conn.open[side] = False
        if not any(conn.open) and conn.pair.conn is conn:
            conn.pair.conn = None

    def send(self, end: End, data: bytes) -> None:
        """``end``'s session sends ``data`` on its connection (held back while cut)."""
        pair = end.pair
        conn = pair.conn if pair is not None else None
        if conn is None or not conn.open[end.side]:
            return
        if pair is not None and pair.cut is not None:
            conn.backlog.append((end.side, data))
            return
        self.push(self.now + self.latency, Deliver(conn, 1 - end.side, data))

    def close_tcp(self, end: End) -> None:
        """``end``'s session closes its connection, or abandons its attempt."""
        pair = end.pair
        conn = pair.conn if pair is not None else None
        if conn is None or not conn.open[end.side]:
            end.attempt += 1  # no connection: abandon the attempt in flight
            end.syn_lost = False
            return
        self.close_side(conn, end.side)
        if not conn.open[1 - end.side]:
            return
        if conn.pair.cut is not None:
            conn.backlog.append((end.side, None))
        else:
            self.push(self.now + self.latency, Close(conn, 1 - end.side))

    def connect_tcp(self, end: End) -> None:
        """``end``'s session opens a connection: the request arrives after ``latency``."""
        end.attempt += 1
        end.syn_lost = end.pair is None
        if end.pair is None:
            return  # unmatched: the attempt goes nowhere (re-sent if the end gets wired)
        self.push(self.now + self.latency, Connect(end, end.attempt))

    def arm(self, end: End) -> None:
        """Queue the session deadline of ``end`` if it changed (stale ones are skipped)."""
        deadline = end.session.next_deadline()
        if deadline is not None and deadline != end.armed and self.is_running(end.node):
            end.armed = deadline
            self.push(deadline, SessionTimer(end, deadline))

    def arm_router(self, node: Host) -> None:
        deadline = node.router.next_deadline()
        if deadline is not None and deadline != node.armed and node.running:
            node.armed = deadline
            self.push(deadline, RouterTimer(node.spec.name, deadline))


def _restarting(session: Session) -> bool:
    """Idle with the IdleHoldTimer armed: it will start again by itself (RFC 4271 §8.1.1)."""
    return session.state is SessionState.IDLE and Timer.IDLE_HOLD in session.armed_timers


def _stopped(session: Session) -> bool:
    """Idle with no timer: stopped for good until someone starts it (RFC 4271 §8.1.1)."""
    return session.state is SessionState.IDLE and not session.armed_timers
