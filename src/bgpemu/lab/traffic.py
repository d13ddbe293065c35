"""The running lab's traffic answers (issue 14): what it publishes after each convergence,
and the context its traffic questions are answered from.

:class:`ConvergedTraffic` keeps one :class:`~bgpemu.azure.traffic.index.TrafficContext` per
convergence of the lab (its ``version``), made from the lab's network, plan and the Loc-RIBs
of the speakers (on-prem routers forward by theirs, decision §9.12 of
``shared/azure-traffic.md``), the inputs ``bgpemu solve`` and the testing API answer from.

The speakers' routes are read from the workers when an answer first needs them, once per
convergence (:class:`LabSnapshots`): the Azure side's speakers (hubs, gateways, MSEEs,
Route Servers, NVAs: few, and every Azure view reads them) in one batch when the context
is made, an on-prem router's Loc-RIB when a trace reaches it.  A trace on vWAN 2 x 50 x
200 reads two branches of a hundred, not two million routes (bench/README.md).  Answers
are computed in a thread (:meth:`ConvergedTraffic.compute`); a read from there runs on
the event loop and waits for it, never the other way round.  A read made after the lab
moved on (a new ``version``) raises :class:`~bgpemu.lab.errors.LabMovedError` rather than mix
two convergences in one answer, and the answer is computed again over the new one.

After each convergence (:meth:`ConvergedTraffic.documents`), a lab whose topology declares
anything traffic flows between (VM interfaces, NSGs, Azure Firewalls) or that was given
intents (``lab up --intents FILE``) publishes, retained (docs/mqtt.md, "Traffic"):

* ``traffic/reachability`` (when the topology declares traffic): the reachability matrix
  (:func:`bgpemu.azure.traffic.matrix.reachability_matrix`, TCP 443), summarised by verdict;
* ``traffic/intents`` (given intents): each intent with the verdict its flow gets now
  (:func:`bgpemu.azure.traffic.intents.evaluate_intents`);

and, not retained on ``events``, ``intents_changed`` naming each intent whose verdict
changed since the last convergence (after an injection, a topology change, a crash).
A lab with neither publishes nothing new: its topics are those of every lab before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bgpemu.azure.model import Network, VNet
from bgpemu.azure.plan import Plan
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.azure.traffic.index import TrafficContext
from bgpemu.azure.traffic.intents import Intent, check_intents, evaluate_intents
from bgpemu.azure.traffic.matrix import reachability_matrix
from bgpemu.errors import ConfigProblem
from bgpemu.lab.errors import LabError, LabMovedError, RoutesUnreadableError
from bgpemu.lab.supervisor import TcpLab

__all__ = [
    "ConvergedTraffic",
    "IntentOutcome",
    "Intents",
    "LabSnapshots",
    "TrafficDocuments",
    "declares_traffic",
    "intent_changes",
    "intents_problems",
]


def declares_traffic(network: Network) -> bool:
    """Whether ``network`` declares anything a flow starts from or is filtered by: a VM
    interface, an NSG or an Azure Firewall."""
    if network.network_security_groups or network.firewalls:
        return True
    return any(
        subnet.network_interfaces for vnet in network.of_type(VNet) for subnet in vnet.subnets
    )


@dataclass(frozen=True, slots=True)
class Intents:
    """The intents a lab checks after every convergence, and the file they came from."""

    file: str
    intents: tuple[Intent, ...]


@dataclass(frozen=True, slots=True)
class IntentOutcome:
    """One intent at one convergence: its verdict (None when it cannot be traced now: an
    endpoint a topology change removed) and its entry of ``traffic/intents``."""

    name: str
    verdict: str | None
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TrafficDocuments:
    """What one convergence publishes: ``data`` by traffic view, and the intents' outcomes."""

    views: Mapping[str, Any]
    outcomes: tuple[IntentOutcome, ...] = ()


def intent_outcomes(ctx: TrafficContext, intents: Intents) -> tuple[IntentOutcome, ...]:
    """Each intent traced (:func:`~bgpemu.azure.traffic.intents.evaluate_intents`); one
    whose endpoint names nothing now is not ok, ``actual`` null, ``reason`` saying why."""
    outcomes = []
    for intent in intents.intents:
        try:
            (result,) = evaluate_intents(ctx, [intent])
        except ValueError as exc:
            document = {
                "name": intent.name,
                "source": intent.source,
                "destination": intent.destination,
                "protocol": intent.protocol,
                "port": intent.port,
                "expect": intent.expect,
                "actual": None,
                "ok": False,
                "reason": f"cannot be traced: {exc}",
                "path": "",
            }
            outcomes.append(IntentOutcome(intent.name, None, document))
        else:
            outcomes.append(IntentOutcome(intent.name, result.actual.value, result.to_json()))
    return tuple(outcomes)


def intents_document(intents: Intents, outcomes: Sequence[IntentOutcome]) -> dict[str, Any]:
    """The ``data`` of ``traffic/intents``."""
    ok = sum(1 for o in outcomes if o.document["ok"])
    return {
        "file": intents.file,
        "ok": ok,
        "violated": len(outcomes) - ok,
        "intents": [dict(o.document) for o in outcomes],
    }


def intent_changes(
    before: Sequence[IntentOutcome], after: Sequence[IntentOutcome]
) -> list[dict[str, Any]]:
    """The intents whose verdict differs between two convergences (by name, in the order
    of ``after``), each ``{name, before, after, ok, reason, path}``: the ``data.changed``
    of the ``intents_changed`` event (a verdict null: it could not be traced).  An intent
    new in ``after`` is no change."""
    old = {o.name: o.verdict for o in before}
    changed = []
    for outcome in after:
        if outcome.name in old and old[outcome.name] != outcome.verdict:
            document = outcome.document
            changed.append(
                {
                    "name": outcome.name,
                    "before": old[outcome.name],
                    "after": outcome.verdict,
                    "ok": document["ok"],
                    "reason": document["reason"],
                    "path": document["path"],
                }
            )
    return changed


def traffic_documents(ctx: TrafficContext, intents: Intents | None) -> TrafficDocuments:
    """The retained traffic documents of one convergence (pure; run in a thread): the
    matrix if the network declares traffic, the intents if there are any."""
    views: dict[str, Any] = {}
    if declares_traffic(ctx.network):
        views["reachability"] = reachability_matrix(ctx).to_json()
    outcomes: tuple[IntentOutcome, ...] = ()
    if intents is not None:
        outcomes = intent_outcomes(ctx, intents)
        views["intents"] = intents_document(intents, outcomes)
    return TrafficDocuments(views, outcomes)


def intents_problems(network: Network, plan: Plan, intents: Intents) -> list[ConfigProblem]:
    """Every source or destination of ``intents`` that names nothing in ``network`` (an
    interface, NVA, firewall, gateway, subnet or on-prem range), before the lab starts
    (``lab up --intents``: nothing is started then); the addresses do not depend on routes.
    """
    return check_intents(TrafficContext(network, plan, {}), intents.intents)


_ATTEMPTS = 10
"""Reads of the speakers' routes a context tries while the lab keeps changing under them."""

T = TypeVar("T")


class LabSnapshots(Mapping[str, RouterSnapshot]):
    """The running speakers' snapshots at one convergence (``version``) of ``lab``, read
    from the workers when first asked, once, then kept.

    Its keys are the speakers it may read (those of running workers, known up front);
    ``fetched`` are those already read (None: asked, and its worker had none).  A missing
    one is read by the thread asking for it, on ``loop``
    (``asyncio.run_coroutine_threadsafe``), with the lab checked at its
    ``version`` before and after: :class:`~bgpemu.lab.errors.LabMovedError` if it moved,
    :class:`~bgpemu.lab.errors.RoutesUnreadableError` if the workers did not answer.  Asked
    on the loop's own thread it raises RuntimeError (it would wait on itself).
    """

    def __init__(
        self,
        lab: TcpLab,
        version: int,
        speakers: frozenset[str],
        fetched: Mapping[str, RouterSnapshot | None],
        *,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
    ) -> None:
        self.lab = lab
        self.version = version
        self.speakers = speakers
        self.loop = loop
        self.timeout = timeout
        self.fetches = 0
        """Speakers read after the context was made (tests count them)."""
        self._fetched = dict(fetched)
        self._mutex = threading.Lock()

    def __getitem__(self, name: str) -> RouterSnapshot:
        if name not in self.speakers:
            raise KeyError(name)
        with self._mutex:
            if name in self._fetched:
                found = self._fetched[name]
            else:
                found = self._fetched[name] = self._fetch(name)
        if found is None:
            raise KeyError(name)  # its worker answered without it: no snapshot, as before
        return found

    def __contains__(self, name: object) -> bool:
        return name in self.speakers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.speakers))

    def __len__(self) -> int:
        return len(self.speakers)

    def _fetch(self, name: str) -> RouterSnapshot | None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None  # a thread without a loop: where it should be read
        if running is self.loop:
            raise RuntimeError(
                f"speaker {name!r}'s routes read on the event loop's thread, which would wait "
                f"on itself: read a lab's traffic context in a thread (ConvergedTraffic.compute)"
            )
        self.fetches += 1
        future = asyncio.run_coroutine_threadsafe(self._read(name), self.loop)
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise RoutesUnreadableError(
                f"speaker {name!r}'s routes not read within {self.timeout} s"
            ) from None

    async def _read(self, name: str) -> RouterSnapshot | None:
        """``name``'s snapshot at :attr:`version` (runs on the loop)."""
        lab = self.lab
        if lab.version == self.version:
            try:
                read = await lab.snapshots(
                    self.timeout, speakers=frozenset({name}), without_adj_rib_out=frozenset({name})
                )
            except (LabError, TimeoutError) as exc:
                raise RoutesUnreadableError(
                    f"speaker {name!r}'s routes could not be read: {exc}"
                ) from exc
            if lab.version == self.version:
                return read.get(name)
        raise LabMovedError(
            f"the lab changed while speaker {name!r}'s routes were read for a traffic answer"
        )


class ConvergedTraffic:
    """The traffic context of the lab's current convergence, made when first asked and
    kept until the lab changes; one computation at a time (the context fills its caches
    as questions are answered, and reads speakers' routes as they are needed:
    :class:`LabSnapshots`)."""

    def __init__(self, lab: TcpLab, intents: Intents | None = None) -> None:
        self.lab = lab
        self.intents = intents
        self.lock = asyncio.Lock()
        """Held while a thread reads the context (answers, documents)."""
        self._version: int | None = None
        self._context: TrafficContext | None = None

    @property
    def publishes(self) -> bool:
        """Whether the lab publishes traffic documents (it declares traffic, or intents)."""
        return self.intents is not None or declares_traffic(self.lab.network)

    async def context(self, timeout: float) -> TrafficContext:
        """The context of the lab converged (TimeoutError if it does not within
        ``timeout`` seconds; LabError if a worker is dead or stopped).  Its snapshots
        are a :class:`LabSnapshots`: read it in a thread (:meth:`compute`)."""
        lab = self.lab
        for _ in range(_ATTEMPTS):
            await lab.converged(timeout=timeout)
            version = lab.version
            if self._context is not None and self._version == version:
                return self._context
            network, plan = lab.network, lab.plan
            azure = plan.view_speakers()
            fetched = await lab.snapshots(speakers=azure, without_adj_rib_out=azure)
            if lab.version != version:
                continue  # something moved while the snapshots were taken: look again
            running = frozenset(name for group in lab.groups() for name in group)
            snapshots = LabSnapshots(
                lab,
                version,
                traffic_speakers(plan) & running,
                {name: fetched.get(name) for name in azure},
                loop=asyncio.get_running_loop(),
                timeout=timeout,
            )
            self._context = TrafficContext(network, plan, snapshots)
            self._version = version
            return self._context
        raise TimeoutError(
            f"the lab changed while its routes were read, {_ATTEMPTS} times in a row; ask again"
        )

    async def compute(self, timeout: float, work: Callable[[TrafficContext], T]) -> T:
        """``work`` over the context of the lab converged, in a thread, one at a time;
        computed again over the new convergence when the lab moved while ``work`` read
        a speaker's routes (:class:`~bgpemu.lab.errors.LabMovedError`), as :meth:`context`
        looks again (the same bound)."""
        for _ in range(_ATTEMPTS):
            context = await self.context(timeout)
            async with self.lock:
                try:
                    return await asyncio.to_thread(work, context)
                except LabMovedError:
                    continue
        raise TimeoutError(
            f"the lab changed while its routes were read, {_ATTEMPTS} times in a row; ask again"
        )

    async def documents(self, timeout: float) -> TrafficDocuments:
        """The traffic documents of the current convergence (computed in a thread)."""
        intents = self.intents
        return await self.compute(timeout, lambda context: traffic_documents(context, intents))


def traffic_speakers(plan: Plan) -> frozenset[str]:
    """Every speaker: the Azure views' and the on-prem routers, whose Loc-RIB a trace
    follows (decision §9.12).  No view of traffic reads an Adj-RIB-Out."""
    return frozenset(plan.endpoints)
