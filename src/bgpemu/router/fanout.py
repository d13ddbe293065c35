"""Export fan-out: a recomputation's best-path changes queued into every peer's Adj-RIB-Out.

Theory of operation
-------------------
After the decision process (RFC 4271 §9.1.2) the router knows, per family, which
prefixes got a new best path; Phase 3 (RFC 4271 §9.1.3) must then tell every peer.
:class:`Runs` groups those changes, in prefix order, into *runs*: consecutive prefixes
whose new best path carries the same attributes object from the same peer, usually
the NLRI of one received UPDATE (RFC 4271 §4.3: one attribute set for all of them),
or consecutive withdrawals.  For one peer, every prefix of a run is exported alike
whenever the export may be shared (``Exporter.attributes``: no export policy, or one that
does not look at these prefixes), so :func:`queue` costs one export and one list
extension per run and per peer instead of one step per prefix and per peer: a hub
relaying a 20,000-prefix table to 50 branches does 50 exports per run, not a million
steps.  Otherwise it falls back to one export per prefix (:func:`queue_one`).

Never back to the source (RFC 4271 §9.1.3): the source peer gets a withdrawal, which
is only needed for a prefix that had a best path before (the Adj-RIB-Out holds the
export of the Loc-RIB's best path, so nothing was advertised for a prefix without
one), and never for a peer that holds and awaits nothing of the family.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from typing import Generic, Protocol, TypeVar

from bgpemu.rib.adj_rib_out import AdjRibOut
from bgpemu.rib.path import LOCAL, Path, PeerInfo
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["ExportFn", "Runs", "Target", "queue", "queue_one"]


class _Peer(Protocol):
    """What the fan-out reads of an established peer (``router.established.EstablishedPeer``)."""

    @property
    def info(self) -> PeerInfo: ...

    @property
    def rib_out(self) -> AdjRibOut: ...

    @property
    def export_scope(self) -> frozenset[str] | None: ...


P = TypeVar("P", bound=_Peer)
ExportFn = Callable[[P, Family, str, Path | None], PathAttributes | None]
"""``Exporter.attributes``: what a peer is sent for a prefix's best path (None: nothing)."""


class Target(Generic[P]):
    """One peer's pending Adj-RIB-Out changes in a recomputation, and a one-entry cache."""

    __slots__ = (
        "cacheable",
        "idle",
        "info",
        "last_attributes",
        "last_result",
        "last_source",
        "peer",
        "prefixes",
        "scope",
        "wanted",
    )

    def __init__(self, peer: P, family: Family) -> None:
        self.peer = peer
        self.info = peer.info
        self.idle = peer.rib_out.idle(family)
        self.scope = peer.export_scope
        self.cacheable = self.scope is not None
        self.prefixes: list[str] = []
        self.wanted: list[PathAttributes | None] = []
        self.last_attributes: PathAttributes | None = None
        self.last_source: PeerInfo | None = None
        self.last_result: PathAttributes | None = None


class Runs:
    """The best-path changes of one family, in prefix order, grouped into runs."""

    __slots__ = ("_attributes", "_source", "runs")

    def __init__(self) -> None:
        self.runs: list[tuple[list[str], list[Path | None], list[Path | None]]] = []
        """(prefixes, new best paths, old best paths) of each run."""
        self._attributes: PathAttributes | None = None
        self._source: PeerInfo | None = None

    def add(self, prefix: str, old: Path | None, new: Path | None) -> None:
        """``prefix``'s best path changed from ``old`` to ``new`` (None: none)."""
        runs = self.runs
        if new is None:
            if runs and self._source is None and runs[-1][1][0] is None:
                run = runs[-1]  # one more withdrawal
            else:
                run = ([], [], [])
                runs.append(run)
                self._attributes = self._source = None
        elif (
            runs
            and new.attributes is self._attributes
            and new.source is self._source
            and new.source is not LOCAL  # a local path's export depends on its prefix
        ):
            run = runs[-1]
        else:
            run = ([], [], [])
            runs.append(run)
            self._attributes = new.attributes
            self._source = new.source
        run[0].append(prefix)
        run[1].append(new)
        run[2].append(old)


def queue(target: Target[P], family: Family, runs: Runs, export: ExportFn[P]) -> None:
    """Queue in ``target`` what its peer should hold for every change of ``runs``."""
    for prefixes, news, olds in runs.runs:
        best = news[0]
        if best is None:  # withdrawals
            if not target.idle:
                target.prefixes.extend(prefixes)
                target.wanted.extend(repeat(None, len(prefixes)))
            continue
        if best.source is target.info:  # never back to its source: withdraw
            if not target.idle:
                for prefix, old in zip(prefixes, olds, strict=True):
                    if old is not None:
                        target.prefixes.append(prefix)
                        target.wanted.append(None)
            continue
        scope = target.scope
        if (
            len(prefixes) > 1
            and target.cacheable
            and best.source is not LOCAL
            and (not scope or scope.isdisjoint(prefixes))
        ):
            if best.attributes is target.last_attributes and best.source is target.last_source:
                result = target.last_result
            else:
                result = export(target.peer, family, prefixes[0], best)
                target.last_attributes = best.attributes
                target.last_source = best.source
                target.last_result = result
            target.prefixes.extend(prefixes)
            target.wanted.extend(repeat(result, len(prefixes)))
            continue
        for prefix, path in zip(prefixes, news, strict=True):
            queue_one(target, family, prefix, path, export)


def queue_one(
    target: Target[P], family: Family, prefix: str, best: Path | None, export: ExportFn[P]
) -> None:
    """Queue what ``target``'s peer should hold for ``prefix`` given the new ``best``."""
    if best is not None and best.source is target.info:
        # Never back to its source (RFC 4271 §9.1.3): a withdrawal, which is a
        # no-op for a peer that holds and awaits nothing of this family.
        if not target.idle:
            target.prefixes.append(prefix)
            target.wanted.append(None)
        return
    shared = target.cacheable and (not target.scope or prefix not in target.scope)
    if (
        shared
        and best is not None
        and best.attributes is target.last_attributes
        and best.source is target.last_source
    ):
        # Same received attributes from the same peer as the previous prefix: the
        # export is the same (see Exporter.attributes; not for local paths, whose prepend
        # count depends on the prefix, nor for a prefix the policy treats apart).
        attributes = target.last_result
    else:
        attributes = export(target.peer, family, prefix, best)
        if shared and best is not None and best.source is not LOCAL:
            target.last_attributes = best.attributes
            target.last_source = best.source
            target.last_result = attributes
    target.prefixes.append(prefix)
    target.wanted.append(attributes)
