"""Many Routers wired by in-memory links, run by a deterministic discrete-event loop.

Theory of operation
-------------------
Each node of a :class:`Fabric` is one :class:`~bgpemu.router.spec.SpeakerSpec`: a
:class:`~bgpemu.router.core.Router` plus one real :class:`~bgpemu.session.Session`
per neighbour, glued by the same sans-IO :class:`~bgpemu.router.node.Node` as in the
TCP runtime, so the FSM, the codec and what connects them to the router are exactly
those of the TCP runtime; only the transport and the clock are simulated (the fabric
carries out the node's effects: bytes into links, timers into its queue).  A
neighbour is wired to the node whose ``local_address`` equals the neighbour's
``address``, provided that node has a neighbour pointing back; other neighbours are
*unmatched* (:attr:`Fabric.unmatched`) and their sessions just retry in Connect/Active.

Time is virtual; the links, connections and event queue are the
:class:`~bgpemu.fabric.transport.Transport`'s (see its theory of operation).  Each
session draws its RFC 4271 §10 jitter from its own ``random.Random`` seeded with
``(seed, node, neighbour)``, and nodes are started in name order: the same specs and
seed give the same event order and the same tables, whatever order the specs are
listed in.  Every session of a fabric decodes through the fabric's one
:class:`~bgpemu.wire.codec.UpdateMemo`: a frame that several sessions receive (a hub
relays the same UPDATEs to each of its peers) is decoded once, to the very result
each session's codec would have decoded.  The fabric's own part is the operator's
actions and the topology changes, which it hands to each node
(:mod:`bgpemu.router.node`), and its event log (:mod:`bgpemu.fabric.events`).

Convergence (:meth:`Fabric.run_until_idle`): the fabric is *idle* when

1. no message, connection request or FIN is in flight (only timers are queued),
2. no router has a deadline (no MRAI-held exports, no max-prefix restart pending), and
3. every session is *settled*: Established; or it cannot make progress (its
   neighbour is unmatched, the link is cut, the far node is stopped, it or the far
   session is stopped for good, i.e. Idle with no timer, or both ends are passive).

What remains then is periodic: KEEPALIVEs (which change nothing) and hold timers,
which matter only after a silent cut; use :meth:`Fabric.advance` to let virtual time
pass for those.

Topology changes (:meth:`Fabric.apply`, a :class:`~bgpemu.router.spec_change.SpecChange`):
nodes and neighbours join and leave while the others run.  A new end is wired to
the end that points back, if any, at once or as soon as one appears (a connection
request that went nowhere meanwhile is re-sent then).  A removed end is stopped with
Cease / Peer De-configured (RFC 4486 §4 subcode 3) and unwired; the far end, if it
stays configured, learns it as from that NOTIFICATION and starts over with a fresh,
unwired session.  Events still queued for a removed end or connection are ignored.
No other session is touched.

A session is a fault domain here too (architecture decision 12): an unexpected
exception while serving one end (its session, its router's handling of what it
received, the encoding of its exports) resets that session alone with Cease / Out of
Resources (:meth:`Session.internal_error <bgpemu.session.fsm.Session.internal_error>`),
counted in its counters and written with its traceback to :attr:`Fabric.events`; the
IdleHoldTimer brings it back and the rest of the fabric runs on, so ``bgpemu solve``
cannot be killed by one session either.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from bgpemu.errors import BgpEmuError
from bgpemu.fabric.apply_change import apply_change
from bgpemu.fabric.events import log_changes, node_report, session_report
from bgpemu.fabric.links import (
    Cut,
    End,
    Pair,
)
from bgpemu.fabric.shard import Shard, SplitRunError, halves, split_point
from bgpemu.fabric.transport import Host, Transport
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.core import Router
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.node_effects import (
    Decided,
    Io,
    NodeEffect,
    Rearm,
    RouterRearm,
)
from bgpemu.router.reconfigure import with_neighbor, without_neighbor
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.router.spec_change import SpecChange
from bgpemu.session import (
    CloseTcp,
    ConnectTcp,
    Effect,
    Send,
    Session,
    StateChanged,
)
from bgpemu.types import Family
from bgpemu.wire.codec import UpdateMemo
from bgpemu.wire.constants import CeaseSubcode

__all__ = ["ConvergenceError", "Fabric"]

logger = logging.getLogger(__name__)
"""Best-path changes at DEBUG, as the TCP runtime logs them (:mod:`bgpemu.runtime.speaker`)."""


class ConvergenceError(BgpEmuError):
    """:meth:`Fabric.run_until_idle` reached ``max_time`` without becoming idle."""


class Fabric:
    """A deterministic, virtual-time network of routers (see the theory of operation)."""

    def __init__(
        self, specs: Sequence[SpeakerSpec], *, seed: int = 0, latency: float = 0.001
    ) -> None:
        if latency <= 0:
            raise ValueError("latency must be positive")
        self.seed = seed
        self.latency = latency
        self.events: list[tuple[float, str, str]] = []
        """A debugging log: (virtual time, node, text) of session transitions, resets,
        faults and operator actions; best-path changes go to :data:`logger` at DEBUG."""
        self.unmatched: list[tuple[str, str]] = []
        """(node, neighbour) pairs whose neighbour address matches no node pointing back."""
        self.elsewhere: frozenset[str] = frozenset()
        """The nodes another process converged (:meth:`split`): their state here is
        that of the split, so :meth:`router` and :meth:`sessions` refuse them."""
        self._renewals = itertools.count(1)
        self._decodes = UpdateMemo()
        """The UPDATEs its sessions decoded (see the theory of operation)."""
        ordered = sorted(specs, key=lambda s: s.name)
        names = [s.name for s in ordered]
        if len(set(names)) != len(names):
            raise ValueError("node names must be unique")
        addresses = [s.local_address for s in ordered]
        if len(set(addresses)) != len(addresses):
            raise ValueError("node local addresses must be unique")
        self._nodes: dict[str, Host] = {s.name: Host(s) for s in ordered}
        self._net = Transport(self._nodes, latency, self._carry_out)
        """The links, connections and event queue (:mod:`bgpemu.fabric.transport`)."""
        for node in self._nodes.values():
            self._make_ends(node)
        self._wire(ordered)
        for node in self._nodes.values():
            self._start_sessions(node)

    @property
    def now(self) -> float:
        """The virtual time, in seconds since the fabric was made."""
        return self._net.now

    # -- construction --------------------------------------------------------------------

    def _make_ends(self, node: Host) -> None:
        for neighbor in sorted(node.spec.neighbors, key=lambda n: n.name):
            rng = random.Random(f"{self.seed}:{node.spec.name}:{neighbor.name}:{node.incarnation}")
            old = node.ends.get(neighbor.name)
            end = End(node=node.spec.name, neighbor=neighbor, session=self._session(neighbor, rng))
            if old is not None and old.pair is not None:
                end.pair, end.side = old.pair, old.side
                ends = list(old.pair.ends)
                ends[old.side] = end
                old.pair.ends = (ends[0], ends[1])
            node.ends[neighbor.name] = end
            node.core.attach(neighbor.name, end.session, neighbor.address)

    def _session(self, neighbor: NeighborSpec, rng: random.Random) -> Session:
        """A new session toward ``neighbor``, decoding through the fabric's memo."""
        session = Session(neighbor.session, rng)
        session.codec.memo = self._decodes
        return session

    def _wire(self, ordered: list[SpeakerSpec]) -> None:
        by_address = {s.local_address: s.name for s in ordered}
        for spec in ordered:
            for end in self._nodes[spec.name].ends.values():
                if end.pair is not None:
                    continue
                far_name = by_address.get(end.neighbor.address)
                far = None
                if far_name is not None and far_name != spec.name:
                    far = next(
                        (
                            e
                            for e in self._nodes[far_name].ends.values()
                            if e.neighbor.address == spec.local_address and e.pair is None
                        ),
                        None,
                    )
                if far is None:
                    self.unmatched.append((spec.name, end.name))
                    continue
                far.side = 1
                pair = Pair(ends=(end, far))
                end.pair = far.pair = pair
                self._net.pairs.append(pair)

    def _start_sessions(self, node: Host) -> None:
        self._carry_out(node, node.core.start(self.now))

    # -- observation ---------------------------------------------------------------------

    def router(self, name: str) -> Router:
        """The router of node ``name``."""
        return self._host(name).router

    def sessions(self, name: str) -> dict[str, Session]:
        """The sessions of node ``name`` by neighbour name."""
        return {n: e.session for n, e in self._host(name).ends.items()}

    def spec(self, name: str) -> SpeakerSpec:
        """The spec node ``name`` runs."""
        return self._nodes[name].spec

    def _host(self, name: str) -> Host:
        if name in self.elsewhere:
            raise SplitRunError(f"node {name} converged in the other process of a split run")
        return self._nodes[name]

    def nodes(self) -> list[str]:
        """The node names, sorted."""
        return list(self._nodes)

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every node's Loc-RIB (:meth:`Router.table`), by node name."""
        return {name: node.router.table() for name, node in self._nodes.items()}

    def _log(self, node: str, text: str) -> None:
        self.events.append((self.now, node, text))

    # -- operator actions ------------------------------------------------------------------

    def announce(self, node: str, route: OriginatedRoute) -> None:
        """Node ``node`` starts originating ``route`` now."""
        target = self._nodes[node]
        self._carry_out(target, target.core.originate(route, self.now))

    def withdraw(self, node: str, family: Family, prefix: str) -> None:
        """Node ``node`` stops originating ``prefix`` now."""
        target = self._nodes[node]
        self._carry_out(target, target.core.withdraw(family, prefix, self.now))

    def set_neighbor_policy(self, node: str, policy: NeighborPolicy) -> None:
        """Node ``node`` takes new settings for neighbour ``policy.name`` now, without
        resetting the session (soft reconfiguration, :mod:`bgpemu.router.reconfigure`);
        a changed import policy also sends the neighbour a ROUTE-REFRESH (RFC 2918 §3).

        The node keeps the settings across a restart (like a saved configuration).
        """
        target = self._nodes[node]
        if policy.name not in target.ends:
            raise KeyError(f"node {node} has no neighbour {policy.name}")
        if not target.running:  # a stopped node takes the settings when it starts
            config = with_neighbor(target.spec.router, policy)
            target.spec = replace(target.spec, router=config)
            return
        effects = target.core.set_neighbor_policy(policy, self.now)
        target.spec = replace(target.spec, router=target.router.config)
        self._log(node, f"{policy.name}: neighbour policy changed")
        self._carry_out(target, effects)

    def request_route_refresh(self, node: str, neighbor: str, family: Family) -> None:
        """Node ``node`` asks ``neighbor`` to re-send ``family`` (RFC 2918 §3)."""
        target = self._nodes[node]
        if neighbor not in target.ends:
            raise KeyError(f"node {node} has no neighbour {neighbor}")
        self._carry_out(target, target.core.request_route_refresh(neighbor, family, self.now))

    def cut_link(self, a: str, b: str, *, silent: bool) -> None:
        """Cut every link between nodes ``a`` and ``b``.

        ``silent``: nothing passes any more and nobody is told; the hold timers find
        out (RFC 4271 §6.5).  Otherwise both sessions are stopped with Cease /
        Administrative Shutdown (RFC 4486 §4) before the link goes down.
        """
        for pair in self._pairs_between(a, b):
            if pair.cut is not None:
                continue
            if silent:
                pair.cut = Cut.SILENT
            else:
                for end in pair.ends:
                    owner = self._nodes[end.node]
                    shutdown = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
                    stop = owner.core.stop_peer(end.name, self.now, shutdown, "link cut")
                    self._carry_out(owner, stop)
                pair.cut = Cut.CLEAN
            self._log(a, f"link to {b} cut ({'silent' if silent else 'clean'})")

    def restore_link(self, a: str, b: str) -> None:
        """Bring the links between ``a`` and ``b`` back.

        After a silent cut the held-back bytes and FINs are delivered (TCP
        retransmission) and lost connection requests are re-sent; after a clean cut
        both sessions are started again.
        """
        for pair in self._pairs_between(a, b):
            cut, pair.cut = pair.cut, None
            if cut is None:
                continue
            self._log(a, f"link to {b} restored")
            if cut is Cut.CLEAN:
                for end in pair.ends:
                    owner = self._nodes[end.node]
                    if owner.running:
                        self._carry_out(owner, owner.core.start_peer(end.name, self.now))
                continue
            self._net.replay(pair)

    def stop_node(self, name: str, *, silent: bool = False) -> None:
        """Stop node ``name``.

        Clean: every session is stopped with Cease / Administrative Shutdown and the
        node refuses connections.  ``silent``: the node vanishes (a crash or power
        loss): nothing is sent, its peers' hold timers find out.  Either way its
        router state is lost.
        """
        node = self._nodes[name]
        if not node.running:
            return
        self._log(name, "node stopped" + (" (silent)" if silent else ""))
        if not silent:
            self._carry_out(node, node.core.stop(self.now))
        else:
            for end in node.ends.values():
                pair = end.pair
                if pair is not None and pair.conn is not None:
                    self._net.close_side(pair.conn, end.side)
        node.running = False
        node.crashed = silent
        node.armed = None
        for end in node.ends.values():
            end.armed = None

    def start_node(self, name: str) -> None:
        """Start a stopped node: a fresh router and fresh sessions, started at once."""
        node = self._nodes[name]
        if node.running:
            return
        node.incarnation += 1
        node.core.router = Router(node.spec.router)
        self._make_ends(node)
        node.running = True
        node.crashed = False
        self._log(name, "node started")
        self._start_sessions(node)
        self._net.arm_router(node)

    # -- topology changes ------------------------------------------------------------------

    def apply(self, change: SpecChange) -> None:
        """Carry out a topology change now (:func:`bgpemu.fabric.apply_change.apply_change`)."""
        apply_change(self, change)

    def add_node(self, spec: SpeakerSpec) -> None:
        """Node ``spec.name`` joins now and starts its sessions (see the theory of operation)."""
        if spec.name in self._nodes:
            raise ValueError(f"a node is already called {spec.name}")
        if any(n.spec.local_address == spec.local_address for n in self._nodes.values()):
            raise ValueError(f"a node already has the address {spec.local_address}")
        node = Host(spec)
        self._nodes[spec.name] = node
        ordered = sorted(self._nodes.items())  # in place: the transport shares the dict
        self._nodes.clear()
        self._nodes.update(ordered)
        self._log(spec.name, "node added")
        ends = [self._new_end(node, n) for n in sorted(spec.neighbors, key=lambda n: n.name)]
        self._join(ends)

    def remove_node(self, name: str, *, subcode: int = CeaseSubcode.PEER_DECONFIGURED) -> None:
        """Node ``name`` leaves for good: every session ends with Cease ``subcode``
        (default Peer De-configured, RFC 4486 §4)."""
        node = self._nodes[name]
        for end in list(node.ends.values()):
            self._drop(node, end, subcode)
        node.running = False
        node.armed = None
        del self._nodes[name]
        self._log(name, "node removed")
        self._find_unmatched()

    def add_neighbor(
        self, name: str, neighbor: NeighborSpec, policy: NeighborPolicy | None = None
    ) -> None:
        """Node ``name`` gets a new neighbour now (router settings ``policy``) and starts
        the session; the node keeps it across a restart."""
        node = self._nodes[name]
        if neighbor.name in node.ends:
            raise ValueError(f"node {name} already has a neighbour {neighbor.name}")
        policy = policy or NeighborPolicy(name=neighbor.name)
        router = with_neighbor(node.spec.router, policy)
        node.spec = replace(node.spec, router=router, neighbors=(*node.spec.neighbors, neighbor))
        self._join([self._new_end(node, neighbor, policy)])

    def remove_neighbor(
        self, name: str, neighbor: str, *, subcode: int = CeaseSubcode.PEER_DECONFIGURED
    ) -> None:
        """Node ``name`` de-configures ``neighbor``: Cease ``subcode`` (default Peer
        De-configured, RFC 4486 §4), its routes withdrawn, its settings forgotten."""
        node = self._nodes[name]
        end = node.ends.get(neighbor)
        if end is None:
            raise KeyError(f"node {name} has no neighbour {neighbor}")
        self._drop(node, end, subcode)
        router = without_neighbor(node.spec.router, neighbor)
        neighbors = tuple(n for n in node.spec.neighbors if n.name != neighbor)
        node.spec = replace(node.spec, router=router, neighbors=neighbors)
        if node.running:
            self._carry_out(node, node.core.remove_neighbor(neighbor, self.now))
        self._log(name, f"{neighbor}: neighbour removed")
        self._find_unmatched()

    def set_routes(self, name: str, routes: tuple[OriginatedRoute, ...]) -> None:
        """The routes node ``name`` starts with after a restart (its configuration)."""
        node = self._nodes[name]
        node.spec = replace(node.spec, router=replace(node.spec.router, routes=routes))

    def _new_end(
        self, node: Host, neighbor: NeighborSpec, policy: NeighborPolicy | None = None
    ) -> End:
        """A fresh end of ``node`` toward ``neighbor``; with ``policy``, a neighbour the
        operator adds (:meth:`Node.add_neighbor <bgpemu.router.node.Node.add_neighbor>`)."""
        seed = f"{self.seed}:{node.spec.name}:{neighbor.name}:{node.incarnation}:"
        rng = random.Random(seed + str(next(self._renewals)))
        end = End(node=node.spec.name, neighbor=neighbor, session=self._session(neighbor, rng))
        if policy is not None and node.running:
            added = node.core.add_neighbor(policy, end.session, neighbor.address, self.now)
            self._carry_out(node, added)
            self._log(node.spec.name, f"{neighbor.name}: neighbour added")
        else:
            if policy is not None:
                self._log(node.spec.name, f"{neighbor.name}: neighbour added")
            node.core.attach(neighbor.name, end.session, neighbor.address)
        node.ends[neighbor.name] = end
        node.ends = dict(sorted(node.ends.items()))
        return end

    def _join(self, ends: list[End]) -> None:
        """Wire ``ends`` to the ends pointing back, then start them (running nodes only)."""
        by_address = {n.spec.local_address: n for n in self._nodes.values()}
        for end in ends:
            node = self._nodes[end.node]
            far_node = by_address.get(end.neighbor.address)
            if far_node is None or far_node is node:
                continue
            far = next(
                (
                    e
                    for e in far_node.ends.values()
                    if e.neighbor.address == node.spec.local_address and e.pair is None
                ),
                None,
            )
            if far is None:
                continue
            end.side, far.side = 0, 1
            pair = Pair(ends=(end, far))
            end.pair = far.pair = pair
            self._net.pairs.append(pair)
            if far_node.running:
                self._net.resend_lost(far)  # its request went nowhere: it arrives now
        for end in ends:
            owner = self._nodes[end.node]
            if owner.running:
                self._carry_out(owner, owner.core.start_peer(end.name, self.now))
        self._find_unmatched()

    def _drop(self, node: Host, end: End, subcode: int) -> None:
        """Stop ``end`` with Cease ``subcode`` and unwire it; a far end that stays
        configured starts over, unwired (see the theory of operation)."""
        if node.running:
            stop = node.core.stop_peer(end.name, self.now, subcode, "neighbour de-configured")
            self._carry_out(node, stop)
        end.armed = None
        del node.ends[end.name]
        node.core.detach(end.name)
        pair, end.pair = end.pair, None
        if pair is None:
            return
        self._net.pairs.remove(pair)
        far = pair.other(end)
        far.pair = None
        far_node = self._nodes.get(far.node)
        if far_node is None or far_node.ends.get(far.name) is not far:
            return
        if far_node.running:
            stop = far_node.core.stop_peer(far.name, self.now, subcode, "peer de-configured")
            self._carry_out(far_node, stop)
        far.armed = None
        self._join([self._new_end(far_node, far.neighbor)])

    def _find_unmatched(self) -> None:
        self.unmatched = [
            (name, end.name)
            for name, node in self._nodes.items()
            for end in node.ends.values()
            if end.pair is None
        ]

    def is_running(self, name: str) -> bool:
        """Node ``name`` exists and is running (not stopped or crashed)."""
        return self._net.is_running(name)

    def _pairs_between(self, a: str, b: str) -> list[Pair]:
        wanted = frozenset((a, b))
        pairs = [p for p in self._net.pairs if p.nodes == wanted]
        if not pairs:
            raise KeyError(f"no link between {a} and {b}")
        return pairs

    # -- running ---------------------------------------------------------------------------

    def run_until_idle(self, max_time: float = 3600) -> float:
        """Run until idle (see the theory of operation); return the virtual seconds elapsed.

        Raises :class:`ConvergenceError` when not idle after ``max_time`` seconds.
        """
        start = self.now
        self._run(max_time)
        return self.now - start

    def halves(self) -> tuple[frozenset[str], frozenset[str]]:
        """Two shares of the nodes for a split run (:func:`~bgpemu.fabric.shard.halves`)."""
        return halves(self._net)

    def run_to_split(self, mine: frozenset[str], max_time: float = 3600) -> bool:
        """Run as :meth:`run_until_idle` does, but stop at the first point, between two
        virtual times, where the fabric may be split into ``mine`` and the rest
        (:func:`~bgpemu.fabric.shard.split_point`); False when it became idle first."""
        return self._run(max_time, partial(split_point, self._net, mine))

    def _run(self, max_time: float, split: Callable[[], bool] | None = None) -> bool:
        limit = self.now + max_time
        net = self._net
        looks = 100 if split is not None else 0  # a session that never comes up: stop
        while not (net.work == 0 and net.idle()):
            due = net.next_time()
            if due is None:
                break
            if due > limit:
                net.now = limit
                raise ConvergenceError(f"not idle after {max_time:g} virtual seconds")
            net.step()
            if looks and (after := net.next_time()) is not None and after > net.now and net.work:
                looks -= 1
                if split is not None and split():
                    return True
        return False

    def split(self, mine: frozenset[str]) -> Shard:
        """This process's share of a split run: it runs ``mine``; the other nodes are
        :attr:`elsewhere` from now on (call it at a :meth:`run_to_split` point)."""
        self.elsewhere = frozenset(self._nodes) - mine
        return Shard(self._net, mine, self.events)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, running every event due meanwhile."""
        target = self.now + seconds
        net = self._net
        while (due := net.next_time()) is not None and due <= target:
            net.step()
        net.now = target

    # -- effects ---------------------------------------------------------------------------

    def _carry_out(self, node: Host, effects: list[NodeEffect]) -> None:
        """Move the bytes and arm the timers the node asks for, in order; log its reports."""
        name = node.spec.name
        for effect in effects:
            match effect:
                case Io(peer=peer, effect=io):
                    self._io(node.ends[peer], io)
                case Rearm(peer=peer):
                    end = node.ends.get(peer)
                    if end is not None:
                        self._net.arm(end)
                case RouterRearm():
                    self._net.arm_router(node)
                case Decided(output=output):
                    log_changes(logger, name, output)
                case _:
                    if (text := node_report(effect)) is not None:
                        self._log(name, text)

    def _io(self, end: End, effect: Effect) -> None:
        match effect:
            case Send(data=data):
                self._net.send(end, data)
            case CloseTcp():
                self._net.close_tcp(end)
            case ConnectTcp():
                self._net.connect_tcp(end)
            case StateChanged(new=new):
                self._net.release_waiting(end, new)
        if (text := session_report(end.name, effect)) is not None:
            self._log(end.node, text)
