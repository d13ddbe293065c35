"""Judging an observed outcome against the oracle's expectation (fuzz/tcp)."""

from __future__ import annotations

import re

from fuzz.tcp import wire as w
from fuzz.tcp.oracle import CLOSE, Action, Expectation, Scope


def judge_down(exp: Expectation, outcome: str) -> str | None:
    """The problem with a session that ended with ``outcome`` (None: as the RFC says)."""
    if outcome == "hang":
        return "no answer"
    if outcome == "close":
        code = CLOSE
    else:
        match = re.fullmatch(r"notify:(\d+)/(\d+)", outcome)
        if match is None:
            return f"bad frame from the speaker: {outcome}"
        code = (int(match.group(1)), int(match.group(2)))
    if exp.code_ok(code):
        return None
    if not exp.may_reset():
        return f"session reset ({outcome}); expected it to stay up"
    return f"{outcome}; expected one of {sorted(exp.codes())}"


def judge_up(
    exp: Expectation, seen: dict[w.Prefix, dict[int, tuple[int, bytes]]]
) -> tuple[str, str | None]:
    """The outcome of a case whose session stayed up, and its problem (None: RFC outcome)."""
    if exp.must_reset():
        return "up", f"session stayed up; expected NOTIFICATION {sorted(exp.codes())}"
    groups = [(Scope.FIELD, exp.field_nlri), (Scope.MP, exp.mp_nlri)]
    states: list[str] = []
    forwarded: list[dict[int, tuple[int, bytes]]] = []
    for scope, nlri in groups:
        if not nlri:
            continue
        installed = [p in seen for p, _ in nlri]
        allowed = exp.possible(scope) - {Action.RESET}
        if all(installed):
            states.append("installed")
            forwarded.extend(seen[p] for p, _ in nlri)
            if not allowed & {Action.ACCEPT, Action.DISCARD}:
                return (
                    "up:installed",
                    f"route installed; expected {sorted(a.name for a in allowed)}",
                )
        elif not any(installed):
            states.append("withdrawn")
            if Action.WITHDRAW not in allowed:
                return "up:withdrawn", "route not installed; expected it installed"
        else:
            return "up:mixed", "some routes of one UPDATE installed, others not"
    for attrs in forwarded[:1]:
        for code in exp.partial:
            flags = attrs.get(code, (0, b""))[0]
            if code not in attrs or not flags & w.PARTIAL:
                return (
                    "up:installed",
                    f"RFC 4271 §5: unknown transitive attribute {code} not passed on with Partial",
                )
        for code in exp.absent:
            if code in attrs:
                return (
                    "up:installed",
                    f"RFC 4271 §5: unknown non-transitive attribute {code} passed on",
                )
        for f in exp.findings:
            if (
                f.actions == {Action.DISCARD}
                and f.attr in (w.ATOMIC_AGGREGATE, w.AGGREGATOR)
                and f.attr in attrs
            ):
                return "up:installed", f"attribute {f.attr} passed on; RFC 7606 says discard it"
    return "up:" + ("+".join(sorted(set(states))) or "no-routes"), None
