"""``bgpemu speaker --config FILE.yaml``: run speakers and print what they received as JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from bgpemu.cli._configs import load_all
from bgpemu.lab.faults import leaves
from bgpemu.runtime import Speaker, SpeakerSpec

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Register the ``speaker`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "speaker",
        help="run one or more BGP speakers from config files",
        description=(
            "Run BGP speakers over TCP. Send SIGUSR1 to print the received routes as JSON; "
            "SIGINT/SIGTERM close every session with a Cease NOTIFICATION and exit."
        ),
    )
    parser.add_argument(
        "--config",
        action="append",
        required=True,
        metavar="FILE",
        help="speaker configuration (YAML, see docs/speaker.md); repeat to run several speakers",
    )
    parser.add_argument(
        "--dump-after",
        type=float,
        metavar="SECONDS",
        help="print the received routes as JSON after SECONDS, then stop cleanly",
    )
    parser.add_argument(
        "--wait-established",
        action="store_true",
        help="with --dump-after: count the SECONDS from the moment every session is Established",
    )
    parser.set_defaults(func=run, default_log_level="info")


def run(args: argparse.Namespace) -> int:
    """Load every config (all errors first), then run the speakers."""
    specs = load_all(args.config)
    if specs is None:
        return 2
    failures: list[BaseException] = []
    try:
        asyncio.run(_run(specs, args.dump_after, args.wait_established))
    except* OSError as group:  # e.g. the listening address is in use or not local
        failures.extend(leaves(group))
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _dump(speakers: list[Speaker]) -> None:
    documents = [s.dump() for s in speakers]
    document = documents[0] if len(documents) == 1 else documents
    print(json.dumps(document, indent=2, sort_keys=False), flush=True)


async def _run(specs: list[SpeakerSpec], dump_after: float | None, wait_established: bool) -> None:
    speakers = [Speaker(spec) for spec in specs]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _dump, speakers)
    try:
        async with asyncio.TaskGroup() as tg:
            for speaker in speakers:
                tg.create_task(speaker.run(), name=f"speaker-{speaker.spec.name}")
            for speaker in speakers:
                await speaker.wait_ready()
            if dump_after is not None:
                if wait_established:
                    await asyncio.gather(*(s.wait_established(timeout=3600) for s in speakers))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(dump_after):
                        await stop.wait()
                _dump(speakers)
            else:
                await stop.wait()
            for speaker in speakers:
                speaker.request_stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            loop.remove_signal_handler(signum)
