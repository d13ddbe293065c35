"""Loading speaker config files for a command: every problem of every file, then nothing runs."""

from __future__ import annotations

from collections.abc import Sequence

from bgpemu.cli._problems import refuse
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
    refuse(problems, "started")
    return None
