"""Soft reconfiguration: a neighbour's policy changes while its session stays up.

Theory of operation
-------------------
:meth:`Router.set_neighbor_policy <bgpemu.router.core.Router.set_neighbor_policy>`
replaces the settings of one neighbour without resetting its session (RFC 2918 §1,
RFC 7313 §1: policy changes are the reason route refresh exists):

* **Inbound** (the import policy or ``allowas_in`` changed): the router keeps every
  path as received ("soft-reconfiguration inbound", RFC 4271 §3.2: the Adj-RIB-In
  holds the unprocessed routes), so :func:`reimport` re-runs loop prevention and the
  new import policy over those pre-policy paths and reports the ones whose accepted
  form changed; the router then re-decides those prefixes and exports the result.
  The shell also sends the peer a ROUTE-REFRESH (RFC 2918 §3) for each family of the
  session, listed in :attr:`RouterOutput.refreshes
  <bgpemu.router.outputs.RouterOutput.refreshes>`: redundant with the stored copy,
  harmless (the peer's re-sent paths equal the stored ones, RFC 4271 §9), and what a
  router without a stored copy would need.
* **Outbound** (the export policy or ``next_hop_self`` changed): :func:`reexport`
  re-runs export for every Loc-RIB best path into that peer's Adj-RIB-Out, whose diff
  engine (RFC 4271 §9.2) sends only the prefixes whose attributes changed.

Both end with the same tables as a router configured with the new settings from the
start that had received the same UPDATEs (``tests/unit/router/test_policy_change.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bgpemu.policy.actions import Prepend
from bgpemu.policy.base import Policy, PolicyContext
from bgpemu.policy.route_policy import Chain, Result, RoutePolicy, Statement
from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.adj_rib_out import AdjRibOut
from bgpemu.rib.aspath import as_path_loop
from bgpemu.rib.loc_rib import LocRib
from bgpemu.rib.path import Path
from bgpemu.router.config import RouterConfig
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.types import Family
from bgpemu.wire.messages import PathAttributes

__all__ = [
    "export_changed",
    "import_changed",
    "prepend_policy",
    "reexport",
    "reimport",
    "with_neighbor",
    "without_neighbor",
]


def with_neighbor(config: RouterConfig, policy: NeighborPolicy) -> RouterConfig:
    """``config`` with the settings of neighbour ``policy.name`` replaced (or added)."""
    others = [n for n in config.neighbors if n.name != policy.name]
    return replace(config, neighbors=(*others, policy))


def without_neighbor(config: RouterConfig, name: str) -> RouterConfig:
    """``config`` without settings for neighbour ``name`` (a de-configured neighbour)."""
    return replace(config, neighbors=tuple(n for n in config.neighbors if n.name != name))


def import_changed(old: NeighborPolicy, new: NeighborPolicy) -> bool:
    """Does the change affect which received paths are accepted, and how?"""
    return old.import_policy != new.import_policy or old.allowas_in != new.allowas_in


def export_changed(old: NeighborPolicy, new: NeighborPolicy) -> bool:
    """Does the change affect what is sent to the neighbour?"""
    return old.export_policy != new.export_policy or old.next_hop_self != new.next_hop_self


def reimport(
    rib_in: AdjRibIn,
    policy: NeighborPolicy,
    context: PolicyContext,
    *,
    asn: int,
    router_id: str,
) -> list[tuple[Family, Path, Path | None]]:
    """Re-apply loop prevention and ``policy`` to every stored pre-policy path.

    The same checks as on receipt (RFC 4271 §9.1.2 AS_PATH loop with ``allowas_in``,
    RFC 4456 §8 ORIGINATOR_ID, then the import policy).  The Adj-RIB-In is updated;
    returns ``(family, pre-policy path, new accepted path or None)`` for each path
    whose accepted form changed.
    """
    changed: list[tuple[Family, Path, Path | None]] = []
    for family in rib_in.families():
        for pre in list(rib_in.paths_pre(family)):
            attributes = pre.attributes
            post: Path | None = None
            if not as_path_loop(attributes, asn, policy.allowas_in) and not (
                attributes.originator_id is not None and attributes.originator_id == router_id
            ):
                importer = policy.import_policy
                post = pre if importer is None else importer(pre, context)
            old = rib_in.post(family, pre.prefix, pre.path_id)
            if old is post or (old is not None and post is not None and old == post):
                continue
            rib_in.set(pre, post)
            changed.append((family, pre, post))
    return changed


def reexport(
    loc_rib: LocRib,
    rib_out: AdjRibOut,
    families: frozenset[Family],
    export: Callable[[Family, str, Path], PathAttributes | None],
) -> None:
    """Queue in ``rib_out`` what the peer should now hold for every Loc-RIB best path.

    The Adj-RIB-Out keeps only the differences from what was sent (RFC 4271 §9.2).
    Prefixes outside the Loc-RIB are never held by the Adj-RIB-Out, so none is missed.
    """
    for family, prefix, best in loc_rib.best_paths():
        if family in families:
            rib_out.set(family, prefix, export(family, prefix, best))


def prepend_policy(
    current: NeighborPolicy, original_export: Policy | None, count: int
) -> NeighborPolicy:
    """``current`` exporting with ``count`` extra copies of our own ASN (0: none).

    The prepend (:class:`~bgpemu.policy.actions.Prepend`, applied before the one copy
    RFC 4271 §5.1.2 adds toward eBGP) runs after ``original_export``, the export
    policy the neighbour was configured with; ``count`` 0 restores that policy.
    """
    if count == 0:
        return replace(current, export_policy=original_export)
    prepend = RoutePolicy(
        (Statement(actions=(Prepend(count=count),)),),
        default=Result.ACCEPT,
        name=f"prepend-x{count}",
    )
    export = prepend if original_export is None else Chain(original_export, prepend)
    return replace(current, export_policy=export)
