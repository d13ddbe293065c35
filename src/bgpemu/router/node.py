"""One BGP node, sans-IO: a :class:`~bgpemu.router.core.Router` with its Sessions.

Theory of operation
-------------------
A :class:`Node` holds the router of one speaker and the *primary* session of each
neighbour (the one whose connection carries routes; a TCP connection collision's
candidate stays with the TCP driver until it wins).  It is the one place that glues
sessions and router together, for both engines (the in-memory fabric and the TCP
runtime): those only move bytes and time.

Inputs are method calls with ``now``: the effects of a session (what it returned for
bytes received, a connection event or a timer), a router timer, and operator actions
(a policy change, a route refresh request).  Each returns an ordered list of
:data:`NodeEffect`, which the driver carries out in that order:

* :class:`Io` — one of a session's own effects for neighbour ``peer``'s connection
  (:class:`~bgpemu.session.Send`, :class:`~bgpemu.session.CloseTcp`,
  :class:`~bgpemu.session.ConnectTcp`) or a report to log
  (:class:`~bgpemu.session.StateChanged`, :class:`~bgpemu.session.SessionEstablished`,
  :class:`~bgpemu.session.SessionDown`);
* :class:`Rearm` — the session of ``peer`` may have a new deadline;
* :class:`RouterRearm` — the router may have a new deadline (MRAI, max-prefix restart);
* :class:`Decided`, :class:`NotAnnounced`, :class:`Malformed`, :class:`Resetting`,
  :class:`Restarting`, :class:`Fault`, :class:`RouterFault` — reports for the log.

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bgpemu.router.core import Router
from bgpemu.router.exports import Announce, Export, Packed, export_frames
from bgpemu.router.neighbor import NeighborPolicy, peer_info
from bgpemu.router.outputs import RouterOutput
from bgpemu.session import (
    CloseTcp,
    Effect,
    ManualStart,
    ManualStop,
    RouteRefreshReceived,
    Session,
    SessionDown,
    SessionEstablished,
    UpdateReceived,
)
from bgpemu.types import Family
from bgpemu.wire import Update
from bgpemu.wire.context import CodecContext
from bgpemu.wire.describe import describe_notification
from bgpemu.wire.messages import Notification, RouteRefreshSubtype

__all__ = [
    "Decided",
    "Fault",
    "Io",
    "Malformed",
    "Node",
    "NodeEffect",
    "NotAnnounced",
    "Rearm",
    "Resetting",
    "Restarting",
    "RouterFault",
    "RouterRearm",
]


@dataclass(frozen=True, slots=True)
class Io:
    """A session effect for the connection of neighbour ``peer`` (or a report to log)."""

    peer: str
    effect: Effect


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

    # -- the session of one neighbour ------------------------------------------------------

    def attach(self, peer: str, session: Session, address: str) -> None:
        """Make ``session`` the primary session of neighbour ``peer`` at ``address``."""
        self.sessions[peer] = session
        self.addresses[peer] = address

    def detach(self, peer: str) -> None:
        """Forget neighbour ``peer``'s session (the neighbour was removed)."""
        self.sessions.pop(peer, None)

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
        try:
            self._carry_out(out, peer, session.internal_error(now, f"internal error: {exc!r}"), now)
        except Exception as again:  # e.g. the router failing again on peer_down
            out.append(Fault(peer, again, resetting=True))
            out.append(Io(peer, _CLOSE))
        out.append(Rearm(peer))


def _feeding(event: ManualStart | ManualStop, now: float) -> _Step:
    """A step that feeds ``event`` to a session."""
    return lambda session: session.handle(event, now)


def _asking(family: Family, now: float) -> _Step:
    """A step that asks a session's peer to re-send ``family`` (RFC 2918 §3)."""
    return lambda session: session.request_route_refresh(family, now)
