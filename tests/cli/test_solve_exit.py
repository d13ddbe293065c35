"""``bgpemu solve`` does not walk its converged network again as the process exits.

The fabric is garbage with cycles when solve returns; the interpreter's last
collection walked all of it (0.3 s of CPU at vWAN 2 x 25 x 200, after the output was
complete).  solve freezes what is left at exit, so that collection skips it; the
output is unchanged and complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROGRAM = textwrap.dedent(
    """
    import atexit, gc, os, sys
    # Registered first, so it runs after every handler solve registers (LIFO).
    atexit.register(lambda: os.write(2, f"frozen at exit: {gc.get_freeze_count()}\\n".encode()))
    from bgpemu.cli import main
    sys.exit(main(["solve", sys.argv[1], "-o", "json"]))
    """
)


def test_solve_leaves_its_network_out_of_the_last_collection() -> None:
    topology = ROOT / "topologies" / "vwan-basic.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(topology)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "vwan-basic" in json.loads(done.stdout)["name"]
    frozen = [line for line in done.stderr.splitlines() if line.startswith("frozen at exit:")]
    assert len(frozen) == 1, done.stderr
    assert int(frozen[0].split(":")[1]) > 10_000
