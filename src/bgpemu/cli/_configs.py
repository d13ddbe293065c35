"""Loading speaker config files for a command: every problem of every file, then nothing runs."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bgpemu.config import load_speaker_config
from bgpemu.errors import ConfigError, ConfigProblem
from bgpemu.runtime import SpeakerSpec

__all__ = ["load_all"]


def load_all(paths: Sequence[str]) -> list[SpeakerSpec] | None:
    """The specs of ``paths``; None after printing every problem of every file to stderr."""
    specs: list[SpeakerSpec] = []
    problems: list[ConfigProblem] = []
    for path in paths:
        try:
            specs.append(load_speaker_config(path))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if not problems:
        return specs
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(f"{len(problems)} problem(s) found; nothing was started.", file=sys.stderr)
    return None
