"""ExaBGP API process: count announced IPv4 prefixes from JSON UPDATE events.

Writes ``READY <pid>`` and then ``REACHED <k> <unix time>`` for each target count to the
report file given as first argument (stdout is ExaBGP's command channel, so it stays
silent).  Targets are the comma-separated second argument.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    report = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 -- lives as long as the process
    targets = sorted(int(t) for t in sys.argv[2].split(",") if t)
    report.write(f"READY {os.getpid()}\n")
    count = 0
    for line in sys.stdin:
        if '"update"' not in line:
            continue
        message = json.loads(line)
        update = message.get("neighbor", {}).get("message", {}).get("update", {})
        for per_next_hop in update.get("announce", {}).get("ipv4 unicast", {}).values():
            count += len(per_next_hop)
        for prefixes in update.get("withdraw", {}).get("ipv4 unicast", ()):
            count -= 1 if prefixes else 0
        while targets and count >= targets[0]:
            report.write(f"REACHED {targets.pop(0)} {time.time():.6f}\n")


if __name__ == "__main__":
    main()
