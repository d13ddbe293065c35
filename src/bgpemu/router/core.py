"""The routing router: sessions' UPDATEs in, Loc-RIB changes and per-peer exports out.

Theory of operation
-------------------
A :class:`Router` is pure: the shell (the virtual-time Fabric or the TCP runtime)
tells it when a session comes up (:meth:`Router.peer_up`) or goes down
(:meth:`Router.peer_down`), hands it every UPDATE and ROUTE-REFRESH request, and
calls :meth:`Router.on_timer` at :meth:`Router.next_deadline`.  Each call returns a
:class:`~bgpemu.router.outputs.RouterOutput`: the exports to send per peer, sessions
to reset (max-prefix), sessions to restart, and the Loc-RIB observations.

One UPDATE flows like this (RFC 4271 §9):

1. **Import** per NLRI: a route whose AS_PATH holds our ASN more than ``allowas_in``
   times is a loop (RFC 4271 §9.1.2), as is one carrying our router id as
   ORIGINATOR_ID (RFC 4456 §8); then the neighbour's import policy.  The Adj-RIB-In
   keeps the path as received and as accepted (None when rejected).  A path
   identical to the one already held changes nothing (RFC 4271 §9: only changes
   are processed), so a duplicate UPDATE is a no-op.
2. **Max-prefix** (RFC 4486 §4): once a family holds more accepted paths than the
   limit, the session is reset with Cease/1 and the peer's paths are removed.
3. **Decision** (RFC 4271 §9.1.2) for every touched prefix over its candidates
   (every accepted path plus a locally originated one); a change of best path,
   multipath set or reason is reported as a :class:`BestPathChanged`.
4. **Export** (RFC 4271 §9.1.3, §9.2) of a changed best path to every established
   peer: never back to the peer it came from, iBGP-learned never to iBGP (split
   horizon; no route reflection), RFC 1997 well-known communities, the standard
   rewriting (:mod:`bgpemu.router.rewrite`) around the export policy, then the
   peer's Adj-RIB-Out, which sends only differences (withdrawals first, packed by
   identical attributes).  With an MRAI (RFC 4271 §9.2.1.1) the flush is held until
   the interval since the last one has passed; :meth:`Router.on_timer` releases it.

Bulk fast paths (the common case: no ADD-PATH, no import policy, no max-prefix):
the paths of one UPDATE are imported together, a prefix that had no candidate is
installed at once as its ONLY_PATH entry, and a prefix's single candidate is kept
only by the Loc-RIB (see :class:`CandidateTable`).  The changes are handed to
:class:`RouterOutput` in bulk and become :class:`BestPathChanged` objects only when
read.  ``tests/unit/router/test_fast_paths.py`` checks these against the general path.

Determinism: peers are visited in name order, prefixes in (family, prefix) order,
and the only history the decision reads is :attr:`Path.arrival`, a per-router
counter (the paths imported in bulk from one UPDATE share one number: they are
for distinct prefixes, so only their order relative to other batches matters).
No clock, no randomness, no I/O.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from bgpemu.policy.max_prefix import MaxPrefixAction, max_prefix_action, max_prefix_notification
from bgpemu.rib.adj_rib_in import AdjRibIn
from bgpemu.rib.adj_rib_out import AdjRibOut, Announce, EndOfRib, Export
from bgpemu.rib.aspath import as_path_loop
from bgpemu.rib.decision import Decision
from bgpemu.rib.loc_rib import Entry, LocRib, best_of
from bgpemu.rib.path import LOCAL, Path, PeerInfo, received_path
from bgpemu.router.candidates import CandidateTable, Key, Touched, touch
from bgpemu.router.config import OriginatedRoute, RouterConfig
from bgpemu.router.established import EstablishedPeer
from bgpemu.router.exporter import Exporter
from bgpemu.router.fanout import Runs, Target, queue
from bgpemu.router.neighbor import NeighborPolicy
from bgpemu.router.outputs import ResetSession, RouterOutput
from bgpemu.router.reconfigure import (
    export_changed,
    import_changed,
    reexport,
    reimport,
    with_neighbor,
    without_neighbor,
)
from bgpemu.router.shared_import import SharedImport
from bgpemu.router.table import loc_rib_json
from bgpemu.types import IPV4_UNICAST, Family
from bgpemu.wire.constants import CeaseSubcode, ErrorCode
from bgpemu.wire.messages import Notification, Origin, PathAttributes, Update

__all__ = ["Router"]

_OUT_OF_RESOURCES = Notification(code=ErrorCode.CEASE, subcode=CeaseSubcode.OUT_OF_RESOURCES)
"""RFC 4486 §4 subcode 8: sent when an internal error resets a session (decision 12)."""


class Router:
    """A BGP speaker's routing core (RFC 4271 §9), shared by the Fabric and the runtime."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self._asn = config.asn
        self._loc_rib = LocRib(config.decision)
        self._peers: dict[str, EstablishedPeer] = {}
        self._candidates: dict[Family, CandidateTable] = {}
        self._originated: dict[Key, OriginatedRoute] = {}
        self._restarts: dict[str, float] = {}
        self._arrival = 0
        self._predecide = True
        """Decide a prefix without candidates on import (tests turn it off to compare)."""
        self._exporter = Exporter(config, self._originated)
        """The export side (:mod:`bgpemu.router.exporter`)."""
        touched: Touched = {}
        for route in config.routes:
            self._set_local(route, touched)
        for family in sorted(touched):
            table = self._candidates[family]
            for prefix in sorted(touched[family]):
                self._loc_rib.change(family, prefix, table.paths(prefix))
                table.settle(prefix)

    # -- observation ---------------------------------------------------------------------

    @property
    def loc_rib(self) -> LocRib:
        """The Loc-RIB (read it, never change it)."""
        return self._loc_rib

    def adj_rib_in(self, name: str) -> AdjRibIn | None:
        """The Adj-RIB-In of established peer ``name``."""
        peer = self._peers.get(name)
        return None if peer is None else peer.rib_in

    def adj_rib_out(self, name: str) -> AdjRibOut | None:
        """The Adj-RIB-Out of established peer ``name``."""
        peer = self._peers.get(name)
        return None if peer is None else peer.rib_out

    def peers(self) -> list[str]:
        """The names of the established peers, sorted."""
        return list(self._peers)

    def table(self) -> list[dict[str, Any]]:
        """The Loc-RIB as JSON-ready dicts, sorted by family and prefix."""
        return loc_rib_json(self._entries())

    # -- session events ------------------------------------------------------------------

    def peer_up(self, peer: PeerInfo, families: Iterable[Family], now: float) -> RouterOutput:
        """A session reached Established: send the initial table, then End-of-RIB.

        The Adj-RIB-Out is filled with every Loc-RIB best path that passes the export
        rules, flushed at once (the MRAI applies from then on), and each negotiated
        family is closed by an End-of-RIB marker (RFC 4724 §2).
        """
        out = self.peer_down(peer.name, now) if peer.name in self._peers else RouterOutput()
        self._restarts.pop(peer.name, None)
        state = EstablishedPeer(
            peer, self.config.neighbor(peer.name), frozenset(families), self.config
        )
        self._peers[peer.name] = state
        self._peers = dict(sorted(self._peers.items()))
        for family, prefix, best in self._loc_rib.best_paths():
            if family in state.families:
                attributes = self._exporter.attributes(state, family, prefix, best)
                state.rib_out.set(family, prefix, attributes)
        self._exporter.clear()
        exports: list[Export] = state.rib_out.flush()
        exports.extend(EndOfRib(family=family) for family in sorted(state.families))
        out.exports.setdefault(peer.name, []).extend(exports)
        state.mrai_until = now + state.policy.mrai
        return out

    def peer_down(self, name: str, now: float) -> RouterOutput:
        """The session with ``name`` left Established: its paths are withdrawn (RFC 4271 §9.1).

        Calling it for a peer that is not up does nothing.
        """
        touched: Touched = {}
        if not self._remove_peer(name, touched):
            return RouterOutput()
        return self._decide_and_export(touched, now)

    def update_received(self, name: str, update: Update, now: float) -> RouterOutput:
        """Apply one UPDATE from ``name`` (see the theory of operation)."""
        return self.updates_received(name, (update,), now)

    def updates_received(self, name: str, updates: Sequence[Update], now: float) -> RouterOutput:
        """Apply several UPDATEs from ``name`` in order, then decide and export once.

        For UPDATEs that arrived together (one read from the socket): the Adj-RIB-In
        takes each in turn (RFC 4271 §9: in the order received), the decision runs
        once over every prefix they touched, and the output reports the net change
        of each prefix, as with an MRAI that held the intermediate states
        (RFC 4271 §9.2.1.1).  A max-prefix reset stops the batch: the session is gone,
        so the UPDATEs after it are ignored, as :meth:`update_received` would.
        """
        peer = self._peers.get(name)
        if peer is None:
            return RouterOutput()
        touched: Touched = {}
        reset: ResetSession | None = None
        for update in updates:
            reset = self._apply_update(peer, update, now, touched)
            if reset is not None:
                break
        out = self._decide_and_export(touched, now)
        out.received.append((name, touched))  # its Adj-RIB-In changed there, at most
        if reset is not None:
            out.resets.append(reset)
        return out

    def _apply_update(
        self, peer: EstablishedPeer, update: Update, now: float, touched: Touched
    ) -> ResetSession | None:
        """Import one UPDATE (withdrawals first); the max-prefix reset it causes, if any."""
        announced: set[Family] = set()
        if update.withdrawn:
            self._withdraw(peer, IPV4_UNICAST, update.withdrawn, update.withdrawn_path_ids, touched)
        unreach = update.mp_unreach
        if unreach is not None and unreach.withdrawn:
            self._withdraw(peer, unreach.family, unreach.withdrawn, unreach.path_ids, touched)
        if update.nlri:
            announced.add(IPV4_UNICAST)
            self._import(
                peer, IPV4_UNICAST, update.attributes, update.nlri, update.nlri_path_ids, touched
            )
        reach = update.mp_reach
        if reach is not None and reach.nlri:
            announced.add(reach.family)
            attributes = replace(update.attributes, next_hop=reach.next_hop)
            self._import(peer, reach.family, attributes, reach.nlri, reach.path_ids, touched)
        return self._check_max_prefix(peer, sorted(announced), now, touched)

    def not_announced(self, name: str, announce: Announce) -> None:
        """The shell withdrew ``announce`` toward ``name`` instead of sending it.

        :func:`~bgpemu.router.exports.export_frames` does so when the attributes leave
        no room for a prefix in a message of that session (RFC 8654 §4); the prefixes
        leave ``name``'s Adj-RIB-Out (:meth:`AdjRibOut.unsent
        <bgpemu.rib.adj_rib_out.AdjRibOut.unsent>`), which then says what the peer holds.
        """
        peer = self._peers.get(name)
        if peer is not None:
            peer.rib_out.unsent(announce.family, announce.prefixes, announce.attributes)

    def route_refresh(self, name: str, family: Family, now: float) -> RouterOutput:
        """Re-send the Adj-RIB-Out of ``family`` to ``name`` (RFC 2918 §4).

        No End-of-RIB follows; the shell demarcates with BoRR/EoRR when both ends
        support Enhanced Route Refresh (RFC 7313 §4).
        """
        out = RouterOutput()
        peer = self._peers.get(name)
        if peer is not None and family in peer.families:
            out.exports[name] = list(peer.rib_out.full_table(family))
        return out

    def set_neighbor_policy(self, policy: NeighborPolicy, now: float) -> RouterOutput:
        """Replace the settings of neighbour ``policy.name``, its session staying up.

        Soft reconfiguration (RFC 2918 §1; see :mod:`bgpemu.router.reconfigure`): a new
        import policy is re-applied to the stored pre-policy Adj-RIB-In and the
        affected prefixes re-decided, with a ROUTE-REFRESH asked of the peer in
        :attr:`RouterOutput.refreshes`; a new export policy re-runs export toward the
        peer and sends only the differences.  :attr:`config` holds the new settings
        (used again at the next :meth:`peer_up`).  The same settings again: no output.
        """
        old = self.config.neighbor(policy.name)
        if old == policy:
            return RouterOutput()
        self.config = with_neighbor(self.config, policy)
        peer = self._peers.get(policy.name)
        if peer is None:
            return RouterOutput()
        peer.policy = policy
        touched: Touched = {}
        inbound = import_changed(old, policy)
        if inbound:
            for family, pre, post in reimport(
                peer.rib_in,
                policy,
                peer.import_context,
                asn=self._asn,
                router_id=self.config.router_id,
            ):
                table = self._table(family)
                if post is None:
                    table.drop(pre.prefix, policy.name, pre.path_id)
                else:
                    table.put(pre.prefix, policy.name, pre.path_id, post)
                touch(touched.setdefault(family, {}), pre.prefix)
        if export_changed(old, policy):
            reexport(
                self._loc_rib,
                peer.rib_out,
                peer.families,
                lambda family, prefix, best: self._exporter.attributes(peer, family, prefix, best),
            )
            self._exporter.clear()
        reset = self._check_max_prefix(peer, peer.rib_in.families(), now, touched)
        out = self._decide_and_export(touched, now)
        if inbound:
            out.received.append((policy.name, touched))  # re-imported there, at most
        if reset is not None:
            out.resets.append(reset)
        elif inbound:
            out.refreshes.extend((policy.name, family) for family in sorted(peer.families))
        return out

    def remove_neighbor(self, name: str, now: float) -> RouterOutput:
        """Forget neighbour ``name`` (de-configured, RFC 4486 §4 subcode 3): its paths are
        withdrawn as by :meth:`peer_down`, its settings and pending restart dropped."""
        out = self.peer_down(name, now)
        self._restarts.pop(name, None)
        self.config = without_neighbor(self.config, name)
        return out

    # -- local routes --------------------------------------------------------------------

    def originate(self, route: OriginatedRoute, now: float) -> RouterOutput:
        """Start (or change) originating ``route``; it competes as a LOCAL path."""
        touched: Touched = {}
        self._set_local(route, touched)
        return self._decide_and_export(touched, now)

    def withdraw_originated(self, family: Family, prefix: str, now: float) -> RouterOutput:
        """Stop originating ``prefix``."""
        key = (family, prefix)
        if self._originated.pop(key, None) is None:
            return RouterOutput()
        self._table(family).drop(prefix, LOCAL.name, 0)
        return self._decide_and_export({family: {prefix: None}}, now)

    # -- timers --------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`on_timer` has work: a held MRAI flush or a restart."""
        deadlines = [p.mrai_until for p in self._peers.values() if p.rib_out.pending()]
        deadlines.extend(self._restarts.values())
        return min(deadlines, default=None)

    def on_timer(self, now: float) -> RouterOutput:
        """Flush the Adj-RIB-Outs whose MRAI has passed; report due max-prefix restarts."""
        out = RouterOutput()
        self._flush(out, now)
        for name, deadline in sorted(self._restarts.items()):
            if deadline <= now:
                del self._restarts[name]
                out.restarts.append(name)
        return out

    # -- internals -----------------------------------------------------------------------

    def _table(self, family: Family) -> CandidateTable:
        table = self._candidates.get(family)
        if table is None:
            table = self._candidates[family] = CandidateTable(self._loc_rib.stored(family))
        return table

    def _entries(self) -> Iterator[tuple[Family, str, Decision]]:
        yield from self._loc_rib.entries()

    def _set_local(self, route: OriginatedRoute, touched: Touched) -> None:
        key = (route.family, route.prefix)
        self._originated[key] = route
        self._arrival += 1
        path = Path(
            family=route.family,
            prefix=route.prefix,
            attributes=PathAttributes(
                origin=Origin.IGP,
                next_hop=self._exporter.next_hop(route.family),
                med=route.med,
                communities=route.communities,
                large_communities=route.large_communities,
            ),
            arrival=self._arrival,
        )
        self._table(route.family).put(route.prefix, LOCAL.name, 0, path)
        touch(touched.setdefault(route.family, {}), route.prefix)

    def _withdraw(
        self,
        peer: EstablishedPeer,
        family: Family,
        prefixes: tuple[str, ...],
        path_ids: tuple[int, ...] | None,
        touched: Touched,
    ) -> None:
        """Withdrawn routes leave the Adj-RIB-In and the candidates (RFC 4271 §9.1)."""
        ids = path_ids if path_ids is not None else (0,) * len(prefixes)
        name = peer.info.name
        table = self._table(family)
        changed = touched.setdefault(family, {})
        remove = peer.rib_in.remove
        for prefix, path_id in zip(prefixes, ids, strict=True):
            if not remove(family, prefix, path_id):
                continue
            table.drop(prefix, name, path_id)
            touch(changed, prefix)

    def _import(
        self,
        peer: EstablishedPeer,
        family: Family,
        attributes: PathAttributes,
        prefixes: tuple[str, ...],
        path_ids: tuple[int, ...] | None,
        touched: Touched,
    ) -> None:
        """Loop prevention, import policy, Adj-RIB-In, candidates (RFC 4271 §9.1)."""
        rejected = as_path_loop(attributes, self._asn, peer.policy.allowas_in) or (
            attributes.originator_id is not None
            and attributes.originator_id == self.config.router_id
        )
        policy = peer.policy.import_policy
        context = peer.import_context
        rib_in = peer.rib_in
        source = peer.info
        name = source.name
        table = self._table(family)
        changed = touched.setdefault(family, {})
        if path_ids is None and policy is None and not rejected:
            # The common case, in bulk: no ADD-PATH, no import policy, not a loop.
            # One arrival number for the batch: its paths are for distinct prefixes,
            # so the order between any two comparable paths is as with one per path.
            self._arrival += 1
            paths = rib_in.receive(family, attributes, prefixes, self._arrival)
            explicit = table.explicit
            loc = table.loc
            keep = loc.setdefault if self._predecide else None
            if (
                keep is not None
                and len(paths) == len(prefixes)  # then paths[i] is for prefixes[i]
                and (not explicit or explicit.keys().isdisjoint(prefixes))
                and loc.keys().isdisjoint(prefixes)
            ):
                # None of them had a candidate (a fresh session's UPDATEs): the loop
                # below would decide every one on import; in two dict updates instead.
                loc.update(zip(prefixes, paths, strict=True))
                changed.update(zip(prefixes, paths, strict=True))
                return
            for path in paths:
                prefix = path.prefix
                if (
                    keep is not None
                    and (not explicit or prefix not in explicit)
                    and keep(prefix, path) is path
                ):
                    # No candidate before (no Loc-RIB entry, and untouched so far in
                    # this call: a touched prefix has an explicit entry until it is
                    # decided), this reachable path the only one now: installed (by
                    # setdefault) as the ONLY_PATH entry; _decide_and_export only
                    # reports it (see _touch for a later change in the same call).
                    changed[prefix] = path
                else:
                    table.put(prefix, name, 0, path)
                    touch(changed, prefix)
            return
        ids = path_ids if path_ids is not None else (0,) * len(prefixes)
        if policy is not None:
            policy = SharedImport(policy, peer.import_scope)  # one outcome per UPDATE
        arrival = self._arrival
        get_pre = rib_in.pre
        store = rib_in.set
        for prefix, path_id in zip(prefixes, ids, strict=True):
            old = get_pre(family, prefix, path_id)
            if old is not None and (old.attributes is attributes or old.attributes == attributes):
                continue  # the same route again: nothing changes
            arrival += 1
            pre = received_path(family, prefix, attributes, source, path_id, arrival)
            post: Path | None = None
            if not rejected:
                post = pre if policy is None else policy(pre, context)
            store(pre, post)
            if post is None:
                table.drop(prefix, name, path_id)
            else:
                table.put(prefix, name, path_id, post)
            touch(changed, prefix)
        self._arrival = arrival

    def _check_max_prefix(
        self, peer: EstablishedPeer, families: list[Family], now: float, touched: Touched
    ) -> ResetSession | None:
        """RFC 4486 §4: over the limit, reset with Cease/1 and drop the peer's paths."""
        limit = peer.policy.max_prefix
        if limit is None:
            return None
        for family in families:
            count = peer.rib_in.count(family, post=True)
            if max_prefix_action(limit, count) is not MaxPrefixAction.CEASE:
                continue
            name = peer.info.name
            self._remove_peer(name, touched)
            if limit.restart_after is not None:
                self._restarts[name] = now + limit.restart_after
            notification = max_prefix_notification(family, limit.limit)
            return ResetSession(name, notification, limit.restart_after)
        return None

    def _remove_peer(self, name: str, touched: Touched) -> bool:
        peer = self._peers.pop(name, None)
        if peer is None:
            return False
        for family, prefix in peer.rib_in.clear():
            self._table(family).drop_source(prefix, name)
            touch(touched.setdefault(family, {}), prefix)
        return True

    def _decide_and_export(self, touched: Touched, now: float) -> RouterOutput:
        """Re-run the decision for ``touched`` prefixes; export changed best paths.

        An exception while computing the exports of one peer (its export policy, say)
        resets that peer's session (:attr:`ResetSession.error`, decision 12): the
        others get their exports, and the peer whose UPDATE is being served is not
        blamed for it.
        """
        out = RouterOutput()
        failed: dict[str, Exception] = {}
        change = self._loc_rib.change
        for family in sorted(touched):
            table = self._table(family)
            settle = table.settle
            todo = touched[family]
            targets = [
                Target(peer, family) for peer in self._peers.values() if family in peer.families
            ]
            runs = Runs()
            # The changes, recorded in bulk (RouterOutput builds the observations only
            # when someone reads them): parallel lists, no object per prefix.
            changed: list[str] = []
            olds: list[Entry | None] = []
            news: list[Entry | None] = []
            add = runs.add
            # A path decided on import had no best path before, so nothing to withdraw:
            # it goes to every peer but its source (RFC 4271 §9.1.3).  With no peer, or
            # one peer that is its source (a vWAN branch and its hub), no run is needed.
            fan_out = bool(targets)
            lone = targets[0].info if len(targets) == 1 else None
            for prefix in sorted(todo):
                decided = todo[prefix]
                old: Entry | None
                new: Entry | None
                if type(decided) is Path:
                    # Decided on import (see _import): no entry before, this path alone.
                    changed.append(prefix)
                    olds.append(None)
                    news.append(decided)
                    if fan_out and decided.source is not lone:
                        add(prefix, None, decided)
                    continue
                if decided is None:
                    result = change(family, prefix, table.paths(prefix))
                    settle(prefix)
                    if result is None:
                        continue
                    old, new = result
                else:  # False: decided on import, then changed again: no entry before
                    change(family, prefix, table.paths(prefix))
                    settle(prefix)
                    old, new = None, table.loc.get(prefix)
                    if new is None:
                        continue
                changed.append(prefix)
                olds.append(old)
                news.append(new)
                old_best = old if old is None or type(old) is Path else best_of(old)
                new_best = new if new is None or type(new) is Path else best_of(new)
                if old_best is not new_best:  # else only the multipath set or reason changed
                    add(prefix, old_best, new_best)
            out.add_changes(family, changed, olds, news)
            for target in targets:
                name = target.peer.info.name
                if name in failed:
                    continue
                try:
                    queue(target, family, runs, self._exporter.attributes)
                except Exception as exc:  # a bug (e.g. in its export policy): that peer's
                    failed[name] = exc  # session is reset, not the one being served
                    continue
                if target.prefixes:
                    target.peer.rib_out.set_many(family, target.prefixes, target.wanted)
        self._exporter.clear()
        self._flush(out, now, skip=failed)
        for name, error in failed.items():
            out.resets.append(ResetSession(name, _OUT_OF_RESOURCES, None, error=error))
        return out

    def _flush(self, out: RouterOutput, now: float, skip: Container[str] = ()) -> None:
        """Send each peer's pending Adj-RIB-Out changes, unless its MRAI holds them
        (or the peer is in ``skip``: its session is being reset)."""
        for name, peer in self._peers.items():
            if not peer.rib_out.pending() or now < peer.mrai_until or name in skip:
                continue
            exports = peer.rib_out.flush()
            if exports:
                out.exports.setdefault(name, []).extend(exports)
            if peer.policy.mrai:
                peer.mrai_until = now + peer.policy.mrai
