"""The Azure views of a ``bgpemu solve -o json`` report split in two processes.

Each process of a split run (:mod:`bgpemu.cli._solve_split`) holds the converged state
of its own nodes only.  A view is a pure function of some speakers' snapshots
(:func:`bgpemu.azure.report.view_work`), so each process can compute, alone, every view
that reads only snapshots of its own nodes: :class:`LocalViews` gives it a
:class:`~bgpemu.azure.converge.Snapshots` whose other-process nodes raise
:class:`_ElsewhereNodeError`, and :meth:`LocalViews.made` the text of each view, or None
for one that read such a node.

The order of the work, vWAN 2 x 50 x 200 (0.25 s of Loc-RIB text for each half, 0.25 s
of views for each):

1. this process writes its own nodes' Loc-RIBs; the other computes its views
   (:meth:`Elsewhere.make_views <bgpemu.cli._solve_split.Elsewhere.make_views>`) until asked;
2. the other writes its nodes' Loc-RIBs; this one computes the views the other did not
   make and that read only its own nodes (:func:`views_made_here`);
3. the views are written in the report's order (:func:`views_written`): this process's
   text, and in place of each run of the others a handoff, the other process writing
   them itself, finishing first those it had not got to; a view that reads nodes of both
   processes is computed here at the end, reading the other's snapshots through the pipe.

The text is byte for byte that of one process (``tests/cli/test_solve_split.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from bgpemu.azure.converge import Snapshots
from bgpemu.azure.model import Network
from bgpemu.azure.plan import Plan
from bgpemu.azure.report import view_work
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.cli._json_stream import EncodedValue, Handoff, encoded_value
from bgpemu.fabric import Fabric

__all__ = ["VIEW_LEVEL", "Elsewhere", "LocalViews", "ViewTexts", "views_made_here", "views_written"]

ViewTexts = Iterator[tuple[str, Iterator[tuple[str, EncodedValue | None]]]]
"""Each view category, in the report's order, with each view's key and text (None: not
made here)."""


class Elsewhere(Protocol):
    """The other process, as these steps use it (:class:`bgpemu.cli._solve_split.Elsewhere`)."""

    @property
    def names(self) -> frozenset[str]:
        """The nodes it converged."""

    @property
    def views_done(self) -> frozenset[tuple[str, str]]:
        """The views (category, key) it made before it started writing its nodes."""

    def write_views(self, keys: list[tuple[str, str]], level: int, first: bool) -> int:
        """Write the views ``keys`` itself, up to the first it cannot make; how many."""


class _ElsewhereNodeError(Exception):
    """A view read the snapshot of a node the other process converged."""


@dataclass(frozen=True, slots=True)
class LocalViews:
    """The views one process of a split run computes alone: the network, its plan, and
    ``names``, the nodes the other process converged (a
    :class:`~bgpemu.azure.converge.Converged` whose every snapshot raises
    :class:`_ElsewhereNodeError`)."""

    network: Network
    plan: Plan
    names: frozenset[str]

    def snapshot(self, name: str) -> RouterSnapshot:
        """A node of the other process: the view that reads it is not made here."""
        raise _ElsewhereNodeError(name)

    def snapshots(self, fabric: Fabric) -> Snapshots:
        """The snapshots of this process's nodes as the views read them (without the
        Adj-RIBs-Out none reads, :meth:`Plan.views_without_adj_rib_out
        <bgpemu.azure.plan.Plan.views_without_adj_rib_out>`)."""
        return Snapshots(fabric, self, self.plan.views_without_adj_rib_out())

    def made(
        self,
        snaps: Snapshots,
        now: float,
        level: int,
        skip: frozenset[tuple[str, str]] = frozenset(),
    ) -> ViewTexts:
        """Each view at ``now`` in the report's order, encoded as a member of an object
        at depth ``level`` (:func:`~bgpemu.cli._json_stream.encoded_value`), or None
        when it reads a node of the other process, is in ``skip`` (``(category, key)``s
        made elsewhere) or fails; each computed when its turn comes."""
        for category, members in view_work(self.network, self.plan, snaps, now):
            yield category, self._texts(category, members, level, skip)

    @staticmethod
    def _texts(
        category: str,
        members: Iterator[tuple[str, Callable[[], Any]]],
        level: int,
        skip: frozenset[tuple[str, str]],
    ) -> Iterator[tuple[str, EncodedValue | None]]:
        for key, compute in members:
            if (category, key) in skip:
                yield key, None
                continue
            try:
                value = compute()
            except _ElsewhereNodeError:
                yield key, None
                continue
            except Exception:
                # A view that fails here (a bug) is not made here: the parent computes
                # it at its turn over every snapshot, as one process does, and raises.
                yield key, None
                continue
            yield key, encoded_value(value, level)


VIEW_LEVEL = 1
"""The depth of a view category's object in the report (the views are its members)."""


def views_made_here(
    fabric: Fabric, elsewhere: Elsewhere, network: Network, plan: Plan, now: float
) -> list[tuple[str, list[tuple[str, EncodedValue | None]]]]:
    """Step 2: the text of each view that reads only this process's nodes, but those the
    other process made (:attr:`Elsewhere.views_done
    <bgpemu.cli._solve_split.Elsewhere.views_done>`)."""
    local = LocalViews(network, plan, elsewhere.names)
    made = local.made(local.snapshots(fabric), now, VIEW_LEVEL, elsewhere.views_done)
    return [(category, list(texts)) for category, texts in made]


def views_written(
    elsewhere: Elsewhere,
    category: str,
    texts: list[tuple[str, EncodedValue | None]],
    whole: Callable[[str, str], Any],
) -> Iterator[tuple[str, Any] | Handoff]:
    """Step 3, the members of ``category``'s object: each view's text made here, and in
    place of each run of the others a :class:`~bgpemu.cli._json_stream.Handoff` (the
    other process writes them); a view it cannot make either (it reads nodes of both)
    is ``whole(category, key)``, computed here over every snapshot."""
    index = 0
    while index < len(texts):
        key, text = texts[index]
        if text is not None:
            yield key, text
            index += 1
            continue
        end = index
        while end < len(texts) and texts[end][1] is None:
            end += 1
        written: list[int] = []
        keys = [(category, key) for key, _ in texts[index:end]]
        yield Handoff(partial(_counted, elsewhere.write_views, keys, written))
        index += written[0]
        if index < end:
            key = texts[index][0]
            yield key, whole(category, key)
            index += 1


def _counted(
    write: Callable[[list[tuple[str, str]], int, bool], int],
    keys: list[tuple[str, str]],
    written: list[int],
    level: int,
    first: bool,
) -> int:
    count = write(keys, level, first)
    written.append(count)
    return count
