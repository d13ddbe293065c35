"""One BGP speaker over asyncio TCP: a listener, one driver per neighbour, and the router.

Every task belongs to the speaker's TaskGroup and has a name.  :meth:`Speaker.run`
returns after :meth:`Speaker.request_stop`, once every session has sent its Cease
NOTIFICATION (RFC 4486 §4, Administrative Shutdown) and closed.

Neighbours change while the speaker runs (a topology change, issue 6), each without
disturbing the other sessions: :meth:`Speaker.add_neighbor` starts one more driver in
the same TaskGroup and lets the listener accept its address; :meth:`Speaker.remove_neighbor`
closes the session with Cease / Peer De-configured (RFC 4486 §4, subcode 3), waits for
the driver to end, withdraws the neighbour's routes and forgets its settings, after
which a connection from its address is refused; :meth:`Speaker.reset_neighbor` closes
it with Cease / Other Configuration Change (subcode 6) and opens it again with new
session settings.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bgpemu.rib import Path
from bgpemu.router import OriginatedRoute, Router, RouterOutput
from bgpemu.router import node_effects as fx
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.node import Node
from bgpemu.router.spec import NeighborSpec, SpeakerSpec
from bgpemu.runtime.daemon_gc import daemon_gc
from bgpemu.runtime.listener import Listener, normal_address
from bgpemu.runtime.peer import PeerDriver
from bgpemu.session import SessionState
from bgpemu.types import Family
from bgpemu.wire.constants import CeaseSubcode
from bgpemu.wire.describe import describe_notification

__all__ = ["Speaker"]

logger = logging.getLogger(__name__)

_ROUTER_ERROR_PAUSE = 1.0
"""Seconds the router timers wait after an internal error before the next deadline."""


class Speaker:
    """Runs the speaker described by ``spec`` until asked to stop."""

    def __init__(self, spec: SpeakerSpec, *, rng: random.Random | None = None) -> None:
        self.spec = spec
        self.router = Router(spec.router)
        self.node = Node(self.router)
        """The router and the sessions glued together (:mod:`bgpemu.router.node`)."""
        self._router_wake = asyncio.Event()
        self._rng = rng if rng is not None else random.Random()
        self._peers: dict[str, PeerDriver] = {}
        self._listener = Listener(spec.name)
        """The listening socket (:mod:`bgpemu.runtime.listener`)."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._tg: asyncio.TaskGroup | None = None
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._change: asyncio.Future[None] | None = None
        self.output_listeners: list[Callable[[RouterOutput], None]] = []
        """Called with every output of the router as it is carried out, before anything
        can read the tables again: the MQTT feed takes its deltas from them
        (:mod:`bgpemu.observe.journal`)."""

    @property
    def bound_port(self) -> int | None:
        """The port the speaker listens on, once :meth:`run` has bound it."""
        return self._listener.bound_port

    @property
    def refused_connections(self) -> int:
        """TCP connections from addresses that are no neighbour's, accepted and closed."""
        return self._listener.refused

    @property
    def peers(self) -> dict[str, PeerDriver]:
        """The neighbour drivers by name (filled once :meth:`run` has started)."""
        return self._peers

    async def run(self) -> None:
        """Listen, start every session, and run until :meth:`request_stop`.

        The process's garbage collector runs with :func:`daemon_gc` meanwhile.
        """
        with daemon_gc():
            await self._run()

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            listener = self._listener
            if self.spec.listen:
                keys = [
                    (n.address, n.tcp_md5_key, n.name)
                    for n in self.spec.neighbors
                    if n.tcp_md5_key is not None
                ]
                await listener.open(self.spec.local_address, self.spec.port, keys)
            self._tg = tg
            for neighbor in self.spec.neighbors:
                self._start_peer(tg, neighbor)
            timers = tg.create_task(self._router_timers(), name=f"bgp-mrai-{self.spec.name}")
            self._ready.set()
            await self._stop.wait()
            timers.cancel()
            listener.close()
            for driver in list(self._peers.values()):
                await driver.stop()
            await listener.wait_closed()

    def _start_peer(
        self, tg: asyncio.TaskGroup, neighbor: NeighborSpec, policy: NeighborPolicy | None = None
    ) -> None:
        """Start the driver of ``neighbor``; with ``policy``, a neighbour added while the
        speaker runs (:meth:`Node.add_neighbor <bgpemu.router.node.Node.add_neighbor>`)."""
        driver = PeerDriver(
            neighbor,
            local_address=self.spec.local_address,
            node=self.node,
            carry_out=self._carry_out,
            rng=self._rng,
            task_group=tg,
            on_change=self._notify,
            speaker_name=self.spec.name,
        )
        if policy is None:
            self.node.attach(neighbor.name, driver.session, neighbor.address, self._rng)
        else:
            now = asyncio.get_running_loop().time()
            session, address = driver.session, neighbor.address
            self._carry_out(self.node.add_neighbor(policy, session, address, now, self._rng), now)
        self._peers[neighbor.name] = driver
        self._listener.drivers[normal_address(neighbor.address)] = driver
        self._tasks[neighbor.name] = tg.create_task(
            self._run_driver(driver), name=f"bgp-peer-{self.spec.name}-{neighbor.name}"
        )

    async def _run_driver(self, driver: PeerDriver) -> None:
        """Run one neighbour's driver; whatever escapes it ends that neighbour only.

        The driver contains the errors of its sessions itself (decision 12); this is
        the last line of defence for the TaskGroup that every session shares.
        """
        try:
            await driver.run()
        except Exception:
            logger.exception(
                "%s: the driver of neighbour %s failed; that neighbour is down until the "
                "speaker restarts",
                self.spec.name,
                driver.name,
            )
            driver.abort()

    async def wait_ready(self) -> None:
        """Return once the listener is bound and the sessions are started."""
        await self._ready.wait()

    def request_stop(self) -> None:
        """Ask :meth:`run` to close every session cleanly and return."""
        self._stop.set()

    async def request_route_refresh(self, peer: str, family: Family) -> None:
        """Send a ROUTE-REFRESH for ``family`` to ``peer`` (RFC 2918 §3)."""
        await self._peers[peer].request_route_refresh(family)

    def originate(self, route: OriginatedRoute) -> None:
        """Start announcing ``route`` to every peer its export rules allow."""
        now = asyncio.get_running_loop().time()
        self._carry_out(self.node.originate(route, now), now)
        self._notify()

    async def set_neighbor_policy(self, policy: NeighborPolicy) -> None:
        """Take new settings for neighbour ``policy.name`` without resetting its session.

        Soft reconfiguration (:meth:`Router.set_neighbor_policy`): the changed exports
        leave at once; a changed import policy also queues a ROUTE-REFRESH to the
        neighbour (RFC 2918 §3), sent by its driver.  :attr:`spec` shows the new
        settings too.  An error while applying the new settings (a policy that raises)
        resets that neighbour's session as an internal error (decision 12).
        """
        driver = self._peers.get(policy.name)
        if driver is None:
            raise KeyError(f"speaker {self.spec.name} has no neighbour {policy.name}")
        now = asyncio.get_running_loop().time()
        effects = self.node.set_neighbor_policy(policy, now)
        self.spec = replace(self.spec, router=self.router.config)
        self._carry_out(effects, now)
        self._notify()

    def add_neighbor(self, spec: NeighborSpec, policy: NeighborPolicy) -> None:
        """Start a session with a new neighbour while every other session runs on.

        The router takes ``policy`` (the neighbour's import/export settings) before the
        session can come up, the listener accepts connections from ``spec.address``
        from now on, and :attr:`spec` lists the neighbour.  ValueError if the name or
        address is already a neighbour's; RuntimeError unless the speaker runs.
        """
        tg = self._tg
        if tg is None or self._stop.is_set():
            raise RuntimeError(f"speaker {self.spec.name} is not running")
        if policy.name != spec.name:
            raise ValueError(f"settings for {policy.name!r} given for neighbour {spec.name!r}")
        if spec.name in self._peers:
            raise ValueError(f"speaker {self.spec.name} already has a neighbour {spec.name}")
        holder = self._listener.drivers.get(normal_address(spec.address))
        if holder is not None:
            raise ValueError(
                f"speaker {self.spec.name}: address {spec.address} is neighbour {holder.name}'s"
            )
        if spec.tcp_md5_key is not None:
            self._listener.set_key(spec.address, spec.tcp_md5_key, spec.name)
        self._start_peer(tg, spec, policy)
        self.spec = replace(
            self.spec, router=self.router.config, neighbors=(*self.spec.neighbors, spec)
        )
        self._notify()

    async def remove_neighbor(self, name: str) -> None:
        """De-configure neighbour ``name``; the other sessions are not disturbed.

        The session closes with Cease / Peer De-configured (RFC 4486 §4, subcode 3),
        the driver ends, the router withdraws the neighbour's paths (RFC 4271 §9.1) and
        forgets its settings, and a later connection from its address is refused.
        KeyError if there is no such neighbour.
        """
        await self._retire(name, CeaseSubcode.PEER_DECONFIGURED)
        self.spec = replace(
            self.spec,
            router=self.router.config,
            neighbors=tuple(n for n in self.spec.neighbors if n.name != name),
        )
        self._notify()

    async def reset_neighbor(self, spec: NeighborSpec, policy: NeighborPolicy) -> None:
        """Close the session with ``spec.name`` and open it again with new session settings.

        For settings no running session can change (address, port, ASN, hold time...):
        Cease / Other Configuration Change (RFC 4486 §4, subcode 6), the neighbour's
        paths withdrawn, then a new driver with ``spec``; the router takes ``policy``.
        """
        if policy.name != spec.name:
            raise ValueError(f"settings for {policy.name!r} given for neighbour {spec.name!r}")
        tg = self._tg
        if tg is None or self._stop.is_set():
            raise RuntimeError(f"speaker {self.spec.name} is not running")
        await self._retire(spec.name, CeaseSubcode.OTHER_CONFIGURATION_CHANGE)
        if spec.tcp_md5_key is not None:
            self._listener.set_key(spec.address, spec.tcp_md5_key, spec.name)
        self._start_peer(tg, spec, policy)
        self.spec = replace(
            self.spec,
            router=self.router.config,
            neighbors=tuple(spec if n.name == spec.name else n for n in self.spec.neighbors),
        )
        self._notify()

    async def _retire(self, name: str, subcode: int) -> None:
        """Stop neighbour ``name``'s driver with Cease ``subcode`` and forget it: the
        node withdraws its paths (RFC 4271 §9.1) and drops its settings."""
        driver = self._peers.get(name)
        if driver is None:
            raise KeyError(f"speaker {self.spec.name} has no neighbour {name}")
        address = normal_address(driver.spec.address)
        drivers = self._listener.drivers
        if drivers.get(address) is driver:
            del drivers[address]  # from now on a connection from it is refused
        if driver.spec.tcp_md5_key is not None:
            self._listener.set_key(address, None, name)
        await driver.stop(subcode)
        task = self._tasks.pop(name, None)
        if task is not None:
            await asyncio.wait({task})
        now = asyncio.get_running_loop().time()
        self._carry_out(self.node.remove_neighbor(name, now), now)
        del self._peers[name]

    def withdraw(self, family: Family, prefix: str) -> None:
        """Stop announcing a locally originated ``prefix``."""
        now = asyncio.get_running_loop().time()
        self._carry_out(self.node.withdraw(family, prefix, now), now)
        self._notify()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` holds; it is re-checked on every state or route change."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.shield(self._change_future())

    async def next_change(self, timeout: float) -> bool:
        """Wait for the speaker's next state or route change; False when ``timeout``
        seconds pass without one (the watchers' wait: the MQTT feed, the lab worker)."""
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._change_future())
        except TimeoutError:
            return False
        return True

    async def wait_established(self, *peers: str, timeout: float = 30.0) -> None:
        """Wait until every named peer (all peers when none named) is Established."""
        names = peers or tuple(self._peers)
        await self.wait_for(
            lambda: all(
                n in self._peers and self._peers[n].state == SessionState.ESTABLISHED for n in names
            ),
            timeout,
        )

    def dump(self) -> dict[str, Any]:
        """The speaker's sessions and received routes as a JSON-ready document.

        A session's ``state`` is spelled as RFC 4271 §8.2.2 and the MQTT documents spell
        it (``Established``); ``uptime`` (seconds) and ``established_since`` (epoch
        seconds) as in the MQTT ``sessions`` document, null unless Established.
        """
        now, wall = asyncio.get_running_loop().time(), time.time()
        return {
            "speaker": self.spec.name,
            "asn": self.spec.router.asn,
            "router_id": self.spec.router.router_id,
            "sessions": [
                {
                    "peer": name,
                    "address": driver.spec.address,
                    "asn": driver.spec.session.peer_as,
                    "state": driver.state.value,
                    **_dated(driver, now, wall),
                    "last_notification_received": driver.last_notification_received,
                    "last_notification_sent": driver.last_notification_sent,
                    "internal_errors": driver.internal_errors,
                }
                for name, driver in sorted(self._peers.items())
            ],
            "refused_connections": self.refused_connections,
            "received_routes": self.received_routes(),
            "loc_rib": self.router.table(),
        }

    def received_paths(self) -> list[Path]:
        """Every path in every Adj-RIB-In as received (:meth:`Node.received_paths
        <bgpemu.router.node.Node.received_paths>`)."""
        return self.node.received_paths()

    def received_routes(self) -> list[dict[str, Any]]:
        """:meth:`received_paths` as JSON-ready documents."""
        return self.node.received_routes()

    def _carry_out(self, effects: list[fx.NodeEffect], now: float) -> None:
        """Hand each effect of the node to the driver of its neighbour, in order."""
        peers = self._peers
        for effect in effects:
            match effect:
                case fx.Io(peer=peer, effect=io, conn=conn):
                    if (driver := peers.get(peer)) is not None:
                        driver.io(io, conn)
                case fx.Accepted(peer=peer, conn=conn, primary=primary):
                    if (driver := peers.get(peer)) is not None:
                        driver.accepted(conn, primary=primary)
                case fx.Refused(peer=peer, conn=conn, state=state):
                    if (driver := peers.get(peer)) is not None:
                        driver.refused(conn, state)
                case fx.Drop(peer=peer, conn=conn):
                    if (driver := peers.get(peer)) is not None:
                        driver.drop(conn)
                case fx.Promote(peer=peer, conn=conn):
                    if (driver := peers.get(peer)) is not None:
                        driver.promote(conn)
                case fx.Collision(peer=peer, inbound=inbound):
                    if (driver := peers.get(peer)) is not None:
                        driver.collision(inbound)
                case fx.RouterRearm():
                    self._router_wake.set()
                case fx.Decided(output=out):
                    for listener in self.output_listeners:
                        listener(out)
                    if logger.isEnabledFor(logging.DEBUG):
                        self._log_changes(out)
                case fx.Malformed(peer=peer, update=update):
                    if (driver := peers.get(peer)) is not None:
                        driver.malformed(update, now)
                case fx.NotAnnounced(peer=peer, text=text):
                    if (driver := peers.get(peer)) is not None:
                        driver.not_announced(text)
                case fx.Resetting(peer=peer, notification=n):
                    logger.warning(
                        "%s: stopping the session with %s: %s",
                        self.spec.name,
                        peer,
                        describe_notification(n.code, n.subcode, n.data),
                    )
                    if (driver := peers.get(peer)) is not None:
                        driver.resetting()
                case fx.Fault(peer=peer, error=error, resetting=resetting):
                    if (driver := peers.get(peer)) is not None:
                        driver.on_fault(error, now, resetting=resetting)
                case fx.RouterFault(error=error):
                    logger.error(
                        "%s: internal error in the router's timers: %r",
                        self.spec.name,
                        error,
                        exc_info=error,
                    )
                case _:
                    pass

    def _log_changes(self, out: RouterOutput) -> None:
        for change in out.changes:
            logger.debug(
                "%s: best path of %s %s (%s)",
                self.spec.name,
                change.prefix,
                "changed" if change.new and change.new.best else "withdrawn",
                change.reason.value if change.reason else "-",
            )

    async def _router_timers(self) -> None:
        """Wake the router at its deadlines (MRAI flushes, max-prefix restarts)."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.router.next_deadline()
            self._router_wake.clear()
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(self._router_wake.wait(), timeout)
            except TimeoutError:
                now = loop.time()
                effects = self.node.on_router_timer(now)
                self._carry_out(effects, now)
                if any(type(e) is fx.RouterFault for e in effects):
                    await asyncio.sleep(_ROUTER_ERROR_PAUSE)  # no busy loop on a stuck deadline
                self._notify()

    def _change_future(self) -> asyncio.Future[None]:
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        return self._change

    def _notify(self) -> None:
        """Wake every :meth:`wait_for` caller so it re-checks its predicate."""
        if self._change is not None:
            self._change.set_result(None)
            self._change = None


def _dated(driver: PeerDriver, now: float, wall: float) -> dict[str, float | None]:
    """``uptime`` and ``established_since`` of a session (``now``: the loop's clock,
    ``wall``: the epoch seconds at ``now``)."""
    since = driver.session.counters.established_at
    if driver.state is not SessionState.ESTABLISHED or since is None:
        return {"uptime": None, "established_since": None}
    return {
        "uptime": round(max(0.0, now - since), 3),
        "established_since": round(wall - now + since, 3),
    }
