"""A short run of the TCP fuzz harness (fuzz/tcp) against a real ``bgpemu speaker``.

5,000 seeded cases of every kind (header, OPEN, UPDATE attributes and NLRI, MP_REACH /
MP_UNREACH, ADD-PATH, extended messages, ROUTE-REFRESH, KEEPALIVE, NOTIFICATION, FSM
order) while a bystander session exchanges routes; the harness's own oracle (written
from the RFCs) judges each outcome.  The long run and its figures are in fuzz/README.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = 5000


def test_5000_fuzz_cases_kill_nothing_and_get_the_rfc_outcome(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "fuzz.tcp",
        "--seed",
        "12",
        "--cases",
        str(CASES),
        "--workers",
        "4",
        "--json",
        str(report_path),
        "--workdir",
        str(tmp_path / "work"),
        "--progress",
        "0",
        "--quiet",
        # A bystander without Extended Message: the SUT must withdraw toward it the
        # routes whose UPDATE would exceed 4,096 octets (RFC 8654 §4), not die (issue 12).
        "--bystander-no-extended",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert report_path.exists(), done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    summary = done.stdout[-6000:]
    assert report["cases"] == CASES, summary
    assert report["process_deaths"] == 0, summary
    assert report["tracebacks"] == 0, summary
    assert report["wrong_outcomes"] == 0, summary
    assert report["bystander_drops"] == 0, summary
    assert report["harness_errors"] == 0, summary
    assert report["hangs"] == 0, summary
    assert set(report["per_kind"]) == {
        "update",
        "update_raw",
        "mp",
        "withdraw",
        "extended",
        "header",
        "keepalive",
        "route_refresh",
        "notification",
        "open",
        "fsm",
    }, summary
    assert done.returncode == 0, summary
