"""How a command refuses invalid input: every problem, the count, exit status 2.

One format for every command (``validate``, ``diff``, ``apply``, ``speaker``, ...):
``error: PROBLEM`` per problem on stderr, then ``N problems found; nothing was
OUTCOME.`` (``validate``, which runs nothing anyway, ends at ``found.``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bgpemu.text import counted

__all__ = ["refuse"]


def refuse(problems: Sequence[object], nothing_was: str | None = None) -> int:
    """Print ``problems`` and their count to stderr; the exit status (2).

    ``nothing_was`` says what the refusal prevented (``"run"``, ``"started"``, ``"sent"``).
    """
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    tail = "." if nothing_was is None else f"; nothing was {nothing_was}."
    print(f"{counted(len(problems), 'problem')} found{tail}", file=sys.stderr)
    return 2
