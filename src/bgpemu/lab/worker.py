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
by ``Done`` after a fresh ``Reports`` (and ``SendReports``, which asks for that alone).
A topology change (issue 6) arrives as the same kind of commands: ``AddSpeaker`` (a
SpeakerSpec and Endpoint: start it here), ``ApplyChange`` (a
:class:`~bgpemu.router.spec_change.SpeakerChange`, carried out in the contract's
order), ``RestartSpeaker`` (stop it, start it with the new spec) and
``RemoveSpeaker`` (stop it cleanly; its retained MQTT tables are cleared).

The worker is made of three parts: :mod:`bgpemu.lab.hosting` runs the speakers
(start, watch, report, add, remove), :mod:`bgpemu.lab.feeds` publishes them to MQTT,
and :mod:`bgpemu.lab.injections` carries out the session injections and a speaker's
topology change; this module reads the pipe and answers each command.

Failures (issue 12): a command that fails, for whatever reason, is answered with a
``Done`` whose ``error`` names the command and the exception, and the worker runs on (an unexpected
exception is also logged with its traceback); ``flush`` waits as long as the parent
says (its ``timeout``), never less.  Only an error outside any command (the speakers'
TaskGroup) ends the process, and then it first sends ``Fatal`` with the exception and
where it was raised, so the parent can say why the worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, assert_never

from bgpemu.azure.plan import Endpoint
from bgpemu.azure.snapshot import snapshot
from bgpemu.lab.faults import LogTail, fatal_text, leaves
from bgpemu.lab.hosting import ListenError, SpeakerHost
from bgpemu.lab.injections import apply_change, session_action
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
    RestartSpeaker,
    SendReports,
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

if TYPE_CHECKING:
    from bgpemu.lab.feeds import Feeds

__all__ = ["WorkerConfig", "worker_main"]

logger = logging.getLogger(__name__)


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


def worker_main(config: WorkerConfig, conn: Connection) -> None:
    """Process entry point: run the configured speakers until told to stop.

    An exception that ends the process is first sent to the parent as ``Fatal`` (the
    parent reports it with the exit status), with the last lines this process logged,
    then raised (its traceback on stderr).
    """
    logging.basicConfig(level=config.log_level)
    tail = LogTail()
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


class _Worker:
    """One worker process: its speakers, their MQTT feeds, and the pipe to the parent."""

    def __init__(self, config: WorkerConfig, conn: Connection) -> None:
        self.config = config
        self.endpoints = {spec.name: config.endpoints[spec.name] for spec in config.specs}
        self.host = SpeakerHost(config.specs, config.seed)
        self.conn = conn
        self.feeds: Feeds | None = None
        """The speakers' MQTT publishers and table feeds (None: no broker)."""
        self.commands: asyncio.Queue[ToWorker] = asyncio.Queue()

    def send(self, message: FromWorker) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        host = self.host
        try:
            async with asyncio.TaskGroup() as tg:
                host.start(tg)
                error = await host.wait_ready()
                if error is not None:
                    self.send(StartError(error))
                    host.request_stop()
                    return
                async with contextlib.AsyncExitStack() as publishers:
                    host.watch(self.send)
                    if self.config.mqtt is not None:
                        from bgpemu.lab.feeds import Feeds

                        self.feeds = Feeds(self.config.mqtt, self.config.lab, publishers, tg)
                        for name, speaker in host.speakers.items():
                            await self.feeds.start(speaker, self.endpoints[name])
                    self.send(Ready(tuple(sorted(host.speakers))))
                    await self._serve()
                    await host.stop()
                    if self.feeds is not None:
                        self.feeds.cancel()
        except* ListenError as group:
            failed = "; ".join(str(e) for e in leaves(group))
            self.send(StartError(failed))
        else:
            self.send(Stopped())
        finally:
            loop.remove_reader(self.conn.fileno())

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
                names = ", ".join(sorted(self.host.speakers))
                logger.exception("lab worker (%s): command %s failed", names, kind)
                error = f"{kind}: unexpected {type(exc).__name__}: {exc} (lab worker of {names})"
                answer = Done(error=error)
            self.send(Reply(request.id, answer))

    async def _command(self, command: Command) -> Answer:
        speakers = self.host.speakers
        match command:
            case Flush(timeout):
                if self.feeds is not None:
                    await self.feeds.flush(timeout)
                return Flushed()
            case GetBestPaths():
                from bgpemu.lab.bestpaths import best_paths

                return BestPathsFound({name: best_paths(s.router) for name, s in speakers.items()})
            case TakeSnapshots(only, without_adj_rib_out):
                return Snapshots(
                    {
                        name: snapshot(
                            name,
                            s.router,
                            {peer: d.session for peer, d in s.peers.items()},
                            adj_rib_out=name not in without_adj_rib_out,
                        ).to_json()
                        for name, s in speakers.items()
                        if only is None or name in only
                    }
                )
            case SendReports():
                pass  # the report below, then the reply
            # A topology change (issue 6), one step of a PlanChange.
            case AddSpeaker(spec, endpoint):
                await self._add_speaker(spec, endpoint)
            case RemoveSpeaker(name):
                await self._remove_speaker(name, clear=True)
            case RestartSpeaker(spec, endpoint):
                await self._remove_speaker(spec.name, clear=False)
                await self._add_speaker(spec, endpoint)
            case ApplyChange(change):
                speaker = speakers[change.speaker]
                await apply_change(speaker, change, self.host.blackholes)
                if self.feeds is not None:
                    self.feeds.changed(speaker)
            # The injections.
            case Announce(name, route):
                speakers[name].originate(route)
            case Withdraw(name, family, prefix):
                speakers[name].withdraw(family, prefix)
            case SetPolicy(name, policy):
                await speakers[name].set_neighbor_policy(policy)
            case SessionAction(name, peer, action):
                now = asyncio.get_running_loop().time()
                session_action(speakers[name], peer, action, now, self.host.blackholes)
            case _:
                assert_never(command)
        # The report leaves before the reply, so the parent's verdict already counts
        # what this change sent when the injection returns.
        self.send(self.host.reports())
        return Done()

    async def _add_speaker(self, spec: SpeakerSpec, endpoint: Endpoint) -> None:
        """Start ``spec`` here (and its feed); return once it listens (ValueError if not)."""
        speaker = await self.host.add(spec)
        self.endpoints[spec.name] = endpoint
        if self.feeds is not None:
            await self.feeds.start(speaker, endpoint)

    async def _remove_speaker(self, name: str, *, clear: bool) -> None:
        """Stop speaker ``name`` cleanly (Cease to its peers) and forget it; ``clear`` also
        removes its retained MQTT tables (the node left the topology)."""
        speaker = await self.host.remove(name)
        if self.feeds is not None:
            await self.feeds.stop(speaker, clear=clear)
