"""``bgpemu.testing.Lab``: one API for users' convergence tests, over either engine.

A test starts a lab from a topology (``await start_lab(path, engine="fabric"|"tcp")``),
waits for exact convergence (``await lab.converged()``, never a fixed sleep), reads the
tables Azure would show (``lab.effective_routes("Hub/Workload")`` ...), injects a
failure or a change (``await lab.fail_link("CE", "Circuit")`` ...), waits again and
compares (``lab.diff(before, after)``).  Tables are those of the last convergence: a
query after an injection and before the next ``converged()`` raises
:class:`LabStateError` rather than answer with stale routes.

Names are topology nodes or speakers; every injection is checked against the
compiled topology first and a bad one raises
:class:`~bgpemu.lab.errors.LabInputError` with the lab untouched.  Links taken
down for several reasons (a failed link, a lost gateway instance, a private peering
down) stay down until the last reason is lifted.

The topology itself can change while the lab runs (``await lab.add_peering(...)``,
``add_connection``, ``add_node``, their ``remove_`` twins, ``apply_topology``): the
edit is made on the lab's topology document (:mod:`bgpemu.topology.edit`), the new
network is validated whole, :func:`~bgpemu.azure.replan.replan` says what changes
and the engine carries out only that, no other session dropping.  Afterwards
:attr:`Lab.network`, :attr:`Lab.plan`, :attr:`Lab.names` and :attr:`Lab.document`
are the new ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from bgpemu.azure import views
from bgpemu.azure.catalog import AzureView
from bgpemu.azure.model import Network
from bgpemu.azure.replan import PlanChange
from bgpemu.azure.report import azure_views
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.errors import ConfigError
from bgpemu.fabric import Fabric
from bgpemu.lab.engine import ENGINES, Engine, check_options, make_engine
from bgpemu.lab.errors import LabInputError, LabStateError
from bgpemu.lab.supervisor import TcpLab
from bgpemu.lab.targets import Names, parse_prefix
from bgpemu.observe.payloads import rib_loc_payload
from bgpemu.policy.communities import parse_community
from bgpemu.router.config import OriginatedRoute
from bgpemu.testing._cuts import Cuts
from bgpemu.testing.diff import Diff, LabSnapshot, diff
from bgpemu.testing.traffic import LabTraffic
from bgpemu.topology.edit import apply_edit
from bgpemu.topology.source import Document, source_of
from bgpemu.types import Family

__all__ = ["ENGINES", "Convergence", "Lab", "LabStateError", "start_lab"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Convergence:
    """What one convergence took."""

    engine: str
    duration_s: float
    """From the first change since the previous convergence (or the start) until converged:
    virtual seconds in the fabric, wall seconds in the TCP lab."""
    updates: int
    """UPDATE messages the running speakers sent meanwhile (session counters)."""
    prefixes: int
    """Distinct prefixes among :attr:`changed`."""
    best_path_changes: int
    """(speaker, prefix) pairs whose best path changed: next hop or AS path, or (dis)appeared."""
    clock_unit: str
    """The unit of :attr:`duration_s` as the engine gives it (:attr:`Engine.clock_unit
    <bgpemu.lab.engine.Engine.clock_unit>`): ``virtual s`` or ``s``."""
    changed: tuple[tuple[str, str], ...] = ()
    """Those (speaker, prefix) pairs, sorted."""

    def __str__(self) -> str:
        return (
            f"converged in {self.duration_s:.3f} {self.clock_unit} ({self.engine}): "
            f"{self.updates} UPDATEs, "
            f"{self.best_path_changes} best-path changes over {self.prefixes} prefixes"
        )


def _best_paths(routers: Mapping[str, RouterSnapshot]) -> dict[tuple[str, str], Any]:
    return {
        (name, r.prefix): (r.next_hop, r.as_path)
        for name, snap in routers.items()
        for r in snap.loc_rib
        if r.best
    }


class Lab(LabTraffic):
    """A running lab of one topology in one engine (use :func:`start_lab`); its traffic
    questions (``trace``, ``next_hop``, ``assert_reachable``...) are
    :class:`~bgpemu.testing.traffic.LabTraffic`'s."""

    def __init__(self, network: Network, engine: Engine) -> None:
        self.network = network
        self.engine = engine
        self.plan = engine.plan
        self.names = Names(network, self.plan)
        self.history: list[Convergence] = []
        """Every convergence so far, in order."""
        self._current: LabSnapshot | None = None
        self._dirty = True
        self._running = False
        self._changed_at: float | None = None
        self._update_base: dict[str, int] = {}
        self._cuts = Cuts()
        self._crashed: set[str] = set()
        self._originated: dict[str, set[tuple[Family, str]]] = {
            spec.name: {(r.family, r.prefix) for r in spec.router.routes}
            for spec in self.plan.speakers
        }

    @property
    def kind(self) -> str:
        """``fabric`` or ``tcp``."""
        return self.engine.kind

    @property
    def fabric(self) -> Fabric:
        """The fabric (engine ``fabric`` only): for tests that look at sessions and timers."""
        return self.engine.fabric

    @property
    def tcp_lab(self) -> TcpLab:
        """The TCP lab (engine ``tcp`` only)."""
        return self.engine.tcp_lab

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start every speaker (convergence is measured from here)."""
        await self.engine.start()
        self._running = True
        self._changed_at = self.engine.clock()

    async def stop(self) -> None:
        """Stop every speaker (TCP: Cease to every peer, workers joined)."""
        if self._running:
            self._running = False
            await self.engine.stop()

    async def __aenter__(self) -> Lab:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _touch(self) -> None:
        if not self._running:
            raise LabStateError("the lab is stopped")
        self._dirty = True
        if self._changed_at is None:
            self._changed_at = self.engine.clock()

    # -- convergence and tables ----------------------------------------------------------

    async def converged(self, timeout: float = 60.0) -> Convergence:
        """Wait for exact convergence (TimeoutError with the reasons otherwise); report it.

        ``timeout`` is in the engine's seconds: virtual in the fabric (a silent failure
        needs the 180 s hold timer there), wall in the TCP lab.
        """
        if not self._running:
            raise LabStateError("the lab is stopped")
        start = self._changed_at if self._changed_at is not None else self.engine.clock()
        end = await self.engine.settle(timeout)
        routers = await self.engine.snapshots()
        totals = self.engine.update_totals()
        updates = sum(max(0, n - self._update_base.get(s, 0)) for s, n in totals.items())
        old = _best_paths(self._current.routers if self._current is not None else {})
        new = _best_paths(routers)
        changed = tuple(sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)))
        result = Convergence(
            engine=self.kind,
            duration_s=max(0.0, end - start),
            updates=updates,
            prefixes=len({prefix for _, prefix in changed}),
            best_path_changes=len(changed),
            changed=changed,
            clock_unit=self.engine.clock_unit,
        )
        self._current = LabSnapshot(
            network=self.network.name,
            taken_at=end,
            routers=routers,
            nodes={name: e.node for name, e in self.plan.endpoints.items()},
            views=azure_views(self.network, self.plan, routers, end),
            flows=self._watch(routers),
        )
        self._update_base = totals
        self._changed_at = None
        self._dirty = False
        self.history.append(result)
        return result

    def snapshot(self) -> LabSnapshot:
        """Every table as of the last convergence."""
        if not self._running:
            raise LabStateError("the lab is stopped")
        if self._current is None or self._dirty:
            raise LabStateError(
                "the lab changed since its last convergence: await lab.converged() first"
            )
        return self._current

    @staticmethod
    def diff(before: LabSnapshot, after: LabSnapshot) -> Diff:
        """What changed from ``before`` to ``after``; ``str()`` reads as an assertion message."""
        return diff(before, after)

    def routes(self, node: str) -> dict[str, list[dict[str, Any]]]:
        """``bgpemu routes NODE -o json``: each of the node's speakers' Loc-RIB routes."""
        speakers = self.names.speakers(node)
        routers = self.snapshot().routers
        return {
            s: rib_loc_payload(routers[s], seq=0)["routes"] if s in routers else []
            for s in speakers
        }

    def _view(self, view: AzureView, key: str, what: str) -> Any:
        found = self.snapshot().views.get(view.key, {})
        if key in found:
            return found[key]
        known = ", ".join(sorted(found)) or "none in this topology"
        raise LabInputError(f"no {what} {key!r} in topology {self.network.name!r} ({known})")

    def effective_routes(self, subnet: str) -> Any:
        """``az network nic show-effective-route-table`` for ``VNET/SUBNET``."""
        return self._view(AzureView.EFFECTIVE_ROUTES, subnet, "subnet")

    def learned_routes(self, gateway: str) -> Any:
        """``az network vnet-gateway list-learned-routes`` for a VPN or ER gateway."""
        return self._view(AzureView.LEARNED_ROUTES, gateway, "VPN or ExpressRoute gateway")

    def bgp_peer_status(self, gateway: str) -> Any:
        """``az network vnet-gateway list-bgp-peer-status``."""
        return self._view(AzureView.BGP_PEER_STATUS, gateway, "VPN or ExpressRoute gateway")

    def hub_routes(self, hub: str, table: str = "defaultRouteTable") -> Any:
        """``az network vhub get-effective-routes`` for one route table of a vWAN hub."""
        return self._view(AzureView.HUB_ROUTES, f"{hub}/{table}", "hub route table")

    def circuit_routes(self, circuit: str, path: str = "primary") -> Any:
        """``az network express-route list-route-tables`` (``primary`` or ``secondary``)."""
        return self._view(AzureView.CIRCUIT_ROUTES, f"{circuit}/{path}", "circuit path")

    def route_server_routes(self, route_server: str, nva: str, direction: str = "learned") -> Any:
        """``az network routeserver peering list-learned-routes`` (or ``advertised``)."""
        both = self._view(
            AzureView.ROUTE_SERVER_ROUTES, f"{route_server}/{nva}", "Route Server peering"
        )
        if direction not in both:
            raise LabInputError(f"direction must be 'learned' or 'advertised', not {direction!r}")
        return both[direction]

    def advertised_routes(self, gateway: str, peer: str) -> Any:
        """``az network vnet-gateway list-advertised-routes --peer PEER``."""
        snap = self.snapshot()
        try:
            return views.advertised_routes(self.network, self.plan, snap.routers, gateway, peer)
        except (KeyError, ValueError) as exc:
            raise LabInputError(exc.args[0] if exc.args else str(exc)) from None

    # -- injections ----------------------------------------------------------------------

    def _check_running(self, speakers: Iterable[str]) -> None:
        crashed = sorted(set(speakers) & self._crashed)
        if crashed:
            raise LabInputError(f"{', '.join(crashed)} crashed: restart it first")

    async def _down(
        self, pairs: list[tuple[str, str]], reason: str, silent: bool, what: str
    ) -> None:
        """``pairs`` down for ``reason`` (LabInputError ``WHAT is already down`` if they are)."""
        if self._cuts.down_for(pairs, reason):
            raise LabInputError(f"{what} is already down")
        self._touch()
        for a, b in pairs:
            if self._cuts.cut((a, b), reason):
                await self.engine.fail_link(a, b, silent=silent)

    async def _up(self, pairs: list[tuple[str, str]], reason: str, refusal: str) -> None:
        """``reason`` lifted from ``pairs`` (LabInputError ``refusal`` if it was not down)."""
        if not self._cuts.down_for(pairs, reason):
            raise LabInputError(refusal)
        self._touch()
        for a, b in pairs:
            if self._cuts.lift((a, b), reason):
                await self.engine.restore_link(a, b)

    async def fail_link(self, a: str, b: str, *, silent: bool = False) -> None:
        """Every BGP session between ``a`` and ``b`` goes down.

        Clean: Cease / Administrative Shutdown on both ends (RFC 4486 §4).  ``silent``:
        nothing passes any more and nobody is told; the hold timers find out (RFC 4271
        §6.5): 180 s with Azure's timers (virtual seconds in the fabric).
        """
        pairs = self.names.sessions(a, b)
        self._check_running(x for pair in pairs for x in pair)
        await self._down(list(pairs), "link", silent, f"the link {a}-{b}")

    async def restore_link(self, a: str, b: str) -> None:
        """Bring back the sessions :meth:`fail_link` took down."""
        pairs = list(self.names.sessions(a, b))
        await self._up(pairs, "link", f"the link {a}-{b} is not down (nothing to restore)")

    async def reset_session(self, a: str, b: str) -> None:
        """``a`` resets its sessions with ``b`` (Cease NOTIFICATION; they come back at once)."""
        pairs = self.names.sessions(a, b)
        self._check_running(x for pair in pairs for x in pair)
        down = [p for p in pairs if self._cuts.is_down(p)]
        if down:
            raise LabInputError(f"the session {down[0][0]}-{down[0][1]} is down: nothing to reset")
        self._touch()
        for x, y in pairs:
            await self.engine.reset_session(x, y)

    async def crash(self, node: str) -> None:
        """Every speaker of ``node`` dies silently (no NOTIFICATION).

        Its peers find out by their hold timers in the fabric, by the closed TCP
        connection in the TCP lab.  Its routes are lost; :meth:`restart` starts it fresh.
        """
        speakers = self.names.speakers(node)
        self._check_running(speakers)
        self.engine.check_crash(speakers)
        self._touch()
        await self.engine.crash(speakers)
        self._crashed.update(speakers)
        for speaker in speakers:
            self._update_base[speaker] = 0

    async def restart(self, node: str) -> None:
        """Start the crashed speakers of ``node`` again, with their configured routes."""
        speakers = tuple(s for s in self.names.speakers(node) if s in self._crashed)
        if not speakers:
            raise LabInputError(f"{node!r} has not crashed (nothing to restart)")
        self._touch()
        await self.engine.restart(speakers)
        self._crashed.difference_update(speakers)
        spec = {s.name: s for s in self.plan.speakers}
        for speaker in speakers:
            self._originated[speaker] = {(r.family, r.prefix) for r in spec[speaker].router.routes}

    async def announce(
        self,
        node: str,
        prefix: str,
        *,
        as_path_prepend: int = 0,
        med: int | None = None,
        communities: Iterable[str] = (),
    ) -> None:
        """Every speaker of ``node`` originates ``prefix`` (``communities``: ``"65000:100"``)."""
        family, prefix = parse_prefix(prefix)
        speakers = self.names.speakers(node)
        self._check_running(speakers)
        if not 0 <= as_path_prepend <= 255:
            raise LabInputError(f"as_path_prepend must be 0..255, not {as_path_prepend}")
        try:  # RFC 1997: ASN:VALUE or a well-known name, as in the topology file
            values = tuple(parse_community(c) for c in communities)
        except ValueError as exc:
            raise LabInputError(str(exc)) from None
        route = OriginatedRoute(
            prefix=prefix,
            family=family,
            med=med,
            communities=values,
            as_path_prepend=as_path_prepend,
        )
        self._touch()
        for speaker in speakers:
            await self.engine.announce(speaker, route)
            self._originated[speaker].add((family, prefix))

    async def withdraw(self, node: str, prefix: str) -> None:
        """The speakers of ``node`` that originate ``prefix`` stop originating it."""
        family, prefix = parse_prefix(prefix)
        speakers = self.names.speakers(node)
        self._check_running(speakers)
        origins = [s for s in speakers if (family, prefix) in self._originated[s]]
        if not origins:
            have = ", ".join(sorted({p for s in speakers for _, p in self._originated[s]}))
            raise LabInputError(
                f"{node!r} does not originate {prefix} (it originates: {have or 'nothing'})"
            )
        self._touch()
        for speaker in origins:
            await self.engine.withdraw(speaker, family, prefix)
            self._originated[speaker].discard((family, prefix))

    async def prepend(self, node: str, peer: str, count: int) -> None:
        """``node`` sends everything to ``peer`` with ``count`` extra copies of its ASN.

        A policy change with soft reconfiguration (RFC 2918): the sessions stay up and
        only the changed routes are re-sent.  ``count`` 0 removes the prepend (back to
        the configured export policy); a new count replaces the previous one.
        """
        pairs = self.names.sessions(node, peer)
        self._check_running(x for x, _ in pairs)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 255:
            raise LabInputError(f"prepend count must be an integer 0..255, not {count!r}")
        self._touch()
        for speaker, neighbor in pairs:
            await self.engine.prepend(speaker, neighbor, count)

    def _instance_pairs(self, node: str, index: int) -> tuple[str, list[tuple[str, str]]]:
        speaker = self.names.instance(node, index)
        self._check_running([speaker])
        return speaker, [(speaker, peer) for peer in self.names.neighbors[speaker]]

    async def instance_down(self, node: str, index: int, *, silent: bool = False) -> None:
        """Instance ``index`` (0 or 1) of an active-active VPN gateway or a Route Server is lost:
        every session of that instance goes down (cleanly, or ``silent``ly)."""
        speaker, pairs = self._instance_pairs(node, index)
        await self._down(pairs, f"instance {speaker}", silent, f"instance {index} of {node!r}")

    async def instance_up(self, node: str, index: int) -> None:
        """Instance ``index`` of ``node`` is back."""
        speaker, pairs = self._instance_pairs(node, index)
        await self._up(pairs, f"instance {speaker}", f"instance {index} of {node!r} is not down")

    async def er_private_peering_down(self, circuit: str) -> None:
        """The private peering of ExpressRoute ``circuit`` goes down: the sessions between its
        MSEEs and the customer (or provider PE) end cleanly (Cease)."""
        pairs = list(self.names.private_peering(circuit))
        self._check_running(x for pair in pairs for x in pair)
        await self._down(pairs, f"peering {circuit}", False, f"the private peering of {circuit!r}")

    async def er_private_peering_up(self, circuit: str) -> None:
        """The private peering of ``circuit`` is back."""
        pairs = list(self.names.private_peering(circuit))
        refusal = f"the private peering of {circuit!r} is not down"
        await self._up(pairs, f"peering {circuit}", refusal)

    async def advance(self, seconds: float) -> None:
        """Let time pass: virtual in the fabric (timers fire, no wall time); real in TCP."""
        if seconds < 0:
            raise LabInputError(f"cannot advance by {seconds} s")
        self._touch()
        await self.engine.advance(seconds)

    # -- topology changes ----------------------------------------------------------------

    @property
    def document(self) -> Document:
        """The running topology's document of record: the file as written, with the edits
        made since (:mod:`bgpemu.topology.source`); LabInputError for a network built in
        code."""
        try:
            return source_of(self.network, "document").document
        except ConfigError as exc:
            raise LabInputError(str(exc)) from None

    async def apply_topology(self, topology: str | PathLike[str] | Network) -> PlanChange:
        """Run ``topology`` (a file or a Network) from now on: only what differs changes.

        Bad topology: LabInputError with every problem, the lab untouched.
        """
        if isinstance(topology, Network):
            network = topology
        else:
            from bgpemu.topology import load_topology

            try:
                network = load_topology(Path(topology))
            except ConfigError as exc:
                raise LabInputError(str(exc)) from None
        return await self._change(network)

    async def add_peering(self, vnet: str, remote: str, **fields: Any) -> PlanChange:
        """``vnet`` gets a peering to ``remote`` (``fields``: the peering keys of the
        topology file, ``useRemoteGateways=True`` or ``use_remote_gateways=True``)."""
        return await self.edit_topology(
            "add_peering", {"vnet": vnet, "remoteVirtualNetwork": remote, **fields}
        )

    async def remove_peering(self, vnet: str, remote: str) -> PlanChange:
        """``vnet``'s peering to ``remote`` is deleted (the other side's stays)."""
        return await self.edit_topology(
            "remove_peering", {"vnet": vnet, "remoteVirtualNetwork": remote}
        )

    async def add_connection(
        self, connection: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> PlanChange:
        """A connection as in the file's ``connections:`` (a mapping and/or keywords)."""
        return await self.edit_topology("add_connection", {**(connection or {}), **fields})

    async def remove_connection(
        self, connection: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> PlanChange:
        """The one connection of ``type`` matching the given ``name`` or end fields."""
        return await self.edit_topology("remove_connection", {**(connection or {}), **fields})

    async def add_node(
        self, name: str, node: Mapping[str, Any] | None = None, /, **fields: Any
    ) -> PlanChange:
        """A new node ``name`` (``role`` and its fields, as under ``nodes:``)."""
        return await self.edit_topology("add_node", {"name": name, **(node or {}), **fields})

    async def remove_node(self, name: str) -> PlanChange:
        """Node ``name`` is deleted; refused while a connection or peering refers to it."""
        return await self.edit_topology("remove_node", {"name": name})

    async def edit_topology(self, op: str, args: Mapping[str, Any]) -> PlanChange:
        """Topology edit ``op`` (:data:`bgpemu.topology.edit.EDIT_OPS`) with ``args``."""
        if not self._running:
            raise LabStateError("the lab is stopped")
        try:
            network = apply_edit(self.network, op, args)
        except ConfigError as exc:
            raise LabInputError(str(exc)) from None
        return await self._change(network)

    async def _change(self, network: Network) -> PlanChange:
        """Replan to ``network``, apply it, and adopt the new topology."""
        if not self._running:
            raise LabStateError("the lab is stopped")
        if self._crashed:
            crashed = ", ".join(sorted(self._crashed))
            raise LabInputError(f"restart the crashed speakers first ({crashed})")
        try:
            change = self.engine.plan_change(network)
        except (ConfigError, ValueError) as exc:
            raise LabInputError(str(exc)) from None
        self._touch()
        await self.engine.apply(change, network=network)
        self._adopt(change, network)
        return change

    def _adopt(self, change: PlanChange, network: Network) -> None:
        self.network = network
        self.plan = self.engine.plan
        self.names = Names(network, self.plan)
        for spec in (*change.add_speakers, *change.restart_speakers):
            self._originated[spec.name] = {(r.family, r.prefix) for r in spec.router.routes}
        for item in change.speakers:
            known = self._originated.setdefault(item.speaker, set())
            known.update((r.family, r.prefix) for r in item.originate)
            known.difference_update(item.withdraw)
        for name in change.remove_speakers:
            self._originated.pop(name, None)
            self._update_base.pop(name, None)
        self._cuts.keep_only((a, b) for a, peers in self.names.neighbors.items() for b in peers)


async def start_lab(
    topology: str | PathLike[str] | Network,
    engine: str = "fabric",
    *,
    seed: int = 0,
    timers: str = "azure",
    latency: float = 0.001,
    processes: int | None = None,
    port: int | None = None,
    lab_base: str = "127.0.10.1",
) -> Lab:
    """Start a lab of ``topology`` (a file or a :class:`~bgpemu.azure.model.Network`).

    ``engine``: ``fabric`` (virtual time, deterministic by ``seed``) or ``tcp`` (real
    speakers over TCP, one worker process per speaker unless ``processes`` says
    otherwise, on a free ``port`` unless one is given, addresses from ``lab_base``).
    ``timers``: ``azure`` (keepalive 60 s / hold 180 s) or ``lab`` (3 s / 9 s).
    ``latency``: the fabric's one-way delay.  Topology errors raise
    :class:`~bgpemu.errors.ConfigError` with every problem; nothing is started.
    """
    check_options(engine, timers)
    if isinstance(topology, Network):
        network = topology
    else:
        from bgpemu.topology import load_topology

        network = load_topology(Path(topology))
    runner = make_engine(
        network,
        engine,
        seed=seed,
        timers=timers,
        latency=latency,
        processes=processes,
        port=port,
        lab_base=lab_base,
    )
    lab = Lab(network, runner)
    await lab.start()
    return lab
