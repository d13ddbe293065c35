"""Snapshots of a whole lab and the readable difference between two of them.

A :class:`LabSnapshot` holds every speaker's :class:`~bgpemu.azure.snapshot.RouterSnapshot`
and every Azure view computed from them (:func:`bgpemu.azure.report.azure_views`), as
of one convergence.  :func:`diff` flattens both into *entries*, one per place and
prefix (a speaker's Loc-RIB, or one view such as ``effective routes Hub/Workload``),
each holding the routes there (next hop, AS path, and what kind of route it is), and
returns the entries that differ as :class:`Change` values.  ``str()`` of a
:class:`Diff` is meant to be read in a failed assertion: which prefix changed where,
with the old and the new next hops and AS paths.

Where the topology declares traffic (interfaces, NSGs or firewalls, issue 14), a snapshot
also carries :class:`FlowStates`: the verdict and paths of the flows to watch (the lab's
intents, else every pair of the reachability matrix), traced only when a diff asks; the
diff then lists the flows whose verdict or path changed as :class:`FlowChange` values,
after the route changes (``flow NAME: was reachable via A -> B, now denied (...)``).
Without traffic declarations the output is what it always was.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bgpemu.azure.catalog import AzureView
from bgpemu.azure.snapshot import RouterSnapshot
from bgpemu.rib.route import RibRoute, as_path_text
from bgpemu.text import counted

__all__ = [
    "Change",
    "Diff",
    "FlowChange",
    "FlowState",
    "FlowStates",
    "LabSnapshot",
    "Route",
    "diff",
]

VIEW_LABELS = {"node": "node", **{view.key: view.label for view in AzureView}}
"""Kind of place (``node`` or a view category) -> how a change there is labelled."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabSnapshot:
    """Every table of a lab at one moment (after a convergence)."""

    network: str
    taken_at: float
    """The engine's clock: virtual seconds (fabric) or monotonic wall seconds (tcp)."""
    routers: Mapping[str, RouterSnapshot]
    """Running speakers by name (a crashed speaker has none)."""
    nodes: Mapping[str, str]
    """Speaker -> the topology node it belongs to."""
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Azure view category (``effectiveRoutes`` ...) -> key (``Hub/Workload``) -> JSON."""
    flows: FlowStates | None = field(default=None, compare=False)
    """The watched flows' verdicts and paths (None: the topology declares no traffic)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowState:
    """One watched flow at one convergence: its verdict and its forward paths."""

    verdict: str
    reason: str
    path: str
    """Each forward path hop by hop (``a -> b -> c``), ECMP paths separated by `` | ``."""

    def __str__(self) -> str:
        if self.verdict == "reachable":
            return f"reachable via {self.path}"
        return f"{self.verdict} ({self.reason})"


class FlowStates:
    """The watched flows of one snapshot, flow name -> :class:`FlowState`, traced on
    first use (a convergence that no diff compares costs no trace).

    ``watched()`` says which flows this snapshot watches: the lab's intents (which a test
    may give after the snapshot was taken), else the endpoints of its reachability
    matrix; ``compute(watched)`` traces the flows of any such tuple on this snapshot's
    tables, so that a diff traces both sides on the union of what each watches (an
    endpoint that exists on one side only is traced, and reported, on the other too).
    The answer is kept per watched tuple."""

    __slots__ = ("_compute", "_states", "_watched")

    def __init__(
        self,
        compute: Callable[[tuple[Hashable, ...]], Mapping[str, FlowState]],
        watched: Callable[[], tuple[Hashable, ...]],
    ) -> None:
        self._compute = compute
        self._watched = watched
        self._states: dict[tuple[Hashable, ...], Mapping[str, FlowState]] = {}

    def watched(self) -> tuple[Hashable, ...]:
        """What this snapshot watches (intents or matrix endpoints)."""
        return self._watched()

    def states(self, watched: tuple[Hashable, ...] | None = None) -> Mapping[str, FlowState]:
        """The state of every flow of ``watched`` (default: :meth:`watched`)."""
        key = self.watched() if watched is None else watched
        found = self._states.get(key)
        if found is None:
            found = self._states[key] = self._compute(key)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowChange:
    """A watched flow whose verdict or path differs (None: not watched on that side)."""

    flow: str
    """The intent's name, or ``SOURCE -> DESTINATION PROTOCOL/PORT`` of a matrix pair."""
    old: FlowState | None = None
    new: FlowState | None = None

    def __str__(self) -> str:
        # "was ..., now ...": a path's own arrows would make "old -> new" ambiguous.
        old = "not watched" if self.old is None else str(self.old)
        new = "not watched" if self.new is None else str(self.new)
        return f"flow {self.flow}: was {old}, now {new}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready (``bgpemu diff -o json``, ``flows``)."""

        def state(value: FlowState | None) -> dict[str, str] | None:
            if value is None:
                return None
            return {"verdict": value.verdict, "reason": value.reason, "path": value.path}

        return {"flow": self.flow, "old": state(self.old), "new": state(self.new)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One route at one place: where it leads and why it is there."""

    next_hop: str
    as_path: str | None = None
    """Space- or hyphen-separated ASNs ("" = empty); None where the table shows none."""
    detail: str = ""

    def __str__(self) -> str:
        text = self.next_hop
        if self.as_path is not None:
            text += f" as-path {self.as_path or '(empty)'}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One prefix whose routes differ at one place."""

    kind: str
    """``node`` (a speaker's Loc-RIB) or a view category (``effectiveRoutes`` ...)."""
    where: str
    """The speaker (``node``) or the view key (``Hub/Workload``, ``VpnGW``, ``ars/nva1 learned
    RouteServiceRole_IN_0`` ...)."""
    node: str
    """The topology node concerned (the speaker's node, or the view key's first part)."""
    prefix: str
    """The prefix (for BGP peer status: ``peer <address> on <local address>``)."""
    old: tuple[Route, ...] = ()
    new: tuple[Route, ...] = ()

    @property
    def old_next_hops(self) -> tuple[str, ...]:
        """Next hops before (several = ECMP; empty = no route)."""
        return tuple(r.next_hop for r in self.old)

    @property
    def new_next_hops(self) -> tuple[str, ...]:
        """Next hops after (several = ECMP; empty = no route)."""
        return tuple(r.next_hop for r in self.new)

    def __str__(self) -> str:
        old = ", ".join(str(r) for r in self.old) or "no route"
        new = ", ".join(str(r) for r in self.new) or "no route"
        label = VIEW_LABELS.get(self.kind, self.kind)
        where = (
            self.where
            if self.kind != "node" or self.where == self.node
            else (f"{self.node} ({self.where})")
        )
        return f"{label} {where} {self.prefix}: {old} -> {new}"


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed between two :class:`LabSnapshot`; falsy when nothing did."""

    changes: tuple[Change, ...] = ()
    flows: tuple[FlowChange, ...] = ()
    """The watched flows whose verdict or path changed (after the route changes)."""

    def __bool__(self) -> bool:
        return bool(self.changes or self.flows)

    def __len__(self) -> int:
        return len(self.changes) + len(self.flows)

    def __iter__(self) -> Iterator[Change]:
        """The route changes (:attr:`flows` holds the flow changes)."""
        return iter(self.changes)

    def __str__(self) -> str:
        if not self:
            return "no change"
        lines = [f"{counted(len(self), 'change')}:"]
        lines.extend(f"  {change}" for change in self.changes)
        lines.extend(f"  {change}" for change in self.flows)
        return "\n".join(lines)

    def flow(self, name: str) -> FlowChange | None:
        """The change of watched flow ``name`` (None: it did not change)."""
        return next((f for f in self.flows if f.flow == name), None)

    def changed(
        self,
        prefix: str | None = None,
        *,
        node: str | None = None,
        kind: str | None = None,
        where: str | None = None,
    ) -> list[Change]:
        """The changes matching every criterion given (``node``: topology node or speaker)."""
        return [
            c
            for c in self.changes
            if (prefix is None or c.prefix == prefix)
            and (node is None or node in (c.node, c.where))
            and (kind is None or c.kind == kind)
            and (where is None or c.where == where)
        ]

    def prefixes(self) -> set[str]:
        """Every prefix that changed somewhere."""
        return {c.prefix for c in self.changes}

    def to_json(self) -> list[dict[str, Any]]:
        """JSON-ready changes (``bgpemu diff -o json``)."""
        return [
            {
                "kind": c.kind,
                "where": c.where,
                "node": c.node,
                "prefix": c.prefix,
                "old": [_route_json(r) for r in c.old],
                "new": [_route_json(r) for r in c.new],
            }
            for c in self.changes
        ]


def _route_json(route: Route) -> dict[str, str | None]:
    return {"next_hop": route.next_hop, "as_path": route.as_path, "detail": route.detail}


def diff(before: LabSnapshot, after: LabSnapshot) -> Diff:
    """The places and prefixes whose routes differ between ``before`` and ``after``, and
    the watched flows whose verdict or path differs (when either snapshot has flows)."""
    old, new = _entries(before), _entries(after)
    flows: list[FlowChange] = []
    if before.flows is not None or after.flows is not None:
        watched = tuple(
            dict.fromkeys(
                (
                    *(before.flows.watched() if before.flows else ()),
                    *(after.flows.watched() if after.flows else ()),
                )
            )
        )
        was = {} if before.flows is None else before.flows.states(watched)
        now = {} if after.flows is None else after.flows.states(watched)
        flows = [
            FlowChange(flow=name, old=was.get(name), new=now.get(name))
            for name in sorted(was.keys() | now.keys())
            if was.get(name) != now.get(name)
        ]
    changes = [
        Change(
            kind=key[0],
            where=key[1],
            node=key[2],
            prefix=key[3],
            old=old.get(key, ()),
            new=new.get(key, ()),
        )
        for key in sorted(old.keys() | new.keys(), key=_order)
        if old.get(key, ()) != new.get(key, ())
    ]
    return Diff(tuple(changes), tuple(flows))


_Key = tuple[str, str, str, str]
_KIND_ORDER = {kind: index for index, kind in enumerate(VIEW_LABELS)}


def _order(key: _Key) -> tuple[int, str, str, str]:
    kind, where, _node, prefix = key
    return (_KIND_ORDER.get(kind, len(_KIND_ORDER)), where, prefix, kind)


def _entries(snap: LabSnapshot) -> dict[_Key, tuple[Route, ...]]:
    entries: dict[_Key, list[Route]] = {}
    for speaker, router in snap.routers.items():
        node = snap.nodes.get(speaker, speaker)
        for rib_route in router.loc_rib:
            key = ("node", speaker, node, rib_route.prefix)
            entries.setdefault(key, []).append(_rib_route(rib_route))
    for category, views in snap.views.items():
        for view_key, view in views.items():
            node = view_key.partition("/")[0]
            for where, prefix, route in _view_rows(category, view_key, view):
                entries.setdefault((category, where, node, prefix), []).append(route)
    out: dict[_Key, tuple[Route, ...]] = {}
    for key, routes in entries.items():
        # A Loc-RIB keeps its best path first; views are sets of rows.
        out[key] = tuple(routes) if key[0] == "node" else tuple(sorted(set(routes), key=str))
    return out


def _rib_route(route: RibRoute) -> Route:
    path = as_path_text(route.as_path, " ")
    source = "originated" if route.peer is None else f"from {route.peer}"
    return Route(
        next_hop=route.next_hop or "local",
        as_path=path,
        detail=f"best, {source}" if route.best else f"ECMP, {source}",
    )


def _view_rows(category: str, key: str, view: Any) -> Iterable[tuple[str, str, Route]]:
    if category == AzureView.ROUTE_SERVER_ROUTES.key:
        for direction, roles in view.items():
            for role, rows in roles.items():
                for row in rows or ():  # "value": null, as az prints it
                    yield f"{key} {direction} {role}", row["network"], _gateway_row(row)
        return
    for row in view.get("value", []):
        if category == AzureView.EFFECTIVE_ROUTES.key:
            detail = row["nextHopType"]
            if row["source"] != detail:
                detail += f", {row['source']}"
            if row["state"] != "Active":
                detail += f", {row['state']}"
            hops = row["nextHopIpAddress"] or [row["nextHopType"]]
            for prefix in row["addressPrefix"]:
                for hop in hops:
                    yield key, prefix, Route(next_hop=hop, detail=detail)
        elif category == AzureView.HUB_ROUTES.key:
            hops = [str(h).rsplit("/", 1)[-1] for h in row["nextHops"]] or ["-"]
            for prefix in row["addressPrefixes"]:
                for hop in hops:
                    yield (
                        key,
                        prefix,
                        Route(
                            next_hop=hop,
                            as_path=row.get("asPath", ""),  # none on VNet connections
                            detail=row["nextHopType"],
                        ),
                    )
        elif category == AzureView.BGP_PEER_STATUS.key:
            where = f"peer {row['neighbor']} on {row['localAddress']}"
            yield key, where, Route(next_hop=row["state"])
        elif category == AzureView.CIRCUIT_ROUTES.key:
            detail = ", ".join(
                f"{name} {row[name]}" for name in ("locPrf", "weight") if row.get(name)
            )
            yield (
                key,
                row["network"],
                Route(next_hop=row["nextHop"] or "-", as_path=row["path"], detail=detail),
            )
        else:
            yield key, row["network"], _gateway_row(row)


def _gateway_row(row: Mapping[str, Any]) -> Route:
    detail = f"{row['origin']} from {row.get('sourcePeer') or '-'}, weight {row['weight']}"
    return Route(next_hop=row["nextHop"] or "-", as_path=row["asPath"], detail=detail)
