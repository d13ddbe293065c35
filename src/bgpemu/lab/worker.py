"""A lab worker process: runs some of the lab's speakers over real TCP and reports.

The parent (:mod:`bgpemu.lab.supervisor`) starts one worker per process with its
share of the lab's plan (:class:`WorkerConfig`: its speakers' specs and endpoints,
nothing to compile) and the worker runs those speakers.  Speakers share
nothing: they talk to each other only over TCP, whichever process they are in.  With
an MQTT broker, each speaker publishes its own tables (one MQTT client per node, so
its ``status`` turns ``offline`` through the MQTT will if the process dies).

The pipe to the parent carries the typed messages of :mod:`bgpemu.lab.protocol`.
Worker -> parent: ``Ready`` (every speaker listening), ``StartError`` (a speaker could
not start: nothing is left running), ``Reports`` (per speaker: session states,
current-connection UPDATE counters, busy flag; sent after every burst of changes), a
``Reply`` to each ``Request`` and ``Stopped``.  Parent -> worker: ``Stop``, or a
``Request`` of a ``TakeSnapshots``, ``GetBestPaths``, ``Flush`` or of an injection
(``Announce``, ``Withdraw``, ``SessionAction``, ``SetPolicy``), each injection answered
by ``Done`` after a fresh ``Reports``.  A topology change (issue 6) arrives as the same
kind of commands: ``AddSpeaker`` (a SpeakerSpec and Endpoint: start it here),
``ApplyChange`` (a :class:`~bgpemu.router.spec_change.SpeakerChange`, carried out in the
contract's order), ``RestartSpeaker`` (stop it, start it with the new spec) and
``RemoveSpeaker`` (stop it cleanly; its retained MQTT tables are cleared).

Failures (issue 12): a command that fails, for whatever reason, is answered with a
``Done`` whose ``error`` names the command and the exception, and the worker runs on (an unexpected
exception is also logged with its traceback); ``flush`` waits as long as the parent
says (its ``timeout``), never less.  Only an error outside any command (the speakers'
TaskGroup) ends the process, and then it first sends ``Fatal`` with the exception and
where it was raised, so the parent can say why the worker died.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import Any, assert_never

from bgpemu.azure.plan import Endpoint
from bgpemu.azure.snapshot import snapshot
from bgpemu.errors import BgpEmuError
from bgpemu.lab.convergence import SpeakerReport, report_from_sessions
from bgpemu.lab.protocol import (
    AddSpeaker,
    Announce,
    Answer,
    ApplyChange,
    BestPathsFound,
    Command,
    Done,
    Fatal,
    Flush,
    Flushed,
    FromWorker,
    GetBestPaths,
    Ready,
    RemoveSpeaker,
    Reply,
    Reports,
    RestartSpeaker,
    SessionAction,
    SetPolicy,
    Snapshots,
    StartError,
    Stop,
    Stopped,
    TakeSnapshots,
    ToWorker,
    Withdraw,
)
from bgpemu.observe.url import BrokerAddress
from bgpemu.router.spec import SpeakerSpec
from bgpemu.router.spec_change import SpeakerChange
from bgpemu.runtime import Speaker
from bgpemu.session import SessionState
from bgpemu.wire.constants import CeaseSubcode, ErrorCode, MessageType
from bgpemu.wire.messages import Notification

__all__ = ["UpdateTally", "WorkerConfig", "report_of", "worker_main"]

logger = logging.getLogger(__name__)

_COALESCE = 0.02
"""Seconds a burst of changes is gathered before one report leaves (keeps the pipe quiet)."""
_FOREVER = 1e9
_FLUSH_TIMEOUT = 30.0
"""Seconds to wait for the broker when the parent names no deadline."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerConfig:
    """What one worker runs (pickled to the child process): its share of the lab's plan."""

    specs: tuple[SpeakerSpec, ...]
    """The speakers this worker runs, as the lab's current plan has them."""
    endpoints: Mapping[str, Endpoint]
    """Each of those speakers' endpoint (role, ASN, addresses: its MQTT ``info``)."""
    seed: int = 0
    lab: str = "lab"
    mqtt: str | BrokerAddress | None = None
    """The broker (URL, or address with its TLS settings and credentials); None
    publishes nothing."""
    log_level: int = logging.ERROR


class UpdateTally:
    """Every UPDATE a speaker sent, across its sessions' lives.

    A session object is replaced when a connection collision promotes the other
    connection (RFC 4271 §6.8), and its counters start again from zero; the tally
    keeps what the replaced one had sent, so the total only grows.
    """

    def __init__(self) -> None:
        self._last: dict[str, tuple[int, int]] = {}
        """peer -> (id of its session object, UPDATEs it had sent at the last look)."""
        self._retired = 0

    def total(self, speaker: Speaker) -> int:
        """UPDATEs sent so far by ``speaker`` on every session, past and present."""
        current = 0
        for gone in self._last.keys() - speaker.peers.keys():  # a neighbour de-configured
            self._retired += self._last.pop(gone)[1]
        for peer, driver in speaker.peers.items():
            session = driver.session
            count = session.counters.messages_sent[MessageType.UPDATE]
            known = self._last.get(peer)
            if known is not None and known[0] != id(session):
                self._retired += known[1]
            self._last[peer] = (id(session), count)
            current += count
        return self._retired + current


def report_of(speaker: Speaker, tally: UpdateTally | None = None) -> SpeakerReport:
    """A speaker's sessions and counters (the input of :func:`bgpemu.lab.convergence.decide`)."""
    report = report_from_sessions(
        speaker.spec.name,
        {name: driver.session for name, driver in speaker.peers.items()},
        busy=speaker.router.next_deadline() is not None,
    )
    return replace(
        report,
        updates_sent_total=(tally or UpdateTally()).total(speaker),
        best_routes=speaker.router.loc_rib.count(),
    )


def worker_main(config: WorkerConfig, conn: Connection) -> None:
    """Process entry point: run the configured speakers until told to stop.

    An exception that ends the process is first sent to the parent as ``Fatal`` (the
    parent reports it with the exit status), with the last lines this process logged,
    then raised (its traceback on stderr).
    """
    logging.basicConfig(level=config.log_level)
    tail = _LogTail()
    logging.getLogger().addHandler(tail)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_Worker(config, conn).run())
    except BaseException as exc:
        error = fatal_text(exc)
        if tail.lines:
            error += f" (last log lines: {' | '.join(tail.lines)})"
        with contextlib.suppress(OSError, ValueError):
            conn.send(Fatal(error))
        raise


class _LogTail(logging.Handler):
    """Keeps the last few log lines of the process (at the root logger's level), for
    the ``Fatal`` message: what the parent shows of a dying worker's stderr."""

    def __init__(self, keep: int = 5) -> None:
        super().__init__()
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().partition("\n")[0]
        self.lines.append(f"{record.levelname} {record.name}: {first}")


def fatal_text(exc: BaseException) -> str:
    """``TimeoutError: ... (at worker.py:298 in _command)`` for each leaf exception of
    ``exc``: what the parent's report says about a worker that died of it."""
    parts = []
    for leaf in _leaves(exc):
        text = "".join(traceback.format_exception_only(leaf)).strip() or type(leaf).__name__
        frames = traceback.extract_tb(leaf.__traceback__)
        if frames:
            last = frames[-1]
            where = f"{last.filename.rpartition('/')[2]}:{last.lineno} in {last.name}"
            text = f"{text} (at {where})"
        parts.append(text)
    return "; ".join(parts)


class _Worker:
    def __init__(self, config: WorkerConfig, conn: Connection) -> None:
        self.config = config
        self.endpoints = {spec.name: config.endpoints[spec.name] for spec in config.specs}
        self.speakers = {
            spec.name: Speaker(spec, rng=random.Random(f"{config.seed}:{spec.name}"))
            for spec in config.specs
        }
        self.conn = conn
        self.feeds: list[Any] = []
        self.pacer: Any = None
        """The publication pacer this process's feeds share (bgpemu.observe.node.Pacer)."""
        self.tallies = {name: UpdateTally() for name in self.speakers}
        self.blackholed: set[tuple[str, str]] = set()
        """(speaker, peer) sessions cut silently: kept down once their hold timer fired."""
        self.held: set[tuple[str, str]] = set()
        """(SpeakerFeed, Publisher) pairs when publishing to MQTT."""
        self.changed = asyncio.Event()
        self.commands: asyncio.Queue[ToWorker] = asyncio.Queue()
        self.tg: asyncio.TaskGroup | None = None
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.helpers: list[asyncio.Task[None]] = []
        self.publishers: contextlib.AsyncExitStack | None = None
        self.start_errors: dict[str, str] = {}

    def _pacer(self) -> Any:
        """The feeds of this process take turns to publish (bgpemu.observe.node.Pacer)."""
        if self.pacer is None:
            from bgpemu.observe.node import Pacer

            self.pacer = Pacer()
        return self.pacer

    def send(self, message: FromWorker) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = {
                    name: tg.create_task(self._run_speaker(name, s), name=f"speaker {name}")
                    for name, s in self.speakers.items()
                }
                self.tg, self.tasks = tg, tasks
                if not await self._all_ready(tasks):
                    return
                async with contextlib.AsyncExitStack() as publishers:
                    helpers = [
                        tg.create_task(self._watch(s), name=f"watch {name}")
                        for name, s in self.speakers.items()
                    ]
                    helpers.append(tg.create_task(self._report(), name="reporter"))
                    self.helpers, self.publishers = helpers, publishers
                    if self.config.mqtt is not None:
                        helpers.extend(await self._publish(publishers, tg))
                    self.send(Ready(tuple(sorted(self.speakers))))
                    await self._serve()
                    for speaker in self.speakers.values():
                        speaker.request_stop()
                    await asyncio.gather(*tasks.values())
                    for helper in helpers:
                        helper.cancel()
        except* ListenError as group:
            failed = "; ".join(str(e) for e in _leaves(group))
            self.send(StartError(failed))
        else:
            self.send(Stopped())
        finally:
            loop.remove_reader(self.conn.fileno())

    async def _run_speaker(self, name: str, speaker: Speaker) -> None:
        try:
            await speaker.run()
        except (OSError, ExceptionGroup) as exc:
            errors = [e for e in _leaves(exc) if isinstance(e, OSError)]
            if speaker.bound_port is not None or not errors:
                raise
            spec = speaker.spec
            reason = errors[0].strerror or str(errors[0])
            raise ListenError(
                f"speaker {name} could not listen on {spec.local_address}:{spec.port}: {reason}"
            ) from exc

    async def _publish(
        self, stack: contextlib.AsyncExitStack, tg: asyncio.TaskGroup
    ) -> list[asyncio.Task[None]]:
        """One MQTT publisher and table feed per speaker (bgpemu.observe)."""
        return [
            await self._feed(stack, tg, name, speaker) for name, speaker in self.speakers.items()
        ]

    async def _feed(
        self, stack: contextlib.AsyncExitStack, tg: asyncio.TaskGroup, name: str, speaker: Speaker
    ) -> asyncio.Task[None]:
        """Publish ``speaker``'s ``info`` and start its table feed; the feed's task."""
        from bgpemu.observe.mqtt import Publisher
        from bgpemu.observe.node import SpeakerFeed

        assert self.config.mqtt is not None
        publisher = await stack.enter_async_context(
            Publisher(self.config.mqtt, lab=self.config.lab, node=name)
        )
        self._info(speaker, publisher)
        feed = SpeakerFeed(speaker, publisher, pacer=self._pacer())
        self.feeds.append((feed, publisher))
        return tg.create_task(feed.run(), name=f"mqtt feed {name}")

    async def _all_ready(self, tasks: dict[str, asyncio.Task[None]]) -> bool:
        """Wait until every speaker listens; False (error sent) if one failed to start.

        All of them at once: sessions start as soon as each speaker listens and their
        routing shares this loop, so waiting for one speaker after the other (a loop
        turn each) would send ``ready`` only after much of that work.
        """
        readies = {n: asyncio.ensure_future(s.wait_ready()) for n, s in self.speakers.items()}
        waiting = set(readies.values())
        while waiting:
            running = {task for task in tasks.values() if not task.done()}
            done, _ = await asyncio.wait(waiting | running, return_when=asyncio.FIRST_COMPLETED)
            waiting -= done
            failed = [n for n, task in tasks.items() if task.done() and not readies[n].done()]
            if failed:
                for ready in readies.values():
                    ready.cancel()
                name = failed[0]
                error = tasks[name].exception() if not tasks[name].cancelled() else None
                spec = self.speakers[name].spec
                self.send(
                    StartError(
                        f"speaker {name} could not listen on "
                        f"{spec.local_address}:{spec.port}: {error}"
                    )
                )
                for other in self.speakers.values():
                    other.request_stop()
                return False
        return True

    def _on_command(self) -> None:
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            message = Stop()
        self.commands.put_nowait(message)

    async def _serve(self) -> None:
        while True:
            request = await self.commands.get()
            if isinstance(request, Stop):
                return
            kind = request.command.kind
            try:
                answer = await self._command(request.command)
            except (KeyError, ValueError) as exc:
                answer = Done(error=f"{kind}: {exc}")
            except Exception as exc:  # a fault domain: one command, never the process
                names = ", ".join(sorted(self.speakers))
                logger.exception("lab worker (%s): command %s failed", names, kind)
                error = f"{kind}: unexpected {type(exc).__name__}: {exc} (lab worker of {names})"
                answer = Done(error=error)
            self.send(Reply(request.id, answer))

    async def _command(self, command: Command) -> Answer:
        match command:
            case Flush(timeout):
                await self._flush(timeout)
                return Flushed()
            case GetBestPaths():
                from bgpemu.lab.bestpaths import best_paths

                return BestPathsFound(
                    {name: best_paths(s.router) for name, s in self.speakers.items()}
                )
            case TakeSnapshots(speakers, without_adj_rib_out):
                return Snapshots(
                    {
                        name: snapshot(
                            name,
                            s.router,
                            {peer: d.session for peer, d in s.peers.items()},
                            adj_rib_out=name not in without_adj_rib_out,
                        ).to_json()
                        for name, s in self.speakers.items()
                        if speakers is None or name in speakers
                    }
                )
            # A topology change (issue 6), one step of a PlanChange.
            case AddSpeaker(spec, endpoint):
                await self._add_speaker(spec, endpoint)
            case RemoveSpeaker(name):
                await self._remove_speaker(name, clear=True)
            case RestartSpeaker(spec, endpoint):
                await self._remove_speaker(spec.name, clear=False)
                await self._add_speaker(spec, endpoint)
            case ApplyChange(change):
                await self._change(change)
            # The injections.
            case Announce(name, route):
                self.speakers[name].originate(route)
            case Withdraw(name, family, prefix):
                self.speakers[name].withdraw(family, prefix)
            case SetPolicy(name, policy):
                await self.speakers[name].set_neighbor_policy(policy)
            case SessionAction(name, peer, action):
                now = asyncio.get_running_loop().time()
                self._session(self.speakers[name], peer, action, now)
            case _:
                assert_never(command)
        # The report leaves before the reply, so the parent's verdict already counts
        # what this change sent when the injection returns.
        self.send(self._reports())
        return Done()

    async def _flush(self, timeout: float) -> None:
        """Publish every speaker's current tables and wait, at most ``timeout`` seconds
        (the parent's deadline), until the broker has them (ValueError otherwise)."""
        try:
            async with asyncio.timeout(timeout):
                for feed, _publisher in self.feeds:
                    await feed.publish()
                for _feed, publisher in self.feeds:
                    await publisher.flush(timeout)
        except TimeoutError:
            waiting = sorted(f.speaker.spec.name for f, p in self.feeds if p.pending())
            raise ValueError(
                f"the MQTT broker had not taken every table within {timeout:g} s "
                f"(still to publish: {', '.join(waiting) or 'acknowledgements'})"
            ) from None

    # -- topology changes (issue 6) ------------------------------------------------------

    async def _add_speaker(self, spec: SpeakerSpec, endpoint: Endpoint) -> None:
        """Start ``spec`` here; return once it listens (ValueError if it cannot)."""
        name = spec.name
        if name in self.speakers:
            raise ValueError(f"speaker {name} already runs")
        assert self.tg is not None
        speaker = Speaker(spec, rng=random.Random(f"{self.config.seed}:{name}"))
        task = self.tg.create_task(self._run_added(name, speaker), name=f"speaker {name}")
        ready = asyncio.ensure_future(speaker.wait_ready())
        await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            raise ValueError(self.start_errors.pop(name, f"speaker {name} stopped at once"))
        self.speakers[name] = speaker
        self.tasks[name] = task
        self.tallies[name] = UpdateTally()
        self.endpoints = {**self.endpoints, name: endpoint}
        self.helpers.append(self.tg.create_task(self._watch(speaker), name=f"watch {name}"))
        if self.config.mqtt is not None and self.publishers is not None:
            self.helpers.append(await self._feed(self.publishers, self.tg, name, speaker))

    async def _run_added(self, name: str, speaker: Speaker) -> None:
        """Run a speaker started by a topology change; a failure to listen is reported."""
        try:
            await self._run_speaker(name, speaker)
        except ListenError as exc:
            self.start_errors[name] = str(exc)

    async def _remove_speaker(self, name: str, *, clear: bool) -> None:
        """Stop speaker ``name`` cleanly (Cease to its peers) and forget it; ``clear`` also
        removes its retained MQTT tables (the node left the topology)."""
        speaker = self.speakers.pop(name)
        speaker.request_stop()
        await asyncio.wait({self.tasks.pop(name)})
        for helper in self.helpers:
            if helper.get_name() in (f"watch {name}", f"mqtt feed {name}"):
                helper.cancel()
        self.tallies.pop(name, None)
        self.blackholed = {key for key in self.blackholed if key[0] != name}
        self.held = {key for key in self.held if key[0] != name}
        for entry in [e for e in self.feeds if e[0].speaker is speaker]:
            self.feeds.remove(entry)
            publisher = entry[1]
            if clear:
                publisher.clear(publisher.topics.info)
                for topic in entry[0].table_topics():
                    publisher.clear(topic)
                with contextlib.suppress(TimeoutError):
                    await publisher.flush(_FLUSH_TIMEOUT)
            await publisher.__aexit__(None, None, None)  # status offline; the stack's exit
            # later does nothing more

    async def _change(self, change: SpeakerChange) -> None:
        """One speaker's part of a topology change, in the order of the contract
        (:mod:`bgpemu.azure.replan`)."""
        name = change.speaker
        speaker = self.speakers[name]
        for neighbor, policy in change.add_neighbors:
            speaker.add_neighbor(neighbor, policy)
        for policy in change.policies:
            await speaker.set_neighbor_policy(policy)
        for neighbor, policy in change.reset_neighbors:
            self.blackholed.discard((name, neighbor.name))
            self.held.discard((name, neighbor.name))
            await speaker.reset_neighbor(neighbor, policy)
        for route in change.originate:
            speaker.originate(route)
        for family, prefix in change.withdraw:
            speaker.withdraw(family, prefix)
        for peer in change.remove_neighbors:
            self.blackholed.discard((name, peer))
            self.held.discard((name, peer))
            await speaker.remove_neighbor(peer)
        for feed, publisher in self.feeds:
            if feed.speaker is speaker:
                self._info(speaker, publisher)

    def _info(self, speaker: Speaker, publisher: Any) -> None:
        """Publish ``speaker``'s ``info`` document (its neighbours change with the topology)."""
        from bgpemu.observe.payloads import info_payload

        name = speaker.spec.name
        endpoint = self.endpoints[name]
        publisher.update(
            publisher.topics.info,
            info_payload(
                name,
                role=endpoint.role,
                asn=endpoint.asn,
                router_id=speaker.spec.router.router_id,
                addresses=[endpoint.azure_address, endpoint.lab_address],
                neighbors=[n.name for n in speaker.spec.neighbors],
            ),
        )

    def _session(self, speaker: Speaker, peer: str, action: str, now: float) -> None:
        """Hold a session down (clean or silent), bring it back, or reset it."""
        driver = speaker.peers[peer]
        key = (speaker.spec.name, peer)
        if action == "stop":
            driver.reset(_cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN), now)
        elif action == "blackhole":
            driver.blackhole()
            self.blackholed.add(key)
        elif action == "start":
            self.blackholed.discard(key)
            self.held.discard(key)
            driver.restart(now)
        elif action == "reset":
            driver.reset(_cease(CeaseSubcode.ADMINISTRATIVE_RESET), now)
            driver.restart(now)
        else:
            raise ValueError(f"unknown session action {action!r}")

    def _hold_blackholed_down(self, speaker: Speaker) -> None:
        """A blackholed session the hold timer ended must not reconnect by itself: hold it
        down (ManualStop in Idle cancels the automatic restart, RFC 4271 §8.2.2)."""
        now = asyncio.get_running_loop().time()
        for peer, driver in speaker.peers.items():
            key = (speaker.spec.name, peer)
            waiting = key in self.blackholed and key not in self.held
            if waiting and driver.state is not SessionState.ESTABLISHED:
                driver.reset(_cease(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN), now)
                self.held.add(key)

    async def _watch(self, speaker: Speaker) -> None:
        while True:
            await speaker.wait_for(_next_change(), timeout=_FOREVER)
            if self.blackholed:
                self._hold_blackholed_down(speaker)
            self.changed.set()

    async def _report(self) -> None:
        self.send(self._reports())
        while True:
            await self.changed.wait()
            await asyncio.sleep(_COALESCE)
            self.changed.clear()
            self.send(self._reports())

    def _reports(self) -> Reports:
        return Reports(
            {name: report_of(s, self.tallies[name]) for name, s in self.speakers.items()}
        )


def _cease(subcode: CeaseSubcode) -> Notification:
    return Notification(code=ErrorCode.CEASE, subcode=subcode, data=b"")


class ListenError(BgpEmuError):
    """A speaker could not open its listening socket (address or port in use...)."""


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (possibly nested) exception groups."""
    if not isinstance(exc, BaseExceptionGroup):
        return [exc]
    found: list[BaseException] = []
    for inner in exc.exceptions:
        found.extend(_leaves(inner))
    return found


def _next_change() -> Callable[[], bool]:
    """A predicate false on its first call and true afterwards: 'the next change'."""
    calls = [0]

    def predicate() -> bool:
        calls[0] += 1
        return calls[0] > 1

    return predicate
