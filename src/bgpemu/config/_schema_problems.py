"""Schema errors (pydantic) as :class:`~bgpemu.errors.ConfigProblem` values with dotted paths.

The YAML errors are :mod:`bgpemu.config.safe_yaml`'s; ``topology/_schema_issues.py``
does the same for the topology file, with its own ``Issue`` values.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from bgpemu.errors import ConfigProblem

__all__ = ["dotted", "problems_from_validation"]


def dotted(location: Sequence[int | str]) -> str:
    """``("neighbors", 1, "asn")`` → ``neighbors[1].asn`` (the netlab-style path)."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_from_validation(file: str, error: ValidationError) -> list[ConfigProblem]:
    """One problem per pydantic error, with its dotted location and a readable reason."""
    problems = []
    for item in error.errors(include_url=False):
        location = [
            p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        ]
        message = item["msg"].removeprefix("Value error, ")
        hint = ""
        if item["type"] == "extra_forbidden":
            message = "unknown field"
            hint = "check the spelling; see docs/speaker.md for the fields"
        elif item["type"] == "missing":
            message = "required field is missing"
        problems.append(ConfigProblem(file, dotted(location), message, hint))
    return problems
