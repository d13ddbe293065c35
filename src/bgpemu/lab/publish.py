"""The lab's own MQTT publications: the lab ``state`` and every Azure view.

Speakers publish their own tables (:mod:`bgpemu.lab.worker`).  The Azure views combine
several speakers (a VNet's effective routes read its gateways, its Route Server, its
hub), which may run in different processes, so the lab computes them here from the
speakers' snapshots, each time the lab has converged after a change, and publishes
one retained document per Azure node and view (``nodes/<node>/azure/<view>``, see
docs/mqtt.md):

=====================  ==================  ======================================
view                   node                data (the ``bgpemu solve`` JSON)
=====================  ==================  ======================================
effective-routes.S     VNet                ``solve --effective-routes VNET/S``
learned-routes         VPN/ER gateway      ``solve --learned-routes GW``
bgp-peer-status        VPN/ER gateway      ``solve --bgp-peer-status GW``
routes.N               Route Server        learned and advertised, NVA ``N``
hub-routes.T           vWAN hub            ``solve --hub-routes HUB/T``
circuit-routes.P       ExpressRoute        ``solve --circuit-routes C/P``
=====================  ==================  ======================================

A lab whose topology declares traffic (VM interfaces, NSGs, firewalls) or that checks
intents also publishes its traffic answers (``traffic/reachability``, ``traffic/intents``
and the ``intents_changed`` event: :mod:`bgpemu.lab.traffic`), and answers the traffic
questions of the ``control`` topic (``trace``, ``next_hop``, ``ip_flow``,
``effective_nsg``, ``reachability``: :mod:`bgpemu.lab.questions`) with an ``answered``
event.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from bgpemu.azure.catalog import AzureView
from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.report import azure_views
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.lab.bestpaths import best_path_changes
from bgpemu.lab.convergence import Verdict
from bgpemu.lab.faults import WorkerFault
from bgpemu.lab.supervisor import LabError, TcpLab
from bgpemu.lab.traffic import ConvergedTraffic, IntentOutcome, Intents, intent_changes
from bgpemu.observe.url import BrokerAddress

__all__ = [
    "LAB_NODE",
    "azure_documents",
    "publish_lab",
    "topology_document",
]

logger = logging.getLogger(__name__)

LAB_NODE = "_lab"
"""The MQTT client name of the lab itself (it publishes no node status)."""

_CONVERGE_TIMEOUT = 300.0
"""Seconds a command waits for the lab to converge (a silent cut needs the hold time)."""
_FLUSH_TIMEOUT = 30.0
"""Seconds to wait for the broker to take the first converged publication."""
_STOP_FLUSH = 5.0
"""Seconds a clean stop waits for the broker to take the ``stopped`` state."""
_STILL_CONVERGED = 0.5
"""Seconds the traffic publication waits for the lab converged again if it moved while
its snapshots were taken (else the next convergence publishes)."""


def azure_documents(
    network: Network, plan: Plan, snapshots: Mapping[str, RouterSnapshot], now: float
) -> Iterator[tuple[str, str, Any]]:
    """(node, view, data) for every Azure view of the network (the ``view`` of its topic:
    :meth:`AzureView.topic_view <bgpemu.azure.catalog.AzureView.topic_view>`)."""
    for category, views in azure_views(network, plan, snapshots, now).items():
        view = AzureView.of_key(category)
        for key, data in views.items():
            node, _, detail = key.partition("/")
            yield node, view.topic_view(detail), data


async def publish_lab(
    lab: TcpLab,
    url: str | BrokerAddress,
    started: float,
    published_once: asyncio.Event | None = None,
    stopping: asyncio.Event | None = None,
    intents: Intents | None = None,
    topology_file: str = "",
) -> None:
    """Publish the lab state and the Azure views after every convergence, and serve the
    ``control`` topic; until cancelled, or until ``stopping`` is set.

    The retained ``topology`` document (the topology the lab runs, its TCP-MD5 keys
    redacted, named ``topology_file``) goes out at start and after every ``apply``.

    The traffic answers (:mod:`bgpemu.lab.traffic`) follow every convergence too, with
    ``intents`` checked each time (``lab up --intents FILE``).

    ``published_once`` is set when the first converged publication has reached the
    broker (``lab up --exit-after-converged`` waits for it before stopping).

    Liveness (docs/mqtt.md, ``state``): the lab's connection registers as its MQTT will
    a retained ``state`` saying ``offline`` (with the lab's ``id``, ``pid`` and
    ``host``), which the broker publishes if the lab dies without disconnecting.  When
    ``stopping`` is set, the ``state`` says ``stopped`` and reaches the broker (within
    :data:`_STOP_FLUSH` seconds) before the connection closes cleanly.
    """
    from bgpemu.observe.mqtt import Publisher, listen_control
    from bgpemu.observe.topics import LabTopics

    topics = LabTopics(lab=lab.name)
    offline = lab_state(lab, lab.verdict(), nodes=sorted(lab.local), status="offline")
    async with Publisher(
        url,
        lab=lab.name,
        node=LAB_NODE,
        node_status=False,
        identifier=f"bgpemu-{lab.name}-{LAB_NODE}-{lab.id[:12]}",
        will=(topics.state, offline),
    ) as publisher:
        traffic = ConvergedTraffic(lab, intents)
        async with asyncio.TaskGroup() as tg:
            views = tg.create_task(
                _publish_views(lab, publisher, started, published_once, traffic, topology_file),
                name="views",
            )
            control = _Control(lab, publisher, traffic)
            listener = tg.create_task(listen_control(url, lab.name, control.handle), name="control")
            lab.fault_listeners.append(report_faults := _fault_events(lab, publisher))
            await (stopping or asyncio.Event()).wait()
            lab.fault_listeners.remove(report_faults)
            views.cancel()
            listener.cancel()
        stopped = lab_state(lab, lab.verdict(), nodes=sorted(lab.local), status="stopped")
        publisher.update(topics.state, stopped)
        try:
            await publisher.flush(_STOP_FLUSH)
        except TimeoutError:
            logger.warning(
                "lab %s: the broker did not take the 'stopped' state within %g s",
                lab.name,
                _STOP_FLUSH,
            )


def _fault_events(lab: TcpLab, publisher: Any) -> Callable[[WorkerFault], None]:
    """A :attr:`TcpLab.fault_listeners` entry: each worker fault becomes a lab event
    (``worker_exited``, ``worker_stopped``, ``worker_resumed``; docs/mqtt.md)."""
    from bgpemu.observe.payloads import lab_event_payload
    from bgpemu.observe.topics import LabTopics

    topic = LabTopics(lab=lab.name).events

    def report(fault: WorkerFault) -> None:
        event = f"worker_{fault.event}"
        publisher.event(lab_event_payload(lab.name, event=event, detail=fault.describe()), topic)

    return report


async def _publish_views(
    lab: TcpLab,
    publisher: Any,
    started: float,
    published_once: asyncio.Event | None,
    traffic: ConvergedTraffic,
    topology_file: str = "",
) -> None:
    from bgpemu.observe.topics import LabTopics

    topics = LabTopics(lab=lab.name)
    publish_traffic = _TrafficPublication(lab, publisher, traffic)
    last_network: Network | None = None
    last_state: dict[str, Any] | None = None
    published: int | None = None
    first: float | None = None
    views: set[str] = set()  # the view topics published last (a topology change drops some)
    while True:
        if lab.network is not last_network:  # at start, and after every apply
            last_network = lab.network
            document = topology_document(lab.name, lab.network, topology_file)
            if document is not None:
                publisher.update(topics.topology, document)
        nodes = sorted(lab.local)  # a topology change adds and removes speakers
        verdict = lab.verdict()
        version = lab.version
        if verdict.converged and version != published:
            try:
                snapshots = await lab.snapshots(
                    speakers=lab.plan.view_speakers(),
                    without_adj_rib_out=lab.plan.views_without_adj_rib_out(),
                )
            except LabError as exc:  # a worker died or is stopped (a fault, reported)
                logger.info("lab %s: Azure views not updated this time: %s", lab.name, exc)
                await lab.wait_change()
                continue
            if lab.version != version:
                continue  # something moved while the snapshots were taken: look again
            now = time.monotonic()
            if first is None:
                first = now - started
            # The views of a large lab take seconds: computed and encoded in a thread,
            # so that this loop (which may run the embedded broker) keeps serving.
            documents = await asyncio.to_thread(
                _view_documents, lab.network, lab.plan, snapshots, now - started, topics
            )
            current: set[str] = set()
            for topic, data in documents:
                publisher.update(topic, data)
                current.add(topic)
            for gone in sorted(views - current):  # the node or view left the topology
                publisher.clear(gone)
            views = current
            state = lab_state(
                lab, verdict, nodes=nodes, since=time.time(), convergence_time=round(first, 3)
            )
            if _changed(state, last_state):
                publisher.update(topics.state, state)
                last_state = state
            published = version
            await publish_traffic()
            if published_once is not None and not published_once.is_set():
                await publisher.flush(_FLUSH_TIMEOUT)
                published_once.set()
            continue
        elif not verdict.converged and (published is not None or first is None):
            state = lab_state(lab, verdict, nodes=nodes)
            if _changed(state, last_state):
                publisher.update(topics.state, state)
                last_state = state
            published = None
        await lab.wait_change()


def topology_document(lab: str, network: Network, file: str) -> dict[str, Any] | None:
    """The lab's retained ``topology`` document (docs/mqtt.md): ``network``'s document as
    YAML text with its TCP-MD5 keys redacted; None for a network built in code."""
    import yaml

    from bgpemu.observe.payloads import topology_payload
    from bgpemu.topology.source import redacted_document

    document = redacted_document(network)
    if document is None:
        return None
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return topology_payload(lab, file=file or f"{network.name}.yaml", topology=text)


def lab_state(
    lab: TcpLab,
    verdict: Verdict,
    *,
    nodes: Sequence[str],
    status: str = "running",
    since: float | None = None,
    convergence_time: float | None = None,
) -> dict[str, Any]:
    """The lab's ``state`` document (docs/mqtt.md): who runs it, and its ``verdict``."""
    from bgpemu.observe.payloads import lab_state_payload

    return lab_state_payload(
        lab.name,
        converged=verdict.converged and status == "running",
        nodes=nodes,
        since=since,
        convergence_time=convergence_time,
        sessions_established=verdict.established,
        sessions_expected=verdict.expected,
        status=status,
        lab_id=lab.id,
        pid=os.getpid(),
        host=socket.gethostname(),
        held_down=verdict.held,
        external_waiting=verdict.external_waiting,
        external_not_connected=verdict.not_connected,
    )


def _changed(state: Mapping[str, Any], last: Mapping[str, Any] | None) -> bool:
    """Whether ``state`` says something ``last`` did not (``since`` aside: a convergence
    that changed nothing is not news, and observers are not woken for it)."""
    if last is None:
        return True
    return {k: v for k, v in state.items() if k != "since"} != {
        k: v for k, v in last.items() if k != "since"
    }


def _view_documents(
    network: Network,
    plan: Plan,
    snapshots: Mapping[str, RouterSnapshot],
    now: float,
    topics: Any,
) -> list[tuple[str, bytes]]:
    """(topic, JSON bytes) of every Azure view document."""
    from bgpemu.observe.mqtt.connect import encode
    from bgpemu.observe.payloads import azure_view_payload

    return [
        (topics.node(node).azure(view), encode(azure_view_payload(node, view, data)))
        for node, view, data in azure_documents(network, plan, snapshots, now)
    ]


class _TrafficPublication:
    """Publishes the traffic documents after a convergence (:mod:`bgpemu.lab.traffic`):
    retained ``traffic/<view>``, and ``intents_changed`` when an intent's verdict changed."""

    def __init__(self, lab: TcpLab, publisher: Any, traffic: ConvergedTraffic) -> None:
        self.lab = lab
        self.publisher = publisher
        self.traffic = traffic
        self.views: set[str] = set()
        self.outcomes: tuple[IntentOutcome, ...] | None = None

    async def __call__(self) -> None:
        from bgpemu.observe.payloads import traffic_event_payload, traffic_payload
        from bgpemu.observe.topics import LabTopics

        topics = LabTopics(lab=self.lab.name)
        current: dict[str, Any] = {}
        if self.traffic.publishes:
            try:
                documents = await self.traffic.documents(_STILL_CONVERGED)
            except (TimeoutError, LabError) as exc:  # moved on or a worker died: next time
                logger.info("lab %s: traffic answers not updated this time: %s", self.lab.name, exc)
                return
            except Exception:  # architecture decision 12: the views and the lab go on
                logger.exception("lab %s: the traffic answers failed", self.lab.name)
                return
            current = dict(documents.views)
            if self.outcomes is not None:
                changed = intent_changes(self.outcomes, documents.outcomes)
                if changed:
                    event = traffic_event_payload(
                        self.lab.name, event="intents_changed", data={"changed": changed}
                    )
                    self.publisher.event(event, topic=topics.events)
            self.outcomes = documents.outcomes
        for view, data in current.items():
            self.publisher.update(topics.traffic(view), traffic_payload(self.lab.name, view, data))
        for gone in sorted(self.views - set(current)):  # no traffic left after a change
            self.publisher.clear(topics.traffic(gone))
        self.views = set(current)


class _Control:
    """Serves the lab's ``control`` topic: check, inject, wait for convergence, report;
    answer the traffic questions (:mod:`bgpemu.lab.questions`)."""

    def __init__(
        self, lab: TcpLab, publisher: Any, traffic: ConvergedTraffic | None = None
    ) -> None:
        self.lab = lab
        self.publisher = publisher
        self.traffic = ConvergedTraffic(lab) if traffic is None else traffic

    def _event(self, event: str, request: str | None, op: str | None, **fields: Any) -> None:
        from bgpemu.observe.payloads import lab_event_payload
        from bgpemu.observe.topics import LabTopics

        payload = lab_event_payload(self.lab.name, event=event, request=request, op=op, **fields)
        self.publisher.event(payload, topic=LabTopics(lab=self.lab.name).events)

    async def handle(self, raw: bytes) -> None:
        """Serve one control message; never raises (architecture decision 12): whatever
        it holds and whatever fails while it is served, it is answered ``rejected`` with
        the reason (an unexpected error is logged with its traceback) and the next one is
        served."""
        from bgpemu.lab.control import decode_command

        command = decode_command(raw)
        if isinstance(command, str):
            self._event("rejected", None, None, detail=command)
            return
        request = command.get("id") if isinstance(command.get("id"), str) else None
        op = command.get("op") if isinstance(command.get("op"), str) else None
        try:
            await self._serve(command, request, op)
        except Exception as exc:  # architecture decision 12: a command never ends the control
            logger.exception("lab %s: control request %s (%s) failed", self.lab.name, request, op)
            reason = f"internal error while serving the command: {type(exc).__name__}: {exc}"
            self._event("rejected", request, op, detail=reason)

    async def _serve(self, command: dict[str, Any], request: str | None, op: str | None) -> None:
        """Check, inject, wait for convergence, report: every outcome is an event."""
        from bgpemu.lab.control import apply, parse_command
        from bgpemu.lab.engine import TcpEngine
        from bgpemu.lab.questions import QUESTIONS
        from bgpemu.lab.targets import Names

        if op in QUESTIONS:
            await self._answer(command, request, op)
            return
        names = Names(self.lab.network, self.lab.plan)
        injection = parse_command(names, command, planner=self.lab.plan_change)
        if isinstance(injection, list):
            self._event("rejected", request, op, detail="; ".join(injection))
            return
        updates = self.lab.updates_sent()
        started = time.monotonic()
        try:
            before = await self.lab.best_paths()  # LabError if a worker is dead or stopped
            await apply(TcpEngine(self.lab), injection)
        except LabError as exc:
            self._event("rejected", request, op, detail=str(exc))
            return
        self._event("injected", request, op, detail=injection.describe())
        try:
            await self.lab.converged(timeout=_CONVERGE_TIMEOUT)
        except (TimeoutError, LabError) as exc:  # LabError: a worker died or stopped meanwhile
            self._event("rejected", request, op, detail=str(exc))
            return
        duration = time.monotonic() - started
        detail = injection.describe()
        changes: int | None = None
        prefixes: int | None = None
        try:
            changes, prefixes = best_path_changes(before, await self.lab.best_paths())
        except LabError as exc:  # a worker died or stopped meanwhile: no counts
            detail = f"{detail} (best-path changes not counted: {exc})"
        self._event(
            "converged",
            request,
            op,
            detail=detail,
            duration=round(duration, 3),
            updates=max(0, self.lab.updates_sent() - updates),
            prefixes=prefixes,
            best_path_changes=changes,
        )

    async def _answer(self, command: dict[str, Any], request: str | None, op: str) -> None:
        """A traffic question: checked, answered from the lab converged (every outcome
        an event: ``answered`` with the answer, or ``rejected`` naming the field)."""
        from bgpemu.lab.questions import answer, parse_question
        from bgpemu.observe.payloads import traffic_event_payload
        from bgpemu.observe.topics import LabTopics

        question = parse_question(op, command.get("args", {}))
        if isinstance(question, list):
            self._event("rejected", request, op, detail="; ".join(question))
            return
        try:
            result = await self.traffic.compute(
                _CONVERGE_TIMEOUT, lambda context: answer(context, question)
            )
        except (TimeoutError, LabError) as exc:
            self._event("rejected", request, op, detail=str(exc))
            return
        if isinstance(result, list):
            self._event("rejected", request, op, detail="; ".join(result))
            return
        payload = traffic_event_payload(
            self.lab.name, event="answered", request=request, op=op, data=result
        )
        self.publisher.event(payload, topic=LabTopics(lab=self.lab.name).events)
