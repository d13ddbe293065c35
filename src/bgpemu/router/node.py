"""One BGP node, sans-IO: a :class:`~bgpemu.router.core.Router` with its Sessions.

Theory of operation
-------------------
A :class:`Node` holds the router of one speaker and the *primary* session of each
neighbour (the one whose connection carries routes) and, over TCP, a collision
candidate until the OPENs decide (RFC 4271 §6.8).  It is the one place that glues
sessions and router together, for both engines (the in-memory fabric and the TCP
runtime): those only move bytes and time.

Inputs are method calls with ``now``: a connection up, bytes received on it, its
close (:meth:`Node.connected`, :meth:`Node.received`, :meth:`Node.closed`, connections
numbered by the engine), timers, the effects of a session the engine fed itself (the
fabric, which has one connection per pair, feeds its sessions directly), a router
timer, and operator actions (stop, reset, restart, a policy change, a route refresh
request).  Each returns an ordered list of
:data:`NodeEffect`, which the driver carries out in that order:

* :class:`Io` — one of a session's own effects for neighbour ``peer``'s connection
  (:class:`~bgpemu.session.Send`, :class:`~bgpemu.session.CloseTcp`,
  :class:`~bgpemu.session.ConnectTcp`) or a report to log
  (:class:`~bgpemu.session.StateChanged`, :class:`~bgpemu.session.SessionEstablished`,
  :class:`~bgpemu.session.SessionDown`);
* :class:`Accepted`, :class:`Refused`, :class:`Drop`, :class:`Promote` — what a
  numbered connection carries, or that it is closed (a collision's loser);
* :class:`Rearm` — the session of ``peer`` may have a new deadline;
* :class:`RouterRearm` — the router may have a new deadline (MRAI, max-prefix restart);
* :class:`Decided`, :class:`NotAnnounced`, :class:`Malformed`, :class:`Resetting`,
  :class:`Restarting`, :class:`Fault`, :class:`RouterFault`, :class:`Collision` —
  reports for the log.

What the node does with the session effects it consumes:

* Established / down: the router's ``peer_up`` / ``peer_down`` (RFC 4271 §9.1).
* UPDATEs: consecutive ones go to the router in one call, in order
  (:meth:`Router.updates_received <bgpemu.router.core.Router.updates_received>`).
* ROUTE-REFRESH received: the family is re-sent, between BoRR and EoRR markers when
  both ends support Enhanced Route Refresh (RFC 2918 §4, RFC 7313 §4).
* Router outputs: exports are packed with the target session's codec
  (:func:`~bgpemu.router.exports.export_frames`, one packing per codec context and
  output) and sent; an Announce that did not fit is withdrawn instead and reported
  once per neighbour (RFC 8654 §4); a max-prefix reset stops the session with its
  NOTIFICATION (RFC 4486 §4) and a restart starts it again.
* Faults (architecture decision 12): an exception while serving one neighbour (its
  session, the router's handling of what it received, packing its exports) resets
  that session alone with Cease / Out of Resources (:meth:`Session.internal_error
  <bgpemu.session.fsm.Session.internal_error>`), reported as :class:`Fault`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bgpemu.router.core import Router
from bgpemu.router.exports import Announce, Export, Packed, export_frames
from bgpemu.router.neighbor import NeighborPolicy, peer_info
from bgpemu.router.outputs import RouterOutput
from bgpemu.session import (
    CloseTcp,
    CollisionWinner,
    Effect,
    Input,
    ManualStart,
    ManualStop,
    OpenCollisionDump,
    RouteRefreshReceived,
    Send,
    Session,
    SessionDown,
    SessionEstablished,
    SessionState,
    StateChanged,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    UpdateReceived,
    resolve_collision,
)
from bgpemu.types import Family
from bgpemu.wire import Update
from bgpemu.wire.constants import CeaseSubcode
from bgpemu.wire.context import CodecContext
from bgpemu.wire.describe import describe_notification
from bgpemu.wire.messages import Notification, RouteRefreshSubtype

__all__ = [
    "Accepted",
    "Collision",
    "Decided",
    "Drop",
    "Fault",
    "Io",
    "Malformed",
    "Node",
    "NodeEffect",
    "NotAnnounced",
    "Promote",
    "Rearm",
    "Refused",
    "Resetting",
    "Restarting",
    "RouterFault",
    "RouterRearm",
]


@dataclass(frozen=True, slots=True)
class Io:
    """A session effect for a connection of neighbour ``peer`` (or a report to log):
    ``conn`` None is the primary session's connection, else a collision candidate's."""

    peer: str
    effect: Effect
    conn: int | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """Connection ``conn`` of ``peer`` now carries its primary session, or (``primary``
    False) a collision candidate's (RFC 4271 §6.8)."""

    peer: str
    conn: int
    primary: bool


@dataclass(frozen=True, slots=True)
class Refused:
    """Connection ``conn`` of ``peer`` is refused in ``state``: close it (RFC 4271
    §8.2.2: Idle refuses connections; §6.8: one colliding with Established is closed)."""

    peer: str
    conn: int
    state: SessionState


@dataclass(frozen=True, slots=True)
class Drop:
    """Close connection ``conn`` of ``peer`` now (after the effects before this one)."""

    peer: str
    conn: int


@dataclass(frozen=True, slots=True)
class Promote:
    """The collision candidate on ``conn`` wins: it is ``peer``'s primary session now
    and its connection the primary one (the old one, if any, is closed)."""

    peer: str
    conn: int


@dataclass(frozen=True, slots=True)
class Collision:
    """RFC 4271 §6.8: of two connections of ``peer``, the ``inbound`` one (else the
    outbound one) is closed with Cease / Connection Collision Resolution."""

    peer: str
    inbound: bool


@dataclass(frozen=True, slots=True)
class Rearm:
    """The session of ``peer`` may have a new deadline (``Session.next_deadline``)."""

    peer: str


@dataclass(frozen=True, slots=True)
class RouterRearm:
    """The router may have a new deadline (``Router.next_deadline``)."""


@dataclass(frozen=True, slots=True)
class Decided:
    """The router produced ``output`` (its best-path changes, read only if logged)."""

    output: RouterOutput


@dataclass(frozen=True, slots=True)
class NotAnnounced:
    """An Announce to ``peer`` went out as a withdrawal (RFC 8654 §4); first time only."""

    peer: str
    text: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """``update`` from ``peer`` had RFC 7606 issues (treat-as-withdraw, ...): log them."""

    peer: str
    update: Update


@dataclass(frozen=True, slots=True)
class Resetting:
    """The session of ``peer`` is stopped with ``notification`` (maximum prefixes, or an
    operator's reset)."""

    peer: str
    notification: Notification


@dataclass(frozen=True, slots=True)
class Restarting:
    """The session of ``peer`` starts again after a reset (max-prefix restart timer, or
    the operator)."""

    peer: str


@dataclass(frozen=True, slots=True)
class Fault:
    """An unexpected error while serving ``peer`` (decision 12).

    ``resetting``: it happened while resetting the session after another one; the
    connection is then closed without further ado (a :class:`Io` CloseTcp follows).
    """

    peer: str
    error: BaseException
    resetting: bool = False


@dataclass(frozen=True, slots=True)
class RouterFault:
    """An unexpected error in the router's timers: no session to blame."""

    error: BaseException


NodeEffect = (
    Io
    | Accepted
    | Refused
    | Drop
    | Promote
    | Collision
    | Rearm
    | RouterRearm
    | Decided
    | NotAnnounced
    | Malformed
    | Resetting
    | Restarting
    | Fault
    | RouterFault
)

_PackCache = dict[tuple[CodecContext, Export], Packed]
_OPENING = (SessionState.OPEN_SENT, SessionState.OPEN_CONFIRM)
_UP = (SessionState.OPEN_SENT, SessionState.OPEN_CONFIRM, SessionState.ESTABLISHED)


@dataclass(slots=True, eq=False)
class _Candidate:
    """A second connection's session until its OPEN decides the collision (§6.8)."""

    conn: int
    session: Session
    inbound: bool


_Step = Callable[[Session], list[Effect]]
_CLOSE = CloseTcp()


class Node:
    """A router and the primary session of each neighbour (see the theory of operation)."""

    def __init__(self, router: Router, *, address_of: dict[str, str] | None = None) -> None:
        self.router = router
        self.sessions: dict[str, Session] = {}
        """The primary session of each neighbour, by name (the drivers keep it current)."""
        self.addresses: dict[str, str] = dict(address_of or {})
        """Each neighbour's address (for the router's peer information)."""
        self._not_announced: set[str] = set()
        self._rngs: dict[str, random.Random] = {}
        self._main: dict[str, tuple[int, bool]] = {}
        """The primary session's connection of each neighbour: (id, inbound)."""
        self._candidates: dict[str, _Candidate] = {}

    # -- the session of one neighbour ------------------------------------------------------

    def attach(
        self, peer: str, session: Session, address: str, rng: random.Random | None = None
    ) -> None:
        """Make ``session`` the primary session of neighbour ``peer`` at ``address``.

        ``rng``: the jitter source of collision candidates (RFC 4271 §6.8); without it
        a second connection is refused (an engine with one connection per pair).
        """
        self.sessions[peer] = session
        self.addresses[peer] = address
        self._main.pop(peer, None)  # a new session starts unconnected
        self._candidates.pop(peer, None)
        if rng is not None:
            self._rngs[peer] = rng

    def detach(self, peer: str) -> None:
        """Forget neighbour ``peer``'s session (the neighbour was removed)."""
        self.sessions.pop(peer, None)
        self._main.pop(peer, None)
        self._candidates.pop(peer, None)

    # -- connections (an engine that numbers them: TCP) -------------------------------------

    def connected(self, peer: str, conn: int, *, inbound: bool, now: float) -> list[NodeEffect]:
        """Connection ``conn`` with ``peer`` is up (``inbound``: the peer opened it).

        It carries the primary session when that has none (an inbound one only while
        the session listens, Connect or Active); in OpenSent or OpenConfirm it gets a
        candidate session until the OPENs decide (RFC 4271 §6.8); else it is refused.
        """
        out: list[NodeEffect] = []
        session = self.sessions.get(peer)
        if session is None:
            out.append(Refused(peer, conn, SessionState.IDLE))
            return out
        state = session.state
        listening = state in (SessionState.CONNECT, SessionState.ACTIVE)
        if peer not in self._main and (listening or not inbound):
            self._main[peer] = (conn, inbound)
            out.append(Accepted(peer, conn, primary=True))
            event = TcpConnectionConfirmed() if inbound else TcpCrAcked()
            self._call(out, peer, _feeding(event, now), now)
            return out
        rng = self._rngs.get(peer)
        if state not in _OPENING or peer in self._candidates or rng is None:
            out.append(Refused(peer, conn, state))
            return out
        candidate = _Candidate(conn, Session(session.config, rng), inbound)
        candidate.session.handle(ManualStart(passive=True), now)
        self._candidates[peer] = candidate
        out.append(Accepted(peer, conn, primary=False))
        event = TcpConnectionConfirmed() if inbound else TcpCrAcked()
        self._candidate_effects(out, peer, candidate, candidate.session.handle(event, now))
        return out

    def received(self, peer: str, conn: int, data: bytes, now: float) -> list[NodeEffect]:
        """Bytes arrived on connection ``conn`` of ``peer`` (primary or candidate)."""
        out: list[NodeEffect] = []
        candidate = self._candidates.get(peer)
        if candidate is not None and candidate.conn == conn:
            try:
                effects = candidate.session.receive_data(data, now)
            except Exception as exc:
                self._internal_error(out, peer, exc, now)
                return out
            if self._candidate_wins(peer):
                # Promote it before carrying out what it received: one read can hold the
                # peer's OPEN, KEEPALIVE and first UPDATEs, and the router must see that
                # Established and those routes.
                self._resolve_collision(out, peer, now)
            if self._candidates.get(peer) is candidate:
                self._candidate_effects(out, peer, candidate, effects)
                self._resolve_collision(out, peer, now)
            else:
                self._effects(out, peer, effects, now)
            return out
        main = self._main.get(peer)
        if main is not None and main[0] == conn:
            self._call(out, peer, lambda s: s.receive_data(data, now), now)
        return out

    def closed(self, peer: str, conn: int, now: float) -> list[NodeEffect]:
        """Connection ``conn`` of ``peer`` closed or failed under the session."""
        out: list[NodeEffect] = []
        candidate = self._candidates.get(peer)
        if candidate is not None and candidate.conn == conn:
            del self._candidates[peer]
            effects = candidate.session.handle(TcpConnectionFails(), now)
            self._candidate_effects(out, peer, candidate, effects)
            return out
        main = self._main.get(peer)
        if main is not None and main[0] == conn:
            del self._main[peer]
            self._call(out, peer, _feeding(TcpConnectionFails(), now), now)
        return out

    def stop(self, peer: str, subcode: int, now: float) -> list[NodeEffect]:
        """Stop ``peer``'s session (and a collision candidate) with Cease ``subcode``."""
        out: list[NodeEffect] = []
        candidate = self._candidates.get(peer)
        if candidate is not None:
            self._candidate_effects(out, peer, candidate, candidate.session.stop(now, subcode))
        self._call(out, peer, lambda s: s.stop(now, subcode), now)
        return out

    def next_deadline(self, peer: str) -> float | None:
        """The earliest timer deadline of ``peer``'s sessions (primary and candidate)."""
        session = self.sessions.get(peer)
        candidate = self._candidates.get(peer)
        deadlines = [
            d
            for s in (session, candidate.session if candidate else None)
            if s is not None and (d := s.next_deadline()) is not None
        ]
        return min(deadlines, default=None)

    def on_timers(self, peer: str, now: float) -> list[NodeEffect]:
        """Fire the timers of ``peer``'s sessions (primary and candidate) due at ``now``."""
        out: list[NodeEffect] = []
        session = self.sessions.get(peer)
        if session is not None and (d := session.next_deadline()) is not None and d <= now:
            self._call(out, peer, lambda s: s.on_timer(now), now)
        candidate = self._candidates.get(peer)
        due = None if candidate is None else candidate.session.next_deadline()
        if candidate is not None and due is not None and due <= now:
            self._candidate_effects(out, peer, candidate, candidate.session.on_timer(now))
        return out

    def _candidate_effects(
        self, out: list[NodeEffect], peer: str, candidate: _Candidate, effects: list[Effect]
    ) -> None:
        """A candidate only moves bytes until it wins (nothing reaches the router)."""
        for effect in effects:
            match effect:
                case Send() | StateChanged() | SessionDown():
                    out.append(Io(peer, effect, candidate.conn))
                case CloseTcp():
                    out.append(Io(peer, effect, candidate.conn))
                    if self._candidates.get(peer) is candidate:
                        del self._candidates[peer]
                case _:
                    pass

    def _candidate_wins(self, peer: str) -> bool:
        """RFC 4271 §6.8: the candidate's OPEN is in and its connection is the one to keep."""
        candidate = self._candidates.get(peer)
        if candidate is None or candidate.session.peer_open is None:
            return False
        main = self._main.get(peer)
        session = self.sessions[peer]
        if main is None or session.state not in _UP:
            return True
        if session.state == SessionState.ESTABLISHED:
            return False
        winner = resolve_collision(
            session.config.bgp_identifier, candidate.session.peer_open.bgp_identifier
        )
        return (winner == CollisionWinner.LOCALLY_INITIATED) != (not main[1])

    def _resolve_collision(self, out: list[NodeEffect], peer: str, now: float) -> None:
        """RFC 4271 §6.8: once the candidate's OPEN is in, keep one connection."""
        candidate = self._candidates.get(peer)
        if candidate is None or candidate.session.peer_open is None:
            return
        keep_main = not self._candidate_wins(peer)
        main = self._main.get(peer)
        if main is None or self.sessions[peer].state not in _UP:
            self._promote(out, peer, candidate)
            return
        if keep_main:
            out.append(Collision(peer, candidate.inbound))
            dump = candidate.session.handle(OpenCollisionDump(), now)
            self._candidate_effects(out, peer, candidate, dump)
            self._candidates.pop(peer, None)
            out.append(Drop(peer, candidate.conn))
            return
        out.append(Collision(peer, main[1]))
        self._call(out, peer, _feeding(OpenCollisionDump(), now), now)
        self._main.pop(peer, None)
        out.append(Drop(peer, main[0]))
        self._promote(out, peer, candidate)

    def _promote(self, out: list[NodeEffect], peer: str, candidate: _Candidate) -> None:
        old = self.sessions[peer]
        candidate.session.counters.internal_errors += old.counters.internal_errors
        self.sessions[peer] = candidate.session
        self._main[peer] = (candidate.conn, candidate.inbound)
        self._candidates.pop(peer, None)
        out.append(Promote(peer, candidate.conn))

    def session_effects(self, peer: str, effects: list[Effect], now: float) -> list[NodeEffect]:
        """Carry out what ``peer``'s session returned; what is left for the driver."""
        out: list[NodeEffect] = []
        self._effects(out, peer, effects, now)
        return out

    def handle(self, peer: str, event: ManualStart | ManualStop, now: float) -> list[NodeEffect]:
        """Feed an operator ``event`` to ``peer``'s session (start, stop)."""
        out: list[NodeEffect] = []
        self._call(out, peer, _feeding(event, now), now)
        return out

    def on_timer(self, peer: str, now: float) -> list[NodeEffect]:
        """``peer``'s session deadline has passed (RFC 4271 §10 timers)."""
        out: list[NodeEffect] = []
        self._call(out, peer, lambda s: s.on_timer(now), now)
        return out

    def receive(self, peer: str, data: bytes, now: float) -> list[NodeEffect]:
        """Bytes arrived on ``peer``'s connection."""
        out: list[NodeEffect] = []
        self._call(out, peer, lambda s: s.receive_data(data, now), now)
        return out

    def request_route_refresh(self, peer: str, family: Family, now: float) -> list[NodeEffect]:
        """Ask ``peer`` to re-send ``family`` (RFC 2918 §3)."""
        out: list[NodeEffect] = []
        self._call(out, peer, _asking(family, now), now)
        return out

    def reset(self, peer: str, notification: Notification, now: float) -> list[NodeEffect]:
        """Stop ``peer``'s session with ``notification`` (RFC 4486 §4: maximum prefixes,
        or an operator's Administrative Shutdown / Reset); it stays down until
        :meth:`restart`."""
        out: list[NodeEffect] = []
        self._reset(out, peer, notification, now)
        return out

    def restart(self, peer: str, now: float) -> list[NodeEffect]:
        """Start ``peer``'s session again after a :meth:`reset`."""
        out: list[NodeEffect] = []
        self._restart(out, peer, now)
        return out

    def internal_error(self, peer: str, exc: BaseException, now: float) -> list[NodeEffect]:
        """Reset ``peer``'s session alone after ``exc`` (decision 12)."""
        out: list[NodeEffect] = []
        self._internal_error(out, peer, exc, now)
        return out

    # -- the router ---------------------------------------------------------------------------

    def apply_output(self, output: RouterOutput, now: float) -> list[NodeEffect]:
        """Carry out a router output (exports, resets, restarts)."""
        out: list[NodeEffect] = []
        self._output(out, output, now)
        return out

    def on_router_timer(self, now: float) -> list[NodeEffect]:
        """The router's deadline has passed (MRAI flushes, max-prefix restarts)."""
        try:
            output = self.router.on_timer(now)
        except Exception as exc:  # no session to blame: report it, run on
            return [RouterFault(exc)]
        return self.apply_output(output, now)

    def set_neighbor_policy(self, policy: NeighborPolicy, now: float) -> list[NodeEffect]:
        """New settings for neighbour ``policy.name`` without a reset (soft
        reconfiguration); a changed import policy also sends a ROUTE-REFRESH (RFC 2918 §3).
        A policy that raises resets that neighbour's session (decision 12)."""
        out: list[NodeEffect] = []
        try:
            output = self.router.set_neighbor_policy(policy, now)
        except Exception as exc:
            output = RouterOutput()
            self._internal_error(out, policy.name, exc, now)
        self._output(out, output, now)
        for peer, family in output.refreshes:
            self._call(out, peer, _asking(family, now), now)
        return out

    # -- inside ---------------------------------------------------------------------------------

    def _call(self, out: list[NodeEffect], peer: str, step: _Step, now: float) -> None:
        session = self.sessions.get(peer)
        if session is None:
            return
        try:
            effects = step(session)
        except Exception as exc:
            self._internal_error(out, peer, exc, now)
            return
        self._effects(out, peer, effects, now)

    def _effects(self, out: list[NodeEffect], peer: str, effects: list[Effect], now: float) -> None:
        """Apply a session's effects in order; an exception resets that session alone."""
        try:
            self._carry_out(out, peer, effects, now)
        except Exception as exc:
            self._internal_error(out, peer, exc, now)
            return
        out.append(Rearm(peer))

    def _carry_out(
        self, out: list[NodeEffect], peer: str, effects: Iterable[Effect], now: float
    ) -> None:
        router = self.router
        updates: list[Update] = []
        for effect in effects:
            if type(effect) is UpdateReceived:
                updates.append(effect.update)
                continue
            if updates:
                self._updates(out, peer, updates, now)
                updates = []
            match effect:
                case SessionEstablished(negotiated=agreed):
                    out.append(Io(peer, effect))
                    info = peer_info(peer, self.addresses.get(peer, ""), agreed)
                    self._output(out, router.peer_up(info, agreed.families, now), now)
                case SessionDown():
                    out.append(Io(peer, effect))
                    self._output(out, router.peer_down(peer, now), now)
                case RouteRefreshReceived(refresh=refresh):
                    self._refresh(out, peer, refresh.family, now)
                case CloseTcp():
                    self._main.pop(peer, None)
                    out.append(Io(peer, effect))
                case _:
                    out.append(Io(peer, effect))
        if updates:
            self._updates(out, peer, updates, now)

    def _updates(self, out: list[NodeEffect], peer: str, updates: list[Update], now: float) -> None:
        for update in updates:
            if update.issues:
                out.append(Malformed(peer, update))  # RFC 7606 §6: logged by the driver
        self._output(out, self.router.updates_received(peer, updates, now), now)

    def _refresh(self, out: list[NodeEffect], peer: str, family: Family, now: float) -> None:
        """Re-send ``family`` between BoRR and EoRR when both ends support RFC 7313."""
        session = self.sessions[peer]
        begin, end = RouteRefreshSubtype.BEGIN_OF_RIB, RouteRefreshSubtype.END_OF_RIB
        self._effects(out, peer, session.demarcate_refresh(family, begin, now), now)
        self._output(out, self.router.route_refresh(peer, family, now), now)
        self._effects(out, peer, session.demarcate_refresh(family, end, now), now)

    def _output(self, out: list[NodeEffect], output: RouterOutput, now: float) -> None:
        """Send a router's exports, resets and restarts through the sessions."""
        out.append(Decided(output))
        packed: _PackCache = {}  # equal exports to several peers are packed once
        for peer, exports in output.exports.items():
            if peer in self.sessions:
                self._send_exports(out, peer, exports, packed, now)
        for reset in output.resets:
            if reset.peer not in self.sessions:
                continue
            if reset.error is not None:  # a bug while serving that peer (decision 12)
                self._internal_error(out, reset.peer, reset.error, now)
                continue
            self._reset(out, reset.peer, reset.notification, now)
        for peer in output.restarts:
            if peer in self.sessions:  # else de-configured while its restart was pending
                self._restart(out, peer, now)
        out.append(RouterRearm())

    def _reset(self, out: list[NodeEffect], peer: str, n: Notification, now: float) -> None:
        out.append(Resetting(peer, n))
        reason = describe_notification(n.code, n.subcode)
        stop = ManualStop(subcode=n.subcode, data=n.data, reason=reason)
        # A connection still being set up must not come back later as the session.
        candidate = self._candidates.get(peer)
        if candidate is not None:
            try:
                effects = candidate.session.handle(stop, now)
            except Exception as exc:
                self._internal_error(out, peer, exc, now)
                return
            self._candidate_effects(out, peer, candidate, effects)
        self._call(out, peer, _feeding(stop, now), now)

    def _restart(self, out: list[NodeEffect], peer: str, now: float) -> None:
        out.append(Restarting(peer))
        self._call(out, peer, _feeding(ManualStart(), now), now)

    def _send_exports(
        self,
        out: list[NodeEffect],
        peer: str,
        exports: list[Export],
        packed: _PackCache,
        now: float,
    ) -> None:
        """Pack and send ``exports`` to ``peer``; an error resets ``peer`` alone."""
        session = self.sessions[peer]
        try:
            codec = session.codec
            context = codec.context
            for export in exports:
                done = packed.get((context, export))
                if done is None:
                    done = packed[(context, export)] = export_frames(codec, export)
                if done.not_announced is not None and isinstance(export, Announce):
                    self.router.not_announced(peer, export)
                    if peer not in self._not_announced:  # once per neighbour: tables are big
                        self._not_announced.add(peer)
                        out.append(NotAnnounced(peer, done.not_announced))
                self._effects(out, peer, session.send_update_frames(done.frames, now), now)
        except Exception as exc:
            self._internal_error(out, peer, exc, now)

    def _internal_error(
        self, out: list[NodeEffect], peer: str, exc: BaseException, now: float
    ) -> None:
        session = self.sessions.get(peer)
        if session is None:
            return
        out.append(Fault(peer, exc))
        reason = f"internal error: {exc!r}"
        candidate = self._candidates.pop(peer, None)
        try:
            if candidate is not None:  # stopped with the session, then closed
                stop = ManualStop(subcode=CeaseSubcode.OUT_OF_RESOURCES, reason=reason)
                self._candidate_effects(out, peer, candidate, candidate.session.handle(stop, now))
                out.append(Drop(peer, candidate.conn))
            self._carry_out(out, peer, session.internal_error(now, reason), now)
        except Exception as again:  # e.g. the router failing again on peer_down
            out.append(Fault(peer, again, resetting=True))
            if candidate is not None:
                out.append(Drop(peer, candidate.conn))
            self._main.pop(peer, None)
            out.append(Io(peer, _CLOSE))
        out.append(Rearm(peer))


def _feeding(event: Input, now: float) -> _Step:
    """A step that feeds ``event`` to a session."""
    return lambda session: session.handle(event, now)


def _asking(family: Family, now: float) -> _Step:
    """A step that asks a session's peer to re-send ``family`` (RFC 2918 §3)."""
    return lambda session: session.request_route_refresh(family, now)
