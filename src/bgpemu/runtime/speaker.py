"""One BGP speaker over asyncio TCP: a listener, one driver per neighbour, and the router.

Every task belongs to the speaker's TaskGroup and has a name.  :meth:`Speaker.run`
returns after :meth:`Speaker.request_stop`, once every session has sent its Cease
NOTIFICATION (RFC 4486 §4, Administrative Shutdown) and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from bgpemu.rib import Path
from bgpemu.router import OriginatedRoute, Router, RouterOutput
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.spec import SpeakerSpec
from bgpemu.router.table import path_json
from bgpemu.runtime.peer import PeerDriver
from bgpemu.session import SessionState
from bgpemu.types import IPV4_UNICAST, IPV6_UNICAST, Family
from bgpemu.wire.describe import describe_notification

__all__ = ["Speaker"]

logger = logging.getLogger(__name__)

DAEMON_GC_THRESHOLDS = (50_000, 20, 100)
"""Garbage-collector thresholds while a speaker runs (see :func:`daemon_gc`)."""


@contextlib.contextmanager
def daemon_gc() -> Iterator[None]:
    """Tune the cyclic garbage collector for a long-lived routing daemon, then restore it.

    A speaker holds one long-lived, GC-tracked path object per route.  With the
    default thresholds (700, 10, 10) a full collection runs every time the tracked
    objects grow by a quarter, and each one walks the whole table: loading a million
    routes spent about half its time there.  Routes are freed by reference counting
    (they form no cycles), so collections are made rarer instead: young objects every
    50 000 allocations, a full collection at most every 100 million.  The previous
    thresholds come back when the block ends, unless something else changed them
    meanwhile (e.g. another speaker of the same process still running).
    """
    previous = gc.get_threshold()
    tuned = previous[0] < DAEMON_GC_THRESHOLDS[0]
    if tuned:
        gc.set_threshold(*DAEMON_GC_THRESHOLDS)
    try:
        yield
    finally:
        if tuned and gc.get_threshold() == DAEMON_GC_THRESHOLDS:
            gc.set_threshold(*previous)


class Speaker:
    """Runs the speaker described by ``spec`` until asked to stop."""

    def __init__(self, spec: SpeakerSpec, *, rng: random.Random | None = None) -> None:
        self.spec = spec
        self.router = Router(spec.router)
        self._router_wake = asyncio.Event()
        self._rng = rng if rng is not None else random.Random()
        self._peers: dict[str, PeerDriver] = {}
        self._by_address: dict[str, PeerDriver] = {}
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._change: asyncio.Future[None] | None = None
        self.bound_port: int | None = None

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
            server: asyncio.Server | None = None
            if self.spec.listen:
                server = await asyncio.start_server(
                    self._on_client, self.spec.local_address, self.spec.port, reuse_address=True
                )
                self.bound_port = server.sockets[0].getsockname()[1]
                logger.info(
                    "%s listening on %s port %d",
                    self.spec.name,
                    self.spec.local_address,
                    self.bound_port,
                )
            for neighbor in self.spec.neighbors:
                driver = PeerDriver(
                    neighbor,
                    local_address=self.spec.local_address,
                    router=self.router,
                    apply_output=self._apply_output,
                    rng=self._rng,
                    task_group=tg,
                    on_change=self._notify,
                    speaker_name=self.spec.name,
                )
                self._peers[neighbor.name] = driver
                self._by_address[_normal(neighbor.address)] = driver
                tg.create_task(driver.run(), name=f"bgp-peer-{self.spec.name}-{neighbor.name}")
            timers = tg.create_task(self._router_timers(), name=f"bgp-mrai-{self.spec.name}")
            self._ready.set()
            await self._stop.wait()
            timers.cancel()
            if server is not None:
                server.close()
            for driver in self._peers.values():
                await driver.stop()
            if server is not None:
                await server.wait_closed()

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
        self._apply_output(self.router.originate(route, now), now)
        self._notify()

    async def set_neighbor_policy(self, policy: NeighborPolicy) -> None:
        """Take new settings for neighbour ``policy.name`` without resetting its session.

        Soft reconfiguration (:meth:`Router.set_neighbor_policy`): the changed exports
        leave at once; a changed import policy also queues a ROUTE-REFRESH to the
        neighbour (RFC 2918 §3), sent by its driver.  :attr:`spec` shows the new
        settings too.
        """
        if policy.name not in self._peers:
            raise KeyError(f"speaker {self.spec.name} has no neighbour {policy.name}")
        now = asyncio.get_running_loop().time()
        output = self.router.set_neighbor_policy(policy, now)
        self.spec = replace(self.spec, router=self.router.config)
        self._apply_output(output, now)
        self._notify()
        for peer, family in output.refreshes:
            await self.request_route_refresh(peer, family)

    def withdraw(self, family: Family, prefix: str) -> None:
        """Stop announcing a locally originated ``prefix``."""
        now = asyncio.get_running_loop().time()
        self._apply_output(self.router.withdraw_originated(family, prefix, now), now)
        self._notify()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` holds; it is re-checked on every state or route change."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.shield(self._change_future())

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
        """The speaker's sessions and received routes as a JSON-ready document."""
        return {
            "speaker": self.spec.name,
            "asn": self.spec.router.asn,
            "router_id": self.spec.router.router_id,
            "sessions": [
                {
                    "peer": name,
                    "address": driver.spec.address,
                    "asn": driver.spec.session.peer_as,
                    "state": driver.state.name,
                    "last_notification_received": driver.last_notification_received,
                    "last_notification_sent": driver.last_notification_sent,
                }
                for name, driver in sorted(self._peers.items())
            ],
            "received_routes": self.received_routes(),
            "loc_rib": self.router.table(),
        }

    def received_paths(self) -> list[Path]:
        """Every path in every Adj-RIB-In as received (before import policy), sorted."""
        paths: list[Path] = []
        for name in sorted(self._peers):
            rib = self.router.adj_rib_in(name)
            if rib is None:
                continue
            for family in (IPV4_UNICAST, IPV6_UNICAST):
                paths.extend(sorted(rib.paths_pre(family), key=lambda p: (p.prefix, p.path_id)))
        return paths

    def received_routes(self) -> list[dict[str, Any]]:
        """:meth:`received_paths` as JSON-ready documents."""
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

    def _apply_output(self, out: RouterOutput, now: float) -> None:
        """Carry out what the router asked: exports per peer, resets, restarts."""
        for name, exports in out.exports.items():
            self._peers[name].send_exports(exports, now)
        for reset in out.resets:
            logger.warning(
                "%s: stopping the session with %s: %s",
                self.spec.name,
                reset.peer,
                describe_notification(
                    reset.notification.code, reset.notification.subcode, reset.notification.data
                ),
            )
            self._peers[reset.peer].reset(reset.notification, now)
        for name in out.restarts:
            self._peers[name].restart(now)
        if logger.isEnabledFor(logging.DEBUG):
            for change in out.changes:
                logger.debug(
                    "%s: best path of %s %s (%s)",
                    self.spec.name,
                    change.prefix,
                    "changed" if change.new and change.new.best else "withdrawn",
                    change.reason.value if change.reason else "-",
                )
        self._router_wake.set()

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
                self._apply_output(self.router.on_timer(now), now)
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

    def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = _normal(writer.get_extra_info("peername")[0])
        driver = self._by_address.get(address)
        if driver is None:
            logger.warning(
                "%s: refusing a connection from unconfigured %s", self.spec.name, address
            )
            writer.close()
            return
        driver.incoming(reader, writer)


def _normal(address: str) -> str:
    return str(ipaddress.ip_address(address))
