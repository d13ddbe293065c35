"""The connections of a node's neighbours, and their collisions (RFC 4271 §6.8).

Theory of operation
-------------------
:class:`Connections` is the half of :class:`~bgpemu.router.node.Node` that decides
what each connection of a neighbour carries.  The engine numbers its connections
and reports them (:meth:`Connections.connected`, :meth:`~Connections.received`,
:meth:`~Connections.closed`).  A connection carries the neighbour's *primary*
session when that has none (an inbound one only while the session listens, Connect
or Active); one that arrives while the session is in OpenSent or OpenConfirm gets a
*candidate* session until the OPENs decide which connection survives (§6.8: the
connection opened by the speaker with the higher BGP Identifier); any other is
refused.  A candidate waits passively and only moves bytes (nothing reaches the
router) until it wins and is promoted to primary, when it takes the passive mode
of the session it replaces (a passive one would never dial again).

An engine with one connection per pair (the fabric) gives no jitter source
(``rng``) to :meth:`Connections.attach`: a second connection is then refused and no
collision can happen.

The node's other half (:mod:`bgpemu.router.node`) supplies how a primary session's
effects are carried out (:meth:`Connections._call`, :meth:`~Connections._effects`)
and how an internal error resets a neighbour (:meth:`~Connections._internal_error`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bgpemu.router.node_effects import (
    Accepted,
    Collision,
    Drop,
    Io,
    NodeEffect,
    Promote,
    Refused,
)
from bgpemu.session import (
    CloseTcp,
    CollisionWinner,
    Effect,
    Input,
    ManualStart,
    ManualStop,
    OpenCollisionDump,
    Send,
    Session,
    SessionDown,
    SessionState,
    StateChanged,
    TcpConnectionConfirmed,
    TcpConnectionFails,
    TcpCrAcked,
    resolve_collision,
)
from bgpemu.wire.constants import CeaseSubcode

__all__ = ["Connections", "Step", "feeding"]

_OPENING = (SessionState.OPEN_SENT, SessionState.OPEN_CONFIRM)
_UP = (SessionState.OPEN_SENT, SessionState.OPEN_CONFIRM, SessionState.ESTABLISHED)


@dataclass(slots=True, eq=False)
class _Candidate:
    """A second connection's session until its OPEN decides the collision (§6.8)."""

    conn: int
    session: Session
    inbound: bool


Step = Callable[[Session], list[Effect]]
"""One call on a session (feed it an input, ask it to send something)."""


def feeding(event: Input, now: float) -> Step:
    """A step that feeds ``event`` to a session."""
    return lambda session: session.handle(event, now)


class Connections:
    """The sessions of a node's neighbours and the connections under them (§6.8)."""

    def __init__(self, *, address_of: dict[str, str] | None = None) -> None:
        self.sessions: dict[str, Session] = {}
        """The primary session of each neighbour, by name (the drivers keep it current)."""
        self.addresses: dict[str, str] = dict(address_of or {})
        """Each neighbour's address (for the router's peer information)."""
        self._rngs: dict[str, random.Random] = {}
        self._main: dict[str, tuple[int, bool]] = {}
        """The primary session's connection of each neighbour: (id, inbound)."""
        self._candidates: dict[str, _Candidate] = {}

    # -- supplied by the node ------------------------------------------------------------

    def _call(self, out: list[NodeEffect], peer: str, step: Step, now: float) -> None:
        """Run ``step`` on ``peer``'s primary session and carry out its effects."""
        raise NotImplementedError

    def _effects(self, out: list[NodeEffect], peer: str, effects: list[Effect], now: float) -> None:
        """Carry out effects of ``peer``'s primary session."""
        raise NotImplementedError

    def _internal_error(
        self, out: list[NodeEffect], peer: str, exc: BaseException, now: float
    ) -> None:
        """Reset ``peer``'s session alone after ``exc`` (decision 12)."""
        raise NotImplementedError

    # -- the sessions ----------------------------------------------------------------------

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

    # -- connections (numbered by the engine) ----------------------------------------------

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
            self._call(out, peer, feeding(event, now), now)
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
            self._call(out, peer, feeding(TcpConnectionFails(), now), now)
        return out

    def stop_peer(
        self,
        peer: str,
        now: float,
        subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
        reason: str = "stopped",
    ) -> list[NodeEffect]:
        """ManualStop ``peer``'s session (and a collision candidate): Cease ``subcode``
        when OPENs were exchanged (RFC 4271 §8.1.2 event 2, RFC 4486 §4); it stays Idle
        until :meth:`start_peer`.  ``reason`` is what its SessionDown says."""
        out: list[NodeEffect] = []
        stop = ManualStop(subcode=subcode, reason=reason)
        candidate = self._candidates.get(peer)
        if candidate is not None:
            self._candidate_effects(out, peer, candidate, candidate.session.handle(stop, now))
        self._call(out, peer, feeding(stop, now), now)
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
        self._call(out, peer, feeding(OpenCollisionDump(), now), now)
        self._main.pop(peer, None)
        out.append(Drop(peer, main[0]))
        self._promote(out, peer, candidate)

    def _promote(self, out: list[NodeEffect], peer: str, candidate: _Candidate) -> None:
        """The candidate's session is the neighbour's from now on (RFC 4271 §6.8); after
        its next fall to Idle it dials again unless the peering is passive (§8.1.1)."""
        candidate.session.succeed(self.sessions[peer])
        self.sessions[peer] = candidate.session
        self._main[peer] = (candidate.conn, candidate.inbound)
        self._candidates.pop(peer, None)
        out.append(Promote(peer, candidate.conn))
