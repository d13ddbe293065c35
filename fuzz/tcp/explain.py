"""``python -m fuzz.tcp.explain``: what the oracle expects for one message (a reproducer).

    python -m fuzz.tcp.explain ffffffff...0200...          # as sent by an odd (legacy) worker
    python -m fuzz.tcp.explain --worker 0 --phase open_sent ffff...

The worker number picks the session profile the case was sent on (even: 4-octet AS,
ADD-PATH, Extended Message; odd: none of them), as in the harness's summary.
"""

from __future__ import annotations

import argparse
import sys

from fuzz.tcp import wire as w
from fuzz.tcp.harness import profile
from fuzz.tcp.oracle import Phase, judge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.tcp.explain", description=__doc__)
    parser.add_argument("hex", help="the message, as printed in the summary or the JSON report")
    parser.add_argument("--worker", type=int, default=1, help="the worker that sent it")
    parser.add_argument(
        "--phase", choices=[p.value for p in Phase], default=Phase.ESTABLISHED.value
    )
    args = parser.parse_args(argv)
    try:
        data = bytes.fromhex(args.hex)
    except ValueError as exc:
        parser.error(f"not hex: {exc}")
    session = profile(args.worker)
    exp = judge(data, session.ctx, Phase(args.phase))
    print(f"session: {session.name} {session.ctx}")
    print(
        f"allowed: {sorted(a.name for a in exp.possible())}; NOTIFICATIONs: {sorted(exp.codes())}"
    )
    for finding in exp.findings:
        actions = "/".join(sorted(a.name for a in finding.actions))
        print(f"  {actions:<24} {finding.scope.value:<5} {finding.reason}")
    for label, nlri in (("NLRI field", exp.field_nlri), ("MP_REACH", exp.mp_nlri)):
        for prefix, path_id in nlri:
            print(f"  {label}: {w.prefix_text(prefix)} path id {path_id}")
    if exp.partial:
        print(f"  passed on with Partial: {sorted(exp.partial)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
