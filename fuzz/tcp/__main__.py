"""``python -m fuzz.tcp``: run the TCP fuzz harness against a ``bgpemu speaker``.

Example (from the repository root)::

    nice python -m fuzz.tcp --seed 1 --cases 10000 --json /tmp/fuzz.json
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from pathlib import Path

from fuzz.tcp.harness import run
from fuzz.tcp.options import Options
from fuzz.tcp.report import summary, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.tcp", description=__doc__)
    parser.add_argument("--seed", type=int, default=1, help="the run's seed (default 1)")
    parser.add_argument("--cases", type=int, default=10_000, help="cases to send (default 10000)")
    parser.add_argument("--workers", type=int, default=4, help="parallel fuzzing neighbours")
    parser.add_argument("--batch", type=int, default=32, help="cases per round on one session")
    parser.add_argument("--port", type=int, default=0, help="the speaker's port (default: free)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bgpemu-tcp-fuzz"))
    parser.add_argument("--json", type=Path, help="write the JSON report here")
    parser.add_argument(
        "--bystander-no-extended",
        action="store_true",
        help="the bystander does not negotiate RFC 8654 extended messages",
    )
    parser.add_argument(
        "--preannounce",
        type=float,
        default=0.3,
        help="share of the cases whose routes are first announced validly, so that "
        "treat-as-withdraw must remove them (default 0.3)",
    )
    parser.add_argument(
        "--speaker-src",
        type=Path,
        help="run the speaker from this bgpemu src/ directory (e.g. an older commit's)",
    )
    parser.add_argument(
        "--progress", type=float, default=10.0, help="seconds between progress lines"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.workers > 200 or args.cases < 0 or args.batch < 1:
        parser.error("--workers 1..200, --cases >= 0, --batch >= 1")
    opts = Options(
        seed=args.seed,
        cases=args.cases,
        workers=args.workers,
        batch=min(args.batch, 64),
        port=args.port,
        workdir=args.workdir,
        json_path=args.json,
        bystander_extended=not args.bystander_no_extended,
        speaker_src=args.speaker_src.resolve() if args.speaker_src else None,
        preannounce=args.preannounce,
        progress=args.progress,
        quiet=args.quiet,
        command=shlex.join(["python", "-m", "fuzz.tcp", *(sys.argv[1:] if argv is None else argv)]),
    )
    report = asyncio.run(run(opts))
    if args.json is not None:
        write_json(report, args.json)
    print(summary(report))
    clean = not (
        report["process_deaths"]
        or report["tracebacks"]
        or report["wrong_outcomes"]
        or report["bystander_drops"]
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
