"""What a run counts, the readable summary and the JSON report (fuzz/tcp)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fuzz.tcp.cases import Case


@dataclass
class Stats:
    """Everything the summary and the JSON report show."""

    cases: int = 0
    per_kind: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    by_kind_outcome: Counter[tuple[str, str]] = field(default_factory=Counter)
    wrong: int = 0
    wrong_by_rule: Counter[str] = field(default_factory=Counter)
    wrong_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deaths: int = 0
    death_details: list[str] = field(default_factory=list)
    tracebacks: int = 0
    bystander_drops: int = 0
    bystander_drop_details: list[str] = field(default_factory=list)
    bystander_updates: int = 0
    bystander_received: int = 0
    rss: list[tuple[float, int]] = field(default_factory=list)
    reconnects: int = 0
    hangs: int = 0
    harness_errors: list[str] = field(default_factory=list)
    preannounced: int = 0

    def record(self, case: Case, outcome: str, problem: str | None) -> None:
        self.cases += 1
        self.per_kind[case.kind] += 1
        self.outcomes[outcome] += 1
        self.by_kind_outcome[(case.kind, outcome)] += 1
        if problem is None:
            return
        self.wrong += 1
        rule = f"{case.kind}: {problem}"
        self.wrong_by_rule[rule] += 1
        examples = self.wrong_examples.setdefault(rule, [])
        if len(examples) < 3:
            examples.append(
                {
                    "worker": case.worker,
                    "index": case.index,
                    "phase": case.phase.value,
                    "hex": case.data.hex(),
                    "observed": outcome,
                    "expected": sorted(a.name for a in case.expect.possible()),
                    "codes": sorted(case.expect.codes()),
                    "reasons": case.expect.reasons(),
                }
            )


def summary(report: dict[str, Any]) -> str:
    """The readable summary printed at the end of a run."""
    lines = [
        f"cases {report['cases']} in {report['duration_s']} s ({report['rate_per_s']}/s), "
        f"seed {report['seed']}",
        f"process deaths {report['process_deaths']}, tracebacks {report['tracebacks']}, "
        f"wrong outcomes {report['wrong_outcomes']}, bystander drops {report['bystander_drops']}, "
        f"hangs {report['hangs']}",
        f"speaker RSS: start {report['rss_kb']['start']} kB, end {report['rss_kb']['end']} kB, "
        f"max {report['rss_kb']['max']} kB",
        "cases per kind: " + ", ".join(f"{k} {n}" for k, n in report["per_kind"].items()),
        "outcomes: " + ", ".join(f"{k} {n}" for k, n in report["outcomes"].items()),
    ]
    for rule, n in report["wrong_by_rule"].items():
        lines.append(f"WRONG x{n}: {rule}")
        for ex in report["wrong_examples"].get(rule, [])[:1]:
            lines.append(
                f"    reproducer: worker {ex['worker']} case {ex['index']} ({ex['phase']}) "
                f"observed {ex['observed']}, allowed {ex['expected']} {ex['codes']}"
            )
            lines.append(f"    bytes: {ex['hex'][:400]}{'...' if len(ex['hex']) > 400 else ''}")
            lines.append(f"    rules: {'; '.join(ex['reasons'])}")
    for detail in report["death_details"][:3]:
        lines.append(f"DEATH: {detail}")
    return "\n".join(lines)


def write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=1) + "\n")
