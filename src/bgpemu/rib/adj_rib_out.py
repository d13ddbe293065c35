"""Adj-RIB-Out: what one peer has been told, and the diff engine that decides what to tell it.

Theory of operation
-------------------
RFC 4271 §9.2: the Update-Send process advertises *changes*: a route that is
already advertised with the same attributes is not re-sent, a route that was never
advertised is not withdrawn.  :class:`AdjRibOut` keeps two maps per family:

* ``sent``: prefix -> the PathAttributes the peer last received (as of the last
  :meth:`AdjRibOut.flush`);
* ``pending``: prefix -> the desired attributes, or None for "withdraw", for every
  prefix whose desired state differs from ``sent``.

:meth:`AdjRibOut.set` records the desired state and drops the pending entry as soon
as it equals what was sent, so flapping a prefix and putting it back between two
flushes sends nothing.  :meth:`AdjRibOut.flush` turns the pending map into exports:
all withdrawals first (so a peer never holds the old and new state of a
reachability change at once, and so withdrawals are not delayed behind large
announcements), then one :class:`Announce` per distinct attribute set, which is
how RFC 4271 §4.3 packs NLRI that share attributes.  MRAI (RFC 4271 §9.2.1.1) is the
caller's business: it decides *when* to flush; pending changes simply accumulate.

Order is deterministic: families in (AFI, SAFI) order; within a family, attribute
groups in the order their first prefix was set, prefixes sorted within a group.
Grouping keys on object identity first (the router shares PathAttributes objects)
and then merges equal-but-distinct attribute sets, so the per-prefix cost is one
``id()`` and a dict lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import is_

from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = ["AdjRibOut", "Announce", "EndOfRib", "Export", "Withdraw"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """Advertise ``prefixes`` of ``family`` sharing ``attributes`` (packed per RFC 4271 §4.3)."""

    family: Family
    attributes: PathAttributes
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw:
    """Withdraw ``prefixes`` of ``family``."""

    family: Family
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOfRib:
    """The End-of-RIB marker after the initial table of ``family`` (RFC 4724 §2)."""

    family: Family


Export = Announce | Withdraw | EndOfRib
"""What one peer is to be sent: the changes an Adj-RIB-Out flushes, and the End-of-RIB
marker the router adds after the initial table.  The shell packs them into UPDATEs with
the session's codec (:func:`bgpemu.router.exports.export_frames`)."""


def _group(family: Family, items: list[tuple[str, PathAttributes]]) -> list[Announce]:
    """One Announce per distinct attribute set, first-seen order, prefixes sorted."""
    by_id: dict[int, tuple[PathAttributes, list[str]]] = {}
    for prefix, attributes in items:
        entry = by_id.get(id(attributes))
        if entry is None:
            by_id[id(attributes)] = (attributes, [prefix])
        else:
            entry[1].append(prefix)
    return _announces(family, by_id)


def _announces(
    family: Family, by_id: dict[int, tuple[PathAttributes, list[str]]]
) -> list[Announce]:
    """Merge the identity groups of equal attribute sets; one Announce each, sorted."""
    merged: dict[PathAttributes, list[str]] = {}
    for attributes, prefixes in by_id.values():
        existing = merged.get(attributes)
        if existing is None:
            merged[attributes] = prefixes
        else:
            existing.extend(prefixes)
    return [
        Announce(family=family, attributes=attributes, prefixes=tuple(sorted(prefixes)))
        for attributes, prefixes in merged.items()
    ]


class AdjRibOut:
    """The Adj-RIB-Out of one peer (RFC 4271 §3.2, §9.2): advertised state plus pending diff."""

    __slots__ = ("_pending", "_sent")

    def __init__(self) -> None:
        self._sent: dict[Family, dict[str, PathAttributes]] = {}
        self._pending: dict[Family, dict[str, PathAttributes | None]] = {}

    def set(self, family: Family, prefix: str, attributes: PathAttributes | None) -> None:
        """Record the desired state of ``prefix``: attributes to advertise, or None to withdraw.

        Nothing is sent until :meth:`flush`; setting a prefix back to what the peer
        already has cancels the pending change (RFC 4271 §9.2: only changes are sent).
        """
        sent = self._sent.get(family)
        current = None if sent is None else sent.get(prefix)
        if current is attributes or (
            current is not None and attributes is not None and current == attributes
        ):
            pending = self._pending.get(family)
            if pending is not None:
                pending.pop(prefix, None)
            return
        pending = self._pending.get(family)
        if pending is None:
            pending = self._pending[family] = {}
        pending[prefix] = attributes

    def set_many(
        self,
        family: Family,
        prefixes: Sequence[str],
        attributes_list: Sequence[PathAttributes | None],
    ) -> None:
        """:meth:`set` for each prefix with the attributes at the same position, in order."""
        sent = self._sent.get(family)
        pending = self._pending.get(family)
        if pending is None:
            pending = self._pending[family] = {}
        if (not sent or sent.keys().isdisjoint(prefixes)) and not any(
            map(is_, attributes_list, repeat(None))
        ):
            # Announcements only (no None, tested by identity: ``None in`` would call
            # PathAttributes.__eq__ for each) of prefixes the peer was never sent (a
            # table's first export): each is pending as given, the last one winning.
            pending.update(zip(prefixes, attributes_list, strict=True))
            return
        for prefix, attributes in zip(prefixes, attributes_list, strict=True):
            current = None if sent is None else sent.get(prefix)
            if current is attributes or (
                current is not None and attributes is not None and current == attributes
            ):
                pending.pop(prefix, None)
            else:
                pending[prefix] = attributes

    def idle(self, family: Family) -> bool:
        """True when nothing of ``family`` is advertised or pending.

        Then :meth:`set` to None (withdraw) is a no-op for every prefix of ``family``.
        """
        return not self._sent.get(family) and not self._pending.get(family)

    def pending(self) -> bool:
        """True when :meth:`flush` would return something."""
        return any(self._pending.values())

    def flush(self) -> list[Export]:
        """The changes since the last flush, which become the advertised state.

        Withdrawals of every family first, then announcements grouped by identical
        attributes (see the module documentation for the order).
        """
        withdrawals: list[Export] = []
        announcements: list[Export] = []
        for family in sorted(self._pending):
            pending = self._pending[family]
            if not pending:
                continue
            sent = self._sent.setdefault(family, {})
            withdrawn: list[str] = []
            # Grouped as _group does, without a tuple per prefix: consecutive prefixes
            # usually share one attributes object, so the last group is kept at hand.
            by_id: dict[int, tuple[PathAttributes, list[str]]] = {}
            last: PathAttributes | None = None
            group: list[str] = []
            for prefix, attributes in pending.items():
                if attributes is None:
                    withdrawn.append(prefix)
                    del sent[prefix]
                    continue
                sent[prefix] = attributes
                if attributes is not last:
                    entry = by_id.get(id(attributes))
                    if entry is None:
                        entry = by_id[id(attributes)] = (attributes, [])
                    last, group = attributes, entry[1]
                group.append(prefix)
            if withdrawn:
                withdrawn.sort()
                withdrawals.append(Withdraw(family=family, prefixes=tuple(withdrawn)))
            if by_id:
                announcements.extend(_announces(family, by_id))
        self._pending.clear()
        return withdrawals + announcements

    def unsent(self, family: Family, prefixes: Sequence[str], attributes: PathAttributes) -> None:
        """The shell could not announce ``prefixes`` with ``attributes`` and withdrew them
        instead (RFC 8654 §4: the message would be too long for this peer).

        They leave the advertised state without a pending change, so the Adj-RIB-Out
        says what the peer holds: a route refresh does not offer them, a later
        withdrawal sends nothing, a later path with other attributes is announced.
        """
        sent = self._sent.get(family)
        if sent is None:
            return
        for prefix in prefixes:
            held = sent.get(prefix)
            if held is attributes or (held is not None and held == attributes):
                del sent[prefix]

    def full_table(self, family: Family) -> list[Export]:
        """Everything currently advertised in ``family``, grouped like :meth:`flush`.

        For a route refresh (RFC 2918 §4, RFC 7313 §4): the peer gets the whole
        Adj-RIB-Out again.  Pending (unflushed) changes are not included; flush first.
        """
        sent = self._sent.get(family)
        if not sent:
            return []
        return list(_group(family, list(sent.items())))

    def sent(self, family: Family, prefix: str) -> PathAttributes | None:
        """The attributes the peer holds for ``prefix`` as of the last flush, or None."""
        sent = self._sent.get(family)
        return None if sent is None else sent.get(prefix)

    def advertised(self, family: Family) -> list[tuple[str, PathAttributes]]:
        """Every (prefix, attributes) the peer holds for ``family`` as of the last flush."""
        return list(self._sent.get(family, {}).items())

    def families(self) -> list[Family]:
        """The families with at least one advertised prefix, sorted."""
        return sorted(f for f, table in self._sent.items() if table)

    def advertised_map(self, family: Family) -> Mapping[str, PathAttributes]:
        """The live map prefix -> attributes the peer holds for ``family`` (read only)."""
        return self._sent.get(family, {})

    def count(self, family: Family | None = None) -> int:
        """How many prefixes are advertised (in ``family``, or in all families)."""
        if family is not None:
            return len(self._sent.get(family, ()))
        return sum(len(table) for table in self._sent.values())

    def clear(self) -> None:
        """Forget everything (the session went down: the peer holds nothing any more)."""
        self._sent.clear()
        self._pending.clear()
