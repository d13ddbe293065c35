"""A reader that goes away (``bgpemu ... | head``) ends the command quietly, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bgpemu.cli import BROKEN_PIPE_STATUS

ROOT = Path(__file__).resolve().parents[2]


def test_a_closed_stdout_ends_the_command_with_141_and_no_traceback() -> None:
    command = [
        sys.executable,
        "-m",
        "bgpemu",
        "trace",
        str(ROOT / "topologies" / "traffic" / "s5-hub-nva.yaml"),
        "Spoke1/App",
        "Spoke2/App",
        "--port",
        "443",
        "-o",
        "json",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    status = process.wait(timeout=120)
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert "Traceback" not in errors
    assert status == BROKEN_PIPE_STATUS
