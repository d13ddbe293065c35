"""Sessions taken down on purpose, each for one or more reasons (pure bookkeeping).

A session between two speakers can be down because its link failed
(:meth:`~bgpemu.testing.Lab.fail_link`), because a gateway instance at one end was lost
(``instance_down``) or because an ExpressRoute private peering went down
(``er_private_peering_down``).  It is cut when its first reason appears and comes
back only when its last reason is lifted; the engine is told only at those two moments.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Cuts", "session_key"]

Pair = tuple[str, str]


def session_key(pair: Pair) -> Pair:
    """The session between the two speakers of ``pair``, whichever end is named first."""
    a, b = pair
    return (a, b) if a < b else (b, a)


class Cuts:
    """Session -> the reasons it is down."""

    def __init__(self) -> None:
        self._reasons: dict[Pair, set[str]] = {}

    def cut(self, pair: Pair, reason: str) -> bool:
        """``pair`` is down for ``reason`` too; True if it was up (the engine cuts it now)."""
        reasons = self._reasons.setdefault(session_key(pair), set())
        first = not reasons
        reasons.add(reason)
        return first

    def lift(self, pair: Pair, reason: str) -> bool:
        """``reason`` no longer holds ``pair`` down; True if it was the last (restore now)."""
        key = session_key(pair)
        reasons = self._reasons.get(key)
        if reasons is None:
            return False
        reasons.discard(reason)
        if reasons:
            return False
        del self._reasons[key]
        return True

    def down_for(self, pairs: Iterable[Pair], reason: str) -> list[Pair]:
        """Those of ``pairs`` down for ``reason``."""
        return [p for p in pairs if reason in self._reasons.get(session_key(p), ())]

    def is_down(self, pair: Pair) -> bool:
        """``pair`` is down for any reason."""
        return session_key(pair) in self._reasons

    def keep_only(self, sessions: Iterable[Pair]) -> None:
        """Forget the sessions not among ``sessions`` (removed by a topology change)."""
        live = {session_key(p) for p in sessions}
        self._reasons = {k: v for k, v in self._reasons.items() if k in live}
