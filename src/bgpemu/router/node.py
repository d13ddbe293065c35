"""One BGP node, sans-IO: a :class:`~bgpemu.router.core.Router` with its Sessions.

Theory of operation
-------------------
A :class:`Node` holds the router of one speaker and the *primary* session of each
neighbour (the one whose connection carries routes) and, over TCP, a collision
candidate until the OPENs decide (RFC 4271 §6.8).  It is the one place that glues
sessions and router together, for both engines (the in-memory fabric and the TCP
runtime): those only move bytes and time.

Inputs are method calls with ``now``: a connection up, bytes received on it, its
close, a connection attempt that failed (:meth:`Node.connected`, :meth:`Node.received`,
:meth:`Node.closed`, :meth:`Node.connect_failed`, connections numbered by the engine;
which connection carries what, and collisions, are :mod:`bgpemu.router.neighbor_connections`),
session timers (:meth:`Node.on_timers`), a router timer, and operator actions: the
whole node started or stopped (:meth:`Node.start`, :meth:`Node.stop` with a Cease
subcode), one session started, stopped, reset or restarted, routes originated or
withdrawn, a neighbour added, re-configured or removed, a route refresh requested.
The engines call these and carry out what they return; they never feed a session
themselves.  Each returns an ordered list of
:data:`~bgpemu.router.node_effects.NodeEffect` (the effect types are defined, and
imported from, :mod:`bgpemu.router.node_effects`), which the driver carries out in that
order:

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
from collections.abc import Iterable
from typing import Any

from bgpemu.rib.path import Path
from bgpemu.router.config import OriginatedRoute
from bgpemu.router.core import Router
from bgpemu.router.exports import Announce, Export, Packed, export_frames
from bgpemu.router.neighbor import NeighborPolicy, peer_info
from bgpemu.router.neighbor_connections import Connections, Step, feeding
from bgpemu.router.node_effects import (
    Decided,
    Drop,
    Fault,
    Io,
    Malformed,
    NodeEffect,
    NotAnnounced,
    Rearm,
    Resetting,
    Restarting,
    RouterFault,
    RouterRearm,
)
from bgpemu.router.outputs import RouterOutput
from bgpemu.router.table import path_json
from bgpemu.session import (
    CloseTcp,
    Effect,
    ManualStart,
    ManualStop,
    RouteRefreshReceived,
    Session,
    SessionDown,
    SessionEstablished,
    TcpConnectionFails,
    UpdateReceived,
)
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire import Update
from bgpemu.wire.constants import CeaseSubcode
from bgpemu.wire.context import CodecContext
from bgpemu.wire.describe import describe_notification
from bgpemu.wire.messages import Notification, RouteRefreshSubtype

__all__ = ["Node"]


_PackCache = dict[tuple[CodecContext, Export], Packed]
_CLOSE = CloseTcp()


class Node(Connections):
    """A router and the primary session of each neighbour (see the theory of operation)."""

    def __init__(self, router: Router, *, address_of: dict[str, str] | None = None) -> None:
        super().__init__(address_of=address_of)
        self.router = router
        self._not_announced: set[str] = set()

    # -- the node as a whole -------------------------------------------------------------

    def start(self, now: float) -> list[NodeEffect]:
        """Start every session (RFC 4271 §8.1.2 event 1, ManualStart), in name order."""
        out: list[NodeEffect] = []
        for peer in sorted(self.sessions):
            self._call(out, peer, feeding(ManualStart(), now), now)
        return out

    def stop(
        self, now: float, subcode: int = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN
    ) -> list[NodeEffect]:
        """Stop every session with Cease ``subcode`` (RFC 4486 §4), in name order."""
        out: list[NodeEffect] = []
        for peer in sorted(self.sessions):
            out.extend(self.stop_peer(peer, now, subcode))
        return out

    def originate(self, route: OriginatedRoute, now: float) -> list[NodeEffect]:
        """Start (or change) originating ``route`` and send what changed."""
        out: list[NodeEffect] = []
        self._output(out, self.router.originate(route, now), now)
        return out

    def withdraw(self, family: Family, prefix: str, now: float) -> list[NodeEffect]:
        """Stop originating ``prefix`` and send what changed."""
        out: list[NodeEffect] = []
        self._output(out, self.router.withdraw_originated(family, prefix, now), now)
        return out

    def add_neighbor(
        self,
        policy: NeighborPolicy,
        session: Session,
        address: str,
        now: float,
        rng: random.Random | None = None,
    ) -> list[NodeEffect]:
        """Neighbour ``policy.name`` at ``address`` joins: the router takes its settings
        before its session can come up, and ``session`` is :meth:`attach`-ed (start it
        with :meth:`start_peer`).  ValueError if the node has that neighbour already."""
        if policy.name in self.sessions:
            raise ValueError(f"already a neighbour: {policy.name}")
        out: list[NodeEffect] = []
        self._output(out, self.router.set_neighbor_policy(policy, now), now)
        self.attach(policy.name, session, address, rng)
        return out

    def remove_neighbor(self, peer: str, now: float) -> list[NodeEffect]:
        """Neighbour ``peer`` is de-configured (stop its session first, :meth:`stop_peer`
        with Cease / Peer De-configured, RFC 4486 §4): its session is forgotten, its
        paths withdrawn (RFC 4271 §9.1) and its settings dropped."""
        self.detach(peer)
        out: list[NodeEffect] = []
        self._output(out, self.router.remove_neighbor(peer, now), now)
        return out

    def received_paths(self) -> list[Path]:
        """Every path in every neighbour's Adj-RIB-In as received (before import
        policy), by neighbour name, family, prefix and path id."""
        paths: list[Path] = []
        for name in sorted(self.sessions):
            rib = self.router.adj_rib_in(name)
            if rib is None:
                continue
            for family in (IPV4_UNICAST, IPV6_UNICAST):
                paths.extend(sorted(rib.paths_pre(family), key=lambda p: (p.prefix, p.path_id)))
        return paths

    def received_routes(self) -> list[dict[str, Any]]:
        """:meth:`received_paths` as JSON-ready documents (the speaker's dump)."""
        return [
            {
                "peer": path.source.name,
                "prefix": path.prefix,
                "family": str(path.family),
                "path_id": path.path_id,
                **{k: v for k, v in path_json(path).items() if k != "peer"},
            }
            for path in self.received_paths()
        ]

    # -- the session of one neighbour --------------------------------------------------------

    def session_effects(self, peer: str, effects: list[Effect], now: float) -> list[NodeEffect]:
        """Carry out what ``peer``'s session returned; what is left for the driver."""
        out: list[NodeEffect] = []
        self._effects(out, peer, effects, now)
        return out

    def start_peer(self, peer: str, now: float) -> list[NodeEffect]:
        """Start ``peer``'s session (RFC 4271 §8.1.2 event 1, ManualStart)."""
        out: list[NodeEffect] = []
        self._call(out, peer, feeding(ManualStart(), now), now)
        return out

    def connect_failed(self, peer: str, now: float) -> list[NodeEffect]:
        """The connection attempt of ``peer``'s session failed (RFC 4271 §8.1.4 event
        18, TcpConnectionFails)."""
        out: list[NodeEffect] = []
        self._call(out, peer, feeding(TcpConnectionFails(), now), now)
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

    def _call(self, out: list[NodeEffect], peer: str, step: Step, now: float) -> None:
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
        self._call(out, peer, feeding(stop, now), now)

    def _restart(self, out: list[NodeEffect], peer: str, now: float) -> None:
        out.append(Restarting(peer))
        self._call(out, peer, feeding(ManualStart(), now), now)

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


def _asking(family: Family, now: float) -> Step:
    """A step that asks a session's peer to re-send ``family`` (RFC 2918 §3)."""
    return lambda session: session.request_route_refresh(family, now)
