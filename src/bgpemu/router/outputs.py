"""What the routing :class:`~bgpemu.router.core.Router` returns after each input."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

from bgpemu.rib.adj_rib_out import Export
from bgpemu.rib.decision import Decision, Step
from bgpemu.rib.loc_rib import decision_of
from bgpemu.rib.path import Path
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

    Used for the maximum-prefix limit (RFC 4486 §4, Cease subcode 1; the router has
    already removed the peer's paths), and for an internal error (:attr:`error`).
    ``restart_after`` is informative: the router itself reports the peer in
    :attr:`RouterOutput.restarts` once that much time has passed (see
    :meth:`Router.on_timer <bgpemu.router.core.Router.on_timer>`).
    """

    peer: str
    notification: Notification
    restart_after: float | None
    error: Exception | None = None
    """Set when an internal error (a bug) while serving ``peer`` caused the reset: the
    shell resets it as such (counted, logged with this traceback, restarted after the
    IdleHoldTime; see :meth:`Session.internal_error
    <bgpemu.session.fsm.Session.internal_error>`) rather than as a ManualStop."""


_Batch = tuple[Family, list[str], list[Path | Decision | None], list[Path | Decision | None]]
"""Changes not built yet: family, prefixes, and the Loc-RIB entries before and after
(in the Loc-RIB's stored form: a Path stands for its ONLY_PATH Decision)."""


class RouterOutput:
    """Everything one router call asks of the shell, in order.

    ``exports`` per peer name, each list in send order; ``resets`` sessions to stop;
    ``restarts`` peers whose session the shell should start again (max-prefix
    restart timer); ``changes`` the Loc-RIB observations, in prefix order;
    ``refreshes`` (peer, family) pairs the shell should send a ROUTE-REFRESH for
    (RFC 2918 §3), after a change of that peer's import policy
    (:mod:`bgpemu.router.reconfigure`); ``received`` the prefixes of a peer's
    Adj-RIB-In the call may have changed (UPDATEs taken, a re-import), by peer and
    family: a superset, for observers (the MQTT feed's deltas), not compared by ``==``.

    The router records its changes in bulk (:meth:`add_changes`) and the
    :class:`BestPathChanged` objects are only built when :attr:`changes` is first
    read, so a shell that does not observe them (the TCP runtime, unless debug
    logging is on) does not pay one object per changed prefix.  They are equal to
    the ones built eagerly.
    """

    __slots__ = (
        "_changes",
        "_pending",
        "exports",
        "received",
        "refreshes",
        "resets",
        "restarts",
    )

    def __init__(
        self,
        exports: dict[str, list[Export]] | None = None,
        resets: list[ResetSession] | None = None,
        changes: list[BestPathChanged] | None = None,
        restarts: list[str] | None = None,
        refreshes: list[tuple[str, Family]] | None = None,
    ) -> None:
        self.exports: dict[str, list[Export]] = {} if exports is None else exports
        self.resets: list[ResetSession] = [] if resets is None else resets
        self._changes: list[BestPathChanged] = [] if changes is None else changes
        self._pending: list[_Batch] = []
        self.restarts: list[str] = [] if restarts is None else restarts
        self.refreshes: list[tuple[str, Family]] = [] if refreshes is None else refreshes
        self.received: list[tuple[str, Mapping[Family, Collection[str]]]] = []

    @property
    def changes(self) -> list[BestPathChanged]:
        """The Loc-RIB observations, in (family, prefix) order (built on first read)."""
        if self._pending:
            append = self._changes.append
            for family, prefixes, olds, news in self._pending:
                for prefix, old, new in zip(prefixes, olds, news, strict=True):
                    append(best_path_changed(family, prefix, decision_of(old), decision_of(new)))
            self._pending = []
        return self._changes

    @changes.setter
    def changes(self, changes: list[BestPathChanged]) -> None:
        self._changes = changes
        self._pending = []

    def add_changes(
        self,
        family: Family,
        prefixes: list[str],
        olds: list[Path | Decision | None],
        news: list[Path | Decision | None],
    ) -> None:
        """Record changes after the current ones; built when :attr:`changes` is read.

        ``olds``/``news`` hold Loc-RIB entries as stored (see :class:`_Batch`).
        """
        if prefixes:
            self._pending.append((family, prefixes, olds, news))

    def changed_prefixes(self) -> Iterator[tuple[Family, Collection[str]]]:
        """The (family, prefixes) of the Loc-RIB changes, without building :attr:`changes`."""
        for change in self._changes:
            yield change.family, (change.prefix,)
        for family, prefixes, _olds, _news in self._pending:
            yield family, prefixes

    def extend(self, other: RouterOutput) -> None:
        """Append ``other`` after this output (exports concatenated per peer)."""
        for peer, exports in other.exports.items():
            self.exports.setdefault(peer, []).extend(exports)
        self.resets.extend(other.resets)
        if other._changes:
            self.changes.extend(other._changes)
        self._pending.extend(other._pending)
        self.restarts.extend(other.restarts)
        self.refreshes.extend(other.refreshes)
        self.received.extend(other.received)

    def empty(self) -> bool:
        """True when there is nothing to send, reset, restart, refresh or report."""
        return not (
            self.exports
            or self.resets
            or self._changes
            or self._pending
            or self.restarts
            or self.refreshes
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouterOutput):
            return NotImplemented
        return (self.exports, self.resets, self.changes, self.restarts, self.refreshes) == (
            other.exports,
            other.resets,
            other.changes,
            other.restarts,
            other.refreshes,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return (
            f"RouterOutput(exports={self.exports!r}, resets={self.resets!r}, "
            f"changes={self.changes!r}, restarts={self.restarts!r}, "
            f"refreshes={self.refreshes!r})"
        )
