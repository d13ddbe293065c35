"""``bgpemu lab up|down|status``: run a topology as a TCP lab of real speakers.

``lab up`` validates the topology (every problem reported, exit 2, nothing started),
starts every node as an asyncio speaker on its own 127.0.10.N address spread over
worker processes, shows progress until the lab is converged (exact: every session
Established and no UPDATE in flight), prints a summary, and keeps running until
SIGINT/SIGTERM or ``bgpemu lab down``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bgpemu.cli._lab_web import add_web_options, check_web_options, web_view
from bgpemu.cli._mqtt_options import add_mqtt_options, broker_of, security_options
from bgpemu.cli._problems import refuse
from bgpemu.cli.examples import TOPOLOGY_HELP
from bgpemu.errors import BgpEmuError, ConfigError
from bgpemu.text import counted

__all__ = ["add_parser"]


_STOP_S = 6.0
"""A clean stop waits this long for the broker to take the lab's ``stopped`` state."""
_WEB_READY_S = 5.0
"""Seconds the web view's URL waits for the lab's first converged publication."""
_FLUSH_S = 30.0
_FLUSH_S_PER_ROUTE = 0.0005
"""``--exit-after-converged`` waits this long for the last publication (plus per route)."""


def add_parser(commands: Any) -> None:
    """Register ``lab`` and its subcommands."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "lab", help="run a topology as a lab of real BGP speakers over TCP"
    )
    sub = parser.add_subparsers(dest="lab_command", required=True, metavar="ACTION")
    up = sub.add_parser("up", help="start a lab and wait until it converges")
    up.add_argument("topology", metavar="TOPOLOGY", help=TOPOLOGY_HELP)
    up.add_argument("--name", help="lab name (default: the topology's name)")
    up.add_argument("--processes", type=int, help="worker processes (default: one per core)")
    up.add_argument("--port", type=int, default=10179, help="BGP port of every speaker")
    up.add_argument(
        "--address-base",
        default="127.0.10.1",
        help="first speaker address; the others follow (default 127.0.10.1)",
    )
    up.add_argument(
        "--timers",
        choices=["azure", "lab"],
        default="azure",
        help="keepalive/hold: azure = 60/180 s (Azure's), lab = 3/9 s (fast failure detection)",
    )
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for convergence")
    up.add_argument(
        "--no-wait-external",
        dest="wait_external",
        action="store_false",
        help=(
            "do not wait for the sessions to external routers: converged without them "
            "(the summary names them as not connected)"
        ),
    )
    up.add_argument(
        "--exit-after-converged", action="store_true", help="stop the lab once it has converged"
    )
    add_mqtt_options(
        up,
        default=None,
        help=(
            "publish tables to this broker (mqtt://host:port, or mqtts:// for TLS); exit "
            "status 2 if unreachable. Default: an embedded broker on 127.0.0.1:1883 (or a "
            "free port if that is taken) where only the lab may publish"
        ),
    )
    up.add_argument(
        "--no-mqtt", action="store_true", help="publish nothing (no broker, no embedded broker)"
    )
    up.add_argument(
        "--broker-port",
        type=int,
        metavar="PORT",
        help="the embedded broker's port on 127.0.0.1 (default: 1883, or a free port if that "
        "is taken); exit status 2 if it is taken",
    )
    up.add_argument(
        "--intents",
        metavar="FILE",
        help=(
            "intents file (expected verdicts, as bgpemu verify): checked after every "
            "convergence, published on traffic/intents, changed verdicts announced on events"
        ),
    )
    up.add_argument(
        "--only",
        action="append",
        metavar="SPEAKER",
        help="run only these speakers (one container per speaker: compose 'split' profile)",
    )
    add_web_options(up)
    up.set_defaults(func=_up, default_log_level="info")
    down = sub.add_parser("down", help="stop a running lab")
    down.add_argument("--name", help="lab name (default: the only running lab)")
    down.set_defaults(func=_down)
    status = sub.add_parser("status", help="show running labs")
    status.add_argument("--name", help="one lab")
    status.set_defaults(func=_status)


def _up(args: argparse.Namespace) -> int:
    from bgpemu.topology import load_topology

    try:
        network = load_topology(args.topology)
    except ConfigError as exc:
        return refuse(exc.problems, "started")
    args.intent_set = None
    web_problem = check_web_options(args)
    if web_problem is not None:
        print(f"error: {web_problem}; nothing was started.", file=sys.stderr)
        return 2
    if args.intents is not None:
        from bgpemu.lab.traffic import Intents
        from bgpemu.topology.intent_file import load_intents

        if args.no_mqtt:
            print("error: --intents publishes on MQTT: not with --no-mqtt", file=sys.stderr)
            return 2
        try:
            args.intent_set = Intents(args.intents, tuple(load_intents(args.intents)))
        except ConfigError as exc:
            return refuse(exc.problems, "started")
    from bgpemu.topology.shipped import resolve_topology

    args.topology_path = os.path.abspath(resolve_topology(args.topology))  # loaded: it resolves
    return asyncio.run(_run_lab(args, network))


async def _run_lab(args: argparse.Namespace, network: Any) -> int:
    if args.broker_port is not None and (args.mqtt is not None or args.no_mqtt):
        other = "--mqtt" if args.mqtt is not None else "--no-mqtt"
        print(
            f"error: --broker-port is the embedded broker's port: not with {other}; "
            "nothing was started.",
            file=sys.stderr,
        )
        return 2
    if args.broker_port is not None and not 1 <= args.broker_port <= 65535:
        print(
            f"error: --broker-port {args.broker_port}: not a port (1..65535); nothing was started.",
            file=sys.stderr,
        )
        return 2

    name = args.name or network.name
    keepalive, hold = (60, 180) if args.timers == "azure" else (3, 9)
    args.lab_id = uuid.uuid4().hex
    refusal = _claim_name(name, args)
    if refusal is not None:
        print(f"error: {refusal}; nothing was started.", file=sys.stderr)
        return 2
    try:
        return await _run_claimed_lab(args, network, name, keepalive, hold)
    finally:
        from bgpemu.lab.state_files import remove_state

        remove_state(name, args.lab_id)


def _claim_name(name: str, args: argparse.Namespace) -> str | None:
    """Take the lab name on this machine (:func:`bgpemu.lab.state_files.claim_state`); the
    reason to refuse when a lab of that name runs."""
    from bgpemu.lab.state_files import claim_state

    try:
        running = claim_state(
            name, {"name": name, "id": args.lab_id, "pid": os.getpid(), "starting": True}
        )
    except OSError as exc:
        return f"cannot record lab {name!r}: {exc}"
    if running is None:
        return None
    where = f"broker {running['mqtt']}" if running.get("mqtt") else "no MQTT"
    return (
        f"a lab named {name!r} is already running (pid {running.get('pid')}, {where}); "
        f"stop it with 'bgpemu lab down --name {name}' or give another --name"
    )


async def _running_on_broker(name: str, address: Any, lab_id: str) -> str | None:
    """The reason to refuse when a lab named ``name`` runs elsewhere and publishes to
    the same broker (its retained ``state`` says ``running``, with another ``id``; a
    state of this host whose pid is gone is stale and ignored)."""
    from bgpemu.cli._observe_mqtt import lab_status
    from bgpemu.lab.state_files import process_alive
    from bgpemu.observe.errors import ObserveError
    from bgpemu.observe.mqtt import retained_labs

    try:
        labs = await retained_labs(address, timeout=3.0)
    except ObserveError:
        return None  # the broker was just checked; a later outage is the publisher's
    state = labs.get(name)
    if state is None or lab_status(state) != "running":
        return None
    if state.get("id") == lab_id:
        return None
    pid = state.get("pid")
    here = state.get("host") == socket.gethostname()
    if here and isinstance(pid, int) and not process_alive(pid):
        return None
    return (
        f"a lab named {name!r} is already running on the MQTT broker {address.url} "
        f"(pid {pid} on host {state.get('host')}, id {state.get('id')}); "
        "give another --name"
    )


async def _run_claimed_lab(
    args: argparse.Namespace, network: Any, name: str, keepalive: int, hold: int
) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if args.mqtt is not None:
            from bgpemu.observe.errors import ObserveError
            from bgpemu.observe.mqtt import check_broker

            try:
                args.broker = await check_broker(broker_of(args, args.mqtt))
            except ObserveError as exc:
                print(f"error: {exc}; nothing was started.", file=sys.stderr)
                return 2
            args.mqtt = args.broker.url
            # The parts of a lab split over hosts (--only, the compose 'split' profile)
            # share its name on the broker by design.
            taken = None if args.only else await _running_on_broker(name, args.broker, args.lab_id)
            if taken is not None:
                print(f"error: {taken}; nothing was started.", file=sys.stderr)
                return 2
        elif security_options(args):
            given = ", ".join(security_options(args))
            print(
                f"error: {given} need --mqtt URL (the embedded broker makes the lab's own "
                "account); nothing was started.",
                file=sys.stderr,
            )
            return 2
        elif not args.no_mqtt:
            try:
                args.broker = await _embedded_broker(stack, name, args.log_level, args.broker_port)
            except (OSError, BgpEmuError) as exc:
                print(f"error: {exc}; nothing was started.", file=sys.stderr)
                return 2
            args.mqtt = args.broker.url
        return await _start_lab(args, network, name, keepalive, hold)


async def _embedded_broker(
    stack: contextlib.AsyncExitStack, name: str, log_level: str, port: int | None = None
) -> Any:
    """Start the embedded broker in its own process (127.0.0.1:``port`` when given
    (``--broker-port``), else 127.0.0.1:1883, else a free port;
    :mod:`bgpemu.mqttbroker.process`) with a new account for the lab
    (:mod:`bgpemu.lab.credentials`): anyone may read, only the lab (and the CLI of the
    user who started it) may publish under ``bgpemu/v1/``.  A broker process that dies
    is reported on stderr and started again on the same port; it stops after the lab.
    Returns the broker's address with the lab's credentials."""
    from bgpemu.lab.credentials import new_lab_account, remove_lab_account, write_lab_account
    from bgpemu.mqttbroker.process import BrokerProcess
    from bgpemu.observe.topics import ROOT
    from bgpemu.observe.url import BrokerAddress

    account = new_lab_account(name)
    broker = BrokerProcess(
        "127.0.0.1",
        (1883, 0) if port is None else (port,),
        users=dict([account]),
        protected=(f"{ROOT}/#",),
        log_level=log_level,
    )
    await broker.start()
    watcher = asyncio.create_task(
        broker.watch(lambda message: print(f"warning: {message}", file=sys.stderr)),
        name="embedded broker watch",
    )

    async def stop_broker() -> None:
        await broker.stop()
        await watcher

    stack.push_async_callback(stop_broker)
    address = BrokerAddress(host="127.0.0.1", port=broker.port).with_credentials(*account)
    url = address.url
    write_lab_account(name, url, account)
    stack.callback(remove_lab_account, name)
    print(
        f"embedded MQTT broker: {url} (pid {broker.pid}; observe with: bgpemu watch --mqtt {url})",
        file=sys.stderr,
    )
    return address


async def _start_lab(
    args: argparse.Namespace, network: Any, name: str, keepalive: int, hold: int
) -> int:
    from bgpemu.lab.supervisor import LabError, TcpLab

    try:
        lab = TcpLab(
            network,
            processes=args.processes,
            port=args.port,
            lab_base=args.address_base,
            keepalive=keepalive,
            hold=hold,
            name=name,
            mqtt=getattr(args, "broker", None),
            only=tuple(args.only or ()),
            wait_external=args.wait_external,
            lab_id=args.lab_id,
        )
    except LabError as exc:
        print(f"error: {exc}; nothing was started.", file=sys.stderr)
        return 2
    if args.intent_set is not None:
        from bgpemu.lab.traffic import intents_problems

        problems = intents_problems(network, lab.plan, args.intent_set)
        if problems:
            return refuse(problems, "started")
    started = time.monotonic()
    try:
        await lab.start()
    except LabError as exc:
        print(f"error: {exc}; nothing is running.", file=sys.stderr)
        return 2
    published = asyncio.Event()
    stopping = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        publisher = None
        if args.mqtt is not None:
            from bgpemu.lab.publish import publish_lab

            publisher = tg.create_task(
                publish_lab(
                    lab,
                    args.broker,
                    started,
                    published,
                    stopping,
                    intents=args.intent_set,
                    topology_file=os.path.basename(args.topology_path),
                ),
                name="lab mqtt",
            )
        else:
            published.set()

        async def before_stop() -> None:
            """A clean stop: the lab's ``state`` says ``stopped`` before the speakers go."""
            stopping.set()
            if publisher is not None:
                await asyncio.wait({publisher}, timeout=_STOP_S)
                publisher.cancel()

        try:
            async with web_view(args, name, getattr(args, "broker", None)) as args.web_url:
                return await _serve_lab(args, lab, name, started, published, before_stop)
        finally:
            if publisher is not None:
                publisher.cancel()


async def _serve_lab(
    args: argparse.Namespace,
    lab: Any,
    name: str,
    started: float,
    published: asyncio.Event,
    before_stop: Callable[[], Awaitable[None]],
) -> int:
    from bgpemu.lab.state_files import write_state

    state: dict[str, Any] = {
        "name": name,
        "id": lab.id,
        "pid": os.getpid(),
        "topology": args.topology_path,
        "speakers": len(lab.local),
        "sessions": len(lab.sessions) + len(lab.external),
        "external_peers": sorted({router for _, router in lab.external}),
        "mqtt": args.mqtt,
        "web": getattr(args, "web_url", None),
        "converged": False,
    }
    write_state(name, state)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        external = ""
        if lab.external:
            routers = sorted({router for _, router in lab.external})
            waits = "waiting for" if lab.wait_external else "not waiting for"
            external = (
                f" ({counted(len(lab.external), 'session')} to external routers, "
                f"{waits} {', '.join(routers)})"
            )
        print(
            f"lab {name}: {counted(len(lab.local), 'speaker')}, "
            f"{counted(state['sessions'], 'session')}{external}, "
            f"{counted(lab.worker_count, 'process')}",
            file=sys.stderr,
        )
        try:
            verdict = await _progress(lab, args.timeout, stop)
        except TimeoutError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if verdict is None:
            return 0
        elapsed = time.monotonic() - started
        routes = lab.best_routes()
        summary = {
            "lab": name,
            "converged": True,
            "convergence_time_s": round(elapsed, 3),
            "speakers": len(lab.local),
            "sessions": verdict.established,
            "best_routes": routes,
            "held_down": list(verdict.held),
            "external_not_connected": list(verdict.not_connected),
        }
        print(json.dumps(summary))
        write_state(name, {**state, **summary})
        if args.exit_after_converged:
            if args.mqtt is not None:
                # Every table document goes out once more: for a large lab that is
                # minutes of JSON (tens of microseconds per route), hence the bound.
                await lab.flush(timeout=_FLUSH_S + routes * _FLUSH_S_PER_ROUTE)
            await published.wait()
        else:
            if state["web"] is not None:
                with contextlib.suppress(TimeoutError):  # the page then shows the lab at once
                    await asyncio.wait_for(published.wait(), _WEB_READY_S)
                print(f"web view: {state['web']}", file=sys.stderr)
            _print_next(lab.network, name)
            await stop.wait()
        return 0
    finally:
        await before_stop()
        await lab.stop()


def _print_next(network: Any, name: str) -> None:
    """The human "next" block on stderr, after the summary of lab ``name`` that keeps
    running: the commands worth trying on it, with this topology's names
    (cli._next_steps), and ``--lab NAME`` when other labs run on this machine (a command
    without it would not know which lab, nor which broker)."""
    import shlex
    import shutil

    from bgpemu.cli._next_steps import next_steps
    from bgpemu.lab.state_files import read_state

    steps = next_steps(network)
    if not steps:
        return
    program = "bgpemu"
    if not shutil.which(program) and os.path.basename(sys.argv[0]) == program:
        program = sys.argv[0]  # not on PATH: the path it was run by (scripts/run's venv)
    lab = ["--lab", name] if len(read_state()) > 1 else []
    commands = [shlex.join([program, *step.argv, *lab]) for step in steps]
    width = max(map(len, commands))
    print("next, from another terminal:", file=sys.stderr)
    for command, step in zip(commands, steps, strict=True):
        print(f"  {command.ljust(width)}  # {step.what}", file=sys.stderr)


async def _progress(lab: Any, timeout: float, stop: asyncio.Event) -> Any:
    """Print progress on stderr until converged; None when stopped first."""
    last = ""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        async with asyncio.timeout(timeout):
            while True:
                verdict = lab.verdict()
                line = f"  {verdict.established}/{counted(verdict.expected, 'session')} Established"
                if verdict.external_waiting:
                    line += f", waiting for external peers: {', '.join(verdict.external_waiting)}"
                if verdict.held:
                    line += f", held down: {'; '.join(verdict.held)}"
                if line != last:
                    print(line, file=sys.stderr)
                    last = line
                if verdict.converged:
                    return verdict
                changed = asyncio.ensure_future(lab.wait_change())
                await asyncio.wait({changed, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    changed.cancel()
                    return None
    except TimeoutError:
        verdict = lab.verdict()
        hint = ""
        if verdict.external_waiting:
            hint = (
                f" (external routers not connected: {', '.join(verdict.external_waiting)}; "
                "--no-wait-external converges without them)"
            )
        waiting = ", ".join(verdict.waiting)
        raise TimeoutError(f"not converged after {timeout} s: {waiting}{hint}") from None
    finally:
        waiter.cancel()


def _down(args: argparse.Namespace) -> int:
    from bgpemu.lab.state_files import read_state

    states = read_state(args.name)
    if not states:
        print(f"error: no running lab{' ' + args.name if args.name else ''}", file=sys.stderr)
        return 2
    if len(states) > 1:
        names = ", ".join(s["name"] for s in states)
        print(f"error: several labs run ({names}); give --name", file=sys.stderr)
        return 2
    pid = int(states[0]["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            time.sleep(0.05)
            continue
        print(f"lab {states[0]['name']} stopped")
        return 0
    print(f"error: lab {states[0]['name']} (pid {pid}) did not stop", file=sys.stderr)
    return 1


def _status(args: argparse.Namespace) -> int:
    from bgpemu.lab.state_files import read_state

    states = read_state(args.name)
    print(json.dumps(states, indent=2))
    return 0 if states or args.name is None else 2
