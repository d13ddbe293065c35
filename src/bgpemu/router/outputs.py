"""What the routing :class:`~bgpemu.router.core.Router` returns after each input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bgpemu.rib.decision import Decision, Step
from bgpemu.router.exports import Export
from bgpemu.types import Family
from bgpemu.wire.messages import Notification

__all__ = ["BestPathChanged", "ResetSession", "RouterOutput"]


@dataclass(frozen=True, slots=True)
class BestPathChanged:
    """An observation: the Loc-RIB entry of ``prefix`` changed (best, multipath or reason)."""

    family: Family
    prefix: str
    old: Decision | None
    new: Decision | None

    @property
    def reason(self) -> Step | None:
        """Why the new best path won (None when the prefix left the Loc-RIB)."""
        return self.new.reason if self.new is not None and self.new.best is not None else None


# Hot-path constructor, as ``bgpemu.rib.decision._decision``: the same frozen object,
# built by writing its slots directly instead of through the frozen __init__.  The
# router reports one observation per changed prefix.
_new_object = object.__new__
_SET_FAMILY: Callable[[BestPathChanged, Family], None] = BestPathChanged.__dict__["family"].__set__
_SET_PREFIX: Callable[[BestPathChanged, str], None] = BestPathChanged.__dict__["prefix"].__set__
_SET_OLD: Callable[[BestPathChanged, Decision | None], None] = BestPathChanged.__dict__[
    "old"
].__set__
_SET_NEW: Callable[[BestPathChanged, Decision | None], None] = BestPathChanged.__dict__[
    "new"
].__set__


def best_path_changed(
    family: Family, prefix: str, old: Decision | None, new: Decision | None
) -> BestPathChanged:
    """``BestPathChanged(family, prefix, old, new)`` without the frozen-init overhead."""
    change: BestPathChanged = _new_object(BestPathChanged)
    _SET_FAMILY(change, family)
    _SET_PREFIX(change, prefix)
    _SET_OLD(change, old)
    _SET_NEW(change, new)
    return change


@dataclass(frozen=True, slots=True)
class ResetSession:
    """The shell must stop the session with ``peer`` by sending ``notification``.

    Used for the maximum-prefix limit (RFC 4486 §4, Cease subcode 1).  The router
    has already removed the peer's paths.  ``restart_after`` is informative: the
    router itself reports the peer in :attr:`RouterOutput.restarts` once that much
    time has passed (see :meth:`Router.on_timer <bgpemu.router.core.Router.on_timer>`).
    """

    peer: str
    notification: Notification
    restart_after: float | None


@dataclass(slots=True)
class RouterOutput:
    """Everything one router call asks of the shell, in order.

    ``exports`` per peer name, each list in send order; ``resets`` sessions to stop;
    ``restarts`` peers whose session the shell should start again (max-prefix
    restart timer); ``changes`` the Loc-RIB observations, in prefix order.
    """

    exports: dict[str, list[Export]] = field(default_factory=dict)
    resets: list[ResetSession] = field(default_factory=list)
    changes: list[BestPathChanged] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)

    def extend(self, other: RouterOutput) -> None:
        """Append ``other`` after this output (exports concatenated per peer)."""
        for peer, exports in other.exports.items():
            self.exports.setdefault(peer, []).extend(exports)
        self.resets.extend(other.resets)
        self.changes.extend(other.changes)
        self.restarts.extend(other.restarts)

    def empty(self) -> bool:
        """True when there is nothing to send, reset, restart or report."""
        return not (self.exports or self.resets or self.changes or self.restarts)
